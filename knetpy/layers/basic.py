"""basic: Dense, Bilinear, Scale and Embedding layers (batch-first).

Default initialization follows Lux: a weight whose ``init_weight`` is None is
drawn by ``kaiming_uniform`` with the gain PyTorch's ``calculate_gain`` gives
for the layer's activation; a bias whose ``init_bias`` is None is uniform in
±1/sqrt(fan_in).  An ``init_*`` function is called as ``init(*shape,
dtype=dtype)`` (the signature of knetpy's initializers).
"""
import numbers

import numpy as np

from autograd import Param
from autograd.core import raw

from ..ops import activations as _acts
from ..init import kaiming_uniform, rng
from .base import Layer

__all__ = ["Dense", "Bilinear", "Scale", "Embedding", "calculate_gain"]


def identity(x):
    """identity(x) = x (the default activation)."""
    return x


def calculate_gain(activation, param=None):
    """calculate_gain(activation, param=None) -> the recommended init gain for an activation.

    ``relu`` → sqrt(2), ``tanh`` → 5/3, ``selu`` → 3/4, ``sigm``/sigmoid → 1,
    leaky ReLU with slope ``param`` → sqrt(2/(1+param²)).  The identity and
    any other function get the leaky-ReLU gain with slope sqrt(5), so that
    kaiming_uniform draws within ±1/sqrt(fan_in) (PyTorch's default for
    Linear/Conv).

    >>> round(calculate_gain(np.tanh), 4)
    1.6667
    """
    name = getattr(activation, "__name__", "")
    if activation is _acts.relu or name == "relu":
        return float(np.sqrt(2.0))
    if activation is np.tanh or name == "tanh":
        return 5.0 / 3.0
    if activation is _acts.selu or name == "selu":
        return 0.75
    if activation is _acts.sigm or name in ("sigm", "sigmoid"):
        return 1.0
    if name in ("leaky_relu", "leakyrelu"):
        slope = 0.01 if param is None else param
        return float(np.sqrt(2.0 / (1 + slope ** 2)))
    slope = np.sqrt(5.0) if param is None else param
    return float(np.sqrt(2.0 / (1 + slope ** 2)))


def _act_name(f):
    return getattr(f, "__name__", type(f).__name__)


def _repr_act_bias(s, layer):
    """``s`` plus the extra_repr tail of Dense, Bilinear and Scale: the activation
    unless identity, then ``use_bias=False`` when the layer has no bias."""
    if layer.activation is not identity:
        s += f", {_act_name(layer.activation)}"
    if layer.bias is None:
        s += ", use_bias=False"
    return s


def _check_dim(v, fname, arg):
    if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{fname}: {arg} must be a positive int, got {v!r}")
    return int(v)


def _float_dtype(dtype, fname):
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{fname}: dtype must be a float type, got {dt}")
    return dt


def uniform_bound(shape, bound, dtype):
    """Array of ``shape`` uniform in ±bound from knetpy's generator."""
    return ((2 * rng().random(shape) - 1) * bound).astype(dtype)


def _init(fn, shape, dtype, fname, arg):
    w = np.asarray(fn(*shape, dtype=dtype))
    if w.shape != tuple(shape):
        raise ValueError(f"{fname}: {arg} returned shape {w.shape}, expected {tuple(shape)}")
    return Param(w.astype(dtype, copy=False))


def _check_last(x, n, fname, arg="x"):
    s = np.shape(raw(x))
    if len(s) == 0 or s[-1] != n:
        raise ValueError(f"{fname}: {arg} must have {n} features in its last axis, got shape {s}")


class Dense(Layer):
    """Dense(in_dims, out_dims, activation=identity, init_weight=None, init_bias=None,
    use_bias=True, dtype=float32): ``activation(x @ weight.T + bias)``.

    ``weight`` is ``(out_dims, in_dims)``, ``bias`` ``(out_dims,)``.  ``x`` is
    ``(..., in_dims)``; every leading axis is a batch axis.

    >>> m = Dense(2, 3, np.tanh)
    >>> m(np.ones((4, 2), np.float32)).shape, m.weight.shape
    ((4, 3), (3, 2))
    """

    def __init__(self, in_dims, out_dims, activation=identity, init_weight=None, init_bias=None,
                 use_bias=True, dtype=np.float32):
        self.in_dims = _check_dim(in_dims, "Dense", "in_dims")
        self.out_dims = _check_dim(out_dims, "Dense", "out_dims")
        if not callable(activation):
            raise TypeError(f"Dense: activation must be callable, got {activation!r}")
        self.activation = activation
        dt = _float_dtype(dtype, "Dense")
        shape = (self.out_dims, self.in_dims)
        if init_weight is None:
            self.weight = Param(kaiming_uniform(*shape, gain=calculate_gain(activation), dtype=dt))
        else:
            self.weight = _init(init_weight, shape, dt, "Dense", "init_weight")
        self.bias = None
        if use_bias:
            if init_bias is None:
                self.bias = Param(uniform_bound((self.out_dims,), 1 / np.sqrt(self.in_dims), dt))
            else:
                self.bias = _init(init_bias, (self.out_dims,), dt, "Dense", "init_bias")

    def __call__(self, x):
        _check_last(x, self.in_dims, "Dense")
        y = x @ self.weight.T
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def extra_repr(self):
        return _repr_act_bias(f"{self.in_dims} => {self.out_dims}", self)


class Bilinear(Layer):
    """Bilinear(in_dims, out_dims, activation=identity, init_weight=None, init_bias=None,
    use_bias=True, dtype=float32): ``z[..., o] = activation(x W[o] y + b[o])``.

    ``in_dims`` is an int (both inputs that wide) or a pair ``(in1, in2)``.
    ``weight`` is ``(out, in1, in2)``.  Call with a pair ``(x, y)`` of shapes
    ``(..., in1)`` and ``(..., in2)``, or with one array (then ``y = x``).
    Both weight and bias default to uniform in ±1/sqrt(in1).

    >>> m = Bilinear((2, 3), 4)
    >>> m((np.ones((5, 2), np.float32), np.ones((5, 3), np.float32))).shape
    (5, 4)
    """

    def __init__(self, in_dims, out_dims, activation=identity, init_weight=None, init_bias=None,
                 use_bias=True, dtype=np.float32):
        if isinstance(in_dims, (tuple, list)):
            if len(in_dims) != 2:
                raise ValueError(f"Bilinear: in_dims must be an int or a pair, got {in_dims!r}")
            in1, in2 = in_dims
        else:
            in1 = in2 = in_dims
        self.in1 = _check_dim(in1, "Bilinear", "in_dims[0]")
        self.in2 = _check_dim(in2, "Bilinear", "in_dims[1]")
        self.out_dims = _check_dim(out_dims, "Bilinear", "out_dims")
        self.activation = activation
        dt = _float_dtype(dtype, "Bilinear")
        bound = 1 / np.sqrt(self.in1)
        shape = (self.out_dims, self.in1, self.in2)
        self.weight = Param(uniform_bound(shape, bound, dt)) if init_weight is None else \
            _init(init_weight, shape, dt, "Bilinear", "init_weight")
        self.bias = None
        if use_bias:
            self.bias = Param(uniform_bound((self.out_dims,), bound, dt)) if init_bias is None \
                else _init(init_bias, (self.out_dims,), dt, "Bilinear", "init_bias")

    def __call__(self, xy):
        if isinstance(xy, tuple):
            if len(xy) != 2:
                raise ValueError(f"Bilinear: input must be an array or a pair (x, y), "
                                 f"got a tuple of {len(xy)}")
            x, y = xy
        else:
            x = y = xy
        _check_last(x, self.in1, "Bilinear", "x")
        _check_last(y, self.in2, "Bilinear", "y")
        lead = np.shape(raw(x))[:-1]
        if np.shape(raw(y))[:-1] != lead:
            raise ValueError(f"Bilinear: x and y must have the same leading shape, got "
                             f"{np.shape(raw(x))} and {np.shape(raw(y))}")
        x2 = np.reshape(x, (-1, self.in1))
        y2 = np.reshape(y, (-1, self.in2))
        # x W[o] -> (B, out, in2), then contract with y
        w = np.reshape(np.transpose(self.weight, (1, 0, 2)), (self.in1, self.out_dims * self.in2))
        xw = np.reshape(x2 @ w, (-1, self.out_dims, self.in2))
        z = np.sum(xw * np.reshape(y2, (-1, 1, self.in2)), axis=-1)
        if self.bias is not None:
            z = z + self.bias
        return self.activation(np.reshape(z, lead + (self.out_dims,)))

    def extra_repr(self):
        return _repr_act_bias(f"({self.in1}, {self.in2}) => {self.out_dims}", self)


def _ones(*shape, dtype=np.float32):
    return np.ones(shape, dtype)


def _zeros(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


class Scale(Layer):
    """Scale(dims, activation=identity, init_weight=ones, init_bias=zeros, use_bias=True,
    dtype=float32): elementwise ``activation(weight * x + bias)``.

    ``dims`` (int or tuple) is the shape of ``weight`` and ``bias``; ``x`` is
    ``(B, *dims)`` (or any shape that broadcasts against ``dims`` on the right).

    >>> Scale((2, 3))(np.ones((4, 2, 3), np.float32)).shape
    (4, 2, 3)
    """

    def __init__(self, dims, activation=identity, init_weight=_ones, init_bias=_zeros,
                 use_bias=True, dtype=np.float32):
        dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
        self.dims = tuple(_check_dim(d, "Scale", "dims") for d in dims)
        self.activation = activation
        dt = _float_dtype(dtype, "Scale")
        self.weight = _init(init_weight, self.dims, dt, "Scale", "init_weight")
        self.bias = _init(init_bias, self.dims, dt, "Scale", "init_bias") if use_bias else None

    def __call__(self, x):
        s = np.shape(raw(x))
        k = len(self.dims)
        if len(s) < k or s[len(s) - k:] != self.dims:
            raise ValueError(f"Scale: x must end with the dims {self.dims}, got shape {s}")
        y = self.weight * x
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def extra_repr(self):
        return _repr_act_bias(", ".join(str(d) for d in self.dims), self)


def _rand(*shape, dtype=np.float32):
    return rng().random(shape).astype(dtype)


class Embedding(Layer):
    """Embedding(in_dims, out_dims, init_weight=rand, dtype=float32): a lookup table.

    ``weight`` is ``(*in_dims, out_dims)``: one row per token (0-based).  The
    input is an int, an int array of any shape ``S`` (output ``S + (out_dims,)``),
    or — when ``in_dims`` is a tuple (a multi-dimensional vocabulary) — a
    tuple of int arrays, one per vocabulary axis.  Reading rows by indexing
    gives a sparse gradient (only the rows used).  Default weights are uniform
    in [0, 1).

    >>> e = Embedding(10, 4)
    >>> e(np.array([[1, 2, 3], [0, 0, 9]])).shape
    (2, 3, 4)
    """

    def __init__(self, in_dims, out_dims, init_weight=_rand, dtype=np.float32):
        ins = (in_dims,) if isinstance(in_dims, numbers.Integral) else tuple(in_dims)
        self.in_dims = tuple(_check_dim(d, "Embedding", "in_dims") for d in ins)
        self.out_dims = _check_dim(out_dims, "Embedding", "out_dims")
        dt = _float_dtype(dtype, "Embedding")
        self.weight = _init(init_weight, self.in_dims + (self.out_dims,), dt, "Embedding",
                            "init_weight")

    def __call__(self, idx):
        parts = idx if isinstance(idx, tuple) else (idx,)
        if len(parts) != len(self.in_dims):
            raise ValueError(f"Embedding: expected {len(self.in_dims)} index array(s) for "
                             f"in_dims {self.in_dims}, got {len(parts)}")
        arrs = []
        for a, n in zip(parts, self.in_dims):
            a = np.asarray(raw(a))
            if a.dtype.kind not in "iu":
                raise TypeError(f"Embedding: indices must be integers, got dtype {a.dtype}")
            if a.size and (a.min() < 0 or a.max() >= n):
                raise IndexError(f"Embedding: indices must be in [0, {n}), got range "
                                 f"[{a.min()}, {a.max()}]")
            arrs.append(a)
        try:
            arrs = np.broadcast_arrays(*arrs)
        except ValueError:
            raise ValueError(f"Embedding: index arrays of shapes {[a.shape for a in arrs]} "
                             f"do not broadcast") from None
        return self.weight[tuple(arrs)]

    def extra_repr(self):
        ins = self.in_dims[0] if len(self.in_dims) == 1 else self.in_dims
        return f"{ins} => {self.out_dims}"
