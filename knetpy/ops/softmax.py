"""The softmax family: softmax, logsoftmax (logp), logsumexp.

Each is one differentiable primitive whose forward is a backend kernel and
whose gradient is written with numpy calls (differentiable again).  Float16
inputs are computed in float32, and large inputs are stable (the maximum is
subtracted first).
"""
import numbers

import numpy as np

from autograd.core import raw, primitive

from ..knetarray import run
from .activations import check_float as _check_float

__all__ = ["softmax", "logsoftmax", "logp", "logsumexp"]


def normalize_axis(axis, ndim, fname, allow_none=True):
    """``axis`` (None, int or tuple of ints) as None or a sorted tuple of
    non-negative ints; a clear error when out of range."""
    if axis is None:
        if not allow_none:
            raise ValueError(f"{fname}: axis must be an integer, got None")
        return None
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            raise TypeError(f"{fname}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{fname}: axis {a} is out of range for an array with {ndim} dims")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{fname}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _sum_keep(a, axis):
    return np.sum(a, axis=axis, keepdims=True)


def _softmax_grad(dy, y, x, axis, algo):
    if algo == 2:
        return _logsoftmax_grad(dy, y, x, axis)
    return y * (dy - _sum_keep(dy * y, axis))


@primitive(_softmax_grad)
def _softmax(x, axis, algo):
    return run("softmax", x, axis, algo)


def _logsoftmax_grad(dy, y, x, axis):
    return dy - np.exp(y) * _sum_keep(dy, axis)


@primitive(_logsoftmax_grad)
def _logsoftmax(x, axis):
    return run("logsoftmax", x, axis)


def _kept(a, x, axis, keepdims):
    """A reduction's result ``a`` reshaped to broadcast against ``x``."""
    if keepdims:
        return a
    shape = [1 if axis is None or i in axis else n for i, n in enumerate(np.shape(raw(x)))]
    return np.reshape(a, shape)


def _logsumexp_grad(dy, y, x, axis, keepdims):
    return _kept(dy, x, axis, keepdims) * np.exp(x - _kept(y, x, axis, keepdims))


@primitive(_logsumexp_grad)
def _logsumexp(x, axis, keepdims):
    return run("logsumexp", x, axis, keepdims)


def softmax(x, axis=-1, algo=1):
    """softmax(x, axis=-1, algo=1): exp(x) / sum(exp(x)) over ``axis`` (an int, a
    tuple, or None for the whole array).

    ``algo`` chooses the computation as Knet (after cuDNN) does: 1 accurate
    (subtracts the maximum first; the default), 0 fast (no shift: overflows
    for inputs above ~88 in float32), 2 returns the log-softmax instead.

    >>> softmax(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    """
    _check_float(x, "softmax")
    if algo not in (0, 1, 2):
        raise ValueError(f"softmax: algo must be 0 (fast), 1 (accurate) or 2 (log), got {algo!r}")
    return _softmax(x, normalize_axis(axis, np.ndim(raw(x)), "softmax"), algo)


def logsoftmax(x, axis=None):
    """logsoftmax(x, axis=None): x - logsumexp(x, axis), i.e. normalized log
    probabilities over ``axis`` (None: the whole array). ``logp`` is an alias.

    >>> np.exp(logsoftmax(np.array([1.0, 1.0])))
    array([0.5, 0.5])
    """
    _check_float(x, "logsoftmax")
    return _logsoftmax(x, normalize_axis(axis, np.ndim(raw(x)), "logsoftmax"))


logp = logsoftmax


def logsumexp(x, axis=None, keepdims=False):
    """logsumexp(x, axis=None, keepdims=False): log(sum(exp(x))) over ``axis``
    (None: everything), computed without overflow (1e4 is fine).

    >>> float(logsumexp(np.array([1e4, 1e4])))
    10000.69314718056
    """
    _check_float(x, "logsumexp")
    return _logsumexp(x, normalize_axis(axis, np.ndim(raw(x)), "logsumexp"), bool(keepdims))
