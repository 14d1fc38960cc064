"""The fast paths of the training step give the results of the general paths.

nll's (N, C) fast path against the backend kernels, the BLAS axpy of the
optimizers against numpy, the bias-gradient sum of add/subtract against the
sweep's unbroadcast, the 2-D matmul gradients against the general forms, and
the activations' direct numpy call against the backend dispatch.
"""
import numpy as np
import pytest

import knetpy as K
from autograd import Param, diff, grad
from autograd.backward import unbroadcast
from autograd.gcheck import gcheck
from autograd.rules.elementwise import _through
from knetpy.knetarray import run
from knetpy.ops import losses as L
from knetpy.optim import SGD, Adam, Momentum, _axpy
from knetpy.update import update_


def _general_nll(x, a):
    """nll through the backend kernels and a division on the tape (the path
    every call took before the fast path)."""
    return L._nll_sum(x, a, 1) / len(a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nll_fast_path_matches_kernels(dtype):
    r = np.random.default_rng(0)
    x = r.standard_normal((7, 5)).astype(dtype)
    a = r.integers(0, 5, 7)
    fast, slow = K.nll(x, a), _general_nll(x, a)
    assert np.asarray(fast).dtype == dtype
    np.testing.assert_allclose(fast, slow, rtol=1e-6)
    gf = grad(lambda s: K.nll(s, a))(x)
    gs = grad(lambda s: _general_nll(s, a))(x)
    assert gf.dtype == dtype
    np.testing.assert_allclose(gf, gs, rtol=1e-5, atol=1e-7)


def test_nll_fast_path_gradients_and_second_order():
    r = np.random.default_rng(1)
    x = r.standard_normal((4, 3))
    a = np.array([0, 2, 1, 2], np.uint8)
    assert gcheck(lambda s: K.nll(s, a), x)
    assert gcheck(grad(lambda s: K.nll(s * s, a)), x)
    h_fast = grad(lambda s: np.sum(grad(lambda t: K.nll(t * t, a))(s) ** 2))(x)
    h_slow = grad(lambda s: np.sum(grad(lambda t: _general_nll(t * t, a))(s) ** 2))(x)
    np.testing.assert_allclose(h_fast, h_slow, rtol=1e-10)


def test_nll_fast_path_non_finite_rows_fall_back():
    x = np.array([[0.0, np.inf], [1.0, 2.0]], np.float32)
    a = np.array([0, 1])
    assert np.isnan(K.nll(x, a)) == np.isnan(_general_nll(x, a))
    x = np.array([[-np.inf, -np.inf], [1.0, 2.0]])
    np.testing.assert_equal(K.nll(x, a), _general_nll(x, a))
    g = grad(lambda s: K.nll(s, a))(np.array([[0.0, 1e4], [1.0, 2.0]]))
    np.testing.assert_allclose(g, run("nll_backward", np.array([[0.0, 1e4], [1.0, 2.0]]),
                                      a, 1) / 2)


def test_nll_skipped_answers_and_bad_answers_keep_general_behaviour():
    x = np.random.default_rng(2).standard_normal((3, 4))
    a = np.array([1, -1, 3])
    np.testing.assert_allclose(K.nll(x, a), L._nll_sum(x, a, 1) / 2)
    with pytest.raises(ValueError, match="answers must be in 0..3"):
        K.nll(x, np.array([0, 1, 4]))
    w = Param(x)
    with pytest.raises(ValueError, match="answers must be in 0..3"):
        diff(lambda: K.nll(w * 2, np.array([0, 1, 4])))
    y = diff(lambda: K.nll(w * 2, np.array([0, 1, 3])))      # the tape is still usable
    assert grad(y, w).shape == (3, 4)
    with pytest.raises(TypeError, match="integer class indices"):
        K.nll(x, np.array([0.0, 1.0, 2.0]))


def test_nll_fast_path_on_params_in_training():
    w = Param(np.random.default_rng(3).standard_normal((5, 3)).astype(np.float32))
    x = np.ones((4, 5), np.float32)
    a = np.array([0, 1, 2, 0])
    y = diff(lambda: K.nll(x @ w, a))
    g = grad(y, w)
    assert g.dtype == np.float32 and g.shape == (5, 3)
    s = x @ w.value
    expect = x.T @ (run("nll_backward", s, a, 1) / 4)
    np.testing.assert_allclose(g, expect, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blas_axpy_in_place(dtype):
    r = np.random.default_rng(4)
    y = r.standard_normal((30, 7)).astype(dtype)
    x = r.standard_normal((30, 7)).astype(dtype)
    expect = y + dtype(-0.3) * x
    before = y
    _axpy(-0.3, x, y)
    assert y is before
    np.testing.assert_allclose(y, expect, rtol=1e-6 if dtype == np.float32 else 1e-14,
                               atol=1e-6 if dtype == np.float32 else 1e-14)


def test_axpy_falls_back_for_views_and_mixed_dtypes():
    r = np.random.default_rng(5)
    base = r.standard_normal((6, 8))
    y = base[:, ::2]                      # not contiguous: numpy path, still in place
    x = r.standard_normal((6, 4))
    expect = y + 2.0 * x
    _axpy(2.0, x, y)
    np.testing.assert_allclose(base[:, ::2], expect)
    y32 = np.ones(5, np.float32)
    _axpy(0.5, np.ones(5), y32, np.empty(5, np.float32))   # float64 x: numpy path
    np.testing.assert_allclose(y32, 1.5)
    assert y32.dtype == np.float32


def test_optimizers_still_update_float32_in_place():
    for opt in (SGD(lr=0.5), Momentum(lr=0.5, gamma=0.5), Adam(lr=0.1)):
        w = np.ones((3, 2), np.float32)
        before = w
        update_(w, np.full((3, 2), 2, np.float32), opt)
        assert w is before and w.dtype == np.float32 and np.all(w < 1)


@pytest.mark.parametrize("shapes", [((5, 4), (4,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                    ((5, 4), (1, 4)), ((5, 4), (5, 4))])
def test_bias_gradient_sum_matches_unbroadcast(shapes):
    gshape, xshape = shapes
    r = np.random.default_rng(6)
    g = r.standard_normal(gshape).astype(np.float32)
    x = np.zeros(xshape, np.float32)
    fast = _through(g, x)
    # what the sweep then does with it (nothing when the shape already fits)
    done = fast if fast.shape == x.shape else unbroadcast(fast, x)
    np.testing.assert_array_equal(done, unbroadcast(g, x))


def test_add_subtract_bias_gradients():
    b = Param(np.array([1.0, 2.0, 3.0]))
    x = np.arange(6.0).reshape(2, 3)
    y = diff(lambda: np.sum((x + b) * (x - b) + (b - x) * 2))
    # sum(x^2 - b^2 + 2b - 2x) over 2 rows: d/db = 2 * (2 - 2b)
    np.testing.assert_allclose(grad(y, b), 2 * (2 - 2 * b.value))
    assert gcheck(lambda c: np.sum(np.sin(x + c) * (x - c)), np.array([0.1, 0.2, 0.3]))


@pytest.mark.parametrize("layout", ["w", "w.T", "Fx"])
def test_matmul_2d_gradients_match_general_rules(layout):
    r = np.random.default_rng(7)
    w = Param(r.standard_normal((4, 3)))
    xv = r.standard_normal((5, 4)) if layout != "w.T" else r.standard_normal((5, 3))
    if layout == "Fx":
        xv = np.asfortranarray(xv)
    wt = layout == "w.T"
    y = diff(lambda: np.sum(np.sin(xv @ (w.T if wt else w))))
    s = xv @ (w.value.T if wt else w.value)
    dy = np.cos(s)
    expect = (dy.T @ xv) if wt else xv.T @ dy
    np.testing.assert_allclose(grad(y, w), expect, rtol=1e-12)
    assert grad(y, w).flags.c_contiguous
    assert gcheck(lambda a: np.sum(np.tanh(a @ w.value.T if wt else a @ w.value)), xv)


def test_activation_direct_call_keeps_dtype_and_backend_results():
    for dt in (np.float16, np.float32, np.float64):
        x = np.array([-1.5, 0.0, 2.0], dt)
        for f in (K.relu, K.sigm, K.elu, K.selu, K.gelu):
            y = f(x)
            assert y.dtype == dt
            np.testing.assert_array_equal(y, run("unary", f.__name__, x))
    with pytest.raises(TypeError, match="relu: x must hold floats"):
        K.relu(np.array([1, 2]))


def test_mat_on_plain_arrays_and_recorded_values():
    x = np.arange(24.0).reshape(2, 3, 4)
    assert K.mat(x).shape == (2, 12) and K.mat(x, dims=1).shape == (6, 4)
    assert K.mat(x, dims=0).shape == (24, 1) and K.mat(x, dims=3).shape == (1, 24)
    assert np.shares_memory(K.mat(x), x)
    w = Param(np.ones((2, 3, 4)))
    y = diff(lambda: np.sum(K.mat(w) * np.arange(12.0)))
    np.testing.assert_array_equal(grad(y, w), np.tile(np.arange(12.0), 2).reshape(2, 3, 4))


@pytest.mark.parametrize("one_thread", [False, True])
def test_blas_axpy_large_arrays_whole_or_in_chunks(monkeypatch, one_thread):
    import knetpy.optim as O
    monkeypatch.setattr(O, "_BLAS_ONE_THREAD", one_thread)
    r = np.random.default_rng(8)
    y = r.standard_normal((3 * O._AXPY_CHUNK + 17,)).astype(np.float32).reshape(-1, 1)
    x = r.standard_normal(y.shape).astype(np.float32)
    expect = y.astype(np.float64) - 0.25 * x.astype(np.float64)
    before = y
    _axpy(-0.25, x, y)
    assert y is before
    np.testing.assert_allclose(y, expect, rtol=1e-5, atol=1e-6)
