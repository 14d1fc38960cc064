"""Batch normalization (Knet's batchnorm, bnmoments, bnparams), batch-first.

The channel axis is 1: ``(N, C)`` dense activations, ``(N, C, H, W)``
images, ``(N, C, D, H, W)`` volumes (``(N, C, L)`` works too).  Statistics
are taken over every other axis.

In training mode one fused primitive normalizes with the batch statistics;
its backward is one backend kernel (``bn_backward``) for first-order
gradients and a numpy composition (differentiable again) when the inputs are
themselves recorded.  Running statistics are updated only in training mode:
``mean = (1-momentum)*mean + momentum*batch_mean`` and the same for the
variance, using the unbiased batch variance (as cuDNN and PyTorch do); the
batch itself is normalized with the biased variance.
"""
import numbers

import numpy as np

from autograd.core import Value, _raw, primitive
from autograd.core import training as _recording

from .knetarray import KnetArray, run

__all__ = ["batchnorm", "bnmoments", "bnparams", "BNMoments"]


class BNMoments:
    """Running mean and variance of a batchnorm (make it with ``bnmoments``).

    Fields: ``momentum`` (weight of the newest batch), ``mean``, ``var`` (shape
    ``(C,)``, None until the first call fills them with ``meaninit``/``varinit``).
    """

    def __init__(self, momentum=0.1, mean=None, var=None, meaninit=np.zeros, varinit=np.ones):
        if not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError(f"bnmoments: momentum must be in [0, 1], got {momentum!r}")
        for nm, f in (("meaninit", meaninit), ("varinit", varinit)):
            if f is not None and not callable(f):
                raise TypeError(f"bnmoments: {nm} must be callable or None, got {f!r}")
        self.momentum = float(momentum)
        self.mean, self.var = mean, var
        self.meaninit, self.varinit = meaninit, varinit

    def __repr__(self):
        shape = None if self.mean is None else np.shape(self.mean)
        return f"BNMoments(momentum={self.momentum}, shape={shape})"


def bnmoments(momentum=0.1, mean=None, var=None, meaninit=np.zeros, varinit=np.ones):
    """bnmoments(momentum=0.1, mean=None, var=None, meaninit=np.zeros, varinit=np.ones)
    -> BNMoments holding a batchnorm's running statistics.

    ``mean``/``var`` may be given (C values each, e.g. loaded from a file);
    otherwise the first ``batchnorm`` call sets them to ``meaninit((C,), dtype)``
    and ``varinit((C,), dtype)``.  Each training call moves them by ``momentum``
    toward the batch statistics.

    >>> m = bnmoments(); _ = batchnorm(np.ones((4, 3)), m, training=True); m.mean
    array([0.1, 0.1, 0.1])
    """
    return BNMoments(momentum, mean, var, meaninit, varinit)


def bnparams(channels, dtype=np.float32):
    """bnparams(channels, dtype=float32): one vector of 2*channels values, the
    scales (ones) then the biases (zeros), as ``batchnorm``'s ``params`` wants.
    Wrap it in a Param to learn it.  ``bnparams(dtype, channels)`` also works.

    >>> bnparams(2)
    array([1., 1., 0., 0.], dtype=float32)
    """
    if not isinstance(channels, numbers.Integral):
        channels, dtype = dtype, channels      # Knet's order: bnparams(etype, channels)
    if not isinstance(channels, numbers.Integral) or channels < 1:
        raise ValueError(f"bnparams: channels must be a positive int, got {channels!r}")
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"bnparams: dtype must be a float type, got {dt}")
    p = np.zeros(2 * int(channels), dt)
    p[:channels] = 1
    return p


def _split(params, C):
    return (None, None) if params is None else (params[:C], params[C:])


def _bcast(x):
    return (1, np.shape(_raw(x))[1]) + (1,) * (np.ndim(_raw(x)) - 2)


def _bn_grads_recorded(dy, x, params, eps):
    """(dx, dparams) written with numpy calls, for recorded inputs (higher order)."""
    shape = np.shape(_raw(x))
    axes = (0,) + tuple(range(2, len(shape)))
    n = np.size(_raw(x)) // shape[1]
    mean = np.mean(x, axis=axes, keepdims=True)
    xc = x - mean
    inv = 1 / np.sqrt(np.mean(xc * xc, axis=axes, keepdims=True) + eps)
    xhat = xc * inv
    dbeta = np.sum(dy, axis=axes, keepdims=True)
    dgamma = np.sum(dy * xhat, axis=axes, keepdims=True)
    g = inv if params is None else inv * np.reshape(params[:shape[1]], _bcast(x))
    dx = g * (dy - dbeta / n - xhat * dgamma / n)
    dp = None if params is None else np.concatenate([np.ravel(dgamma), np.ravel(dbeta)])
    return dx, dp


def _recorded(*a):
    return any(isinstance(v, Value) for v in a)


def _bn_grad_x(dy, y, x, params, mean, var, eps):
    if _recorded(dy, x, params):
        return _bn_grads_recorded(dy, x, params, eps)[0]
    gamma, _ = _split(params, np.shape(x)[1])
    return run("bn_backward", dy, x, mean, var, gamma, eps)[0]


def _bn_grad_params(dy, y, x, params, mean, var, eps):
    if _recorded(dy, x, params):
        return _bn_grads_recorded(dy, x, params, eps)[1]
    gamma, _ = _split(params, np.shape(x)[1])
    _, dgamma, dbeta = run("bn_backward", dy, x, mean, var, gamma, eps, need_dx=False)
    return np.concatenate([dgamma, dbeta])


@primitive(_bn_grad_x, _bn_grad_params)
def _bn_train(x, params, mean, var, eps):
    gamma, beta = _split(params, np.shape(x)[1])
    return run("bn_forward", x, mean, var, gamma, beta, eps)


def _check(x, params, moments, eps):
    xr = _raw(x)
    dt = np.result_type(xr)
    if dt.kind != "f":
        raise TypeError(f"batchnorm: x must hold floats, got dtype {dt}")
    if np.ndim(xr) < 2:
        raise ValueError(f"batchnorm: x must have at least 2 dims (N, C, ...), got shape "
                         f"{np.shape(xr)}")
    C = np.shape(xr)[1]
    if params is not None and np.shape(_raw(params)) != (2 * C,):
        raise ValueError(f"batchnorm: params must be a vector of 2*C = {2 * C} values (scales "
                         f"then biases) for x with C = {C} channels (axis 1), got shape "
                         f"{np.shape(_raw(params))}")
    if moments is not None and not isinstance(moments, BNMoments):
        raise TypeError(f"batchnorm: moments must come from bnmoments(), got "
                        f"{type(moments).__name__}")
    if not isinstance(eps, numbers.Real) or eps <= 0:
        raise ValueError(f"batchnorm: eps must be a positive number, got {eps!r}")
    return xr, C


def _as_like(a, xr, C, name):
    """A running statistic as a (C,) array of x's kind (KnetArray or numpy)."""
    a = _raw(a)
    if np.size(a) != C:
        raise ValueError(f"batchnorm: moments.{name} has {np.size(a)} values, x has C = {C} "
                         f"channels")
    a = np.reshape(a, (C,))
    if isinstance(xr, KnetArray) and not isinstance(a, KnetArray):
        a = KnetArray._of(xr.backend.asarray(np.asarray(a)), xr.backend)
    return a


def _init_moments(moments, xr, C):
    dt = np.result_type(xr)
    for name, f in (("mean", moments.meaninit), ("var", moments.varinit)):
        v = getattr(moments, name)
        if v is None:
            if f is None:
                raise ValueError(f"batchnorm: moments.{name} is None and {name}init is None")
            v = f((C,), dtype=dt)
        setattr(moments, name, _as_like(v, xr, C, name))


def batchnorm(x, moments=None, params=None, eps=1e-5, training=None):
    """batchnorm(x, moments=None, params=None, eps=1e-5, training=None): normalize
    ``x`` per channel (axis 1) to zero mean and unit variance, then scale and
    shift by ``params``.

    Args:
        x: ``(N, C)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)`` floats.
        moments: ``bnmoments()`` running statistics; updated in training mode,
            used in test mode (where they are required).
        params: None, or the vector ``[gamma (C values); beta (C values)]`` from
            ``bnparams(C)`` (usually a Param).
        eps: added to the variance.
        training: True normalizes with the batch statistics, False with
            ``moments``.  None (Knet's default) means True when ``x`` or
            ``params`` is a Param or a recorded value, or inside ``diff``;
            pass ``training=False`` to evaluate a model that holds Params.

    >>> y = batchnorm(np.array([[1.0], [3.0]]), training=True)
    >>> np.round(y, 4).ravel()
    array([-1.,  1.])
    """
    xr, C = _check(x, params, moments, eps)
    if training is None:     # Knet's rule: train when x or params is a Param/recorded value
        training = _recording() or isinstance(x, Value) or isinstance(params, Value)
    if moments is not None:
        _init_moments(moments, xr, C)
    if training:
        n = np.size(xr) // C
        if n < 2:
            raise ValueError(f"batchnorm: training needs more than one value per channel, x "
                             f"has shape {np.shape(xr)}")
        mean, var = run("bn_stats", xr)
        y = _bn_train(x, params, mean, var, eps)
        if moments is not None:
            m = moments.momentum
            dt = np.result_type(xr)
            moments.mean = (moments.mean * (1 - m) + mean * m).astype(dt)
            moments.var = (moments.var * (1 - m) + var * (m * n / (n - 1))).astype(dt)
        return y
    if moments is None:
        raise ValueError("batchnorm: test mode (training=False, or outside diff) needs "
                         "moments with the running statistics")
    shape = _bcast(xr)
    dt = np.result_type(xr)
    inv = np.reshape(1 / np.sqrt(moments.var + eps), shape).astype(dt)
    y = (x - np.reshape(moments.mean, shape).astype(dt)) * inv
    if params is not None:
        gamma, beta = _split(params, C)
        y = y * np.reshape(gamma, shape) + np.reshape(beta, shape)
    return y
