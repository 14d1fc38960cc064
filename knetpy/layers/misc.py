"""misc: shape layers, wrappers, Maxout, PixelShuffle and Upsample (batch-first, NCHW)."""
import numbers

import numpy as np

from autograd.core import raw

from .base import Layer

__all__ = ["FlattenLayer", "Maxout", "NoOpLayer", "ReshapeLayer", "SelectDim",
           "WrappedFunction", "ReverseSequence", "PixelShuffle", "Upsample",
           "pixel_shuffle", "upsample", "as_layer"]


def _shape(x):
    return np.shape(raw(x))


class WrappedFunction(Layer):
    """WrappedFunction(f): a layer that calls ``f(x)``; it holds no parameters.

    Containers wrap plain functions in it automatically.

    >>> WrappedFunction(np.abs)(np.array([-1.0]))
    array([1.])
    """

    def __init__(self, f):
        if not callable(f):
            raise TypeError(f"WrappedFunction: f must be callable, got {type(f).__name__}")
        self.f = f

    def __call__(self, x):
        return self.f(x)

    def extra_repr(self):
        return getattr(self.f, "__name__", type(self.f).__name__)


def as_layer(f):
    """as_layer(f) -> f when it is a Layer, else WrappedFunction(f) for a callable.

    >>> as_layer(np.abs)
    WrappedFunction(absolute)
    """
    if isinstance(f, Layer):
        return f
    if callable(f):
        return WrappedFunction(f)
    raise TypeError(f"expected a Layer or a callable, got {type(f).__name__}")


class NoOpLayer(Layer):
    """NoOpLayer(): returns its input unchanged (useful as a placeholder).

    >>> NoOpLayer()(1)
    1
    """

    def __call__(self, x):
        return x


class FlattenLayer(Layer):
    """FlattenLayer(N=None): flatten trailing axes, never the batch axis 0.

    ``N=None`` gives ``(B, -1)``; an int N merges the last N axes into one
    (Lux's "first N dims" in column-major order).  N must be smaller than
    ``x.ndim``.

    >>> FlattenLayer()(np.zeros((2, 2, 2, 2))).shape
    (2, 8)
    >>> FlattenLayer(2)(np.zeros((5, 3, 4, 2))).shape
    (5, 3, 8)
    """

    def __init__(self, N=None):
        if N is not None and (not isinstance(N, numbers.Integral) or N < 1):
            raise ValueError(f"FlattenLayer: N must be None or a positive int, got {N!r}")
        self.N = N

    def __call__(self, x):
        s = _shape(x)
        if len(s) < 1:
            raise ValueError("FlattenLayer: x must have a batch axis, got a scalar")
        if self.N is None:
            return np.reshape(x, (s[0], -1)) if len(s) > 1 else x
        if self.N >= len(s):
            raise ValueError(f"FlattenLayer: N={self.N} would flatten the batch axis of a "
                             f"{len(s)}-D input; N must be < x.ndim")
        keep = s[:len(s) - self.N]
        return np.reshape(x, keep + (int(np.prod(s[len(s) - self.N:])),))

    def extra_repr(self):
        return "" if self.N is None else f"N={self.N}"


class ReshapeLayer(Layer):
    """ReshapeLayer(dims): reshape ``x`` to ``(B, *dims)`` keeping the batch axis.

    >>> ReshapeLayer((2, 2))(np.zeros((3, 4, 1))).shape
    (3, 2, 2)
    """

    def __init__(self, dims):
        dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
        if not all(isinstance(d, numbers.Integral) and (d > 0 or d == -1) for d in dims):
            raise ValueError(f"ReshapeLayer: dims must be positive ints (one may be -1), "
                             f"got {dims!r}")
        self.dims = tuple(int(d) for d in dims)

    def __call__(self, x):
        s = _shape(x)
        n = int(np.prod(s[1:])) if len(s) > 1 else 1
        if -1 not in self.dims and int(np.prod(self.dims)) != n:
            raise ValueError(f"ReshapeLayer: cannot reshape {s} into (B, *{self.dims})")
        return np.reshape(x, (s[0],) + self.dims)

    def extra_repr(self):
        return f"output_dims=(:, {', '.join(map(str, self.dims))})"


class SelectDim(Layer):
    """SelectDim(dim, i): ``x[..., i, ...]`` with ``i`` at axis ``dim`` (0-based).

    ``i`` is an int (the axis is dropped) or a slice/index array (kept).

    >>> SelectDim(1, 0)(np.arange(6).reshape(2, 3))
    array([0, 3])
    """

    def __init__(self, dim, i):
        if not isinstance(dim, numbers.Integral):
            raise TypeError(f"SelectDim: dim must be an int, got {dim!r}")
        self.dim, self.i = int(dim), i

    def __call__(self, x):
        nd = len(_shape(x))
        if not -nd <= self.dim < nd:
            raise ValueError(f"SelectDim: dim {self.dim} out of range for a {nd}-D input")
        d = self.dim % nd
        return x[(slice(None),) * d + (self.i,)]

    def extra_repr(self):
        return f"dim={self.dim}, i={self.i}"


class ReverseSequence(Layer):
    """ReverseSequence(dim=None): reverse ``x`` along axis ``dim``.

    ``dim=None`` reverses a vector itself and otherwise the time axis 1 of a
    batch-first ``(B, T, ...)`` input.

    >>> ReverseSequence()(np.array([1.0, 2.0, 3.0]))
    array([3., 2., 1.])
    """

    def __init__(self, dim=None):
        if dim is not None and not isinstance(dim, numbers.Integral):
            raise TypeError(f"ReverseSequence: dim must be None or an int, got {dim!r}")
        self.dim = dim

    def __call__(self, x):
        nd = len(_shape(x))
        if nd == 0:
            raise ValueError("ReverseSequence: x must be an array with at least one axis")
        d = (0 if nd == 1 else 1) if self.dim is None else self.dim
        if not -nd <= d < nd:
            raise ValueError(f"ReverseSequence: dim {d} out of range for a {nd}-D input")
        return np.flip(x, d % nd)

    def extra_repr(self):
        return "" if self.dim is None else str(self.dim)


class Maxout(Layer):
    """Maxout(*layers), Maxout(**layers) or Maxout(f, n_alts): elementwise max of branches.

    Every branch receives the same input; ``f`` is a no-argument function
    building one branch, called ``n_alts`` times (independent weights).

    >>> from knetpy.layers import Dense
    >>> Maxout(lambda: Dense(2, 3), 4)(np.ones((5, 2), np.float32)).shape
    (5, 3)
    """

    def __init__(self, *layers, **named):
        if len(layers) == 2 and callable(layers[0]) and not isinstance(layers[0], Layer) \
                and isinstance(layers[1], numbers.Integral) and not named:
            f, n = layers
            if n < 1:
                raise ValueError(f"Maxout: n_alts must be a positive int, got {n}")
            made = [f() for _ in range(int(n))]
            layers = tuple(made)
        if layers and named:
            raise TypeError("Maxout: give the layers either positionally or as keywords")
        if not layers and not named:
            raise ValueError("Maxout: needs at least one layer")
        items = named.items() if named else ((f"layer_{i}", v) for i, v in enumerate(layers))
        self.layers = {k: as_layer(v) for k, v in items}

    def named_children(self):
        return list(self.layers.items())

    def __call__(self, x):
        ys = [lay(x) for lay in self.layers.values()]
        y = ys[0]
        for o in ys[1:]:
            y = np.maximum(y, o)
        return y


def pixel_shuffle(x, r):
    """pixel_shuffle(x, r): rearrange ``(N, C*r^D, d1..dD)`` into ``(N, C, d1*r..dD*r)``.

    Channel ``c*r^D + k`` (k the row-major index of the offsets
    ``(i1..iD)``) moves to position ``(d1*r + i1, ...)``; for 4-D input this
    is PyTorch's ``pixel_shuffle``.

    >>> pixel_shuffle(np.arange(4.0).reshape(1, 4, 1, 1), 2)[0, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    if not isinstance(r, numbers.Integral) or r < 1:
        raise ValueError(f"pixel_shuffle: r must be a positive int, got {r!r}")
    s = _shape(x)
    if len(s) < 3:
        raise ValueError(f"pixel_shuffle: x must be (N, C, spatial...), got shape {s}")
    D = len(s) - 2
    n, c = s[0], s[1]
    if c % r ** D:
        raise ValueError(f"pixel_shuffle: channels {c} must be divisible by r^{D} = {r ** D}")
    co, sp = c // r ** D, s[2:]
    y = np.reshape(x, (n, co) + (r,) * D + sp)
    # axes: 0 n, 1 c, 2..D+1 offsets, D+2..2D+1 spatial -> n, c, (sp_1, off_1), ...
    perm = (0, 1) + tuple(v for k in range(D) for v in (D + 2 + k, 2 + k))
    y = np.transpose(y, perm)
    return np.reshape(y, (n, co) + tuple(d * r for d in sp))


class PixelShuffle(Layer):
    """PixelShuffle(r): ``pixel_shuffle(x, r)``, upscaling ``(N, C*r^D, ...)`` by r.

    >>> PixelShuffle(2)(np.zeros((1, 8, 3, 3))).shape
    (1, 2, 6, 6)
    """

    def __init__(self, r):
        if not isinstance(r, numbers.Integral) or r < 1:
            raise ValueError(f"PixelShuffle: r must be a positive int, got {r!r}")
        self.r = int(r)

    def __call__(self, x):
        return pixel_shuffle(x, self.r)

    def extra_repr(self):
        return str(self.r)


_MODES = {"nearest": None, "linear": 1, "bilinear": 2, "trilinear": 3}


def _source_coords(n_in, n_out, align_corners, scale):
    """Fractional input coordinate of every output position (PyTorch's rule)."""
    j = np.arange(n_out, dtype=np.float64)
    if align_corners:
        return j * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    ratio = 1.0 / scale if scale is not None else n_in / n_out
    return np.maximum((j + 0.5) * ratio - 0.5, 0.0)


def upsample(x, mode="nearest", scale=None, size=None, align_corners=False):
    """upsample(x, mode='nearest', scale=None, size=None, align_corners=False).

    Resize the spatial axes (all but N, C) of ``x``.  Exactly one of ``scale``
    (number or one per axis; output = floor(in * scale)) and ``size`` (int or
    tuple of output sizes) is given.  ``nearest`` works for any number of axes
    and picks input ``floor(j * in / out)``; ``linear``/``bilinear``/``trilinear``
    need 1/2/3 spatial axes and interpolate linearly along each, with corner
    pixels aligned when ``align_corners`` (coordinates as PyTorch's
    ``interpolate``).

    >>> upsample(np.arange(2.0).reshape(1, 1, 2), 'linear', scale=2)
    array([[[0.  , 0.25, 0.75, 1.  ]]])
    """
    if mode not in _MODES:
        raise ValueError(f"upsample: mode must be one of {list(_MODES)}, got {mode!r}")
    s = _shape(x)
    D = len(s) - 2
    if D < 1:
        raise ValueError(f"upsample: x must be (N, C, spatial...), got shape {s}")
    if _MODES[mode] is not None and _MODES[mode] != D:
        raise ValueError(f"upsample: mode {mode!r} needs {_MODES[mode]} spatial axes "
                         f"({_MODES[mode] + 2}-D input), got shape {s}")
    if (scale is None) == (size is None):
        raise ValueError("upsample: give exactly one of scale and size")
    if scale is not None:
        scales = (scale,) * D if isinstance(scale, numbers.Real) else tuple(scale)
        if len(scales) != D or not all(isinstance(v, numbers.Real) and v > 0 for v in scales):
            raise ValueError(f"upsample: scale must be a positive number or {D} of them, "
                             f"got {scale!r}")
        outs = tuple(int(np.floor(n * v)) for n, v in zip(s[2:], scales))
    else:
        outs = (size,) * D if isinstance(size, numbers.Integral) else tuple(size)
        if len(outs) != D or not all(isinstance(v, numbers.Integral) and v > 0 for v in outs):
            raise ValueError(f"upsample: size must be a positive int or {D} of them, got {size!r}")
        scales = (None,) * D
    y = x
    for k in range(D):
        ax = 2 + k
        n_in, n_out = s[ax], outs[k]
        pre = (slice(None),) * ax
        if mode == "nearest":
            ratio = 1.0 / scales[k] if scales[k] is not None else n_in / n_out
            idx = np.minimum(np.floor(np.arange(n_out) * ratio).astype(np.intp), n_in - 1)
            y = y[pre + (idx,)]
            continue
        src = _source_coords(n_in, n_out, align_corners, scales[k])
        i0 = np.minimum(np.floor(src).astype(np.intp), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        w = (src - i0).astype(np.result_type(raw(x)))
        w = np.reshape(w, (n_out,) + (1,) * (len(s) - ax - 1))
        y = y[pre + (i0,)] * (1 - w) + y[pre + (i1,)] * w
    return y


class Upsample(Layer):
    """Upsample(mode='nearest', scale=None, size=None, align_corners=False) or
    Upsample(scale, mode='nearest'): the ``upsample`` function as a layer.

    >>> Upsample(2)(np.zeros((1, 3, 4, 5))).shape
    (1, 3, 8, 10)
    >>> Upsample('bilinear', size=(7, 9), align_corners=True)(np.zeros((1, 3, 4, 5))).shape
    (1, 3, 7, 9)
    """

    def __init__(self, mode="nearest", scale=None, size=None, align_corners=False):
        if not isinstance(mode, str):          # Upsample(scale, mode)
            if scale is not None:
                mode, scale = scale, mode
            else:
                mode, scale = "nearest", mode
        if mode not in _MODES:
            raise ValueError(f"Upsample: mode must be one of {list(_MODES)}, got {mode!r}")
        if (scale is None) == (size is None):
            raise ValueError("Upsample: give exactly one of scale and size")
        self.mode, self.scale, self.size = mode, scale, size
        self.align_corners = bool(align_corners)

    def __call__(self, x):
        return upsample(x, self.mode, self.scale, self.size, self.align_corners)

    def extra_repr(self):
        s = repr(self.mode)
        s += f", scale={self.scale}" if self.scale is not None else f", size={self.size}"
        if self.align_corners:
            s += ", align_corners=True"
        return s
