"""Numpy bodies of the convolution kernels: im2col, col2im and the three
GEMM passes of an N-D convolution (2 or 3 spatial axes).

``ConvKernels`` is a part of ``knetpy.backends.base.Backend``.  Layout: for
x of shape ``(N, C, *S)`` and a window ``k``, ``im2col`` gives, per
instance, the column matrix

    col[n, (c, i1, .., id), (o1, .., od)] = xpad[n, c, o*stride + i*dilation]

of shape ``(N, C*prod(k), prod(out))`` (0 in the padding), which is also the
layout of ``kernels/conv.cu``.  The convolution passes are batched matrix
products over (instance, group) with that layout, so the same method bodies
run on every backend: the kernel backend only overrides ``im2col`` and
``col2im``.  ``mode=0`` is convolution (the kernel is flipped), 1
cross-correlation; ``alpha`` scales the result; float16 is computed in float32.

>>> from knetpy.backends import numpy_backend as nb
>>> nb.im2col(np.arange(4.0).reshape(1, 1, 2, 2), (2, 2)).ravel().tolist()
[0.0, 1.0, 2.0, 3.0]
"""
import math
import numbers

import numpy as np

__all__ = ["ConvKernels", "conv_geometry", "ntuple"]


def ntuple(v, nd, what, fn, least):
    """v (an int or nd ints, each >= ``least``) as a tuple of nd ints."""
    if isinstance(v, numbers.Integral):
        v = (int(v),) * nd
    try:
        v = tuple(int(i) for i in v)
    except TypeError:
        raise ValueError(f"{fn}: {what} must be an int or {nd} ints, got {v!r}") from None
    if len(v) != nd or min(v) < least:
        raise ValueError(f"{fn}: {what} must be an int or {nd} ints, each >= {least}, "
                         f"got {v!r}")
    return v


def conv_geometry(x_shape, window, padding, stride, dilation, fn):
    """(window, padding, stride, dilation, out) tuples of the convolution of an
    (N, C, *S) array with 2 or 3 spatial axes; ValueError naming the bad one."""
    x_shape = tuple(int(s) for s in x_shape)
    nd = len(x_shape) - 2
    if nd not in (2, 3):
        raise ValueError(f"{fn}: x must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), "
                         f"got shape {x_shape}")
    k = ntuple(window, nd, "window", fn, 1)
    p = ntuple(padding, nd, "padding", fn, 0)
    s = ntuple(stride, nd, "stride", fn, 1)
    d = ntuple(dilation, nd, "dilation", fn, 1)
    out = tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
                for n, kk, pp, ss, dd in zip(x_shape[2:], k, p, s, d))
    if min(out) < 1:
        raise ValueError(f"{fn}: the window {k} does not fit the padded input {x_shape[2:]}")
    return k, p, s, d, out


def _flip(w, mode):
    """w with its spatial axes reversed for mode 0 (true convolution)."""
    if mode == 0:
        return w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)]
    return w


def _cdtype(*arrays):
    dt = np.result_type(*[a.dtype for a in arrays])
    return np.dtype(np.float32) if dt == np.float16 else dt


class ConvKernels:
    """im2col/col2im and the convolution passes (a part of ``Backend``)."""

    def im2col(self, x, window, padding=0, stride=1, dilation=1):
        """im2col(x, window, padding=0, stride=1, dilation=1) -> col of shape
        (N, C*prod(window), prod(out)): the patches of ``x`` (N, C, *S, 2 or 3
        spatial axes) as columns, 0 in the padding; ``window`` etc. are ints or
        one int per spatial axis."""
        k, p, s, d, out = conv_geometry(x.shape, window, padding, stride, dilation, "im2col")
        xp = self.xp
        if any(p):
            xpad = xp.zeros(x.shape[:2] + tuple(n + 2 * q for n, q in zip(x.shape[2:], p)),
                            dtype=x.dtype)
            xpad[(slice(None), slice(None)) + tuple(slice(q, q + n) for n, q in
                                                    zip(x.shape[2:], p))] = x
        else:
            xpad = xp.ascontiguousarray(x)
        st = xpad.strides
        view = xp.lib.stride_tricks.as_strided(
            xpad, shape=x.shape[:2] + k + out,
            strides=st[:2] + tuple(a * b for a, b in zip(st[2:], d))
            + tuple(a * b for a, b in zip(st[2:], s)))
        return view.reshape(x.shape[0], x.shape[1] * math.prod(k), math.prod(out))

    def col2im(self, col, x_shape, window, padding=0, stride=1, dilation=1):
        """col2im(col, x_shape, window, padding=0, stride=1, dilation=1) -> array
        of ``x_shape``: the adjoint of ``im2col`` (each cell sums the column
        entries that read it)."""
        k, p, s, d, out = conv_geometry(x_shape, window, padding, stride, dilation, "col2im")
        N, C = int(x_shape[0]), int(x_shape[1])
        want = (N, C * math.prod(k), math.prod(out))
        if tuple(col.shape) != want:
            raise ValueError(f"col2im: col must have shape {want}, got {tuple(col.shape)}")
        sp = tuple(int(n) for n in x_shape[2:])
        xpad = self.xp.zeros((N, C) + tuple(n + 2 * q for n, q in zip(sp, p)), dtype=col.dtype)
        c = col.reshape((N, C) + k + out)
        for off in np.ndindex(*k):
            sl = tuple(slice(i * dd, i * dd + ss * (o - 1) + 1, ss)
                       for i, dd, ss, o in zip(off, d, s, out))
            xpad[(slice(None), slice(None)) + sl] += c[(slice(None), slice(None)) + off]
        return xpad[(slice(None), slice(None)) + tuple(slice(q, q + n) for n, q in zip(sp, p))]

    # ------------------------------------------------------------ the GEMM passes
    def _weights(self, w, mode, alpha, groups, dt):
        """w (O, C/g, *k) as (g, O/g, C/g*prod(k)), flipped for mode 0, times alpha."""
        wm = self.xp.ascontiguousarray(_flip(w, mode), dtype=dt).reshape(groups,
                                                                         w.shape[0] // groups, -1)
        return wm * dt.type(alpha) if alpha != 1 else wm

    def _cols(self, x, ksize, padding, stride, dilation, groups, dt):
        """im2col of x as (N, groups, C/g*prod(k), prod(out))."""
        col = self.im2col(x if x.dtype == dt else x.astype(dt), ksize, padding, stride, dilation)
        return col.reshape(col.shape[0], groups, col.shape[1] // groups, col.shape[2])

    def conv_forward(self, w, x, padding, stride, dilation, mode, alpha, groups):
        """conv_forward(w, x, padding, stride, dilation, mode, alpha, groups) ->
        y = alpha * conv(w, x): w (O, C/groups, *k), x (N, C, *S) -> (N, O, *out),
        in the result dtype of w and x."""
        dt = _cdtype(w, x)
        col = self._cols(x, w.shape[2:], padding, stride, dilation, groups, dt)
        y = self.matmul(self._weights(w, mode, alpha, groups, dt)[None], col)
        out = conv_geometry(x.shape, w.shape[2:], padding, stride, dilation, "conv")[4]
        return y.reshape((x.shape[0], w.shape[0]) + out).astype(
            np.result_type(w.dtype, x.dtype), copy=False)

    def conv_backward_w(self, x, dy, wshape, padding, stride, dilation, mode, alpha, groups):
        """conv_backward_w(x, dy, wshape, padding, stride, dilation, mode, alpha,
        groups) -> the gradient of ``conv_forward`` with respect to w."""
        dt = _cdtype(x, dy)
        col = self._cols(x, tuple(wshape[2:]), padding, stride, dilation, groups, dt)
        N, O = dy.shape[:2]
        dd = dy.astype(dt, copy=False).reshape(N, groups, O // groups, -1)
        dw = self.matmul(dd, col.swapaxes(2, 3)).sum(axis=0).reshape(tuple(wshape))
        if alpha != 1:
            dw = dw * dt.type(alpha)
        return self.xp.ascontiguousarray(_flip(dw, mode), dtype=np.result_type(x.dtype, dy.dtype))

    def conv_backward_x(self, w, dy, xshape, padding, stride, dilation, mode, alpha, groups):
        """conv_backward_x(w, dy, xshape, padding, stride, dilation, mode, alpha,
        groups) -> the gradient of ``conv_forward`` with respect to x."""
        dt = _cdtype(w, dy)
        N, O = dy.shape[:2]
        wm = self._weights(w, mode, alpha, groups, dt)
        dd = dy.astype(dt, copy=False).reshape(N, groups, O // groups, -1)
        dcol = self.matmul(wm.swapaxes(1, 2)[None], dd)
        dcol = self.xp.ascontiguousarray(dcol).reshape(N, -1, dcol.shape[-1])
        dx = self.col2im(dcol, tuple(xshape), tuple(w.shape[2:]), padding, stride, dilation)
        return dx.astype(np.result_type(w.dtype, dy.dtype), copy=False)
