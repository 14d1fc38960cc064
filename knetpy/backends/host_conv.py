"""Numpy bodies of the convolution kernels: im2col, col2im and the three
GEMM passes of an N-D convolution (2 or 3 spatial axes).

``ConvKernels`` is a part of ``knetpy.backends.base.Backend`` (the host
backend); the kernel backend overrides every method (``kernel_conv``).

Layout.  For x of shape ``(N, C, *S)`` and a kernel of spatial size ``k``,
the host passes work on the column matrix

    col[(c, i1, .., id), (n, o1, .., od)] = xpad[n, c, o*stride + i*dilation]

of shape ``(C*prod(k), N*prod(out))``: rows run over (channel, kernel
offset), columns over (instance, output pixel).  It is built as a single
copy of a strided view of the padded input (no Python loop over pixels).
With this layout the forward pass is ONE matrix product
``w (O, C*prod(k)) @ col`` for all instances at once (batched over groups
when ``groups > 1``), and both backward products are single GEMMs too:
``dw = dy2 @ col.T`` and ``dcol = w.T @ dy2`` with ``dy2`` the output
gradient as ``(O, N*prod(out))``.  col2im, the adjoint of im2col, loops only
over the ``prod(k)`` kernel offsets, adding one strided slice each.  The
public ``im2col``/``col2im`` methods give the per-instance layout
``(N, C*prod(k), prod(out))`` of ``kernels/conv.cu``.

Columns computed once.  ``conv_forward(..., keep=True)`` (a gradient is being
recorded) keeps the column matrix of its input and ``conv_backward_w`` of the
same input array object reuses it instead of building it again (see
``host_scratch.keep``).  An input changed in place between a forward pass and
its backward pass is not noticed (as everywhere on the tape, recorded inputs
must not be changed in place).

``mode=0`` is convolution (the kernel is flipped), ``mode=1``
cross-correlation; ``alpha`` scales the result; float16 is computed in
float32.  All three passes take the same keywords, so that each is the
adjoint of another (see ``knetpy.ops.conv``).

>>> from knetpy.backends import numpy_backend as nb
>>> nb.im2col(np.arange(4.0).reshape(1, 1, 2, 2), (2, 2)).ravel().tolist()
[0.0, 1.0, 2.0, 3.0]
"""
import math
import numbers

import numpy as np

from . import host_scratch as _hs
from .host_scratch import array_module, clear_scratch, lent, work_dtype

__all__ = ["ConvKernels", "conv_geometry", "ntuple", "out_size", "im2col_nd", "col2im_nd",
           "conv_forward", "conv_backward_w", "conv_backward_x", "flip", "clear_scratch"]


def ntuple(v, nd, what, fn, least):
    """ntuple(v, nd, what, fn, least) -> v (an int or nd ints, each >=
    ``least``) as a tuple of nd ints; ValueError naming ``what`` otherwise.

    >>> ntuple(2, 3, "stride", "pool", 1)
    (2, 2, 2)
    """
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
    """conv_geometry(x_shape, window, padding, stride, dilation, fn) ->
    (window, padding, stride, dilation, out) tuples of the convolution of an
    (N, C, *S) array with 2 or 3 spatial axes; ValueError naming the bad one.

    >>> conv_geometry((1, 1, 5, 5), 3, 1, 2, 1, "conv")[4]
    (3, 3)
    """
    x_shape = tuple(int(s) for s in x_shape)
    nd = len(x_shape) - 2
    if nd not in (2, 3):
        raise ValueError(f"{fn}: x must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), "
                         f"got shape {x_shape}")
    k = ntuple(window, nd, "window", fn, 1)
    p = ntuple(padding, nd, "padding", fn, 0)
    s = ntuple(stride, nd, "stride", fn, 1)
    d = ntuple(dilation, nd, "dilation", fn, 1)
    out = tuple(out_size(n, kk, pp, ss, dd) for n, kk, pp, ss, dd in zip(x_shape[2:], k, p, s, d))
    if min(out) < 1:
        raise ValueError(f"{fn}: the window {k} does not fit the padded input {x_shape[2:]}")
    return k, p, s, d, out


def out_size(size, k, padding, stride, dilation):
    """out_size(size, k, padding, stride, dilation) -> output length of one
    spatial axis: 1 + (size + 2p - d*(k-1) - 1) // s.

    >>> out_size(5, 3, 0, 1, 1)
    3
    """
    return 1 + (size + 2 * padding - dilation * (k - 1) - 1) // stride


def _pad(x, padding, fill=0):
    """x with ``padding[d]`` cells of ``fill`` added on both sides of spatial
    axis d (x itself when there is no padding)."""
    if not any(padding):
        return x
    xp = array_module(x)
    shape = x.shape[:2] + tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    out = xp.full(shape, fill, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(p, p + n) for n, p in
                                           zip(x.shape[2:], padding))] = x
    return out


def _strided_windows(xpad, ksize, stride, dilation, out):
    """A view of padded ``xpad`` (N, C, *S) with shape (C, *k, N, *out):
    element [c, i, n, o] is xpad[n, c, o*stride + i*dilation]."""
    xp = array_module(xpad)
    st = xpad.strides
    sp = st[2:]
    shape = (xpad.shape[1],) + tuple(ksize) + (xpad.shape[0],) + tuple(out)
    strides = ((st[1],) + tuple(s * d for s, d in zip(sp, dilation)) + (st[0],)
               + tuple(s * t for s, t in zip(sp, stride)))
    return xp.lib.stride_tricks.as_strided(xpad, shape=shape, strides=strides)


def im2col_nd(x, ksize, padding, stride, dilation, dtype=None, scratch=False, buf=None,
              n_last=False):
    """im2col_nd(x, ksize, padding, stride, dilation, dtype=None, scratch=False, buf=None,
    n_last=False) -> (col, out)

    The column matrix of ``x`` (N, C, *S) described in the module docstring,
    shape ``(C*prod(ksize), N*prod(out))``, C-contiguous, in ``dtype``
    (x's by default), and the output spatial sizes ``out``.  With
    ``scratch=True`` col lives in this thread's reusable workspace (valid
    until the next call that uses it); with ``buf`` (a uint8 array big
    enough) it lives there.  With ``n_last`` the columns run over (output
    pixel, instance) instead: x is first transposed to (C, *S, N), so that
    each copied run is a whole row of instances (fast for small images).

    >>> col, out = im2col_nd(np.arange(9.).reshape(1, 1, 3, 3), (2, 2), (0, 0), (1, 1), (1, 1))
    >>> col[:, 0], out
    (array([0., 1., 3., 4.]), (2, 2))
    """
    xp = array_module(x)
    out = tuple(out_size(n, k, p, s, d) for n, k, p, s, d in
                zip(x.shape[2:], ksize, padding, stride, dilation))
    dtype = x.dtype if dtype is None else np.dtype(dtype)
    if n_last:
        view = _windows_n_last(x, ksize, padding, stride, dilation, out, dtype)
    else:
        view = _strided_windows(xp.ascontiguousarray(_pad(x, padding)), ksize, stride,
                                dilation, out)
    if buf is not None:
        col = buf[:int(np.prod(view.shape)) * dtype.itemsize].view(dtype).reshape(view.shape)
    elif scratch:
        col = _hs.scratch(xp, "col", view.shape, dtype)
    else:
        col = xp.empty(view.shape, dtype)
    col[...] = view
    return col.reshape(x.shape[1] * int(np.prod(ksize)), x.shape[0] * int(np.prod(out))), out


def _windows_n_last(x, ksize, padding, stride, dilation, out, dtype):
    """A view of shape (C, *k, *out, N): element [c, i, o, n] is
    xpad[n, c, o*stride + i*dilation], read from x transposed (and padded) to
    (C, *Spad, N) in this thread's work array "xt"."""
    xp = array_module(x)
    N, C = x.shape[:2]
    spad = tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    xt = _hs.scratch(xp, "xt", (C,) + spad + (N,), dtype)
    if any(padding):
        xt.fill(0)
    inner = (slice(None),) + tuple(slice(p, p + n) for n, p in zip(x.shape[2:], padding))
    xt[inner] = xp.moveaxis(x, 0, -1)
    st = xt.strides
    sp = st[1:-1]
    shape = (C,) + tuple(ksize) + tuple(out) + (N,)
    strides = ((st[0],) + tuple(a * d for a, d in zip(sp, dilation))
               + tuple(a * s for a, s in zip(sp, stride)) + (st[-1],))
    return xp.lib.stride_tricks.as_strided(xt, shape=shape, strides=strides)


def col2im_nd(col, xshape, ksize, padding, stride, dilation, dtype=None):
    """col2im_nd(col, xshape, ksize, padding, stride, dilation, dtype=None) -> array of ``xshape``

    The adjoint of ``im2col_nd``: every input cell receives the sum of the col
    entries that were read from it.  Loops over the kernel offsets only.
    The result is a fresh array of ``dtype`` (col's by default).
    """
    return _col2im(col, xshape, ksize, padding, stride, dilation, dtype, n_last=False)


def _col2im(col, xshape, ksize, padding, stride, dilation, dtype, n_last):
    """col2im_nd; with ``n_last`` the columns are ordered (pixel, instance)
    instead of (instance, pixel), and the sums run with the instance axis
    innermost (long contiguous runs when the images are small)."""
    xp = array_module(col)
    N, C = xshape[:2]
    S = tuple(xshape[2:])
    out = tuple(out_size(n, k, p, s, d) for n, k, p, s, d in
                zip(S, ksize, padding, stride, dilation))
    spad = tuple(n + 2 * p for n, p in zip(S, padding))
    everything = slice(None)
    if n_last:
        col = col.reshape((C,) + tuple(ksize) + out + (N,))
        acc = _hs.scratch(xp, "col2im", (C,) + spad + (N,), col.dtype)
        at = (everything,), (everything,)
    else:
        # accumulate in (C, N, *Spad) order, which matches col's (C, ..., N, *out) order
        col = col.reshape((C,) + tuple(ksize) + (N,) + out)
        acc = _hs.scratch(xp, "col2im", (C, N) + spad, col.dtype)
        at = (everything, everything), ()
    acc.fill(0)
    for offset in np.ndindex(*ksize):
        sl = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                   for i, d, s, o in zip(offset, dilation, stride, out))
        acc[at[0] + sl + at[1]] += col[(everything,) + offset]
    crop = tuple(slice(p, p + n) for n, p in zip(S, padding))
    dx = xp.empty(tuple(xshape), dtype=col.dtype if dtype is None else dtype)
    if n_last:
        dx[...] = xp.moveaxis(acc[(everything,) + crop + (everything,)], -1, 0)
    else:
        dx[...] = acc[(everything, everything) + crop].swapaxes(0, 1)
    return dx


def flip(w, mode):
    """flip(w, mode) -> w with its spatial axes reversed for mode 0 (true convolution)."""
    if mode == 0:
        return w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)]
    return w


def _as_rows(dy, groups, dtype):
    """(d2, bytes): the output gradient (N, O, *out) as (groups, O/groups,
    N*prod(out)), borrowed (``host_scratch.borrow``; give ``bytes`` back)."""
    xp = array_module(dy)
    N, O = dy.shape[:2]
    d2, buf = _hs.borrow(xp, (O, N, int(np.prod(dy.shape[2:]))), dtype)
    d2[...] = dy.reshape(N, O, -1).swapaxes(0, 1)
    return d2.reshape(groups, O // groups, -1), buf


def _weights(w, mode, alpha, groups, dt):
    """w as (groups, O/groups, C/groups*prod(k)) in dt, flipped for mode 0, times alpha."""
    wm = flip(w, mode).astype(dt, copy=True).reshape(groups, w.shape[0] // groups, -1)
    if alpha != 1:
        wm *= dt.type(alpha)
    return wm


PER_INSTANCE_PIXELS = 128
N_LAST_WIDTH = 16      # dx of outputs narrower than this: col2im along the instances


def _per_instance(xp, groups, P, dtype, dt):
    """True when the forward and dx products run as one GEMM per instance
    (batched matmul on strided views) rather than one big GEMM plus a
    transpose: measured faster with OpenBLAS once an instance has at least
    ``PER_INSTANCE_PIXELS`` output pixels (LeNet's first layer, CIFAR-size
    images), slower below (LeNet's second layer)."""
    return xp is np and groups == 1 and P >= PER_INSTANCE_PIXELS and dtype == dt


def _n_last(xp, groups, out):
    """True when the columns are ordered (pixel, instance) (``im2col_nd``'s
    ``n_last``) for the forward and weight-gradient products: outputs
    narrower than ``N_LAST_WIDTH`` (LeNet's second layer), where the usual
    order copies runs only as long as an output row."""
    return xp is np and groups == 1 and out[-1] < N_LAST_WIDTH


def conv_forward(w, x, padding, stride, dilation, mode, alpha, groups, keep=False):
    """y = alpha * conv(w, x): x (N, C, *S), w (O, C/groups, *k) -> (N, O, *out).
    ``keep=True`` keeps x's columns for ``conv_backward_w``."""
    xp = array_module(x)
    dt = work_dtype(w, x)
    O, N = w.shape[0], x.shape[0]
    out = tuple(out_size(n, k, p, s, d) for n, k, p, s, d in
                zip(x.shape[2:], w.shape[2:], padding, stride, dilation))
    P = int(np.prod(out))
    ydt = np.result_type(w.dtype, x.dtype)
    inst = _per_instance(xp, groups, P, ydt, dt)
    n_last = not inst and _n_last(xp, groups, out)
    buf = None
    if keep and xp is np:
        buf = _hs.spare(x.shape[1] * int(np.prod(w.shape[2:])) * N * P * dt.itemsize)
    col, out = im2col_nd(x, w.shape[2:], padding, stride, dilation, dt, scratch=True, buf=buf,
                         n_last=n_last)
    if buf is not None:
        _hs.keep(x, (tuple(w.shape[2:]), padding, stride, dilation, dt, n_last), col, buf)
    wm = _weights(w, mode, alpha, groups, dt)
    if inst:
        # one GEMM per instance straight into y: no transpose of the result
        y = np.empty((N, O) + out, dtype=ydt)
        np.matmul(wm[0], col.reshape(-1, N, P).transpose(1, 0, 2), out=y.reshape(N, O, P))
        return y
    if n_last:
        prod = _hs.scratch(xp, "gemm", (O, P * N), dt)
        np.matmul(wm[0], col, out=prod)
        y = np.empty((N, O) + out, dtype=ydt)
        y[...] = np.moveaxis(prod.reshape((O,) + out + (N,)), -1, 0)
        return y
    prod = _hs.scratch(xp, "gemm", (groups, O // groups, col.shape[1]), dt)
    if groups > 1:
        xp.matmul(wm, col.reshape(groups, wm.shape[2], -1), out=prod)
    else:
        xp.matmul(wm[0], col, out=prod[0])
    y = xp.empty((N, O) + out, dtype=np.result_type(w.dtype, x.dtype))
    y[...] = prod.reshape((O, N) + out).swapaxes(0, 1)
    return y


def conv_backward_w(x, dy, wshape, padding, stride, dilation, mode, alpha, groups):
    """dw = alpha * sum over instances and pixels of dy times the input patch:
    the gradient of ``conv_forward`` with respect to w, of shape ``wshape``."""
    xp = array_module(dy)
    dt = work_dtype(x, dy)
    N, O = dy.shape[:2]
    out = tuple(dy.shape[2:])
    P = int(np.prod(out))
    inst = _per_instance(xp, groups, P, np.result_type(x.dtype, dy.dtype), dt)
    n_last = not inst and _n_last(xp, groups, out)
    col, buf = _hs.take(x, (tuple(wshape[2:]), padding, stride, dilation, dt, n_last)) \
        if xp is np else (None, None)
    if col is None:
        col, _ = im2col_nd(x, tuple(wshape[2:]), padding, stride, dilation, dt, scratch=True,
                           n_last=n_last)
    d2buf = None
    if inst:
        # one GEMM per instance reading dy as it is (no transposed copy), then a sum
        dw = np.matmul(dy.reshape(N, O, P), col.reshape(-1, N, P).transpose(1, 2, 0)).sum(0)
    elif n_last:
        d2, d2buf = _hs.borrow(xp, (O, P, N), dt)
        d2[...] = dy.reshape(N, O, P).transpose(1, 2, 0)
        dw = (col @ d2.reshape(O, -1).T).T
    else:
        d2, d2buf = _as_rows(dy, groups, dt)
        # computed as (col @ dy^T)^T: OpenBLAS is many times slower at dy @ col^T,
        # whose inner dimension N*prod(out) is huge next to the two outer ones
        if groups > 1:
            dw = xp.matmul(col.reshape(groups, col.shape[0] // groups, -1),
                           d2.swapaxes(1, 2)).swapaxes(1, 2)
        else:
            dw = (col @ d2[0].T).T
    _hs.give_back(buf)
    _hs.give_back(d2buf)
    dw = dw.reshape(wshape)
    if alpha != 1:
        dw *= dt.type(alpha)
    return xp.ascontiguousarray(flip(dw, mode), dtype=np.result_type(x.dtype, dy.dtype))


def conv_backward_x(w, dy, xshape, padding, stride, dilation, mode, alpha, groups):
    """dx = alpha * (the transposed convolution of dy with w): the gradient of
    ``conv_forward`` with respect to x, of shape ``xshape``."""
    xp = array_module(dy)
    dt = work_dtype(w, dy)
    wm = _weights(w, mode, alpha, groups, dt)
    N, O = dy.shape[:2]
    P = int(np.prod(dy.shape[2:]))
    if _per_instance(xp, groups, P, dy.dtype, dt):
        # one GEMM per instance reading dy as it is: no transpose of dy
        dcol, buf = _hs.borrow(xp, (wm.shape[2], N, P), dt)
        np.matmul(wm[0].T, dy.reshape(N, O, P), out=dcol.transpose(1, 0, 2))
        dx = col2im_nd(dcol, xshape, tuple(w.shape[2:]), padding, stride, dilation,
                       dtype=np.result_type(w.dtype, dy.dtype))
        _hs.give_back(buf)
        return dx
    if xp is np and groups == 1 and dy.shape[-1] < N_LAST_WIDTH:
        # small images: the sums of col2im run along the instances
        d2 = _hs.scratch(xp, "rows", (O, P, N), dt)
        d2[...] = dy.reshape(N, O, P).transpose(1, 2, 0)
        dcol, buf = _hs.borrow(xp, (wm.shape[2], P * N), dt)
        np.matmul(wm[0].T, d2.reshape(O, -1), out=dcol)
        dx = _col2im(dcol, xshape, tuple(w.shape[2:]), padding, stride, dilation,
                     np.result_type(w.dtype, dy.dtype), n_last=True)
        _hs.give_back(buf)
        return dx
    d2, d2buf = _as_rows(dy, groups, dt)
    dcol, buf = _hs.borrow(xp, (groups, wm.shape[2], d2.shape[2]), dt)
    if groups > 1:
        xp.matmul(wm.swapaxes(1, 2), d2, out=dcol)
    else:
        xp.matmul(wm[0].T, d2[0], out=dcol[0])
    _hs.give_back(d2buf)
    dx = col2im_nd(dcol, xshape, tuple(w.shape[2:]), padding, stride, dilation,
                   dtype=np.result_type(w.dtype, dy.dtype))
    _hs.give_back(buf)
    return dx


class ConvKernels:
    """im2col/col2im and the convolution passes with numpy bodies (a part of
    ``Backend``)."""

    @lent
    def im2col(self, x, window, padding=0, stride=1, dilation=1):
        """im2col(x, window, padding=0, stride=1, dilation=1) -> col of shape
        (N, C*prod(window), prod(out)): the patches of ``x`` (N, C, *S, 2 or 3
        spatial axes) as columns, 0 in the padding; ``window`` etc. are ints or
        one int per spatial axis."""
        k, p, s, d, out = conv_geometry(x.shape, window, padding, stride, dilation, "im2col")
        N, C = x.shape[:2]
        col, _ = im2col_nd(x, k, p, s, d)
        return np.ascontiguousarray(col.reshape(C * math.prod(k), N, math.prod(out))
                                    .swapaxes(0, 1))

    @lent
    def col2im(self, col, x_shape, window, padding=0, stride=1, dilation=1):
        """col2im(col, x_shape, window, padding=0, stride=1, dilation=1) -> array
        of ``x_shape``: the adjoint of ``im2col`` (each cell sums the column
        entries that read it)."""
        k, p, s, d, out = conv_geometry(x_shape, window, padding, stride, dilation, "col2im")
        N, C = int(x_shape[0]), int(x_shape[1])
        want = (N, C * math.prod(k), math.prod(out))
        if tuple(col.shape) != want:
            raise ValueError(f"col2im: col must have shape {want}, got {tuple(col.shape)}")
        c2 = np.ascontiguousarray(col.swapaxes(0, 1)).reshape(want[1], N * want[2])
        return col2im_nd(c2, tuple(int(n) for n in x_shape), k, p, s, d)

    @lent
    def conv_forward(self, w, x, padding, stride, dilation, mode, alpha, groups, keep=False):
        """conv_forward(w, x, padding, stride, dilation, mode, alpha, groups,
        keep=False) -> y = alpha * conv(w, x): w (O, C/groups, *k), x (N, C, *S)
        -> (N, O, *out), in the result dtype of w and x.  ``keep=True`` says a
        weight gradient of the same x will follow (a backend may keep its
        columns for it)."""
        _, p, s, d, _ = conv_geometry(x.shape, w.shape[2:], padding, stride, dilation, "conv")
        return conv_forward(w, x, p, s, d, mode, alpha, groups, keep=keep)

    @lent
    def conv_backward_w(self, x, dy, wshape, padding, stride, dilation, mode, alpha, groups):
        """conv_backward_w(x, dy, wshape, padding, stride, dilation, mode, alpha,
        groups) -> the gradient of ``conv_forward`` with respect to w."""
        _, p, s, d, _ = conv_geometry(x.shape, wshape[2:], padding, stride, dilation, "conv")
        return conv_backward_w(x, dy, tuple(wshape), p, s, d, mode, alpha, groups)

    @lent
    def conv_backward_x(self, w, dy, xshape, padding, stride, dilation, mode, alpha, groups):
        """conv_backward_x(w, dy, xshape, padding, stride, dilation, mode, alpha,
        groups) -> the gradient of ``conv_forward`` with respect to x."""
        _, p, s, d, _ = conv_geometry(xshape, w.shape[2:], padding, stride, dilation, "conv")
        return conv_backward_x(w, dy, tuple(xshape), p, s, d, mode, alpha, groups)
