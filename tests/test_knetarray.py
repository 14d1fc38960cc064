"""KnetArray (numpy protocol, backend seam), gpu(), bmm and mat."""
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

import knetpy
from autograd import Param, diff, gcheck, grad
from knetpy import backends
from knetpy.backends import numpy_backend
from knetpy.knetarray import KnetArray, run

rs = np.random.RandomState(0)


def K(a):
    return KnetArray(np.asarray(a))


# ------------------------------------------------------------- construction
def test_holds_a_host_copy():
    a = np.arange(6.0).reshape(2, 3)
    k = KnetArray(a)
    assert type(k.data) is np.ndarray
    a[0, 0] = 100
    assert k.data[0, 0] == 0
    assert k.shape == (2, 3) and k.dtype == np.float64 and k.ndim == 2 and k.size == 6
    assert KnetArray([1, 2], dtype=np.float32).dtype == np.float32
    assert KnetArray(Param(np.ones(2))).shape == (2,)


def test_copy_back():
    k = K([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(k)
    assert type(a) is np.ndarray and a.tolist() == [[1, 2], [3, 4]]
    a[0, 0] = 9
    assert k.data[0, 0] == 1
    b = k.to_numpy()
    b[0, 0] = 9
    assert k.data[0, 0] == 1
    assert np.array(k, dtype=np.float32).dtype == np.float32


def test_repr_and_scalars():
    k = K([1.5, 2.0])
    assert repr(k).startswith("KnetArray([1.5, 2. ]")
    assert "float32" in repr(KnetArray([1.0], dtype=np.float32))
    assert float(np.sum(k)) == 3.5 and int(K(3)) == 3 and bool(K(True))
    assert k.item(0) == 1.5 and k.tolist() == [1.5, 2.0]
    assert len(k) == 2 and [float(v) for v in k] == [1.5, 2.0]


# ------------------------------------------------------------- numpy protocol
def test_operators_match_numpy():
    a, b = rs.randn(3, 4), rs.randn(3, 4) + 3
    ka, kb = KnetArray(a), KnetArray(b)
    cases = [(ka + kb, a + b), (ka - 1, a - 1), (2 * ka, 2 * a), (ka / kb, a / b),
             (kb ** 2, b ** 2), (-ka, -a), (abs(ka), abs(a)), (ka // kb, a // b),
             (ka % 2, a % 2), (1 - ka, 1 - a), (ka < kb, a < b), (ka == ka, a == a),
             (a + ka, a + a), (ka @ kb.T, a @ b.T), (a @ kb.T, a @ b.T)]
    for k, want in cases:
        assert isinstance(k, KnetArray)
        np.testing.assert_allclose(np.asarray(k), want)


def test_ufuncs_and_functions_give_knetarrays():
    a = rs.rand(2, 3) + 0.5
    k = KnetArray(a)
    for f in (np.exp, np.log, np.tanh, np.sqrt, np.sin, np.abs, np.negative):
        r = f(k)
        assert isinstance(r, KnetArray)
        np.testing.assert_allclose(r.to_numpy(), f(a))
    for f, want in [(lambda x: np.maximum(x, 1), np.maximum(a, 1)),
                    (lambda x: np.concatenate([x, x], axis=1), np.concatenate([a, a], 1)),
                    (lambda x: np.where(x > 1, x, 0), np.where(a > 1, a, 0)),
                    (lambda x: np.dot(x, x.T), a @ a.T), (np.ones_like, np.ones_like(a)),
                    (lambda x: np.clip(x, 0.6, 1.0), np.clip(a, 0.6, 1.0)),
                    (lambda x: np.add.reduce(x, axis=1), a.sum(1)),
                    (lambda x: np.cumsum(x, axis=0), np.cumsum(a, axis=0))]:
        r = f(k)
        assert isinstance(r, KnetArray)
        np.testing.assert_allclose(r.to_numpy(), want)
    assert np.shape(k) == (2, 3) and np.ndim(k) == 2 and np.result_type(k) == np.float64


def test_reductions_and_methods():
    a = rs.randn(3, 4, 2)
    k = KnetArray(a)
    for name in ("sum", "mean", "prod", "max", "min", "var", "std"):
        for axis, keep in [(None, False), (1, False), ((0, 2), True)]:
            r = getattr(k, name)(axis=axis, keepdims=keep)
            assert isinstance(r, KnetArray)
            np.testing.assert_allclose(np.asarray(r), getattr(a, name)(axis=axis, keepdims=keep))
        np.testing.assert_allclose(np.asarray(getattr(np, name)(k, axis=0)),
                                   getattr(np, name)(a, axis=0))
    assert int(k.argmax()) == a.argmax() and (k.argmin(axis=1).to_numpy() == a.argmin(1)).all()
    assert bool(np.any(k > 0)) and not bool(np.all(k > 10))


def test_shape_methods_and_indexing():
    a = np.arange(24.0).reshape(2, 3, 4)
    k = KnetArray(a)
    np.testing.assert_array_equal(k.reshape(6, 4).to_numpy(), a.reshape(6, 4))
    np.testing.assert_array_equal(k.reshape((4, 6)).to_numpy(), a.reshape(4, 6))
    np.testing.assert_array_equal(k.T.to_numpy(), a.T)
    np.testing.assert_array_equal(k.transpose(1, 0, 2).to_numpy(), a.transpose(1, 0, 2))
    np.testing.assert_array_equal(k.astype(np.float32).to_numpy(), a.astype(np.float32))
    assert k.astype(np.float32).dtype == np.float32
    np.testing.assert_array_equal(k.flatten().to_numpy(), a.ravel())
    for idx in [(0,), (slice(None), 1), (Ellipsis, -1), (np.array([1, 0]),), (a > 10,),
                (1, slice(0, 2), [0, 3])]:
        r = k[idx if len(idx) > 1 else idx[0]]
        assert isinstance(r, KnetArray)
        np.testing.assert_array_equal(r.to_numpy(), a[idx if len(idx) > 1 else idx[0]])
    assert isinstance(k[0, 0, 0], KnetArray) and float(k[0, 0, 0]) == 0.0
    k[0, 1] = 7
    k[1] = KnetArray(np.zeros((3, 4)))
    k[k > 20] = -1
    b = a.copy()
    b[0, 1] = 7
    b[1] = 0
    b[b > 20] = -1
    np.testing.assert_array_equal(k.to_numpy(), b)
    assert k[KnetArray(np.array([0]))].shape == (1, 3, 4)


def test_inplace_operators():
    k = K([1.0, 2.0])
    same = k
    k += 1
    k *= K([2.0, 3.0])
    assert k is same and k.to_numpy().tolist() == [4.0, 9.0]
    np.exp(k, out=k)
    np.testing.assert_allclose(k.to_numpy(), np.exp([4.0, 9.0]))


def test_param_wrapping_a_knetarray_differentiates():
    a, b = rs.randn(3, 4), rs.randn(4, 2)
    w = Param(KnetArray(a))
    y = diff(lambda: np.sum(np.tanh(w @ b) ** 2) + np.sum(w[0] * 3))
    g = grad(y, w)
    t = np.tanh(a @ b)
    want = (2 * t * (1 - t * t)) @ b.T
    want[0] += 3
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-10)
    assert isinstance(y.value, KnetArray)
    assert float(y.value) == pytest.approx(np.sum(t ** 2) + 3 * a[0].sum())
    # outside diff a Param of a KnetArray acts like the KnetArray
    assert isinstance(w * 2, KnetArray)
    assert gcheck(lambda: np.sum(np.tanh(w @ b) ** 2))


def test_knetpy_ops_keep_knetarrays():
    x = rs.randn(4, 3)
    k = KnetArray(x)
    for f in (knetpy.relu, knetpy.sigm, knetpy.softmax, knetpy.logsoftmax, knetpy.logsumexp,
              lambda v: knetpy.batchnorm(v, training=True), lambda v: knetpy.mat(v, dims=1),
              lambda v: knetpy.dropout(v, 0.5, drop=True, seed=1)):
        r = f(k)
        assert isinstance(r, KnetArray)
        np.testing.assert_allclose(np.asarray(r), np.asarray(f(x)), rtol=1e-12)
    total, count = knetpy.nll(k, np.array([0, 2, 1, -1]), average=False)
    assert isinstance(total, KnetArray) and count == 3


# ------------------------------------------------------------- the seam
def test_numpy_backend_contract():
    be = backends.current()
    assert be is numpy_backend and be.name == "numpy" and be.xp is np
    for attr in ("owns", "asarray", "copy", "to_numpy", "unary", "binary", "reduce", "matmul",
                 "call", "softmax", "logsoftmax", "logsumexp", "nll_forward", "nll_backward",
                 "bn_stats", "bn_forward", "bn_backward"):
        assert callable(getattr(be, attr)), attr
    x = np.array([-1.0, 2.0])
    assert be.unary("relu", x).tolist() == [0.0, 2.0]
    assert be.binary("add", x, 1).tolist() == [0.0, 3.0]
    assert be.reduce("sum", x, None, False) == 1.0
    assert backends.of(x) is be and backends.of(3.0) is be
    with pytest.raises(ValueError, match="ufunc"):
        be.unary("concatenate", x)
    with pytest.raises(RuntimeError, match="not available"):
        backends.use("nonexistent")
    assert backends.current() is be


def test_everything_goes_through_the_current_backend(monkeypatch):
    """A spy backend delegating to numpy sees every computation of KnetArrays."""
    calls = []
    spy = types.ModuleType("knetpy.backends.spy_backend")
    for nm in dir(numpy_backend):
        if not nm.startswith("_"):
            v = getattr(numpy_backend, nm)
            if callable(v) and not isinstance(v, type) and v is not np:
                def rec(*a, _f=v, _n=nm, **k):
                    calls.append(_n)
                    return _f(*a, **k)
                setattr(spy, nm, rec)
    spy.name, spy.xp = "spy", np
    monkeypatch.setitem(sys.modules, "knetpy.backends.spy_backend", spy)
    monkeypatch.setattr(backends, "_loaded", dict(backends._loaded))
    try:
        backends.use("spy")
        k = KnetArray(np.array([[1.0, -2.0], [0.5, 3.0]]))
        assert k.backend is spy and "copy" in calls
        r = knetpy.nll(knetpy.relu(np.exp(k) + k) @ k, np.array([1, 0]))
        r = r + np.sum(knetpy.softmax(k)) + np.concatenate([k, k]).sum()
        assert isinstance(r, KnetArray) and r.backend is spy
        for nm in ("unary", "binary", "matmul", "nll_forward", "softmax", "reduce", "call"):
            assert nm in calls, nm
    finally:
        backends.use("numpy")


def test_run_without_knetarrays_uses_numpy():
    np.testing.assert_allclose(run("softmax", np.zeros(4), None, 1), np.full(4, 0.25))


# ------------------------------------------------------------- gpu()
def test_gpu_without_a_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)     # import cupy -> ImportError
    assert knetpy.gpu() == -1
    assert knetpy.gpu(False) == -1 and knetpy.gpu(-1) == -1
    with pytest.raises(RuntimeError, match=r"gpu\(0\): no usable GPU: cupy is not installed"):
        knetpy.gpu(0)
    with pytest.warns(RuntimeWarning, match="no usable GPU"):
        assert knetpy.gpu(True) == -1
    with pytest.raises(TypeError, match="d must be"):
        knetpy.gpu("cuda")
    assert knetpy.gpu() == -1 and backends.current() is numpy_backend
    assert type(knetpy.param(2, 3).value) is np.ndarray


def test_importing_knetpy_does_not_import_cupy():
    code = "import sys, knetpy; knetpy.KnetArray([1.0]); print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


# ------------------------------------------------------------- bmm, mat
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_bmm_values_and_gradients(ta, tb):
    B, m, n, k = (2, 3), 4, 5, 2
    a = rs.randn(*B, *((n, m) if ta else (m, n)))
    b = rs.randn(*B, *((k, n) if tb else (n, k)))
    y = knetpy.bmm(a, b, trans_a=ta, trans_b=tb)
    want = np.empty(B + (m, k))
    for i in np.ndindex(*B):
        want[i] = (a[i].T if ta else a[i]) @ (b[i].T if tb else b[i])
    np.testing.assert_allclose(y, want, rtol=1e-12)
    pa, pb = Param(a), Param(b)
    assert gcheck(lambda: np.sum(knetpy.bmm(pa, pb, trans_a=ta, trans_b=tb) ** 2))


def test_bmm_errors():
    with pytest.raises(ValueError, match="batch dims"):
        knetpy.bmm(np.ones((2, 3, 4)), np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match="inner dims"):
        knetpy.bmm(np.ones((2, 3, 4)), np.ones((2, 3, 5)))
    with pytest.raises(ValueError, match="at least 2 dims"):
        knetpy.bmm(np.ones(3), np.ones(3))


def test_mat():
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(knetpy.mat(x), x.reshape(2, 60))
    assert knetpy.mat(x, dims=1).shape == (24, 5)
    assert knetpy.mat(x, dims=0).shape == (120, 1)
    assert knetpy.mat(x, dims=4).shape == (1, 120)
    p = Param(rs.randn(2, 3, 4))
    assert gcheck(lambda: np.sum(knetpy.mat(p, dims=1) ** 3))
    with pytest.raises(ValueError, match="dims must be an int in 0..4"):
        knetpy.mat(x, dims=5)


def test_no_warnings_from_protocol():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        k = KnetArray(np.array([1e4, -1e4]))
        knetpy.sigm(k), knetpy.softmax(k), knetpy.logsumexp(k)
