"""Convolution ops (Knet's conv4 and deconv4), NCHW, 2-D and 3-D.

Images are ``(N, C, H, W)`` and volumes ``(N, C, D, H, W)``; convolution
weights are ``(O, C/groups, kH, kW)`` (``(O, C/groups, kD, kH, kW)``).
``padding``, ``stride``, ``dilation`` and ``window`` take one int for every
spatial axis or a tuple with one entry per axis.

Every operation is a primitive on the autograd tape, and so is every
gradient: conv4's gradients with respect to w and x are the primitives
``_conv_dw`` and ``_conv_dx``, whose own gradients are conv4, ``_conv_dw``
and ``_conv_dx`` again (the three are adjoint to one another), so gradients
of gradients work to any order.  The array work is done by the backend of
the operands (``Backend.conv_forward``, ``conv_backward_w``,
``conv_backward_x``): the numpy backend's host kernels, or the kernel
backend's ``conv.cu`` for KnetArrays on a device.

Inputs may be numpy arrays, KnetArrays or recorded values (Params, Results),
in float32 or float64; float16 is computed in float32 and returned as
float16.  A KnetArray input gives a KnetArray result.
"""
import numbers

import numpy as np

from autograd.core import raw, primitive, training

from ..backends.host_conv import out_size
from .operands import check_array, int_tuple, operands, result, shape_of

__all__ = ["conv4", "deconv4"]


def _on_backend(method, a, b, *args, **o):
    """``backend.method(a, b, *args, **o)`` on the backend of a and b."""
    (a, b), be, knet = operands(a, b)
    return result(getattr(be, method)(a, b, *args, **o), be, knet)


# ------------------------------------------------------------------ conv primitives
# _conv(w, x) = alpha * B(w, x) with B bilinear; _conv_dx(w, dy) = alpha * B_x^T dy and
# _conv_dw(x, dy) = alpha * B_w^T dy.  Their gradients follow from
# <B(w, x), dy> = <x, B_x^T(w) dy> = <w, B_w^T(x) dy>; each gradient function below
# is (g, result, *args) -> one of the three.

@primitive(lambda dy, y, w, x, **o: _conv_dw(x, dy, wshape=shape_of(w), **o),
           lambda dy, y, w, x, **o: _conv_dx(w, dy, xshape=shape_of(x), **o))
def _conv(w, x, **o):
    return _on_backend("conv_forward", w, x, keep=training(), **o)


@primitive(lambda g, y, w, dy, xshape, **o: _conv_dw(g, dy, wshape=shape_of(w), **o),
           lambda g, y, w, dy, xshape, **o: _conv(w, g, **o))
def _conv_dx(w, dy, xshape, **o):
    return _on_backend("conv_backward_x", w, dy, xshape, **o)


@primitive(lambda g, y, x, dy, wshape, **o: _conv_dx(g, dy, xshape=shape_of(x), **o),
           lambda g, y, x, dy, wshape, **o: _conv(g, x, **o))
def _conv_dw(x, dy, wshape, **o):
    return _on_backend("conv_backward_w", x, dy, wshape, **o)


# ------------------------------------------------------------------ argument checks
def _check_swapped(ws, xs, groups, padding, dilation, fn):
    """Raise when (w, x) do not fit as given but would fit the other way
    round: the kernel is bigger than the padded input, or the channels
    disagree, while ``x`` as filters and ``w`` as images would agree."""
    def fit(f, a):
        return all(out_size(n, k, p, 1, d) >= 1
                   for n, k, p, d in zip(a[2:], f[2:], padding, dilation))
    fits = xs[1] == ws[1] * groups and fit(ws, xs)
    swapped = ws[1] == xs[1] * groups and xs[0] % groups == 0 and fit(xs, ws)
    if not fits and swapped:
        raise ValueError(f"{fn}: the arguments look swapped: {fn} takes the filters first, "
                         f"{fn}(w, x); got w of shape {ws} and x of shape {xs}, which do not "
                         f"fit as given but would fit the other way round")


def _check_conv(w, x, fn, padding, stride, dilation, mode, alpha, groups, transposed):
    ws, xs = check_array(w, "w", fn), check_array(x, "x", fn)
    if len(ws) != len(xs):
        raise ValueError(f"{fn}: w and x must have the same number of dims, got w {ws} and "
                         f"x {xs}")
    nd = len(xs) - 2
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    if ws[0] % groups:
        raise ValueError(f"{fn}: the {ws[0]} filters of w (axis 0) must divide into "
                         f"groups={groups}")
    o = dict(padding=int_tuple(padding, nd, "padding", fn, 0),
             stride=int_tuple(stride, nd, "stride", fn, 1),
             dilation=int_tuple(dilation, nd, "dilation", fn, 1))
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
    alpha = raw(alpha)
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
        if out_size(n, k, p, s, d) < 1:
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
