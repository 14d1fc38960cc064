"""Convolution and pooling (Knet's conv4, deconv4, pool, unpool), NCHW.

Images are ``(N, C, H, W)`` and volumes ``(N, C, D, H, W)``; convolution
weights are ``(O, C/groups, kH, kW)`` (``(O, C/groups, kD, kH, kW)``).
``padding``, ``stride``, ``dilation`` and ``window`` take one int for every
spatial axis or a tuple with one entry per axis.

Every operation is a primitive on the autograd tape, and so is every
gradient: conv4's gradients with respect to w and x are the primitives
``_conv_dw`` and ``_conv_dx``, whose own gradients are conv4, ``_conv_dw``
and ``_conv_dx`` again (the three are adjoint to one another), so gradients
of gradients work to any order.  The pooling gradients are built the same
way.  The array work is in ``knetpy.im2col`` (im2col + one GEMM) and
``knetpy.pooling``; 2-D convolutions of KnetArrays whose backend has
im2col/col2im kernels (the CUDA backend) go through ``knetpy.conv_device``.

Inputs may be numpy arrays, KnetArrays or recorded values (Params, Results),
in float32 or float64; float16 is computed in float32 and returned as
float16.  A KnetArray input gives a KnetArray result.
"""
import numbers

import numpy as np

from autograd.core import _raw, primitive

from . import conv_device as _dev
from . import im2col as _im
from . import pooling as _pl
from .knetarray import KnetArray

__all__ = ["conv4", "deconv4", "pool", "unpool"]


# ------------------------------------------------------------------ arrays in and out
def _device(*arrays):
    """(bare arrays, backend or None): KnetArrays unwrapped to their data, all
    on the backend of the first KnetArray (None when there is none)."""
    be = next((a.backend for a in arrays if isinstance(a, KnetArray)), None)
    out = []
    for a in arrays:
        if isinstance(a, KnetArray):
            a = a.data if a.backend is be else be.asarray(a.to_numpy())
        elif be is not None:
            a = be.asarray(np.asarray(a))
        else:
            a = np.asarray(a)
        out.append(a)
    return out, be


def _back(a, be):
    return a if be is None else KnetArray._of(a, be)


def _shape(a):
    return tuple(np.shape(_raw(a)))


# ------------------------------------------------------------------ conv primitives
# _conv(w, x) = alpha * B(w, x) with B bilinear; _conv_dx(w, dy) = alpha * B_x^T dy and
# _conv_dw(x, dy) = alpha * B_w^T dy.  Their gradients follow from
# <B(w, x), dy> = <x, B_x^T(w) dy> = <w, B_w^T(x) dy>.

def _conv_g_w(dy, y, w, x, **o):
    return _conv_dw(x, dy, wshape=_shape(w), **o)


def _conv_g_x(dy, y, w, x, **o):
    return _conv_dx(w, dy, xshape=_shape(x), **o)


@primitive(_conv_g_w, _conv_g_x)
def _conv(w, x, **o):
    (w, x), be = _device(w, x)
    if _dev.usable(be, x.ndim):
        return _back(_dev.conv_forward(be, w, x, **o), be)
    return _back(_im.conv_forward(w, x, **o), be)


def _conv_dx_g_w(g, y, w, dy, xshape, **o):
    return _conv_dw(g, dy, wshape=_shape(w), **o)


def _conv_dx_g_dy(g, y, w, dy, xshape, **o):
    return _conv(w, g, **o)


@primitive(_conv_dx_g_w, _conv_dx_g_dy)
def _conv_dx(w, dy, xshape, **o):
    (w, dy), be = _device(w, dy)
    if _dev.usable(be, dy.ndim):
        return _back(_dev.conv_backward_x(be, w, dy, xshape, **o), be)
    return _back(_im.conv_backward_x(w, dy, xshape, **o), be)


def _conv_dw_g_x(g, y, x, dy, wshape, **o):
    return _conv_dx(g, dy, xshape=_shape(x), **o)


def _conv_dw_g_dy(g, y, x, dy, wshape, **o):
    return _conv(g, x, **o)


@primitive(_conv_dw_g_x, _conv_dw_g_dy)
def _conv_dw(x, dy, wshape, **o):
    (x, dy), be = _device(x, dy)
    if _dev.usable(be, x.ndim):
        return _back(_dev.conv_backward_w(be, x, dy, wshape, **o), be)
    return _back(_im.conv_backward_w(x, dy, wshape, **o), be)


# ------------------------------------------------------------------ pool primitives
def _maxpool_g(dy, y, x, **o):
    return _maxpool_back(dy, x, y, **o)


@primitive(_maxpool_g)
def _maxpool(x, **o):
    (x,), be = _device(x)
    return _back(_pl.max_forward(x, **o), be)


@primitive(lambda g, _, dy, x, y, **o: _maxpool_gather(g, x, y, **o))
def _maxpool_back(dy, x, y, **o):
    (dy, x, y), be = _device(dy, x, y)
    return _back(_pl.max_backward(dy, x, y, **o), be)


@primitive(lambda g, _, gx, x, y, **o: _maxpool_back(g, x, y, **o))
def _maxpool_gather(gx, x, y, **o):
    (gx, x, y), be = _device(gx, x, y)
    return _back(_pl.max_gather(gx, x, y, **o), be)


@primitive(lambda dy, y, x, **o: _avgpool_back(dy, xshape=_shape(x), **o))
def _avgpool(x, **o):
    (x,), be = _device(x)
    return _back(_pl.avg_forward(x, **o), be)


@primitive(lambda g, _, dy, xshape, **o: _avgpool(g, **o))
def _avgpool_back(dy, xshape, **o):
    (dy,), be = _device(dy)
    return _back(_pl.avg_backward(dy, xshape, **o), be)


# ------------------------------------------------------------------ argument checks
def _tuple(v, nd, name, fn, least):
    """An int or a sequence of ``nd`` ints, each >= ``least``, as a tuple."""
    v = _raw(v)
    if isinstance(v, np.ndarray):
        v = v.tolist()
    vals = (v,) * nd if isinstance(v, numbers.Integral) else v
    try:
        vals = tuple(vals)
    except TypeError:
        vals = None
    if (vals is None or len(vals) != nd
            or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in vals)):
        raise TypeError(f"{fn}: {name} must be an int or a tuple of {nd} ints (one per "
                        f"spatial axis), got {v!r}")
    if any(a < least for a in vals):
        raise ValueError(f"{fn}: {name} must be >= {least} on every axis, got {v!r}")
    return tuple(int(a) for a in vals)


def _check_array(a, name, fn):
    r = _raw(a)
    if isinstance(r, (list, tuple, numbers.Number)):
        r = np.asarray(r)
    if not hasattr(r, "dtype") or not hasattr(r, "shape"):
        raise TypeError(f"{fn}: {name} must be an array, got {type(r).__name__}")
    if np.dtype(r.dtype).kind != "f":
        raise TypeError(f"{fn}: {name} must hold floats (float16/32/64), got dtype {r.dtype}")
    if len(r.shape) not in (4, 5):
        raise ValueError(f"{fn}: {name} must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), got "
                         f"shape {tuple(r.shape)}")
    return tuple(r.shape)


def _check_conv(w, x, fn, padding, stride, dilation, mode, alpha, groups, transposed):
    ws, xs = _check_array(w, "w", fn), _check_array(x, "x", fn)
    if len(ws) != len(xs):
        raise ValueError(f"{fn}: w and x must have the same number of dims, got w {ws} and "
                         f"x {xs}")
    nd = len(xs) - 2
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    if ws[0] % groups:
        raise ValueError(f"{fn}: the {ws[0]} filters of w (axis 0) must divide into "
                         f"groups={groups}")
    if transposed:
        if xs[1] != ws[0]:
            raise ValueError(f"{fn}: x has {xs[1]} channels (axis 1) but w {ws} expects "
                             f"{ws[0]} (w[0])")
    elif xs[1] != ws[1] * groups:
        raise ValueError(f"{fn}: x has {xs[1]} channels (axis 1) but w {ws} with groups={groups} "
                         f"expects w[1]*groups = {ws[1] * groups}")
    if mode not in (0, 1) or isinstance(mode, bool):
        raise ValueError(f"{fn}: mode must be 0 (convolution) or 1 (cross-correlation), got "
                         f"{mode!r}")
    alpha = _raw(alpha)
    if not isinstance(alpha, numbers.Real):
        raise TypeError(f"{fn}: alpha must be a real number, got {alpha!r}")
    o = dict(padding=_tuple(padding, nd, "padding", fn, 0),
             stride=_tuple(stride, nd, "stride", fn, 1),
             dilation=_tuple(dilation, nd, "dilation", fn, 1),
             mode=int(mode), alpha=float(alpha), groups=int(groups))
    return ws, xs, o


def conv4(w, x, padding=0, stride=1, dilation=1, mode=0, alpha=1, groups=1):
    """conv4(w, x, padding=0, stride=1, dilation=1, mode=0, alpha=1, groups=1)

    Convolve the images ``x`` with the filters ``w`` (differentiable in both).

    Args:
        w: filters ``(O, C/groups, kH, kW)``, or ``(O, C/groups, kD, kH, kW)``
            for volumes.
        x: input ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        padding: zeros added at both ends of every spatial axis.
        stride: step between neighbouring windows.
        dilation: spacing between the kernel taps.
        mode: 0 convolution (the kernel is flipped, Knet's default), 1
            cross-correlation (what PyTorch's conv2d computes).
        alpha: scale of the result.
        groups: C and O are split into this many groups; group g of the
            output sees only group g of the input.

    Returns ``(N, O, *out)`` with
    ``out = 1 + (size + 2*padding - dilation*(k-1) - 1) // stride``
    on every spatial axis.

    >>> x = np.arange(16.).reshape(1, 1, 4, 4)
    >>> conv4(np.ones((1, 1, 2, 2)), x)[0, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    """
    ws, xs, o = _check_conv(w, x, "conv4", padding, stride, dilation, mode, alpha, groups,
                            transposed=False)
    for n, k, p, s, d in zip(xs[2:], ws[2:], o["padding"], o["stride"], o["dilation"]):
        if _im.out_size(n, k, p, s, d) < 1:
            raise ValueError(f"conv4: the kernel {ws[2:]} (dilation {o['dilation']}) is bigger "
                             f"than the padded input {xs[2:]} (padding {o['padding']})")
    return _conv(w, x, **o)


def deconv4(w, x, padding=0, stride=1, dilation=1, mode=0, alpha=1, groups=1):
    """deconv4(w, x, padding=0, stride=1, dilation=1, mode=0, alpha=1, groups=1)

    Transposed convolution: the gradient of ``conv4(w, y, ...)`` with respect
    to its input y, applied to ``x`` (the upsampling counterpart of conv4;
    ``padding`` and ``stride`` describe the convolution that maps the output
    back to ``x``).  Same as PyTorch's ``conv_transpose2d/3d`` with mode=1.

    Args:
        w: ``(C, O/groups, kH, kW)`` (or 5-D): C = channels of ``x``, O =
            channels of the result.  This is a conv4 weight whose filters
            produce ``x``'s channels.
        x: ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        padding, stride, dilation, mode, alpha, groups: as in ``conv4``.

    Returns ``(N, O, *out)`` with
    ``out = (size - 1)*stride + dilation*(k-1) + 1 - 2*padding``.

    >>> deconv4(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    ws, xs, o = _check_conv(w, x, "deconv4", padding, stride, dilation, mode, alpha, groups,
                            transposed=True)
    out = tuple((n - 1) * s + d * (k - 1) + 1 - 2 * p for n, k, p, s, d in
                zip(xs[2:], ws[2:], o["padding"], o["stride"], o["dilation"]))
    if min(out) < 1:
        raise ValueError(f"deconv4: padding {o['padding']} leaves no output for input "
                         f"{xs[2:]} and kernel {ws[2:]} (output size {out})")
    yshape = (xs[0], ws[1] * o["groups"]) + out
    return _conv_dx(w, x, xshape=yshape, **o)


def _check_pool(x, fn, window, padding, stride, mode):
    xs = _check_array(x, "x", fn)
    nd = len(xs) - 2
    if mode not in (0, 1, 2) or isinstance(mode, bool):
        raise ValueError(f"{fn}: mode must be 0 (max), 1 (average with padding) or 2 (average "
                         f"without padding), got {mode!r}")
    window = _tuple(window, nd, "window", fn, 1)
    stride = window if stride is None else _tuple(stride, nd, "stride", fn, 1)
    padding = _tuple(padding, nd, "padding", fn, 0)
    if any(p >= k for p, k in zip(padding, window)):
        raise ValueError(f"{fn}: padding {padding} must be smaller than the window {window} "
                         f"on every axis")
    return xs, window, padding, stride


def _check_alpha(alpha, fn):
    alpha = _raw(alpha)
    if not isinstance(alpha, numbers.Real) or alpha == 0:
        raise ValueError(f"{fn}: alpha must be a nonzero real number, got {alpha!r}")
    return float(alpha)


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
    xs, window, padding, stride = _check_pool(x, "pool", window, padding, stride, mode)
    if not isinstance(nan_propagate, (bool, np.bool_, numbers.Integral)):
        raise TypeError(f"pool: nan_propagate must be a bool, got {nan_propagate!r}")
    alpha = _check_alpha(alpha, "pool")
    for n, k, p, s in zip(xs[2:], window, padding, stride):
        if _pl.pool_out_size(n, k, p, s) < 1:
            raise ValueError(f"pool: the window {window} is bigger than the padded input "
                             f"{xs[2:]} (padding {padding})")
    if mode == 0:
        return _maxpool(x, window=window, padding=padding, stride=stride,
                        nan_propagate=bool(nan_propagate), alpha=alpha)
    return _avgpool(x, window=window, padding=padding, stride=stride, mode=mode, alpha=alpha)


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
    xs, window, padding, stride = _check_pool(x, "unpool", window, padding, stride, mode)
    alpha = _check_alpha(alpha, "unpool")
    out = tuple((n - 1) * s + k - 2 * p for n, k, p, s in zip(xs[2:], window, padding, stride))
    if min(out) < 1:
        raise ValueError(f"unpool: padding {padding} leaves no output for input {xs[2:]} and "
                         f"window {window}")
    return _avgpool_back(x, xshape=xs[:2] + out, window=window, padding=padding, stride=stride,
                         mode=1, alpha=float(np.prod(window)) / alpha)

