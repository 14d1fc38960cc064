"""im2col/col2im (2-D and 3-D) and pooling on the CUDA kernels.

``KernelConv`` is a part of ``knetpy.backends.kernel_backend.KernelBackend``.
It overrides ``im2col``/``col2im`` with ``kernels/conv.cu`` (the convolution
passes of ``host_conv.ConvKernels`` then run as batched cuBLAS products on
the device) and ``pool``/``poolback``/``poolgather`` with
``kernels/pool.cu``.  Both kernel families take the geometry as one device
int64 table (``knet_geo`` in ``knet_common.cuh``); a 2-D image is a 3-D one
with depth 1.  The rules are those of the numpy bodies (``host_conv``,
``host_pool``); float16 is computed in float32.
"""
import math

import numpy as np

from .host_conv import conv_geometry
from .host_pool import check_pool_grad, pool_geometry
from .kernel_table import BITS as _BITS

__all__ = ["KernelConv"]


def _as3(t, fill):
    """A 2-D geometry tuple as a 3-D one (depth ``fill`` first)."""
    return (fill,) + tuple(t) if len(t) == 2 else tuple(t)


class KernelConv:
    """im2col/col2im (``conv.cu``) and pooling (``pool.cu``) kernels."""

    def _geo(self, x_shape, k, p, s, d, out):
        """The device geometry table of knet_geo."""
        sp = _as3(tuple(int(n) for n in x_shape[2:]), 1)
        return self._meta(tuple(int(n) for n in x_shape[:2]), sp, _as3(k, 1), _as3(out, 1),
                          _as3(p, 0), _as3(s, 1), _as3(d, 1))

    def _float16_in(self, a, fn, what):
        """(a as a contiguous float32/64 device array, dtype to return)."""
        a = self.contiguous(self.asarray(a))
        if a.dtype == np.float16:
            return a.astype(np.float32), a.dtype
        if a.dtype not in _BITS:
            raise TypeError(f"{fn}: {what} must be a float array, got {a.dtype}")
        return a, a.dtype

    def im2col(self, x, window, padding=0, stride=1, dilation=1):
        """im2col(x, window, padding=0, stride=1, dilation=1) -> col (N,
        C*prod(window), prod(out)) by the ``im2col`` kernel (see
        ``host_conv.ConvKernels.im2col`` for the contract)."""
        x, dt = self._float16_in(x, "im2col", "x")
        k, p, s, d, out = conv_geometry(x.shape, window, padding, stride, dilation, "im2col")
        col = self._empty((x.shape[0], x.shape[1] * math.prod(k), math.prod(out)), x.dtype)
        if col.size:
            self._run("conv", f"im2col_{_BITS[x.dtype]}", self._grid(col.size),
                      (self._geo(x.shape, k, p, s, d, out), x, col))
        return col.astype(dt, copy=False)

    def col2im(self, col, x_shape, window, padding=0, stride=1, dilation=1):
        """col2im(col, x_shape, window, padding=0, stride=1, dilation=1) -> the
        adjoint of ``im2col`` by the ``col2im`` kernel (a gather: deterministic)."""
        col, dt = self._float16_in(col, "col2im", "col")
        x_shape = tuple(int(n) for n in x_shape)
        k, p, s, d, out = conv_geometry(x_shape, window, padding, stride, dilation, "col2im")
        want = (x_shape[0], x_shape[1] * math.prod(k), math.prod(out))
        if tuple(col.shape) != want:
            raise ValueError(f"col2im: col must have shape {want}, got {tuple(col.shape)}")
        x = self._empty(x_shape, col.dtype)
        if x.size:
            self._run("conv", f"col2im_{_BITS[col.dtype]}", self._grid(x.size),
                      (self._geo(x_shape, k, p, s, d, out), col, x))
        return x.astype(dt, copy=False)

    def pool(self, x, window=2, padding=0, stride=None, mode=0, nan_propagate=False, alpha=1):
        """pool(x, window=2, padding=0, stride=None, mode=0, nan_propagate=False,
        alpha=1) -> y by the ``pool`` kernel (contract: ``host_pool``)."""
        x, dt = self._float16_in(x, "pool", "x")
        k, p, s, out = pool_geometry(x.shape, window, padding, stride, mode, "pool")
        y = self._empty(tuple(x.shape[:2]) + out, x.dtype)
        if y.size:
            self._run("pool", f"pool_{_BITS[x.dtype]}", self._grid(y.size),
                      (self._geo(x.shape, k, p, s, (1,) * len(k), out), np.int32(mode),
                       np.int32(bool(nan_propagate)), np.float64(alpha), x, y))
        return y.astype(dt, copy=False)

    def poolback(self, x, y, dy, window=2, padding=0, stride=None, mode=0, nan_propagate=False,
                 alpha=1):
        """poolback(x, y, dy, window=2, padding=0, stride=None, mode=0,
        nan_propagate=False, alpha=1) -> dx by the ``poolback`` kernel (a gather
        over the windows holding each cell; ``y`` is not read)."""
        x, dtx = self._float16_in(x, "poolback", "x")
        dy, dt = self._float16_in(dy, "poolback", "dy")
        k, p, s, out = pool_geometry(x.shape, window, padding, stride, mode, "poolback")
        check_pool_grad(x, y, dy, out)
        cd = np.result_type(x.dtype, dy.dtype)
        x, dy = x.astype(cd, copy=False), dy.astype(cd, copy=False)
        dx = self._empty(x.shape, cd)
        if dx.size:
            self._run("pool", f"poolback_{_BITS[cd]}", self._grid(dx.size),
                      (self._geo(x.shape, k, p, s, (1,) * len(k), out), np.int32(mode),
                       np.int32(bool(nan_propagate)), np.float64(alpha), x, dy, dx))
        return dx.astype(np.result_type(dt, dtx) if mode == 0 else dt, copy=False)

    def poolgather(self, g, x, window=2, padding=0, stride=None, nan_propagate=False, alpha=1):
        """poolgather(g, x, window=2, padding=0, stride=None, nan_propagate=False,
        alpha=1) -> alpha * g at the first maximum of each window of x, by the
        ``poolgather`` kernel."""
        x, dtx = self._float16_in(x, "poolgather", "x")
        g, dt = self._float16_in(g, "poolgather", "g")
        k, p, s, out = pool_geometry(x.shape, window, padding, stride, 0, "poolgather")
        if tuple(g.shape) != tuple(x.shape):
            raise ValueError(f"poolgather: g must have x's shape {tuple(x.shape)}, "
                             f"got {tuple(g.shape)}")
        cd = np.result_type(x.dtype, g.dtype)
        x, g = x.astype(cd, copy=False), g.astype(cd, copy=False)
        y = self._empty(tuple(x.shape[:2]) + out, cd)
        if y.size:
            self._run("pool", f"poolgather_{_BITS[cd]}", self._grid(y.size),
                      (self._geo(x.shape, k, p, s, (1,) * len(k), out),
                       np.int32(bool(nan_propagate)), np.float64(alpha), x, g, y))
        return y.astype(np.result_type(dt, dtx), copy=False)
