"""Convolution through a backend's own im2col/col2im kernels (the GPU path).

A backend that provides ``im2col(x, kh, kw, padding, stride, dilation)`` ->
``(N, C*kh*kw, OH*OW)`` and its adjoint ``col2im(col, x_shape, kh, kw, ...)``
(the CUDA kernels of ``kernels/conv.cu`` do) computes 2-D convolutions here:
with that per-instance column layout the three passes are batched matrix
products, one per (instance, group), and no transposes are needed.  The
functions mirror ``knetpy.im2col``'s ``conv_forward``, ``conv_backward_w``
and ``conv_backward_x`` (same arguments plus the backend first), so
``knetpy.conv`` can pick either.  float16 is computed in float32.
"""
import numpy as np

from .im2col import _flip, compute_dtype

__all__ = ["usable", "conv_forward", "conv_backward_w", "conv_backward_x"]


def usable(be, ndim):
    """True when backend ``be`` has im2col/col2im kernels for ``ndim``-D input."""
    return be is not None and ndim == 4 and hasattr(be, "im2col") and hasattr(be, "col2im")


def _xp(be):
    return getattr(be, "xp", np)


def _cast(xp, a, dt):
    return a if a.dtype == dt else a.astype(dt)


def _weights(xp, w, mode, alpha, groups, dt):
    """w (O, C/g, kh, kw) as (g, O/g, C/g*kh*kw), flipped for mode 0, times alpha."""
    O = w.shape[0]
    wm = xp.ascontiguousarray(_flip(w, mode), dtype=dt).reshape(groups, O // groups, -1)
    return wm * dt.type(alpha) if alpha != 1 else wm


def _cols(be, x, ksize, padding, stride, dilation, groups, dt):
    """im2col of x as (N, groups, C/g*kh*kw, OH*OW)."""
    col = be.im2col(_cast(_xp(be), x, dt), ksize[0], ksize[1], padding, stride, dilation)
    return col.reshape(col.shape[0], groups, col.shape[1] // groups, col.shape[2])


def conv_forward(be, w, x, padding, stride, dilation, mode, alpha, groups):
    """y = alpha * conv(w, x) for 4-D x on backend ``be``."""
    xp = _xp(be)
    dt = compute_dtype(w, x)
    col = _cols(be, x, w.shape[2:], padding, stride, dilation, groups, dt)
    y = xp.matmul(_weights(xp, w, mode, alpha, groups, dt)[None], col)   # (N, g, O/g, P)
    H, W = x.shape[2:]
    out = tuple(1 + (n + 2 * p - d * (k - 1) - 1) // s for n, k, p, s, d in
                zip((H, W), w.shape[2:], padding, stride, dilation))
    return _cast(xp, y.reshape((x.shape[0], w.shape[0]) + out),
                 np.result_type(w.dtype, x.dtype))


def conv_backward_w(be, x, dy, wshape, padding, stride, dilation, mode, alpha, groups):
    """Gradient of ``conv_forward`` w.r.t. w (shape ``wshape``)."""
    xp = _xp(be)
    dt = compute_dtype(x, dy)
    col = _cols(be, x, wshape[2:], padding, stride, dilation, groups, dt)
    N, O = dy.shape[:2]
    d = _cast(xp, dy, dt).reshape(N, groups, O // groups, -1)
    dw = xp.matmul(d, col.swapaxes(2, 3)).sum(axis=0).reshape(wshape)
    if alpha != 1:
        dw = dw * dt.type(alpha)
    return xp.ascontiguousarray(_flip(dw, mode), dtype=np.result_type(x.dtype, dy.dtype))


def conv_backward_x(be, w, dy, xshape, padding, stride, dilation, mode, alpha, groups):
    """Gradient of ``conv_forward`` w.r.t. x (shape ``xshape``)."""
    xp = _xp(be)
    dt = compute_dtype(w, dy)
    N, O = dy.shape[:2]
    wm = _weights(xp, w, mode, alpha, groups, dt)
    d = _cast(xp, dy, dt).reshape(N, groups, O // groups, -1)
    dcol = xp.matmul(wm.swapaxes(1, 2)[None], d)                      # (N, g, C/g*k, P)
    dcol = xp.ascontiguousarray(dcol).reshape(N, -1, dcol.shape[-1])
    dx = be.col2im(dcol, tuple(xshape), w.shape[2], w.shape[3], padding, stride, dilation)
    return _cast(xp, dx, np.result_type(w.dtype, dy.dtype))
