"""The GPU backend: ``KernelBackend`` on a ``CupyDevice`` (CuPy arrays).

``knetpy.backends.use("cupy")`` (called by ``knetpy.gpu(d)``) imports this
module and calls ``make_backend()``; CuPy is imported only then.  The module
also re-exports ``KernelBackend`` and the kernel tables for older imports.
"""
from knetpy import kernels
from .kernel_backend import ACTIVATION_BACK, BINARY, KernelBackend, UNARY

__all__ = ["KernelBackend", "CupyDevice", "UNARY", "BINARY", "ACTIVATION_BACK", "make_backend"]

name = "cupy"


class CupyDevice:
    """The device API on a real GPU: CuPy arrays, kernels loaded from
    ``knetpy.kernels`` with ``cupy.RawModule`` (one module per family, compiled
    once per process and cached on disk by CuPy)."""
    name = "cupy"

    def __init__(self, block=256, max_blocks=None):
        import cupy
        self.xp = cupy
        self.block = block
        if max_blocks is None:
            try:
                sms = cupy.cuda.Device().attributes["MultiProcessorCount"]
            except Exception:      # attribute query unsupported: a safe default
                sms = 32
            max_blocks = 32 * sms
        self.max_blocks = max_blocks
        self._modules, self._kernels = {}, {}

    def owns(self, a):
        """True for CuPy arrays."""
        return isinstance(a, self.xp.ndarray)

    def asarray(self, a, dtype=None):
        """``a`` on the GPU (no copy when it already is one of ``dtype``)."""
        return self.xp.asarray(a, dtype=dtype)

    def copy(self, a, dtype=None):
        """A fresh GPU array holding ``a``'s values."""
        return self.xp.array(a, dtype=dtype, copy=True)

    def empty(self, shape, dtype):
        """Uninitialized GPU memory."""
        return self.xp.empty(shape, dtype)

    def to_numpy(self, a):
        """A host copy of ``a``."""
        return self.xp.asnumpy(a)

    def matmul(self, a, b):
        """Matrix product through cuBLAS."""
        return self.xp.matmul(a, b)

    def function(self, family, kname):
        """Kernel ``kname`` of ``kernels/<family>.cu`` as a ``cupy.RawKernel``."""
        k = self._kernels.get(kname)
        if k is None:
            mod = self._modules.get(family)
            if mod is None:
                mod = self._modules[family] = self.xp.RawModule(
                    code=kernels.source(family),
                    options=("-I" + kernels.include_dir(), "--std=c++17"))
            k = self._kernels[kname] = mod.get_function(kname)
        return k


_default = None


def make_backend():
    """make_backend() -> the one ``KernelBackend`` on a ``CupyDevice`` of this
    process (made on the first call; raises ImportError without CuPy)."""
    global _default
    if _default is None:
        _default = KernelBackend(CupyDevice())
    return _default
