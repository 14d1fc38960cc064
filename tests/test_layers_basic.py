"""Dense, Bilinear, Scale, Embedding: shapes, values, default init bounds, gradients, errors."""
import numpy as np
import pytest

import knetpy
from autograd import Param, Sparse, diff, gcheck, grad
from knetpy import relu
from knetpy.layers import Bilinear, Dense, Embedding, Scale, calculate_gain

rs = np.random.RandomState(1)
F64 = dict(dtype=np.float64)


def test_dense_shape_values_and_repr():
    m = Dense(2, 3, relu)
    assert m.weight.shape == (3, 2) and m.bias.shape == (3,)
    assert m.weight.dtype == np.float32
    x = rs.randn(7, 2).astype(np.float32)
    y = m(x)
    assert y.shape == (7, 3) and y.dtype == np.float32
    np.testing.assert_allclose(y, np.maximum(x @ np.asarray(m.weight).T + m.bias, 0), rtol=1e-6)
    # any number of leading batch axes
    assert m(rs.randn(4, 5, 2).astype(np.float32)).shape == (4, 5, 3)
    assert repr(m) == "Dense(2 => 3, relu)"
    assert repr(Dense(2, 3, use_bias=False)) == "Dense(2 => 3, use_bias=False)"
    assert Dense(2, 3, use_bias=False).bias is None


def test_dense_default_init_bounds():
    knetpy.seed(0)
    m = Dense(400, 300)                       # identity: PyTorch's ±1/sqrt(fan_in)
    b = 1 / np.sqrt(400)
    w = np.asarray(m.weight)
    assert np.abs(w).max() <= b and np.abs(w).max() > 0.95 * b
    assert np.abs(m.bias).max() <= b
    r = Dense(400, 300, relu)                 # relu gain sqrt(2): bound sqrt(6/fan_in)
    wr = np.abs(np.asarray(r.weight)).max()
    assert wr <= np.sqrt(6 / 400) and wr > 0.95 * np.sqrt(6 / 400)
    assert calculate_gain(np.tanh) == 5 / 3 and calculate_gain(relu) == np.sqrt(2)
    c = Dense(2, 2, init_weight=lambda *s, dtype: np.full(s, 0.5, dtype),
              init_bias=lambda *s, dtype: np.zeros(s, dtype))
    np.testing.assert_array_equal(c.weight, np.full((2, 2), 0.5))


def test_dense_gradients():
    m = Dense(3, 4, np.tanh, **F64)
    assert gcheck(lambda x: m(x), Param(rs.randn(5, 3)))
    assert gcheck(lambda x: m(x), Param(rs.randn(3)))          # a single instance
    nb = Dense(3, 2, use_bias=False, **F64)
    assert gcheck(lambda x: nb(x), Param(rs.randn(2, 3)))


def test_dense_errors():
    with pytest.raises(ValueError, match="in_dims must be a positive int"):
        Dense(0, 3)
    with pytest.raises(ValueError, match="must have 2 features in its last axis"):
        Dense(2, 3)(np.ones((4, 3), np.float32))
    with pytest.raises(TypeError, match="dtype must be a float"):
        Dense(2, 3, dtype=np.int32)
    with pytest.raises(ValueError, match="returned shape"):
        Dense(2, 3, init_weight=lambda *s, dtype: np.zeros((1,), dtype))


def test_bilinear_values_and_forms():
    m = Bilinear((2, 3), 4, **F64)
    assert m.weight.shape == (4, 2, 3) and m.bias.shape == (4,)
    x, y = rs.randn(5, 2), rs.randn(5, 3)
    W, b = np.asarray(m.weight), np.asarray(m.bias)
    want = np.array([[x[n] @ W[o] @ y[n] + b[o] for o in range(4)] for n in range(5)])
    np.testing.assert_allclose(m((x, y)), want)
    s = Bilinear(3, 2, np.tanh, **F64)            # one input: y = x
    z = rs.randn(6, 3)
    Ws, bs = np.asarray(s.weight), np.asarray(s.bias)
    want = np.tanh(np.array([[z[n] @ Ws[o] @ z[n] + bs[o] for o in range(2)] for n in range(6)]))
    np.testing.assert_allclose(s(z), want)
    assert m((rs.randn(2, 7, 2), rs.randn(2, 7, 3))).shape == (2, 7, 4)
    assert repr(m) == "Bilinear((2, 3) => 4)"
    bound = 1 / np.sqrt(2)
    assert np.abs(np.asarray(Bilinear((2, 50), 30).weight)).max() <= bound
    assert gcheck(lambda u, v: m((u, v)), Param(x), Param(y))
    assert gcheck(lambda u: s(u), Param(z))


def test_bilinear_errors():
    m = Bilinear((2, 3), 4)
    with pytest.raises(ValueError, match="y must have 3 features"):
        m((np.ones((5, 2), np.float32), np.ones((5, 2), np.float32)))
    with pytest.raises(ValueError, match="same leading shape"):
        m((np.ones((5, 2), np.float32), np.ones((4, 3), np.float32)))
    with pytest.raises(ValueError, match="pair"):
        Bilinear((1, 2, 3), 4)


def test_scale():
    m = Scale((2, 3), np.tanh, **F64)
    np.testing.assert_array_equal(m.weight, np.ones((2, 3)))
    np.testing.assert_array_equal(m.bias, np.zeros((2, 3)))
    m.weight.value[:] = rs.randn(2, 3)
    m.bias.value[:] = rs.randn(2, 3)
    x = rs.randn(4, 2, 3)
    np.testing.assert_allclose(m(x), np.tanh(np.asarray(m.weight) * x + np.asarray(m.bias)))
    assert Scale(3)(np.ones((5, 3), np.float32)).shape == (5, 3)
    assert repr(Scale((2, 3))) == "Scale(2, 3)"
    assert gcheck(lambda u: m(u), Param(x))
    with pytest.raises(ValueError, match="must end with the dims"):
        m(np.ones((4, 3, 2)))


def test_embedding_lookup_and_sparse_grad():
    e = Embedding(10, 4, **F64)
    idx = np.array([[1, 2, 3], [0, 0, 9]])
    y = e(idx)
    assert y.shape == (2, 3, 4)
    np.testing.assert_array_equal(y, np.asarray(e.weight)[idx])
    assert e(3).shape == (4,)
    w = np.asarray(e.weight)
    assert w.min() >= 0 and w.max() < 1
    r = diff(lambda: np.sum(e(idx) * 2.0))
    g = grad(r, e.weight)
    dense = g.dense() if isinstance(g, Sparse) else g
    want = np.zeros((10, 4))
    np.add.at(want, idx, 2.0)            # repeated index 0 accumulates
    np.testing.assert_allclose(dense, want)
    assert isinstance(g, Sparse)          # only the rows read
    assert gcheck(lambda: np.sum(e(idx) ** 2))
    assert repr(e) == "Embedding(10 => 4)"


def test_embedding_multidim_and_errors():
    e = Embedding((3, 5), 2)
    y = e((np.array([0, 2]), np.array([4, 1])))
    assert y.shape == (2, 2)
    np.testing.assert_array_equal(y[1], np.asarray(e.weight)[2, 1])
    with pytest.raises(IndexError, match=r"in \[0, 10\)"):
        Embedding(10, 4)(np.array([10]))
    with pytest.raises(TypeError, match="integers"):
        Embedding(10, 4)(np.array([1.0]))
    with pytest.raises(ValueError, match="2 index array"):
        e(np.array([1]))
