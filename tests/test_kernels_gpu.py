"""Real-GPU checks: the CuPy backend (kernels loaded with cupy.RawModule) gives
the same results as the emulator on the same inputs.  Marked ``gpu``; skipped
unless CuPy is installed and ``cupy.is_available()`` is True.

Run on a machine with an NVIDIA GPU:  pip install cupy-cuda12x && pytest -m gpu
"""
import numpy as np
import pytest

pytestmark = pytest.mark.gpu


def _cupy_usable():
    try:
        import cupy
        return bool(cupy.is_available())
    except Exception:          # not installed, or no driver
        return False


if not _cupy_usable():
    pytest.skip("needs CuPy and a usable CUDA GPU", allow_module_level=True)

from knetpy.backends.cupy_backend import UNARY, BINARY, CupyDevice, KernelBackend  # noqa: E402
from knetpy.backends.emulator import emulated_backend  # noqa: E402


@pytest.fixture(scope="module")
def gpu():
    return KernelBackend(CupyDevice())


@pytest.fixture(scope="module")
def emu():
    return emulated_backend()


def same(gpu, emu, method, *args, rtol=1e-5, **kw):
    """Run ``method`` on both backends (arrays copied to each) and compare."""
    def on(be, a):
        return be.asarray(a) if isinstance(a, np.ndarray) else a
    g = getattr(gpu, method)(*(on(gpu, a) for a in args), **kw)
    e = getattr(emu, method)(*args, **kw)
    for gi, ei in zip(g if isinstance(g, tuple) else (g,), e if isinstance(e, tuple) else (e,)):
        np.testing.assert_allclose(gpu.to_numpy(gi), ei, rtol=rtol, atol=rtol, err_msg=method)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_unary_and_binary(gpu, emu, dt):
    x = np.random.default_rng(0).uniform(0.1, 0.9, (33, 65)).astype(dt)
    for name in sorted(set(UNARY.values())):
        same(gpu, emu, "unary", name, x, rtol=1e-4)
    for name in BINARY:
        same(gpu, emu, "binary", name, x, x[0])
        same(gpu, emu, "binary", name, x, 0.5)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_reductions_softmax_nll(gpu, emu, dt):
    x = np.random.default_rng(1).standard_normal((70, 300)).astype(dt)
    for op in ("sum", "prod", "max", "min", "mean", "var"):
        for axis in (None, 0, 1):
            same(gpu, emu, "reduce", op, x, axis, False, rtol=1e-3)
    same(gpu, emu, "softmax", x, -1, 1)
    same(gpu, emu, "logsumexp", x, 0, False)
    ans = np.random.default_rng(2).integers(0, 300, 70)
    same(gpu, emu, "nll_forward", x, ans, -1, rtol=1e-4)
    same(gpu, emu, "nll_backward", x, ans, -1)


def test_network_kernels(gpu, emu):
    r = np.random.default_rng(3)
    x = r.standard_normal((2, 3, 9, 8)).astype(np.float32)
    same(gpu, emu, "dropout", x, 0.4, 99, rtol=0)        # identical masks on both
    same(gpu, emu, "im2col", x, (3, 3), 1, 2, 1)
    for mode in (0, 1, 2):
        same(gpu, emu, "pool", x, 3, 1, 2, mode)
    same(gpu, emu, "bn_stats", x)
    g, c0 = r.standard_normal((4, 20)), r.standard_normal((4, 5))
    same(gpu, emu, "lstm", g, c0)


def test_new_device_paths(gpu, emu):
    """N-D pooling, 3-D im2col/col2im and conv passes, scatter_add, updates."""
    r = np.random.default_rng(4)
    x5 = r.standard_normal((2, 3, 5, 6, 7))
    for mode in (0, 1, 2):
        same(gpu, emu, "pool", x5, (2, 3, 2), (1, 1, 0), (2, 1, 2), mode, alpha=1.5, rtol=1e-12)
        y = emu.pool(x5, 2, 1, 1, mode)
        same(gpu, emu, "poolback", x5, y, r.standard_normal(y.shape), 2, 1, 1, mode, rtol=1e-12)
    same(gpu, emu, "poolgather", r.standard_normal(x5.shape), x5, 3, 1, 2, rtol=1e-12)
    col = emu.im2col(x5, 3, 1, 2, 1)
    same(gpu, emu, "im2col", x5, 3, 1, 2, 1, rtol=0)
    same(gpu, emu, "col2im", r.standard_normal(col.shape), x5.shape, 3, 1, 2, 1, rtol=1e-12)
    w = r.standard_normal((4, 3, 2, 2, 2))
    same(gpu, emu, "conv_forward", w, x5, 1, 1, 1, 0, 1, 1, rtol=1e-10)
    a, rows, vals = r.standard_normal((9, 4)), np.array([1, 1, 8, 0, 1]), r.standard_normal((5, 4))
    ga = gpu.copy(a)
    gpu.scatter_add(ga, gpu.asarray(rows), gpu.asarray(vals))
    np.testing.assert_allclose(gpu.to_numpy(ga), emu.scatter_add(a.copy(), rows, vals), rtol=1e-12)
    wg, gg, m, v = (r.standard_normal((7, 5)).astype(np.float32) for _ in range(4))
    v = np.abs(v)
    dw, dm, dv = gpu.copy(wg), gpu.copy(m), gpu.copy(v)
    gpu.adam_(dw, gpu.asarray(gg), dm, dv, 0.01, 0.9, 0.999, 1e-8, 2)
    emu.adam_(wg, gg, m, v, 0.01, 0.9, 0.999, 1e-8, 2)
    np.testing.assert_allclose(gpu.to_numpy(dw), wg, rtol=1e-5)


def test_gpu_selects_the_cupy_backend():
    import knetpy
    try:
        knetpy.gpu(0)
        k = knetpy.KnetArray(np.arange(6.0).reshape(2, 3))
        assert k.backend.name == "cupy"
        np.testing.assert_allclose((np.exp(k) * 2).sum(axis=0).to_numpy(),
                                   (np.exp(np.arange(6.0).reshape(2, 3)) * 2).sum(axis=0))
    finally:
        knetpy.gpu(False)
