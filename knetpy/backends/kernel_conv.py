"""Convolution and pooling on the CUDA kernels.

``KernelConv`` is a part of ``knetpy.backends.kernel_backend.KernelBackend``.
``im2col``/``col2im`` run ``kernels/conv.cu`` and the three convolution
passes are batched matrix products (cuBLAS on a GPU) over the per-instance
column layout ``(N, C*prod(k), prod(out))`` they give; ``pool``/``poolback``/
``poolgather`` run ``kernels/pool.cu``.  Both kernel families take the
geometry as one device int64 table (``knet_geo`` in ``knet_common.cuh``); a
2-D image is a 3-D one with depth 1.  The rules are those of the numpy
bodies (``host_conv``, ``host_pool``); float16 is computed in float32.
Pooling with a dilation other than 1 (which ``pool.cu`` does not take) runs
the numpy bodies on this backend's arrays.
"""
import math

import numpy as np

from .host_conv import conv_geometry, flip
from .host_pool import PoolKernels, check_pool_grad, pool_geometry
from .host_scratch import work_dtype
from .kernel_table import BITS as _BITS

__all__ = ["KernelConv"]


def _as3(t, fill):
    """A 2-D geometry tuple as a 3-D one (depth ``fill`` first)."""
    return (fill,) + tuple(t) if len(t) == 2 else tuple(t)


class KernelConv:
    """im2col/col2im (``conv.cu``), the convolution passes and pooling
    (``pool.cu``) on device kernels."""

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

    # ------------------------------------------------------------ im2col / col2im
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

    # ------------------------------------------------------------ the GEMM passes
    def _weights(self, w, mode, alpha, groups, dt):
        """w (O, C/g, *k) as (g, O/g, C/g*prod(k)), flipped for mode 0, times alpha."""
        wm = self.xp.ascontiguousarray(flip(w, mode), dtype=dt).reshape(
            groups, w.shape[0] // groups, -1)
        return wm * dt.type(alpha) if alpha != 1 else wm

    def _cols(self, x, ksize, padding, stride, dilation, groups, dt):
        """im2col of x as (N, groups, C/g*prod(k), prod(out))."""
        col = self.im2col(x if x.dtype == dt else x.astype(dt), ksize, padding, stride, dilation)
        return col.reshape(col.shape[0], groups, col.shape[1] // groups, col.shape[2])

    def conv_forward(self, w, x, padding, stride, dilation, mode, alpha, groups, keep=False):
        """conv_forward(w, x, padding, stride, dilation, mode, alpha, groups,
        keep=False) -> y: the im2col kernel and one batched product (``keep``
        is not needed here: the columns are rebuilt on the device)."""
        dt = work_dtype(w, x)
        col = self._cols(x, w.shape[2:], padding, stride, dilation, groups, dt)
        y = self.matmul(self._weights(w, mode, alpha, groups, dt)[None], col)
        out = conv_geometry(x.shape, w.shape[2:], padding, stride, dilation, "conv")[4]
        return y.reshape((x.shape[0], w.shape[0]) + out).astype(
            np.result_type(w.dtype, x.dtype), copy=False)

    def conv_backward_w(self, x, dy, wshape, padding, stride, dilation, mode, alpha, groups):
        """conv_backward_w(x, dy, wshape, padding, stride, dilation, mode, alpha,
        groups) -> dw: the im2col kernel, a batched product and a sum over N."""
        dt = work_dtype(x, dy)
        col = self._cols(x, tuple(wshape[2:]), padding, stride, dilation, groups, dt)
        N, O = dy.shape[:2]
        dd = dy.astype(dt, copy=False).reshape(N, groups, O // groups, -1)
        dw = self.matmul(dd, col.swapaxes(2, 3)).sum(axis=0).reshape(tuple(wshape))
        if alpha != 1:
            dw = dw * dt.type(alpha)
        return self.xp.ascontiguousarray(flip(dw, mode), dtype=np.result_type(x.dtype, dy.dtype))

    def conv_backward_x(self, w, dy, xshape, padding, stride, dilation, mode, alpha, groups):
        """conv_backward_x(w, dy, xshape, padding, stride, dilation, mode, alpha,
        groups) -> dx: a batched product and the col2im kernel."""
        dt = work_dtype(w, dy)
        N, O = dy.shape[:2]
        wm = self._weights(w, mode, alpha, groups, dt)
        dd = dy.astype(dt, copy=False).reshape(N, groups, O // groups, -1)
        dcol = self.matmul(wm.swapaxes(1, 2)[None], dd)
        dcol = self.xp.ascontiguousarray(dcol).reshape(N, -1, dcol.shape[-1])
        dx = self.col2im(dcol, tuple(xshape), tuple(w.shape[2:]), padding, stride, dilation)
        return dx.astype(np.result_type(w.dtype, dy.dtype), copy=False)

    # ------------------------------------------------------------ pooling
    def _pool_geo(self, x_shape, window, padding, stride, mode, fn, dilation):
        """(geometry table, out), or (None, out) when the kernels do not take
        this geometry (a dilation other than 1)."""
        k, pads, s, d, out = pool_geometry(x_shape, window, padding, stride, mode, fn, dilation)
        if any(v != 1 for v in d):
            return None, out
        # the kernels read window o at o*s - lo; hi only sets the output size
        return self._geo(x_shape, k, tuple(lo for lo, _ in pads), s, d, out), out

    def pool(self, x, window=2, padding=0, stride=None, mode=0, nan_propagate=False, alpha=1,
             dilation=1):
        """pool(x, window=2, padding=0, stride=None, mode=0, nan_propagate=False,
        alpha=1, dilation=1) -> y by the ``pool`` kernel (contract: ``host_pool``)."""
        geo, out = self._pool_geo(x.shape, window, padding, stride, mode, "pool", dilation)
        if geo is None:
            return PoolKernels.pool(self, x, window, padding, stride, mode, nan_propagate,
                                    alpha, dilation)
        x, dt = self._float16_in(x, "pool", "x")
        y = self._empty(tuple(x.shape[:2]) + out, x.dtype)
        if y.size:
            self._run("pool", f"pool_{_BITS[x.dtype]}", self._grid(y.size),
                      (geo, np.int32(mode), np.int32(bool(nan_propagate)), np.float64(alpha),
                       x, y))
        return y.astype(dt, copy=False)

    def poolback(self, x, y, dy, window=2, padding=0, stride=None, mode=0, nan_propagate=False,
                 alpha=1, dilation=1):
        """poolback(x, y, dy, window=2, padding=0, stride=None, mode=0,
        nan_propagate=False, alpha=1, dilation=1) -> dx by the ``poolback``
        kernel (a gather over the windows holding each cell; ``y`` is not
        read; ``x`` may be a shape for modes 1 and 2)."""
        shape_only = isinstance(x, tuple)
        xshape = tuple(x) if shape_only else tuple(x.shape)
        geo, out = self._pool_geo(xshape, window, padding, stride, mode, "poolback", dilation)
        if geo is None or (mode == 0 and shape_only):
            return PoolKernels.poolback(self, x, y, dy, window, padding, stride, mode,
                                        nan_propagate, alpha, dilation)
        check_pool_grad(xshape, y, dy, out)
        dy, dt = self._float16_in(dy, "poolback", "dy")
        if shape_only:
            cd, xd, dtx = dy.dtype, dy, dt           # the averages never read x
        else:
            xd, dtx = self._float16_in(x, "poolback", "x")
            cd = np.result_type(xd.dtype, dy.dtype)
            xd, dy = xd.astype(cd, copy=False), dy.astype(cd, copy=False)
        dx = self._empty(xshape, cd)
        if dx.size:
            self._run("pool", f"poolback_{_BITS[cd]}", self._grid(dx.size),
                      (geo, np.int32(mode), np.int32(bool(nan_propagate)), np.float64(alpha),
                       xd, dy, dx))
        return dx.astype(np.result_type(dt, dtx) if mode == 0 else dt, copy=False)

    def poolgather(self, g, x, window=2, padding=0, stride=None, nan_propagate=False, alpha=1,
                   dilation=1):
        """poolgather(g, x, window=2, padding=0, stride=None, nan_propagate=False,
        alpha=1, dilation=1) -> alpha * g at the first maximum of each window
        of x, by the ``poolgather`` kernel."""
        geo, out = self._pool_geo(x.shape, window, padding, stride, 0, "poolgather", dilation)
        if tuple(g.shape) != tuple(x.shape):
            raise ValueError(f"poolgather: g must have x's shape {tuple(x.shape)}, "
                             f"got {tuple(g.shape)}")
        if geo is None:
            return PoolKernels.poolgather(self, g, x, window, padding, stride, nan_propagate,
                                          alpha, dilation)
        x, dtx = self._float16_in(x, "poolgather", "x")
        g, dt = self._float16_in(g, "poolgather", "g")
        cd = np.result_type(x.dtype, g.dtype)
        x, g = x.astype(cd, copy=False), g.astype(cd, copy=False)
        y = self._empty(tuple(x.shape[:2]) + out, cd)
        if y.size:
            self._run("pool", f"poolgather_{_BITS[cd]}", self._grid(y.size),
                      (geo, np.int32(bool(nan_propagate)), np.float64(alpha), x, g, y))
        return y.astype(np.result_type(dt, dtx), copy=False)
