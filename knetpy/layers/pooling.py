"""pooling: max / mean / LP pooling layers, global and adaptive (NCHW, any number of
spatial axes).

The layers hold their configuration and call the pooling ops of
``knetpy.ops.pool`` (``maxpool``, ``meanpool``, ``lppool``), the same
primitives that Knet's ``pool`` uses, so gradients of every order come
from there.  Padding follows the conv layers: an int,
one int per spatial axis, ``2*D`` ints ``(lo_1, hi_1, lo_2, hi_2, ...)`` or
``SamePad()``.  Max pooling pads with -inf; mean pooling pads with zeros and
divides by the full window size (padding counts, as NNlib and PyTorch's
default do).
"""
import numbers

import numpy as np

from autograd.core import raw

from ..ops.pool import lppool, maxpool, meanpool
from .base import Layer
from .conv import SamePad, expand_pad, ntuple

__all__ = ["MaxPool", "MeanPool", "LPPool", "GlobalMaxPool", "GlobalMeanPool", "GlobalLPPool",
           "AdaptiveMaxPool", "AdaptiveMeanPool", "AdaptiveLPPool"]


def _spatial(x, D, fname):
    s = np.shape(raw(x))
    if D is not None and len(s) != D + 2:
        raise ValueError(f"{fname}: x must be (N, C) + {D} spatial axes, got shape {s}")
    if len(s) < 3:
        raise ValueError(f"{fname}: x must be (N, C, spatial...), got shape {s}")
    if np.result_type(raw(x)).kind != "f":
        raise TypeError(f"{fname}: x must hold floats, got dtype {np.result_type(raw(x))}")
    return s


def _pool(kind, x, window, stride, pads, dilation, p):
    """The pooling op of ``kind`` ("max", "mean" or "lp") on x."""
    if kind == "max":
        return maxpool(x, window, stride, pads, dilation)
    if kind == "mean":
        return meanpool(x, window, stride, pads, dilation)
    return lppool(x, window, p, stride, pads, dilation)


def _layer(base, name, kind, doc):
    """A public pooling layer class: ``base`` with ``kind`` ("max", "mean" or
    "lp") and docstring ``doc``."""
    return type(name, (base,), {"kind": kind, "__doc__": doc, "__module__": __name__,
                                "__qualname__": name})


def _check_p(p, fname):
    if not isinstance(p, numbers.Real) or p <= 0:
        raise ValueError(f"{fname}: p must be a positive number, got {p!r}")


class _Pool(Layer):
    kind = None

    def __init__(self, window, stride=None, pad=0, dilation=1, p=2):
        if isinstance(window, numbers.Integral):
            window = (window,)
        self.window = ntuple(window, len(window), type(self).__name__, "window")
        D = len(self.window)
        self.stride = self.window if stride is None else ntuple(stride, D, type(self).__name__,
                                                                "stride")
        self.dilation = ntuple(dilation, D, type(self).__name__, "dilation")
        self.pad = pad
        expand_pad(pad, self.window, self.dilation, self.stride, type(self).__name__)  # validate
        if self.kind == "lp":
            _check_p(p, type(self).__name__)
        self.p = p

    def __call__(self, x):
        fname = type(self).__name__
        _spatial(x, len(self.window), fname)
        pads = expand_pad(self.pad, self.window, self.dilation, self.stride, fname)
        return _pool(self.kind, x, self.window, self.stride, pads, self.dilation, self.p)

    def extra_repr(self):
        s = ", ".join(map(str, self.window))
        s = f"({s},)" if len(self.window) == 1 else f"({s})"
        if self.stride != self.window:
            s += f", stride={self.stride}"
        if self.pad != 0:
            s += f", pad={self.pad}"
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.kind == "lp":
            s += f", p={self.p}"
        return s


MaxPool = _layer(_Pool, "MaxPool", "max", """\
MaxPool(window, stride=window, pad=0, dilation=1): maximum over each window.

``window`` has one size per spatial axis (``(2, 2)`` for images).

>>> MaxPool((2, 2))(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
array([[ 5.,  7.],
       [13., 15.]])
""")


MeanPool = _layer(_Pool, "MeanPool", "mean", """\
MeanPool(window, stride=window, pad=0, dilation=1): mean over each window.

>>> MeanPool((2, 2))(np.ones((1, 3, 4, 4))).shape
(1, 3, 2, 2)
""")


LPPool = _layer(_Pool, "LPPool", "lp", """\
LPPool(window, stride=window, pad=0, dilation=1, p=2): ``(Σ|x|^p)^(1/p)`` per window.

>>> LPPool((2,), p=2)(np.array([[[3.0, 4.0]]]))
array([[[5.]]])
""")


class _Global(Layer):
    kind = None

    def __init__(self, p=2):
        if self.kind == "lp":
            _check_p(p, "GlobalLPPool")
        self.p = p

    def __call__(self, x):
        s = _spatial(x, None, type(self).__name__)
        window = tuple(s[2:])
        return _pool(self.kind, x, window, window, 0, 1, self.p)

    def extra_repr(self):
        return f"p={self.p}" if self.kind == "lp" else ""


GlobalMaxPool = _layer(_Global, "GlobalMaxPool", "max", """\
GlobalMaxPool(): ``(N, C, H, W) -> (N, C, 1, 1)``, the maximum of each feature map.

>>> GlobalMaxPool()(np.arange(8.0).reshape(1, 2, 2, 2)).ravel()
array([3., 7.])
""")


GlobalMeanPool = _layer(_Global, "GlobalMeanPool", "mean", """\
GlobalMeanPool(): ``(N, C, H, W) -> (N, C, 1, 1)``, the mean of each feature map.

>>> GlobalMeanPool()(np.arange(8.0).reshape(1, 2, 2, 2)).ravel()
array([1.5, 5.5])
""")


GlobalLPPool = _layer(_Global, "GlobalLPPool", "lp", """\
GlobalLPPool(p=2): ``(N, C, H, W) -> (N, C, 1, 1)``, the p-norm of each feature map.

>>> GlobalLPPool()(np.full((1, 1, 2, 2), 2.0)).ravel()
array([4.])
""")


def adaptive_window(insize, outsize, fname):
    """Lux's adaptive rule: stride = in // out, window = in - (out-1)*stride, no padding."""
    if len(insize) != len(outsize):
        raise ValueError(f"{fname}: output_size {tuple(outsize)} needs {len(outsize)} spatial "
                         f"axes, the input has {len(insize)}")
    for i, o in zip(insize, outsize):
        if o > i:
            raise ValueError(f"{fname}: output_size {tuple(outsize)} larger than the input's "
                             f"spatial size {tuple(insize)}")
    stride = tuple(i // o for i, o in zip(insize, outsize))
    window = tuple(i - (o - 1) * s for i, o, s in zip(insize, outsize, stride))
    return window, stride


class _Adaptive(Layer):
    kind = None

    def __init__(self, output_size, p=2):
        if isinstance(output_size, numbers.Integral):
            output_size = (output_size,)
        self.output_size = ntuple(output_size, len(output_size), type(self).__name__,
                                  "output_size")
        if self.kind == "lp":
            _check_p(p, "AdaptiveLPPool")
        self.p = p

    def __call__(self, x):
        fname = type(self).__name__
        s = _spatial(x, len(self.output_size), fname)
        window, stride = adaptive_window(s[2:], self.output_size, fname)
        return _pool(self.kind, x, window, stride, 0, 1, self.p)

    def extra_repr(self):
        s = f"{self.output_size}"
        return s + (f", p={self.p}" if self.kind == "lp" else "")


AdaptiveMaxPool = _layer(_Adaptive, "AdaptiveMaxPool", "max", """\
AdaptiveMaxPool(output_size): max pooling with the window chosen to give
spatial size ``output_size`` (stride = in // out, window = in - (out-1)*stride).

>>> AdaptiveMaxPool((5, 2))(np.zeros((2, 3, 10, 4))).shape
(2, 3, 5, 2)
""")


AdaptiveMeanPool = _layer(_Adaptive, "AdaptiveMeanPool", "mean", """\
AdaptiveMeanPool(output_size): mean pooling to spatial size ``output_size``.

>>> AdaptiveMeanPool((1, 1))(np.ones((2, 3, 4, 4))).shape
(2, 3, 1, 1)
""")


AdaptiveLPPool = _layer(_Adaptive, "AdaptiveLPPool", "lp", """\
AdaptiveLPPool(output_size, p=2): LP pooling to spatial size ``output_size``.

>>> AdaptiveLPPool((2,))(np.ones((1, 1, 8))).ravel()
array([2., 2.])
""")
