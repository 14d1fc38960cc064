"""Array kernels of pooling: max and average pooling, their backward passes.

Like ``knetpy.im2col`` these work on bare arrays (N, C, *S) with S of 2 or
3 spatial sizes and record nothing; ``knetpy.conv`` makes them
differentiable.  Each kernel loops over the ``prod(window)`` window offsets
only, combining one strided slice of the padded input per offset (no loop
over pixels).  float16 input is computed in float32.

Max pooling pads with -inf, so padding never wins a window; its gradient
goes to the first maximum of each window (in row-major window order), as
PyTorch's does.  With ``nan_propagate=False`` NaNs are skipped (``fmax``)
and a window is NaN only when all of its cells are; with True any NaN makes
the window NaN.
"""
import numpy as np

from .im2col import _pad, array_module, compute_dtype

__all__ = ["pool_out_size", "max_forward", "max_backward", "max_gather", "avg_forward",
           "avg_backward"]


def pool_out_size(size, window, padding, stride):
    """Output length of one axis: 1 + (size + 2*padding - window) // stride."""
    return 1 + (size + 2 * padding - window) // stride


def _geometry(spatial, window, padding, stride):
    out = tuple(pool_out_size(n, k, p, s) for n, k, p, s in zip(spatial, window, padding, stride))
    slices = [(slice(None), slice(None)) +
              tuple(slice(i, i + s * (o - 1) + 1, s) for i, s, o in zip(offset, stride, out))
              for offset in np.ndindex(*window)]
    return out, slices


def _float(x):
    dt = compute_dtype(x)
    return x if x.dtype == dt else x.astype(dt)


def _window_max(xpad, slices, nan_propagate):
    xp = array_module(xpad)
    op = xp.maximum if nan_propagate else xp.fmax
    m = xpad[slices[0]].copy()
    for sl in slices[1:]:
        op(m, xpad[sl], out=m)
    return m


def max_forward(x, window, padding, stride, nan_propagate, alpha):
    """alpha * the maximum of every window of x (N, C, *S) -> (N, C, *out)."""
    out, slices = _geometry(x.shape[2:], window, padding, stride)
    xpad = _pad(_float(x), padding, -np.inf)
    m = _window_max(xpad, slices, nan_propagate)
    if alpha != 1:
        m *= m.dtype.type(alpha)
    return m.astype(x.dtype, copy=False)


def _first_max_masks(x, y, window, padding, stride, nan_propagate, alpha):
    """(xpad, slices, masks): masks[k] marks the windows whose first maximum
    sits at window offset k."""
    xp = array_module(x)
    out, slices = _geometry(x.shape[2:], window, padding, stride)
    xpad = _pad(_float(x), padding, -np.inf)
    if alpha == 1 and y is not None:
        m = _float(y)         # y holds the exact window maxima (in x's precision)
    else:
        m = _window_max(xpad, slices, nan_propagate)
    mnan = xp.isnan(m)
    check_nan = bool(mnan.any())
    free = None                  # windows whose first maximum is still to be found
    masks = []
    for k, sl in enumerate(slices):
        s = xpad[sl]
        e = xp.equal(s, m)
        if check_nan:
            e |= xp.isnan(s) & mnan
        if free is None:
            free = ~e
        else:
            e &= free
            if k < len(slices) - 1:
                free ^= e
        masks.append(e)
    return xpad, slices, masks


def max_backward(dy, x, y, window, padding, stride, nan_propagate, alpha):
    """Gradient of ``max_forward`` w.r.t. x: alpha*dy routed to the first
    maximum of each window (summed where windows overlap); ``y`` is the
    forward output (or None)."""
    xp = array_module(dy)
    xpad, slices, masks = _first_max_masks(x, y, window, padding, stride, nan_propagate, alpha)
    g = _float(dy)
    if alpha != 1:
        g = g * g.dtype.type(alpha)
    acc = xp.zeros(xpad.shape, dtype=g.dtype)
    overlap = any(s < k for s, k in zip(stride, window))
    for sl, e in zip(slices, masks):
        if overlap:
            acc[sl] += g * e    # (a masked add with where= is much slower in numpy)
        else:                   # each cell is in one window at most: write in place
            xp.multiply(g, e, out=acc[sl])
    crop = (slice(None), slice(None)) + tuple(slice(p, p + n) for n, p in
                                              zip(x.shape[2:], padding))
    return xp.ascontiguousarray(acc[crop], dtype=np.result_type(dy.dtype, x.dtype))


def max_gather(g, x, y, window, padding, stride, nan_propagate, alpha):
    """The adjoint of ``max_backward`` in dy: alpha * g (shaped like x) read
    at the first maximum of each window of x -> (N, C, *out)."""
    _, slices, masks = _first_max_masks(x, y, window, padding, stride, nan_propagate, alpha)
    gpad = _pad(_float(g), padding, 0)
    acc = gpad[slices[0]] * masks[0]
    for sl, e in zip(slices[1:], masks[1:]):
        acc += gpad[sl] * e
    if alpha != 1:
        acc *= acc.dtype.type(alpha)
    return acc.astype(np.result_type(g.dtype, x.dtype), copy=False)


def _avg_scale(spatial, window, padding, stride, mode, alpha, dtype, xp):
    """alpha / (cells per window): a number for mode 1, an array of shape
    (1, 1, *out) for mode 2, which counts only the cells inside the input."""
    if mode == 1:
        return dtype.type(alpha / np.prod(window))
    counts = np.ones((1, 1), dtype=np.float64)
    for n, k, p, s in zip(spatial, window, padding, stride):
        start = np.arange(pool_out_size(n, k, p, s)) * s - p
        c = np.minimum(start + k, n) - np.maximum(start, 0)
        counts = counts[..., None] * c
    return xp.asarray((alpha / counts).astype(dtype))


def avg_forward(x, window, padding, stride, mode, alpha):
    """alpha * the mean of every window of x: mode 1 divides by the window
    size (padding counts as zeros), mode 2 by the cells inside x."""
    xf = _float(x)
    out, slices = _geometry(x.shape[2:], window, padding, stride)
    xpad = _pad(xf, padding, 0)
    acc = xpad[slices[0]].copy()
    for sl in slices[1:]:
        acc += xpad[sl]
    acc *= _avg_scale(x.shape[2:], window, padding, stride, mode, alpha, xf.dtype,
                      array_module(x))
    return acc.astype(x.dtype, copy=False)


def avg_backward(dy, xshape, window, padding, stride, mode, alpha):
    """Gradient of ``avg_forward`` w.r.t. x (the input shape is ``xshape``):
    each window spreads its scaled dy over its cells."""
    xp = array_module(dy)
    S = tuple(xshape[2:])
    _, slices = _geometry(S, window, padding, stride)
    g = _float(dy)
    g = g * _avg_scale(S, window, padding, stride, mode, alpha, g.dtype, xp)
    acc = xp.zeros(tuple(xshape[:2]) + tuple(n + 2 * p for n, p in zip(S, padding)),
                   dtype=g.dtype)
    overlap = any(s < k for s, k in zip(stride, window))
    for sl in slices:
        if overlap:
            acc[sl] += g
        else:
            acc[sl] = g
    crop = (slice(None), slice(None)) + tuple(slice(p, p + n) for n, p in zip(S, padding))
    return xp.ascontiguousarray(acc[crop], dtype=dy.dtype)
