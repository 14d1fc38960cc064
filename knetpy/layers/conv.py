"""conv: Conv and ConvTranspose layers (NCHW, or NCDHW for 3-D kernels), on
``knetpy.ops.conv.conv4`` / ``deconv4``.

Padding (``pad``) is one of: an int (all sides), one int per spatial axis
(both ends), ``2*D`` ints ``(lo_1, hi_1, lo_2, hi_2, ...)`` in axis order
(H then W for images) for asymmetric padding, or ``SamePad()``, which pads
so that the output size is ``ceil(in / stride)`` (Conv) or ``in * stride``
(ConvTranspose); an odd total puts the extra element at the start.
"""
import numbers

import numpy as np

from autograd import Param
from autograd.core import raw

from ..init import kaiming_uniform
from ..ops.conv import conv4, deconv4
from .base import Layer
from .basic import _act_name, _check_dim, _float_dtype, _init, calculate_gain, identity, \
    uniform_bound

__all__ = ["Conv", "ConvTranspose", "SamePad"]


class SamePad:
    """SamePad(): padding that keeps ``out = ceil(in / stride)`` (Conv, pools) or
    ``out = in * stride`` (ConvTranspose).

    >>> Conv((3, 3), 1, 1, pad=SamePad())(np.zeros((1, 1, 5, 5), np.float32)).shape
    (1, 1, 5, 5)
    """

    def __eq__(self, other):
        return isinstance(other, SamePad)

    def __hash__(self):
        return hash(SamePad)

    def __repr__(self):
        return "SamePad()"


def ntuple(v, n, fname, arg, least=1):
    """An int or a sequence of ``n`` ints (each >= least) as a tuple."""
    vals = (v,) * n if isinstance(v, numbers.Integral) else v
    try:
        vals = tuple(vals)
    except TypeError:
        vals = None
    if vals is None or len(vals) != n or not all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in vals):
        raise TypeError(f"{fname}: {arg} must be an int or a tuple of {n} ints, got {v!r}")
    if any(a < least for a in vals):
        raise ValueError(f"{fname}: {arg} must be >= {least} on every axis, got {v!r}")
    return tuple(int(a) for a in vals)


def expand_pad(pad, k, dilation, stride, fname, transposed=False):
    """[(lo, hi)] per spatial axis from a pad spec (see the module doc)."""
    D = len(k)
    keff = [(kk - 1) * d + 1 for kk, d in zip(k, dilation)]
    if isinstance(pad, SamePad):
        tot = [ke - s if transposed else ke - 1 for ke, s in zip(keff, stride)]
        return [((t + 1) // 2, t // 2) if t >= 0 else (0, t) for t in tot]
    if isinstance(pad, numbers.Integral) and not isinstance(pad, bool):
        if pad < 0:
            raise ValueError(f"{fname}: pad must be >= 0, got {pad}")
        return [(int(pad), int(pad))] * D
    try:
        vals = tuple(pad)
    except TypeError:
        vals = None
    if vals is None or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                               and a >= 0 for a in vals):
        raise TypeError(f"{fname}: pad must be a non-negative int, a tuple of {D} or {2 * D} "
                        f"ints, or SamePad(), got {pad!r}")
    if len(vals) == D:
        return [(int(a), int(a)) for a in vals]
    if len(vals) == 2 * D:
        return [(int(vals[2 * i]), int(vals[2 * i + 1])) for i in range(D)]
    raise ValueError(f"{fname}: pad must have {D} or {2 * D} entries for {D} spatial axes, "
                     f"got {pad!r}")


def _check_input(x, nd, in_chs, fname):
    s = np.shape(raw(x))
    if len(s) != nd + 2:
        raise ValueError(f"{fname}: x must be (N, C) + {nd} spatial axes for a {nd}-D kernel, "
                         f"got shape {s}")
    if s[1] != in_chs:
        raise ValueError(f"{fname}: x has {s[1]} channels (axis 1), the layer expects {in_chs}")
    return s


def _lift1d(w, x, o):
    """conv4/deconv4 take 2-D and 3-D kernels: a 1-D one gets a trailing axis of size 1."""
    if np.ndim(raw(w)) != 3:
        return w, x, o
    two = {k: ((v, 0 if k == "padding" else 1) if isinstance(v, numbers.Integral)
               else tuple(v) + (0 if k == "padding" else 1,)) for k, v in o.items()}
    return np.expand_dims(w, -1), np.expand_dims(x, -1), two


def _drop1d(y, nd):
    return y[..., 0] if nd == 1 else y


class _ConvBase(Layer):
    transposed = False

    def __init__(self, k, in_chs, out_chs, activation, init_weight, init_bias, stride, pad,
                 dilation, groups, use_bias, cross_correlation, dtype):
        fname = type(self).__name__
        if isinstance(k, numbers.Integral):
            k = (k,)
        self.kernel = ntuple(k, len(k), fname, "k")
        if len(self.kernel) not in (1, 2, 3):
            raise ValueError(f"{fname}: k must have 1, 2 or 3 sizes, got {k!r}")
        D = len(self.kernel)
        self.in_chs = _check_dim(in_chs, fname, "in_chs")
        self.out_chs = _check_dim(out_chs, fname, "out_chs")
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
            raise ValueError(f"{fname}: groups must be a positive int, got {groups!r}")
        if self.in_chs % groups or self.out_chs % groups:
            raise ValueError(f"{fname}: in_chs ({self.in_chs}) and out_chs ({self.out_chs}) "
                             f"must both be divisible by groups ({groups})")
        if not callable(activation):
            raise TypeError(f"{fname}: activation must be callable, got {activation!r}")
        self.groups = int(groups)
        self.stride = ntuple(stride, D, fname, "stride")
        self.dilation = ntuple(dilation, D, fname, "dilation")
        self.pad = pad
        expand_pad(pad, self.kernel, self.dilation, self.stride, fname, self.transposed)
        self.activation = activation
        self.cross_correlation = bool(cross_correlation)
        dt = _float_dtype(dtype, fname)
        if self.transposed:
            shape = (self.in_chs, self.out_chs // self.groups) + self.kernel
        else:
            shape = (self.out_chs, self.in_chs // self.groups) + self.kernel
        fan_in = int(np.prod(shape[1:]))
        if init_weight is None:
            self.weight = Param(kaiming_uniform(*shape, gain=calculate_gain(activation), dtype=dt))
        else:
            self.weight = _init(init_weight, shape, dt, fname, "init_weight")
        self.bias = None
        if use_bias:
            if init_bias is None:
                self.bias = Param(uniform_bound((self.out_chs,), 1 / np.sqrt(fan_in), dt))
            else:
                self.bias = _init(init_bias, (self.out_chs,), dt, fname, "init_bias")

    def _finish(self, y):
        if self.bias is not None:
            y = y + np.reshape(self.bias, (1, self.out_chs) + (1,) * len(self.kernel))
        return self.activation(y)

    def extra_repr(self):
        s = f"({', '.join(map(str, self.kernel))}{',' if len(self.kernel) == 1 else ''}), " \
            f"{self.in_chs} => {self.out_chs}"
        if self.activation is not identity:
            s += f", {_act_name(self.activation)}"
        if any(v != 1 for v in self.stride):
            s += f", stride={self.stride if len(set(self.stride)) > 1 else self.stride[0]}"
        if self.pad != 0:
            s += f", pad={self.pad}"
        if any(v != 1 for v in self.dilation):
            s += f", dilation={self.dilation}"
        if getattr(self, "outpad", (0,)) != (0,) * len(self.kernel) and self.transposed:
            s += f", outpad={self.outpad}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", use_bias=False"
        if self.cross_correlation:
            s += ", cross_correlation=True"
        return s


class Conv(_ConvBase):
    """Conv(k, in_chs, out_chs, activation=identity, init_weight=None, init_bias=None,
    stride=1, pad=0, dilation=1, groups=1, use_bias=True, cross_correlation=False,
    dtype=float32): convolution layer.

    ``k`` is the kernel size per spatial axis (``(3, 3)`` for images); x is
    ``(N, in_chs, *spatial)``.  ``weight`` is ``(out_chs, in_chs/groups, *k)``,
    ``bias`` ``(out_chs,)``.  By default this is a true convolution (the
    kernel is flipped, as Lux and Knet do); ``cross_correlation=True``
    computes what PyTorch's Conv does.  ``groups`` splits the channels
    (``groups = in_chs`` is a depthwise convolution); both channel counts
    must be divisible by it.  Output size per axis:
    ``(in + lo + hi - dilation*(k-1) - 1) // stride + 1``.

    Default init: weight ``kaiming_uniform`` with the activation's gain
    (``calculate_gain``), bias uniform in ±1/sqrt(fan_in),
    fan_in = in_chs/groups * prod(k).

    >>> Conv((3, 3), 3, 8, pad=1, stride=2)(np.zeros((2, 3, 9, 9), np.float32)).shape
    (2, 8, 5, 5)
    """

    def __init__(self, k, in_chs, out_chs, activation=identity, init_weight=None,
                 init_bias=None, stride=1, pad=0, dilation=1, groups=1, use_bias=True,
                 cross_correlation=False, dtype=np.float32):
        super().__init__(k, in_chs, out_chs, activation, init_weight, init_bias, stride, pad,
                         dilation, groups, use_bias, cross_correlation, dtype)

    def __call__(self, x):
        fname = "Conv"
        _check_input(x, len(self.kernel), self.in_chs, fname)
        pads = expand_pad(self.pad, self.kernel, self.dilation, self.stride, fname)
        if all(lo == hi for lo, hi in pads):
            padding = tuple(lo for lo, _ in pads)
        else:
            x = np.pad(x, [(0, 0), (0, 0)] + [tuple(p) for p in pads])
            padding = 0
        w, x, o = _lift1d(self.weight, x, dict(padding=padding, stride=self.stride,
                                                dilation=self.dilation))
        y = conv4(w, x, mode=1 if self.cross_correlation else 0, groups=self.groups, **o)
        return self._finish(_drop1d(y, len(self.kernel)))


class ConvTranspose(_ConvBase):
    """ConvTranspose(k, in_chs, out_chs, activation=identity, init_weight=None,
    init_bias=None, stride=1, pad=0, outpad=0, dilation=1, groups=1, use_bias=True,
    cross_correlation=False, dtype=float32): transposed convolution layer.

    ``weight`` is ``(in_chs, out_chs/groups, *k)`` (PyTorch's layout).  Output
    size per axis: ``(in-1)*stride + dilation*(k-1) + 1 - lo - hi + outpad``;
    ``pad`` removes rows from the output, ``outpad`` (int or one per axis,
    each smaller than the stride or the dilation) adds them at the end, so a
    strided Conv can be inverted exactly.  ``cross_correlation=True`` is
    PyTorch's ConvTranspose.

    >>> ConvTranspose((3, 3), 8, 4, stride=2, pad=1, outpad=1)(
    ...     np.zeros((1, 8, 5, 5), np.float32)).shape
    (1, 4, 10, 10)
    """
    transposed = True

    def __init__(self, k, in_chs, out_chs, activation=identity, init_weight=None,
                 init_bias=None, stride=1, pad=0, outpad=0, dilation=1, groups=1,
                 use_bias=True, cross_correlation=False, dtype=np.float32):
        super().__init__(k, in_chs, out_chs, activation, init_weight, init_bias, stride, pad,
                         dilation, groups, use_bias, cross_correlation, dtype)
        self.outpad = ntuple(outpad, len(self.kernel), "ConvTranspose", "outpad", least=0)
        for o, s, d in zip(self.outpad, self.stride, self.dilation):
            if o >= max(s, d):
                raise ValueError(f"ConvTranspose: outpad {self.outpad} must be smaller than the "
                                 f"stride {self.stride} or the dilation {self.dilation}")

    def __call__(self, x):
        fname = "ConvTranspose"
        s = _check_input(x, len(self.kernel), self.in_chs, fname)
        pads = expand_pad(self.pad, self.kernel, self.dilation, self.stride, fname, True)
        mode = 1 if self.cross_correlation else 0
        if all(lo == hi >= 0 for lo, hi in pads) and not any(self.outpad):
            w, x, o = _lift1d(self.weight, x, dict(padding=tuple(lo for lo, _ in pads),
                                                   stride=self.stride, dilation=self.dilation))
            y = deconv4(w, x, mode=mode, groups=self.groups, **o)
            return self._finish(_drop1d(y, len(self.kernel)))
        w, x, o = _lift1d(self.weight, x, dict(padding=0, stride=self.stride,
                                               dilation=self.dilation))
        full = _drop1d(deconv4(w, x, mode=mode, groups=self.groups, **o), len(self.kernel))
        L = np.shape(raw(full))[2:]
        ends = [n - hi + op for n, (lo, hi), op in zip(L, pads, self.outpad)]
        extra = [max(e - n, 0) for e, n in zip(ends, L)]
        if any(extra):
            full = np.pad(full, [(0, 0), (0, 0)] + [(0, e) for e in extra])
        starts = [lo for lo, _ in pads]
        if any(e - b < 1 for b, e in zip(starts, ends)):
            raise ValueError(f"ConvTranspose: pad {self.pad} leaves no output for input "
                             f"{s[2:]}")
        y = full[(slice(None), slice(None)) + tuple(slice(b, e) for b, e in zip(starts, ends))]
        return self._finish(y)
