"""Convolution ops (Knet's conv4 and deconv4), NCHW, 2-D and 3-D.

Images are ``(N, C, H, W)`` and volumes ``(N, C, D, H, W)``; convolution
weights are ``(O, C/groups, kH, kW)`` (``(O, C/groups, kD, kH, kW)``).
``padding``, ``stride``, ``dilation`` and ``window`` take one int for every
spatial axis or a tuple with one entry per axis.

Every operation is a primitive on the autograd tape, and so is every
gradient: conv4's gradients with respect to w and x are the primitives
``_conv_dw`` and ``_conv_dx``, whose own gradients are conv4, ``_conv_dw``
and ``_conv_dx`` again (the three are adjoint to one another), so gradients
of gradients work to any order.  The array work is in
``knetpy.ops._host_conv`` (im2col + one GEMM); 2-D convolutions of
KnetArrays whose backend has im2col/col2im kernels (the CUDA backend) go
through ``knetpy.conv_device``.  The argument checks at the end are shared
with ``knetpy.ops.pool``.

Inputs may be numpy arrays, KnetArrays or recorded values (Params, Results),
in float32 or float64; float16 is computed in float32 and returned as
float16.  A KnetArray input gives a KnetArray result.
"""
import numbers

import numpy as np

from autograd.core import _raw, primitive, training

from .. import conv_device as _dev
from ..knetarray import KnetArray
from . import _host_conv as _im

__all__ = ["conv4", "deconv4"]


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
    return _back(_im.conv_forward(w, x, **o, keep=training()), be)


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


def _check_swapped(ws, xs, groups, padding, dilation, fn):
    """Raise when (w, x) do not fit as given but would fit the other way
    round: the kernel is bigger than the padded input, or the channels
    disagree, while ``x`` as filters and ``w`` as images would agree."""
    def fit(f, a):
        return all(_im.out_size(n, k, p, 1, d) >= 1
                   for n, k, p, d in zip(a[2:], f[2:], padding, dilation))
    fits = xs[1] == ws[1] * groups and fit(ws, xs)
    swapped = ws[1] == xs[1] * groups and xs[0] % groups == 0 and fit(xs, ws)
    if not fits and swapped:
        raise ValueError(f"{fn}: the arguments look swapped: {fn} takes the filters first, "
                         f"{fn}(w, x); got w of shape {ws} and x of shape {xs}, which do not "
                         f"fit as given but would fit the other way round")


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
    o = dict(padding=_tuple(padding, nd, "padding", fn, 0),
             stride=_tuple(stride, nd, "stride", fn, 1),
             dilation=_tuple(dilation, nd, "dilation", fn, 1))
    if not transposed:
        _check_swapped(ws, xs, groups, o["padding"], o["dilation"], fn)
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
    o.update(mode=int(mode), alpha=float(alpha), groups=int(groups))
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
