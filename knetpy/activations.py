"""Activation functions and the softmax family, each a differentiable primitive.

Forward values come from the backend kernels (``knetpy.backends``), so the
same call runs on numpy arrays, KnetArrays and recorded values; gradients
are written with numpy calls, so they are differentiable again (higher
order).  The softmax family computes float16 inputs in float32 and is
stable for large inputs (it subtracts the maximum first).
"""
import numbers

import numpy as np

from autograd.core import _raw, primitive

from .knetarray import run

__all__ = ["relu", "elu", "selu", "sigm", "gelu", "invx", "softmax", "logsoftmax", "logp",
           "logsumexp"]

SELU_LAMBDA = 1.0507009873554805
SELU_ALPHA = 1.6732632423543778
GELU_C = float(np.sqrt(2 / np.pi))


def _check_float(x, fname, arg="x"):
    dt = np.result_type(_raw(x))
    if dt.kind != "f":
        raise TypeError(f"{fname}: {arg} must hold floats (float16/32/64), got dtype {dt}")


# ------------------------------------------------------------- elementwise
@primitive(lambda dy, y, x: dy * np.greater(_raw(x), 0))
def _relu(x):
    return run("unary", "relu", x)


@primitive(lambda dy, y, x: np.where(np.greater(_raw(x), 0), dy, dy * (y + 1)))
def _elu(x):
    return run("unary", "elu", x)


@primitive(lambda dy, y, x: np.where(np.greater(_raw(x), 0), dy * SELU_LAMBDA,
                                     dy * (y + SELU_LAMBDA * SELU_ALPHA)))
def _selu(x):
    return run("unary", "selu", x)


@primitive(lambda dy, y, x: dy * y * (1 - y))
def _sigm(x):
    return run("unary", "sigm", x)


def _gelu_grad(dy, y, x):
    t = np.tanh(GELU_C * (x + 0.044715 * x * x * x))
    return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x))


@primitive(_gelu_grad)
def _gelu(x):
    return run("unary", "gelu", x)


@primitive(lambda dy, y, x: -dy * y * y)
def _invx(x):
    return run("unary", "invx", x)


def relu(x):
    """relu(x) = max(0, x), elementwise.

    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    _check_float(x, "relu")
    return _relu(x)


def elu(x):
    """elu(x) = x if x > 0 else exp(x) - 1, elementwise (Clevert et al. 2015).

    >>> elu(np.array([0.0, 1.0]))
    array([0., 1.])
    """
    _check_float(x, "elu")
    return _elu(x)


def selu(x):
    """selu(x) = λ·(x if x > 0 else α·(exp(x) - 1)) with λ = 1.0507009873554805,
    α = 1.6732632423543778 (Klambauer et al. 2017).

    >>> float(selu(np.array(1.0)))
    1.0507009873554805
    """
    _check_float(x, "selu")
    return _selu(x)


def sigm(x):
    """sigm(x) = 1 / (1 + exp(-x)), elementwise, without overflow for large |x|.

    >>> sigm(np.array([0.0]))
    array([0.5])
    """
    _check_float(x, "sigm")
    return _sigm(x)


def gelu(x):
    """gelu(x) = 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))), the tanh form that
    Knet/NNlib use (PyTorch's ``gelu(approximate='tanh')``).

    >>> float(gelu(np.array(0.0)))
    0.0
    """
    _check_float(x, "gelu")
    return _gelu(x)


def invx(x):
    """invx(x) = 1 / x, elementwise.

    >>> invx(np.array([2.0, 4.0]))
    array([0.5 , 0.25])
    """
    _check_float(x, "invx")
    return _invx(x)


# ------------------------------------------------------------- softmax family
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
    shape = [1 if axis is None or i in axis else n for i, n in enumerate(np.shape(_raw(x)))]
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
    return _softmax(x, normalize_axis(axis, np.ndim(_raw(x)), "softmax"), algo)


def logsoftmax(x, axis=None):
    """logsoftmax(x, axis=None): x - logsumexp(x, axis), i.e. normalized log
    probabilities over ``axis`` (None: the whole array). ``logp`` is an alias.

    >>> np.exp(logsoftmax(np.array([1.0, 1.0])))
    array([0.5, 0.5])
    """
    _check_float(x, "logsoftmax")
    return _logsoftmax(x, normalize_axis(axis, np.ndim(_raw(x)), "logsoftmax"))


logp = logsoftmax


def logsumexp(x, axis=None, keepdims=False):
    """logsumexp(x, axis=None, keepdims=False): log(sum(exp(x))) over ``axis``
    (None: everything), computed without overflow (1e4 is fine).

    >>> float(logsumexp(np.array([1e4, 1e4])))
    10000.69314718056
    """
    _check_float(x, "logsumexp")
    return _logsumexp(x, normalize_axis(axis, np.ndim(_raw(x)), "logsumexp"), bool(keepdims))
