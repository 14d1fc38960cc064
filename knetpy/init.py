"""Parameter initialization and knetpy's random numbers.

Every random draw of knetpy (initializers, dropout, ...) comes from ONE
numpy Generator, ``rng()``; ``seed(n)`` replaces it by a seeded one (and
seeds numpy's legacy global generator too), making runs reproducible.

Fan-in and fan-out (batch-first shapes, as Knet's rule with dims reversed):

- 1-D ``(n,)``: fan_in = n, fan_out = 1;
- Dense weight ``(out, in)``: fan_in = in, fan_out = out;
- conv weight ``(O, I/groups, kH, kW)`` (or 5-D): fan_out = O,
  fan_in = I/groups * kH * kW — that is fan_out = shape[0] and
  fan_in = size / shape[0].  (PyTorch multiplies its conv fan_out by the
  window size too; Knet does not, and neither do we.)
"""
import numbers

import numpy as np

from autograd import Param

__all__ = ["seed", "rng", "param", "param0", "xavier", "xavier_uniform", "xavier_normal",
           "gaussian", "bilinear", "kaiming_uniform", "kaiming_normal", "fans"]

_state = {"rng": np.random.default_rng()}


def rng():
    """rng() -> numpy.random.Generator: the generator every knetpy draw uses."""
    return _state["rng"]


def seed(n):
    """seed(n): make knetpy's random draws reproducible from integer ``n``.

    >>> seed(1); a = xavier(2, 2); seed(1); bool((a == xavier(2, 2)).all())
    True
    """
    if not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"seed: n must be a non-negative integer, got {n!r}")
    _state["rng"] = np.random.default_rng(int(n))
    np.random.seed(int(n) % 2**32)     # code that still draws from np.random
    return None


def _dims(dims, fname):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if not all(isinstance(d, numbers.Integral) and d >= 0 for d in dims):
        raise ValueError(f"{fname}: dims must be non-negative integers, got {dims!r}")
    return tuple(int(d) for d in dims)


def _float(dtype, fname):
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{fname}: dtype must be a float type, got {dt}")
    return dt


def fans(shape):
    """fans(shape) -> (fan_in, fan_out) of a weight of ``shape`` (see the module doc).

    >>> fans((10, 3, 5, 5))
    (75, 10)
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], 1
    fan_out = shape[0]
    return (int(np.prod(shape)) // fan_out if fan_out else 0), fan_out


def _uniform(dims, bound, dtype):
    draw = rng().random(dims, dtype=np.float64 if dtype == np.float64 else np.float32)
    return ((2 * draw - 1) * bound).astype(dtype, copy=False)


def _normal(dims, std, dtype, mean=0.0):
    draw = rng().standard_normal(dims, dtype=np.float64 if dtype == np.float64 else np.float32)
    return (draw * std + mean).astype(dtype, copy=False)


def xavier_uniform(*dims, gain=1, dtype=np.float32):
    """xavier_uniform(*dims, gain=1, dtype=float32): uniform in
    ±gain*sqrt(6/(fan_in+fan_out)) (Glorot & Bengio 2010). ``xavier`` is an alias.

    >>> xavier_uniform(3, 4).shape
    (3, 4)
    """
    dims, dtype = _dims(dims, "xavier_uniform"), _float(dtype, "xavier_uniform")
    fi, fo = fans(dims)
    return _uniform(dims, gain * np.sqrt(6.0 / max(fi + fo, 1)), dtype)


xavier = xavier_uniform


def xavier_normal(*dims, gain=1, dtype=np.float32):
    """xavier_normal(*dims, gain=1, dtype=float32): normal with mean 0 and std
    gain*sqrt(2/(fan_in+fan_out)).

    >>> xavier_normal(3, 4).dtype
    dtype('float32')
    """
    dims, dtype = _dims(dims, "xavier_normal"), _float(dtype, "xavier_normal")
    fi, fo = fans(dims)
    return _normal(dims, gain * np.sqrt(2.0 / max(fi + fo, 1)), dtype)


def kaiming_uniform(*dims, gain=np.sqrt(2.0), mode="fan_in", dtype=np.float32):
    """kaiming_uniform(*dims, gain=sqrt(2), mode='fan_in', dtype=float32): uniform
    in ±gain*sqrt(3/fan) with fan = fan_in or fan_out (He et al. 2015).

    >>> bool(abs(kaiming_uniform(100, 50)).max() <= np.sqrt(2) * np.sqrt(3 / 50))
    True
    """
    dims, dtype = _dims(dims, "kaiming_uniform"), _float(dtype, "kaiming_uniform")
    return _uniform(dims, gain * np.sqrt(3.0 / _fan(dims, mode, "kaiming_uniform")), dtype)


def kaiming_normal(*dims, gain=np.sqrt(2.0), mode="fan_in", dtype=np.float32):
    """kaiming_normal(*dims, gain=sqrt(2), mode='fan_in', dtype=float32): normal with
    mean 0 and std gain/sqrt(fan).

    >>> kaiming_normal(8, 3, 3, 3).shape
    (8, 3, 3, 3)
    """
    dims, dtype = _dims(dims, "kaiming_normal"), _float(dtype, "kaiming_normal")
    return _normal(dims, gain / np.sqrt(_fan(dims, mode, "kaiming_normal")), dtype)


def _fan(dims, mode, fname):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{fname}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fi, fo = fans(dims)
    return max(fi if mode == "fan_in" else fo, 1)


def gaussian(*dims, mean=0.0, std=0.01, dtype=np.float32):
    """gaussian(*dims, mean=0, std=0.01, dtype=float32): normal random numbers.

    >>> gaussian(2, 3, std=0.1).shape
    (2, 3)
    """
    dims, dtype = _dims(dims, "gaussian"), _float(dtype, "gaussian")
    if std < 0:
        raise ValueError(f"gaussian: std must be >= 0, got {std}")
    return _normal(dims, std, dtype, mean)


def bilinear(dtype, fw, fh, IN, ON):
    """bilinear(dtype, fw, fh, IN, ON): deconvolution filters that upsample by
    bilinear interpolation, shape (ON, IN, kh, kw) with k = 2f - f%2.

    fw/fh are the width/height upscale factors; each channel i is interpolated
    on its own (w[i, i] is the tent filter, other pairs are 0), so IN must
    equal ON.  (After fcn.berkeleyvision.org's surgery.upsample_filt.)

    >>> bilinear(np.float32, 2, 2, 1, 1)[0, 0, 0]
    array([0.0625, 0.1875, 0.1875, 0.0625], dtype=float32)
    """
    dt = _float(dtype, "bilinear")
    for nm, v in (("fw", fw), ("fh", fh), ("IN", IN), ("ON", ON)):
        if not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"bilinear: {nm} must be a positive integer, got {v!r}")
    if IN != ON:
        raise ValueError(f"bilinear: IN and ON must be equal (one filter per channel), "
                         f"got IN={IN}, ON={ON}")

    def tent(f):
        k = 2 * f - f % 2
        center = f - 1 if k % 2 == 1 else f - 0.5
        return 1 - np.abs(np.arange(k) - center) / f

    filt = np.outer(tent(fh), tent(fw)).astype(dt)
    w = np.zeros((ON, IN) + filt.shape, dt)
    w[np.arange(IN), np.arange(IN)] = filt
    return w


def _atype_default():
    from .device import gpu
    if gpu() >= 0:
        from .knetarray import KnetArray
        return KnetArray
    return None


def param(*args, init=xavier_uniform, dtype=np.float32, atype=None):
    """param(array, atype=None) or param(*dims, init=xavier_uniform, dtype=float32,
    atype=None) -> Param.

    The first form wraps ``array`` (converted by ``atype`` when given).  The
    second draws ``init(*dims, dtype=dtype)`` (``np.zeros``/``np.ones``/
    ``np.empty`` are called as ``f(dims, dtype)``); ``atype`` defaults to
    ``KnetArray`` when a GPU is active, numpy otherwise.

    >>> w = param(3, 4); w.shape, w.dtype
    ((3, 4), dtype('float32'))
    >>> param(np.ones(2))
    P(array([1., 1.]))
    """
    if len(args) == 1 and not isinstance(args[0], (numbers.Integral, tuple, list)):
        a = args[0]
        if not hasattr(a, "shape"):
            raise TypeError(f"param: expected an array or integer dims, got {type(a).__name__}")
        return Param(atype(a) if atype is not None else a)
    dims = _dims(args, "param")
    if not callable(init):
        raise TypeError(f"param: init must be callable, got {init!r}")
    if init in (np.zeros, np.ones, np.empty):
        a = init(dims, dtype)
    else:
        a = init(*dims, dtype=dtype)
    if tuple(np.shape(a)) != dims:
        raise ValueError(f"param: init returned shape {np.shape(a)}, expected {dims}")
    atype = _atype_default() if atype is None else atype
    return Param(atype(a) if atype is not None else a)


def param0(*dims, dtype=np.float32, atype=None):
    """param0(*dims, dtype=float32): a Param of zeros.

    >>> param0(2)
    P(array([0., 0.], dtype=float32))
    """
    return param(*dims, init=np.zeros, dtype=dtype, atype=atype)
