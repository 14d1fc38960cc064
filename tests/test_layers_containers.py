"""Containers: Chain, Parallel, BranchLayer, PairwiseFusion, SkipConnection, RepeatedLayer,
AlternatePrecision — shapes, values against numpy, gradients, errors."""
import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad, params
from knetpy.layers import (AlternatePrecision, BranchLayer, Chain, Dense, NoOpLayer,
                           PairwiseFusion, Parallel, RepeatedLayer, SkipConnection,
                           WrappedFunction)

rs = np.random.RandomState(0)
F64 = dict(dtype=np.float64)


def dense_np(d, x):
    return x @ np.asarray(d.weight).T + np.asarray(d.bias)


def test_chain_values_indexing_and_names():
    m = Chain(Dense(2, 3, np.tanh, **F64), Dense(3, 2, **F64))
    x = rs.randn(5, 2)
    want = dense_np(m[1], np.tanh(dense_np(m[0], x)))
    np.testing.assert_allclose(m(x), want)
    assert m[0] is m.layer_0 and m[-1] is m.layer_1 and len(m) == 2
    sub = m[1:]
    assert isinstance(sub, Chain) and len(sub) == 1 and sub[0] is m[1]
    assert m[[1, 0]][0] is m[1]
    assert [l for l in m] == [m[0], m[1]]
    with pytest.raises(IndexError, match="out of range"):
        m[2]
    with pytest.raises(AttributeError, match="layer_5"):
        m.layer_5


def test_chain_named_and_functions_wrapped():
    m = Chain(enc=Dense(2, 2, **F64), act=np.tanh, name="Net")
    assert isinstance(m.act, WrappedFunction) and m["enc"] is m.enc
    x = rs.randn(3, 2)
    np.testing.assert_allclose(m(x), np.tanh(dense_np(m.enc, x)))
    assert repr(m).startswith("Net(\n    enc = Dense(2 => 2)")
    with pytest.raises(TypeError, match="either positionally or as keywords"):
        Chain(Dense(1, 1), b=Dense(1, 1))
    with pytest.raises(TypeError, match="Layer or a callable"):
        Chain(3)


def test_chain_gradients():
    m = Chain(Dense(3, 4, np.tanh, **F64), Dense(4, 2, **F64))
    assert gcheck(lambda x: m(x), Param(rs.randn(5, 3)))
    assert len(params(m)) == 4


def test_parallel_forms():
    a, b = Dense(2, 1, **F64), Dense(2, 1, **F64)
    m = Parallel(None, a, b)
    x1, x2 = rs.randn(4, 2), rs.randn(4, 2)
    y = m((x1, x2))
    assert isinstance(y, tuple) and [v.shape for v in y] == [(4, 1), (4, 1)]
    np.testing.assert_allclose(y[1], dense_np(b, x2))
    y = Parallel(np.add, a, b)(x1)        # same input to both, combined by +
    np.testing.assert_allclose(y, dense_np(a, x1) + dense_np(b, x1))
    cat = WrappedFunction(lambda t: np.concatenate(t, axis=1))
    y = Parallel(cat, a, b)((x1, x2))     # a layer connection receives the tuple
    assert y.shape == (4, 2)
    assert gcheck(lambda u, v: Parallel(np.multiply, a, b)((u, v)), Param(x1), Param(x2))
    with pytest.raises(ValueError, match="one element per layer"):
        m((x1, x2, x1))


def test_branch_layer():
    m = BranchLayer(NoOpLayer(), NoOpLayer(), NoOpLayer())
    x = rs.randn(2)
    assert m(x) == (x, x, x)
    a, b = Dense(2, 3, **F64), Dense(2, 3, **F64)
    f = BranchLayer(a, b, fusion=lambda t: t[0] - t[1])
    x = rs.randn(5, 2)
    np.testing.assert_allclose(f(x), dense_np(a, x) - dense_np(b, x))
    # a tuple input is passed whole (unlike Parallel)
    t = BranchLayer(NoOpLayer(), NoOpLayer())((1, 2))
    assert t == ((1, 2), (1, 2))
    assert gcheck(lambda u: f(u), Param(x))


def test_pairwise_fusion_both_inputs():
    l1, l2 = Dense(2, 2, **F64), Dense(2, 2, **F64)
    m = PairwiseFusion(np.add, l1, l2)
    x0, x1, x2 = rs.randn(3, 2), rs.randn(3, 2), rs.randn(3, 2)
    y = x0
    y = x1 + dense_np(l1, y)
    y = x2 + dense_np(l2, y)
    np.testing.assert_allclose(m((x0, x1, x2)), y)
    x = rs.randn(3, 2)
    y = x + dense_np(l1, x)
    y = x + dense_np(l2, y)
    np.testing.assert_allclose(m(x), y)
    # a layer connection receives the pair
    lay = PairwiseFusion(WrappedFunction(lambda p: p[0] * p[1]), l1)
    np.testing.assert_allclose(lay(x), x * dense_np(l1, x))
    assert gcheck(lambda u, v, w: m((u, v, w)), Param(x0), Param(x1), Param(x2))
    with pytest.raises(ValueError, match="3 elements"):
        m((x0, x1))


def test_skip_connection():
    d = Dense(3, 3, np.tanh, **F64)
    m = SkipConnection(d, np.add)
    x = rs.randn(4, 3)
    np.testing.assert_allclose(m(x), np.tanh(dense_np(d, x)) + x)
    # layer connection gets (layer(x), x)
    m2 = SkipConnection(d, WrappedFunction(lambda p: p[0] - p[1]))
    np.testing.assert_allclose(m2(x), np.tanh(dense_np(d, x)) - x)
    assert gcheck(lambda u: m(u), Param(x))
    assert "layers = Dense(3 => 3, tanh)" in repr(m)
    with pytest.raises(TypeError, match="connection"):
        SkipConnection(d, None)


def test_repeated_layer():
    d = Dense(2, 2, np.tanh, **F64)
    m = RepeatedLayer(d, repeats=3)
    x = rs.randn(4, 2)
    y = x
    for _ in range(3):
        y = np.tanh(dense_np(d, y))
    np.testing.assert_allclose(m(x), y)
    inj = RepeatedLayer(WrappedFunction(lambda p: 0.5 * p[0] + p[1]), repeats=2,
                        input_injection=True)
    np.testing.assert_allclose(inj(x), 0.5 * (0.5 * x + x) + x)
    assert len(params(m)) == 2          # the same weights at every repetition
    assert gcheck(lambda u: m(u), Param(x))
    with pytest.raises(ValueError, match="repeats"):
        RepeatedLayer(d, repeats=-1)


def test_alternate_precision():
    d = Dense(3, 2)                       # float32 params
    m = AlternatePrecision(np.float64, d)
    x = rs.randn(4, 3).astype(np.float32)
    y = m(x)
    assert y.dtype == np.float32
    want = x.astype(np.float64) @ np.asarray(d.weight, np.float64).T + np.asarray(d.bias, np.float64)
    np.testing.assert_allclose(y, want.astype(np.float32), rtol=1e-6)
    # gradients reach the float32 Params, with their dtype
    r = diff(lambda: np.sum(m(x) ** 2))
    g = grad(r, d.weight)
    assert g.dtype == np.float32 and g.shape == (2, 3)
    assert isinstance(d.weight, Param)     # swapped back after the call
    # float16 computation: the float16-rounded result, returned as float32
    d16 = Dense(3, 2)
    h = AlternatePrecision(np.float16, d16)(x)
    w16 = np.asarray(d16.weight).astype(np.float16)
    want16 = x.astype(np.float16) @ w16.T + np.asarray(d16.bias).astype(np.float16)
    assert h.dtype == np.float32
    np.testing.assert_array_equal(h, want16.astype(np.float32))
    with pytest.raises(TypeError, match="float type"):
        AlternatePrecision(np.int32, d)
