"""Array kernels of convolution: im2col, col2im and the three GEMM passes.

These functions work on bare device arrays (numpy, or any array module
``xp`` with numpy's ``pad``/``matmul``/``lib.stride_tricks.as_strided``) and
record nothing; ``knetpy.conv`` wraps them into differentiable primitives.

Layout.  For x of shape ``(N, C, *S)`` (S = 2 or 3 spatial sizes) and a
kernel of spatial size ``k``, the column matrix is

    col[(c, i1, .., id), (n, o1, .., od)] = xpad[n, c, o*stride + i*dilation]

of shape ``(C*prod(k), N*prod(out))``: rows run over (channel, kernel
offset), columns over (instance, output pixel).  It is built as a single
copy of a strided view of the padded input (no Python loop over pixels).
With this layout the forward pass is ONE matrix product
``w (O, C*prod(k)) @ col`` for all instances at once (batched over groups
when ``groups > 1``), and both backward products are single GEMMs too:
``dw = dy2 @ col.T`` and ``dcol = w.T @ dy2`` with ``dy2`` the output
gradient as ``(O, N*prod(out))``.  col2im, the adjoint of im2col, loops only
over the ``prod(k)`` kernel offsets, adding one strided slice each.

``mode=0`` is convolution (the kernel is flipped), ``mode=1``
cross-correlation; ``alpha`` scales the result.  All three passes take the
same keywords, so that each is the adjoint of another (see ``knetpy.conv``).
"""
import numpy as np

__all__ = ["out_size", "conv_forward", "conv_backward_w", "conv_backward_x", "im2col",
           "col2im", "array_module", "compute_dtype"]


def array_module(a):
    """The array module of ``a`` (numpy unless it is e.g. a CuPy array)."""
    if isinstance(a, np.ndarray):
        return np
    mod = type(a).__module__.split(".")[0]
    if mod == "cupy":
        import cupy
        return cupy
    return np


def compute_dtype(*arrays):
    """The float dtype the kernels compute in: the result type of the
    arrays, with float16 widened to float32."""
    dt = np.result_type(*[a.dtype for a in arrays])
    return np.dtype(np.float32) if dt == np.float16 else dt


def out_size(size, k, padding, stride, dilation):
    """Output length of one spatial axis: 1 + (size + 2p - d*(k-1) - 1) // s."""
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


def im2col(x, ksize, padding, stride, dilation, dtype=None):
    """im2col(x, ksize, padding, stride, dilation, dtype=None) -> (col, out)

    The column matrix of ``x`` (N, C, *S) described in the module docstring,
    shape ``(C*prod(ksize), N*prod(out))``, C-contiguous, in ``dtype``
    (x's by default), and the output spatial sizes ``out``.

    >>> col, out = im2col(np.arange(9.).reshape(1, 1, 3, 3), (2, 2), (0, 0), (1, 1), (1, 1))
    >>> col[:, 0], out
    (array([0., 1., 3., 4.]), (2, 2))
    """
    xp = array_module(x)
    out = tuple(out_size(n, k, p, s, d) for n, k, p, s, d in
                zip(x.shape[2:], ksize, padding, stride, dilation))
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    xpad = xp.ascontiguousarray(_pad(x, padding))
    view = _strided_windows(xpad, ksize, stride, dilation, out)
    col = xp.ascontiguousarray(view)
    return col.reshape(x.shape[1] * int(np.prod(ksize)), x.shape[0] * int(np.prod(out))), out


def col2im(col, xshape, ksize, padding, stride, dilation):
    """col2im(col, xshape, ksize, padding, stride, dilation) -> array of ``xshape``

    The adjoint of ``im2col``: every input cell receives the sum of the col
    entries that were read from it.  Loops over the kernel offsets only.
    """
    xp = array_module(col)
    N, C = xshape[:2]
    S = tuple(xshape[2:])
    out = tuple(out_size(n, k, p, s, d) for n, k, p, s, d in
                zip(S, ksize, padding, stride, dilation))
    col = col.reshape((C,) + tuple(ksize) + (N,) + out)
    # accumulate in (C, N, *Spad) order, which matches col's (C, ..., N, *out) order
    acc = xp.zeros((C, N) + tuple(n + 2 * p for n, p in zip(S, padding)), dtype=col.dtype)
    for offset in np.ndindex(*ksize):
        sl = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                   for i, d, s, o in zip(offset, dilation, stride, out))
        acc[(slice(None), slice(None)) + sl] += col[(slice(None),) + offset]
    crop = tuple(slice(p, p + n) for n, p in zip(S, padding))
    return xp.ascontiguousarray(acc[(slice(None), slice(None)) + crop].swapaxes(0, 1))


def _flip(w, mode):
    """w with its spatial axes reversed for mode 0 (true convolution)."""
    if mode == 0:
        return w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)]
    return w


def _as_rows(dy, groups, dtype):
    """Output gradient (N, O, *out) as (groups, O/groups, N*prod(out)), contiguous."""
    xp = array_module(dy)
    N, O = dy.shape[:2]
    d2 = xp.ascontiguousarray(dy.reshape(N, O, -1).swapaxes(0, 1), dtype=dtype)
    return d2.reshape(groups, O // groups, -1)


def conv_forward(w, x, padding, stride, dilation, mode, alpha, groups):
    """y = alpha * conv(w, x): x (N, C, *S), w (O, C/groups, *k) -> (N, O, *out)."""
    xp = array_module(x)
    dt = compute_dtype(w, x)
    O, ksize = w.shape[0], w.shape[2:]
    N = x.shape[0]
    col, out = im2col(x, ksize, padding, stride, dilation, dt)
    wm = _flip(w, mode).astype(dt, copy=True).reshape(groups, O // groups, -1)
    if alpha != 1:
        wm *= dt.type(alpha)
    y = xp.matmul(wm, col.reshape(groups, wm.shape[2], -1)) if groups > 1 else wm[0] @ col
    y = y.reshape((O, N) + out).swapaxes(0, 1)
    return xp.ascontiguousarray(y, dtype=np.result_type(w.dtype, x.dtype))


def conv_backward_w(x, dy, wshape, padding, stride, dilation, mode, alpha, groups):
    """dw = alpha * sum over instances and pixels of dy times the input patch:
    the gradient of ``conv_forward`` with respect to w, of shape ``wshape``."""
    xp = array_module(dy)
    dt = compute_dtype(x, dy)
    ksize = tuple(wshape[2:])
    col, _ = im2col(x, ksize, padding, stride, dilation, dt)
    d2 = _as_rows(dy, groups, dt)
    if groups > 1:
        dw = xp.matmul(d2, col.reshape(groups, col.shape[0] // groups, -1).swapaxes(1, 2))
    else:
        dw = d2[0] @ col.T
    dw = dw.reshape(wshape)
    if alpha != 1:
        dw *= dt.type(alpha)
    return xp.ascontiguousarray(_flip(dw, mode), dtype=np.result_type(x.dtype, dy.dtype))


def conv_backward_x(w, dy, xshape, padding, stride, dilation, mode, alpha, groups):
    """dx = alpha * (the transposed convolution of dy with w): the gradient of
    ``conv_forward`` with respect to x, of shape ``xshape``."""
    xp = array_module(dy)
    dt = compute_dtype(w, dy)
    O, ksize = w.shape[0], tuple(w.shape[2:])
    wm = _flip(w, mode).astype(dt, copy=True).reshape(groups, O // groups, -1)
    if alpha != 1:
        wm *= dt.type(alpha)
    d2 = _as_rows(dy, groups, dt)
    dcol = xp.matmul(wm.swapaxes(1, 2), d2) if groups > 1 else wm[0].T @ d2[0]
    dx = col2im(dcol, xshape, ksize, padding, stride, dilation)
    return dx.astype(np.result_type(w.dtype, dy.dtype), copy=False)
