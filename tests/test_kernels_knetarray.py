"""KnetArray and knetpy's ops on the kernel backend (emulated): the same model
code runs with every elementwise, reduction, softmax, nll and batchnorm call
going through the CUDA kernels; CuPy is never imported on start-up."""
import subprocess
import sys

import numpy as np
import pytest

import knetpy
from autograd import Param, diff, grad
from knetpy import KnetArray
from knetpy.backends.emulator import emulated_backend


@pytest.fixture(scope="module")
def be():
    return emulated_backend(block=64, max_blocks=4)


def k(be, a):
    return KnetArray._of(np.ascontiguousarray(a), be)


def test_operators_ufuncs_reductions(be):
    a = np.random.default_rng(0).standard_normal((5, 70))
    x = k(be, a)
    for got, want in [(x + 1, a + 1), (2 * x - x / 3, 2 * a - a / 3), (np.exp(x), np.exp(a)),
                      (x.sum(axis=0), a.sum(axis=0)), (np.max(x), np.max(a)),
                      (x.mean(axis=1, keepdims=True), a.mean(axis=1, keepdims=True)),
                      (x @ x.T, a @ a.T), (x > 0, a > 0),
                      (np.maximum(x, x.T[:1].T), np.maximum(a, a[:, :1]))]:
        assert isinstance(got, KnetArray) and got.backend is be
        np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12)


def test_knetpy_ops_run_the_kernels(be, monkeypatch):
    launched = []
    function = be.dev.function
    monkeypatch.setattr(be.dev, "function",
                        lambda fam, name: launched.append(name) or function(fam, name))
    a = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    x = k(be, a)
    np.testing.assert_allclose(knetpy.softmax(x).to_numpy(), knetpy.softmax(a), rtol=1e-5)
    np.testing.assert_allclose(knetpy.relu(x).to_numpy(), knetpy.relu(a))
    np.testing.assert_allclose(knetpy.logsumexp(x, axis=0).to_numpy(),
                               knetpy.logsumexp(a, axis=0), rtol=1e-5)
    ans = np.array([0, 3, 1, 2, 2, -1])
    np.testing.assert_allclose(float(knetpy.nll(x, ans)), knetpy.nll(a, ans), rtol=1e-5)
    assert {"softmax_32", "relu_32", "logsumexp_32", "nll_rows_32"} <= set(launched)


def test_gradients_through_kernel_backend(be):
    a = np.random.default_rng(2).standard_normal((4, 3))
    ans = np.array([0, 2, 1, 1])

    def loss(w, x):
        return knetpy.nll(knetpy.relu(x) @ w, ans)

    w = np.random.default_rng(3).standard_normal((3, 5))
    g_host = grad(loss)(w, a)
    g_dev = grad(loss)(k(be, w), k(be, a))
    np.testing.assert_allclose(np.asarray(g_dev), g_host, rtol=1e-10)


def test_batchnorm_on_kernel_backend(be):
    a = np.random.default_rng(4).standard_normal((8, 3, 2, 2))
    p = Param(k(be, knetpy.bnparams(3, dtype=np.float64)))
    x = k(be, a)
    t = diff(lambda: (knetpy.batchnorm(x, None, p) ** 2).sum())
    pr = Param(knetpy.bnparams(3, dtype=np.float64))
    tr = diff(lambda: (knetpy.batchnorm(a, None, pr) ** 2).sum())
    np.testing.assert_allclose(np.asarray(grad(t, p)), grad(tr, pr), rtol=1e-8, atol=1e-10)


def test_startup_imports_no_cupy():
    code = ("import sys, knetpy, knetpy.backends.cupy_backend, knetpy.backends.emulator; "
            "knetpy.gpu(False); print('cupy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
