"""Pooling ops: Knet's pool/unpool, the functional max/mean/LP pools, one path.

Every pooling in knetpy (``pool``/``unpool``, ``maxpool``/``meanpool``/
``lppool`` and the pooling layers of ``knetpy.layers``) goes through the
four primitives here, on images ``(N, C, H, W)``, volumes ``(N, C, D, H,
W)`` and sequences ``(N, C, L)`` (computed as images of height 1), with a
per-axis window, stride, dilation and padding ``(lo, hi)``:

- ``_maxpool(x)``, whose gradient is ``_maxpool_back(dy, x, y)`` (dy routed
  to the first maximum of each window; y, the forward result, saves a
  pass), whose gradient in dy is ``_maxpool_gather(g, x, y)`` (g read at
  those maxima), whose gradient is ``_maxpool_back`` again: gradients of
  gradients to any order;
- ``_sumpool(x)``, the window sums times a scale (mode 1: alpha/window
  size; mode 2: alpha/cells inside the input), and its adjoint
  ``_sumpool_back(dy)``, each the other's gradient; ``unpool`` is
  ``_sumpool_back``.

The array work is done by the backend of the operands (``Backend.pool``,
``poolback``, ``poolgather``): the numpy backend's host kernels, or
``kernels/pool.cu`` for KnetArrays of the kernel backend.  Inputs may be
numpy arrays, KnetArrays or recorded values in float16/32/64.
"""
import numbers

import numpy as np

from autograd.core import raw, primitive

from ..backends.host_pool import pool_geometry
from .operands import check_array, int_tuple, operands, result, shape_of

__all__ = ["pool", "unpool", "maxpool", "meanpool", "lppool"]


def _lift(shape, o):
    """(shape, options) for the backend: a sequence (N, C, L) becomes an image
    (N, C, 1, L) with a window of height 1."""
    if len(shape) != 3:
        return tuple(shape), o
    o = dict(o, window=(1,) + o["window"], padding=((0, 0),) + o["padding"],
             stride=(1,) + o["stride"], dilation=(1,) + o["dilation"])
    return (shape[0], shape[1], 1, shape[2]), o


def _on_backend(method, arrays, o, out_shape=None, **kw):
    """``backend.method(*arrays, **o, **kw)`` on the backend of the arrays
    (shape tuples and None among them pass through), with sequences lifted to images;
    the result gets ``out_shape`` (the first array's shape by default)."""
    bare, be, knet = operands(*[a for a in arrays if a is not None and not isinstance(a, tuple)])
    bare = iter(bare)
    args, lifted = [], o
    for a in arrays:
        if a is None:
            args.append(None)
        elif isinstance(a, tuple):
            shape, lifted = _lift(a, o)
            args.append(shape)
        else:
            a = next(bare)
            shape, lifted = _lift(a.shape, o)
            args.append(a.reshape(shape))
    y = getattr(be, method)(*args, **lifted, **kw)
    if len(o["window"]) == 1:
        y = y.reshape(y.shape[:2] + y.shape[3:])
    return result(y, be, knet)


# ------------------------------------------------------------------ primitives
@primitive(lambda dy, y, x, **o: _maxpool_back(dy, x, y, **o))
def _maxpool(x, nan_propagate, **o):
    return _on_backend("pool", (x,), o, mode=0, nan_propagate=nan_propagate)


@primitive(lambda g, _, dy, x, y, **o: _maxpool_gather(g, x, y, **o))
def _maxpool_back(dy, x, y, nan_propagate, **o):
    return _on_backend("poolback", (x, y, dy), o, mode=0, nan_propagate=nan_propagate)


@primitive(lambda g, _, gx, x, y, **o: _maxpool_back(g, x, y, **o))
def _maxpool_gather(gx, x, y, nan_propagate, **o):
    return _on_backend("poolgather", (gx, x), o, nan_propagate=nan_propagate)


@primitive(lambda dy, y, x, **o: _sumpool_back(dy, xshape=shape_of(x), **o))
def _sumpool(x, mode, **o):
    return _on_backend("pool", (x,), o, mode=mode)


@primitive(lambda g, _, dy, xshape, **o: _sumpool(g, **o))
def _sumpool_back(dy, xshape, mode, **o):
    return _on_backend("poolback", (tuple(xshape), None, dy), o, mode=mode)


# ------------------------------------------------------------------ Knet's pool / unpool
def _check_pool(x, fn, window, padding, stride, mode, alpha):
    """(x's shape, backend options) of Knet's pool/unpool arguments."""
    xs = check_array(x, "x", fn)
    nd = len(xs) - 2
    window = int_tuple(window, nd, "window", fn, 1)
    stride = window if stride is None else int_tuple(stride, nd, "stride", fn, 1)
    padding = int_tuple(padding, nd, "padding", fn, 0)
    alpha = raw(alpha)
    if not isinstance(alpha, numbers.Real) or alpha == 0:
        raise ValueError(f"{fn}: alpha must be a nonzero real number, got {alpha!r}")
    return xs, dict(window=window, padding=tuple((p, p) for p in padding), stride=stride,
                    dilation=(1,) * nd, alpha=float(alpha)), padding


def _out(n, k, lo, hi, s, d):
    return 1 + (n + lo + hi - d * (k - 1) - 1) // s


def pool(x, window=2, padding=0, stride=None, mode=0, nan_propagate=False, alpha=1):
    """pool(x, window=2, padding=0, stride=window, mode=0, nan_propagate=False, alpha=1)

    Pool every window of the images (or volumes) ``x`` into one value.

    Args:
        x: ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        window: window size per spatial axis.
        padding: cells added at both ends of every spatial axis (must be
            smaller than the window).
        stride: step between windows; None means ``window``.
        mode: 0 maximum (padding never wins), 1 average counting the padding
            as zeros, 2 average over the cells inside ``x`` only.
        nan_propagate: max pooling only: True makes a window holding a NaN
            NaN; False (Knet's default) skips NaNs.
        alpha: scale of the result.

    Returns ``(N, C, *out)`` with ``out = 1 + (size + 2*padding - window) // stride``.
    The max gradient goes to the first maximum of each window.

    >>> pool(np.arange(16.).reshape(1, 1, 4, 4))[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    xs, o, padding = _check_pool(x, "pool", window, padding, stride, mode, alpha)
    if not isinstance(nan_propagate, (bool, np.bool_, numbers.Integral)):
        raise TypeError(f"pool: nan_propagate must be a bool, got {nan_propagate!r}")
    pool_geometry(xs, o["window"], padding, o["stride"], mode, "pool")
    if mode == 0:
        return _maxpool(x, nan_propagate=bool(nan_propagate), **o)
    return _sumpool(x, mode=mode, **o)


def unpool(x, window=2, padding=0, stride=None, mode=0, nan_propagate=False, alpha=1):
    """unpool(x, window=2, padding=0, stride=window, mode=0, nan_propagate=False, alpha=1)

    The reverse of ``pool``: every value of ``x`` is copied into each cell of
    its window (divided by ``alpha``); where windows overlap the copies add
    up.  With ``stride == window`` and no padding, ``pool(unpool(x, ...), ...)``
    gives back ``x`` for every mode.  As in Knet, ``unpool`` is the
    transpose of average pooling scaled by the window size, whatever
    ``mode`` says (mode and nan_propagate are checked and accepted so the
    same options can be passed to pool and unpool).

    Args:
        x: ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        window, padding, stride, alpha: as in ``pool``.

    Returns ``(N, C, *out)`` with ``out = (size - 1)*stride + window - 2*padding``.

    >>> unpool(np.array([[[[1., 2.]]]]))[0, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    """
    xs, o, padding = _check_pool(x, "unpool", window, padding, stride, mode, alpha)
    k, st = o["window"], o["stride"]
    pool_geometry(xs[:2] + k, k, padding, st, mode, "unpool")
    out = tuple((n - 1) * s + w - 2 * p for n, w, p, s in zip(xs[2:], k, padding, st))
    if min(out) < 1:
        raise ValueError(f"unpool: padding {padding} leaves no output for input {xs[2:]} and "
                         f"window {k}")
    o["alpha"] = float(np.prod(k)) / o["alpha"]
    return _sumpool_back(x, xshape=xs[:2] + out, mode=1, **o)


# ------------------------------------------------------------------ functional forms
def _pads(pad, nd, fn):
    """``pad`` as one (lo, hi) pair per spatial axis: an int, one int per
    axis, ``2*nd`` ints (lo_1, hi_1, lo_2, hi_2, ...) or nd pairs."""
    pad = raw(pad)
    if isinstance(pad, numbers.Integral) and not isinstance(pad, bool):
        pairs = ((int(pad),) * 2,) * nd
    else:
        try:
            items = list(pad)
        except TypeError:
            items = None
        if items is not None and len(items) == nd and all(
                isinstance(p, (tuple, list)) and len(p) == 2 for p in items):
            pairs = tuple(tuple(p) for p in items)
        elif items is not None and len(items) == nd:
            pairs = tuple((p, p) for p in items)
        elif items is not None and len(items) == 2 * nd:
            pairs = tuple((items[2 * i], items[2 * i + 1]) for i in range(nd))
        else:
            pairs = None
        if pairs is None or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                                    for p in pairs for a in p):
            raise TypeError(f"{fn}: pad must be an int, {nd} ints, {2 * nd} ints (lo, hi per "
                            f"axis) or {nd} (lo, hi) pairs, got {pad!r}")
    if any(a < 0 for p in pairs for a in p):
        raise ValueError(f"{fn}: pad must be >= 0, got {pad!r}")
    return tuple((int(lo), int(hi)) for lo, hi in pairs)


def _options(x, window, stride, pad, dilation, fn):
    s = np.shape(raw(x))
    if not 3 <= len(s) <= 5:
        raise ValueError(f"{fn}: x must be (N, C, L), (N, C, H, W) or (N, C, D, H, W), got "
                         f"shape {s}")
    if np.result_type(raw(x)).kind != "f":
        raise TypeError(f"{fn}: x must hold floats, got dtype {np.result_type(raw(x))}")
    nd = len(s) - 2
    window = int_tuple(window, nd, "window", fn, 1)
    stride = window if stride is None else int_tuple(stride, nd, "stride", fn, 1)
    dilation = int_tuple(dilation, nd, "dilation", fn, 1)
    pads = _pads(pad, nd, fn)
    if any(_out(n, k, lo, hi, st, d) < 1 for n, k, (lo, hi), st, d in
           zip(s[2:], window, pads, stride, dilation)):
        padded = tuple(n + lo + hi for n, (lo, hi) in zip(s[2:], pads))
        raise ValueError(f"{fn}: window {window} (dilation {dilation}) is larger than the "
                         f"padded input {padded}")
    return dict(window=window, padding=pads, stride=stride, dilation=dilation, alpha=1.0)


def maxpool(x, window, stride=None, pad=0, dilation=1):
    """maxpool(x, window, stride=window, pad=0, dilation=1): the maximum of
    every window of ``x`` ``(N, C, *spatial)`` (NNlib/LuxLib's form; padding
    never wins, NaNs propagate).

    ``pad``: an int, one int per axis, ``(lo_1, hi_1, lo_2, hi_2, ...)`` or
    one ``(lo, hi)`` pair per axis.

    >>> maxpool(np.array([[[1., 3., 2., 0.]]]), (2,))
    array([[[3., 2.]]])
    """
    return _maxpool(x, nan_propagate=True, **_options(x, window, stride, pad, dilation,
                                                       "maxpool"))


def meanpool(x, window, stride=None, pad=0, dilation=1):
    """meanpool(x, window, stride=window, pad=0, dilation=1): the mean of
    every window of ``x`` ``(N, C, *spatial)``; padding counts as zeros and
    the divisor is the whole window (as NNlib and PyTorch's default).

    >>> meanpool(np.array([[[1., 3., 2., 0.]]]), (2,))
    array([[[2., 1.]]])
    """
    return _sumpool(x, mode=1, **_options(x, window, stride, pad, dilation, "meanpool"))


def lppool(x, window, p=2, stride=None, pad=0, dilation=1):
    """lppool(x, window, p=2, stride=window, pad=0, dilation=1): the p-norm
    ``(sum |x|^p)^(1/p)`` of every window of ``x`` ``(N, C, *spatial)``.

    >>> lppool(np.array([[[3., 4.]]]), (2,))
    array([[[5.]]])
    """
    if isinstance(p, bool) or not isinstance(raw(p), numbers.Real) or raw(p) <= 0:
        raise ValueError(f"lppool: p must be a positive number, got {p!r}")
    o = _options(x, window, stride, pad, dilation, "lppool")
    o["alpha"] = float(np.prod(o["window"]))
    return _sumpool(np.abs(x) ** p, mode=1, **o) ** (1.0 / p)
