"""Normalization layers (Lux's catalog) and their functional forms (LuxLib's).

Layout is batch-first: the channel axis is 1 (``(N, C)``, ``(N, C, H, W)``,
``(N, C, D, H, W)``).  Statistics are taken over:

- ``batchnorm``/``BatchNorm``: every axis but the channel axis;
- ``instancenorm``/``InstanceNorm``: the spatial axes (2, 3, ...) of each
  instance and channel;
- ``groupnorm``/``GroupNorm``: each instance and group of ``C/groups``
  consecutive channels (with their spatial axes);
- ``layernorm``/``LayerNorm``/``RMSNorm``: the trailing normalized axes of each
  instance.

Layer, group, instance and RMS normalization are one fused primitive
(``_standardize``) with a hand-written backward; batch normalization uses the
backend's batchnorm kernels (the ones behind ``knetpy.batchnorm``).  All of
them compute in float32 or wider and return the input's dtype, so float16
inputs get float32-accurate statistics.
"""
import numbers
from collections import namedtuple

import numpy as np

from autograd import Param
from autograd.core import Value, _raw, primitive
from autograd.core import training as _recording

from ..knetarray import KnetArray, run
from .base import Layer, sublayers

__all__ = ["BatchNorm", "GroupNorm", "InstanceNorm", "LayerNorm", "RMSNorm", "WeightNorm",
           "LocalResponseNormalization", "batchnorm", "groupnorm", "instancenorm",
           "layernorm", "update_averages", "reset_averages", "NormStats"]

NormStats = namedtuple("NormStats", ["running_mean", "running_var"])
NormStats.__doc__ = """NormStats(running_mean, running_var): the running statistics returned by
``batchnorm``/``instancenorm`` (arrays of shape ``(C,)``, or None when not tracked)."""


# ------------------------------------------------------------------ helpers

def _cdtype(dt):
    """Compute dtype: float32 or wider (float16 inputs are computed in float32)."""
    return np.promote_types(np.dtype(dt), np.float32)


def _cast(x, dt):
    return x if np.result_type(_raw(x)) == dt else x.astype(dt)


def _recorded(*a):
    return any(isinstance(v, Value) for v in a)


def _check_x(x, fname, min_ndim=2):
    xr = _raw(x)
    if not hasattr(xr, "shape") or not hasattr(xr, "dtype"):
        raise TypeError(f"{fname}: x must be an array, got {type(xr).__name__}")
    if np.dtype(xr.dtype).kind != "f":
        raise TypeError(f"{fname}: x must hold floats, got dtype {xr.dtype}")
    if xr.ndim < min_ndim:
        raise ValueError(f"{fname}: x must have at least {min_ndim} dims (N, C, ...), got shape "
                         f"{xr.shape}")
    return xr


def _check_eps(eps, fname, name="epsilon"):
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool) or not eps >= 0:
        raise ValueError(f"{fname}: {name} must be a non-negative number, got {eps!r}")
    return float(eps)


def _check_momentum(m, fname):
    if not isinstance(m, numbers.Real) or isinstance(m, bool) or not 0 <= m <= 1:
        raise ValueError(f"{fname}: momentum must be in [0, 1], got {m!r}")
    return float(m)


def _check_vec(v, C, fname, name):
    """A per-channel vector (or None), checked to hold C values."""
    if v is None:
        return None
    vr = _raw(v)
    if np.size(vr) != C or np.ndim(vr) > 1:
        raise ValueError(f"{fname}: {name} must be a vector of C = {C} values (x has C = {C} "
                         f"channels on axis 1), got shape {np.shape(vr)}")
    return v


def _chan_shape(x):
    """(1, C, 1, ...): a per-channel vector broadcast against x."""
    return (1, np.shape(_raw(x))[1]) + (1,) * (np.ndim(_raw(x)) - 2)


def _act(y, activation):
    return y if activation is None else activation(y)


def _check_act(activation, fname):
    if activation is not None and not callable(activation):
        raise TypeError(f"{fname}: activation must be callable or None, got {activation!r}")
    return activation


def _actname(activation):
    return "" if activation is None else f", {getattr(activation, '__name__', repr(activation))}"


def _like(a, xr):
    """Array a on the device of xr (a KnetArray when xr is one)."""
    if isinstance(xr, KnetArray) and not isinstance(a, KnetArray):
        return KnetArray._of(xr.backend.asarray(np.asarray(a)), xr.backend)
    return a


def _host(a):
    a = _raw(a)
    return a.to_numpy() if isinstance(a, KnetArray) else np.asarray(a)


# ------------------------------------------------------------------ fused standardization
#
# y = (x - mean) / sqrt(var + eps) * gamma + beta with mean/var over `axes` (or, with
# center=False, y = x / sqrt(mean(x^2) + eps) * gamma + beta: RMS normalization).
# gamma/beta come already broadcastable against x.  The forward keeps xhat and
# 1/std in `ws` for the backward; when the backward's inputs are themselves
# recorded (higher order) everything is recomputed with recorded numpy calls.

class _Work:
    __slots__ = ("xhat", "inv")

    def __init__(self):
        self.xhat = self.inv = None


def _stats(xc, axes, eps, center):
    """(xhat, inv) of xc (already in the compute dtype); works on recorded values."""
    if _rows_ok(xc, axes):
        return _stats_rows(xc, axes, eps, center)
    if center:
        xc = xc - np.mean(xc, axis=axes, keepdims=True)
    inv = 1 / np.sqrt(np.mean(xc * xc, axis=axes, keepdims=True) + eps)
    return xc * inv, inv


def _rows_ok(a, axes):
    """True for a plain numpy array reduced over its trailing axes: the fast
    in-place path views it as (rows, K) and reduces each row."""
    nd = a.ndim if isinstance(a, np.ndarray) else -1
    return nd > 0 and axes == tuple(range(nd - len(axes), nd))


def _rows_shape(shape, axes):
    """(rows, K) and the keepdims shape of a per-row statistic."""
    lead = shape[:len(shape) - len(axes)]
    return (int(np.prod(lead, dtype=np.int64)), -1), lead + (1,) * len(axes)


def _stats_rows(xc, axes, eps, center):
    (M, _), kshape = _rows_shape(xc.shape, axes)
    x2 = xc.reshape(M, -1)
    K = x2.shape[1]
    xh = x2 - x2.mean(axis=1, keepdims=True) if center else x2.copy()
    inv = 1 / np.sqrt(np.einsum("ij,ij->i", xh, xh) / K + eps)
    xh *= inv[:, None]
    return xh.reshape(xc.shape), inv.reshape(kshape)


def _saved(x, ws, axes, eps, center, cd):
    if ws.xhat is None or _recorded(x):
        return _stats(_cast(x, cd), axes, eps, center)
    return ws.xhat, ws.inv


def _std_grad_x(dy, y, x, gamma, beta, ws, axes, eps, center):
    dt = np.result_type(_raw(x))
    cd = _cdtype(dt)
    xhat, inv = _saved(x, ws, axes, eps, center, cd)
    if not _recorded(dy, x, gamma) and _rows_ok(xhat, axes) and isinstance(dy, np.ndarray):
        # dx = inv*g - inv*mean(g) - inv*mean(g*xhat)*xhat, row by row, in place
        g = np.multiply(dy, gamma, dtype=cd) if gamma is not None else np.array(dy, cd)
        (M, _), _ = _rows_shape(xhat.shape, axes)
        g2, xh2, inv1 = g.reshape(M, -1), xhat.reshape(M, -1), inv.reshape(M)
        K = g2.shape[1]
        proj = np.einsum("ij,ij->i", g2, xh2) / K
        mg = g2.mean(axis=1) if center else None
        g2 *= inv1[:, None]
        g2 -= xh2 * (inv1 * proj)[:, None]
        if center:
            g2 -= (inv1 * mg)[:, None]
        return g.astype(dt, copy=False)
    g = _cast(dy, cd)
    if gamma is not None:
        g = g * _cast(gamma, cd)
    proj = np.mean(g * xhat, axis=axes, keepdims=True)
    if center:
        dx = inv * (g - np.mean(g, axis=axes, keepdims=True) - xhat * proj)
    else:
        dx = inv * (g - xhat * proj)
    return _cast(dx, dt)


def _std_grad_gamma(dy, y, x, gamma, beta, ws, axes, eps, center):
    cd = _cdtype(np.result_type(_raw(x)))
    xhat, _ = _saved(x, ws, axes, eps, center, cd)
    return _cast(dy, cd) * xhat


def _std_grad_beta(dy, y, x, gamma, beta, ws, axes, eps, center):
    return dy


@primitive(_std_grad_x, _std_grad_gamma, _std_grad_beta)
def _standardize(x, gamma, beta, ws, axes, eps, center):
    dt = np.result_type(x)
    cd = _cdtype(dt)
    xhat, inv = _stats(_cast(x, cd), axes, eps, center)
    if ws is not None:
        ws.xhat, ws.inv = xhat, inv
    y = xhat
    if gamma is not None:
        y = y * _cast(gamma, cd)
    if beta is not None:
        y = y + _cast(beta, cd)
    return _cast(y, dt)


def _normalize(x, gamma, beta, axes, eps, center=True):
    return _standardize(x, gamma, beta, _Work(), axes=tuple(axes), eps=eps, center=center)


def _affine_stats(x, mean, var, gamma, beta, eps):
    """Per-channel (x - mean)/sqrt(var + eps)*gamma + beta with given statistics,
    computed in float32 or wider and returned in x's dtype (test mode)."""
    xr = _raw(x)
    dt = np.result_type(xr)
    cd = _cdtype(dt)
    shape = _chan_shape(xr)
    a = _like(1 / np.sqrt(np.asarray(_host(var), cd) + eps), xr)
    m = _like(np.asarray(_host(mean), cd), xr)
    if gamma is not None:
        a = a * _cast(gamma, cd)
    b = -m * a
    if beta is not None:
        b = b + _cast(beta, cd)
    y = _cast(x, cd) * np.reshape(a, shape) + np.reshape(b, shape)
    return _cast(y, dt)


# ------------------------------------------------------------------ fused batchnorm (kernels)

class _BNWork:
    __slots__ = ("dy", "grads")

    def __init__(self):
        self.dy, self.grads = None, None


def _bn_composed(dy, x, gamma, mean, var, eps):
    """(dx, dgamma, dbeta) written with numpy calls (for recorded inputs)."""
    xr = _raw(x)
    cd = _cdtype(np.result_type(xr))
    axes = (0,) + tuple(range(2, np.ndim(xr)))
    shape = _chan_shape(xr)
    xhat, inv = _stats(_cast(x, cd), axes, eps, True)
    d = _cast(dy, cd)
    g = d if gamma is None else d * np.reshape(_cast(gamma, cd), shape)
    dx = inv * (g - np.mean(g, axis=axes, keepdims=True)
                - xhat * np.mean(g * xhat, axis=axes, keepdims=True))
    dgamma = np.sum(d * xhat, axis=axes)
    dbeta = np.sum(d, axis=axes)
    return _cast(dx, np.result_type(xr)), dgamma, dbeta


def _bn_grads(dy, x, gamma, mean, var, ws, eps):
    if _recorded(dy, x, gamma):
        return _bn_composed(dy, x, gamma, mean, var, eps)
    if ws.dy is not dy:         # one kernel call serves x, gamma and beta
        ws.dy, ws.grads = dy, run("bn_backward", dy, x, mean, var, gamma, eps)
    return ws.grads


@primitive(lambda dy, y, x, gamma, beta, mean, var, ws, eps: _bn_grads(dy, x, gamma, mean, var,
                                                                       ws, eps)[0],
           lambda dy, y, x, gamma, beta, mean, var, ws, eps: _bn_grads(dy, x, gamma, mean, var,
                                                                       ws, eps)[1],
           lambda dy, y, x, gamma, beta, mean, var, ws, eps: _bn_grads(dy, x, gamma, mean, var,
                                                                       ws, eps)[2])
def _bn_train(x, gamma, beta, mean, var, ws, eps):
    return run("bn_forward", x, mean, var, gamma, beta, eps)


def _vec(v, C):
    return None if v is None else np.reshape(v, (C,)) if np.ndim(_raw(v)) != 1 else v


# ------------------------------------------------------------------ functional forms

def _running_stats_args(fname, x, min_ndim, scale, bias, running_mean, running_var, training,
                        activation, momentum, epsilon):
    """The argument checks batchnorm and instancenorm share (errors name ``fname``).

    Returns ``(xr, eps, momentum, scale, bias, running_mean, running_var,
    training, out)``: the checked arguments, ``training`` resolved from
    ``training()`` when None, and ``out`` the finished ``(y, NormStats)`` when
    not training with running statistics given (normalized by them), else
    None.
    """
    xr = _check_x(x, fname, min_ndim)
    eps = _check_eps(epsilon, fname)
    m = _check_momentum(momentum, fname)
    _check_act(activation, fname)
    C = xr.shape[1]
    scale, bias = _check_vec(scale, C, fname, "scale"), _check_vec(bias, C, fname, "bias")
    running_mean = _check_vec(running_mean, C, fname, "running_mean")
    running_var = _check_vec(running_var, C, fname, "running_var")
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{fname}: running_mean and running_var must both be given or both "
                         f"be None")
    if training is None:
        training = _recording()
    out = None
    if not training and running_mean is not None:
        y = _affine_stats(x, running_mean, running_var, scale, bias, eps)
        out = _act(y, activation), NormStats(running_mean, running_var)
    return xr, eps, m, scale, bias, running_mean, running_var, training, out


def batchnorm(x, scale=None, bias=None, running_mean=None, running_var=None, training=None,
              activation=None, momentum=0.1, epsilon=1e-5):
    """batchnorm(x, scale=None, bias=None, running_mean=None, running_var=None,
    training=None, activation=None, momentum=0.1, epsilon=1e-5) -> (y, NormStats)

    Batch normalization (LuxLib's form): each channel (axis 1) of ``x`` is
    shifted and scaled to zero mean and unit variance over every other axis,
    then multiplied by ``scale`` and shifted by ``bias``, then ``activation``.

    Args:
        x: ``(N, C)``, ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)`` floats.
        scale, bias: ``(C,)`` vectors (usually Params) or None (1 and 0).
        running_mean, running_var: ``(C,)`` running statistics or None.
        training: True normalizes with the batch statistics and returns updated
            running statistics ``(1-momentum)*old + momentum*batch`` (unbiased
            batch variance); False normalizes with the running statistics (with
            the batch statistics when they are None).  None means
            ``training()`` (True while ``diff`` records).
        activation: applied to the result (None: identity).
        momentum: weight of the newest batch in the running statistics.
        epsilon: added to the variance.

    Returns ``(y, NormStats(running_mean, running_var))`` — new arrays; the
    ones passed in are not modified.

    >>> y, st = batchnorm(np.array([[1.0], [3.0]]), running_mean=np.zeros(1),
    ...                   running_var=np.ones(1), training=True)
    >>> np.round(y.ravel(), 4), st.running_mean
    (array([-1.,  1.]), array([0.2]))
    """
    xr, eps, m, scale, bias, running_mean, running_var, training, out = _running_stats_args(
        "batchnorm", x, 2, scale, bias, running_mean, running_var, training, activation,
        momentum, epsilon)
    if out is not None:
        return out
    have_stats = running_mean is not None
    C = xr.shape[1]
    n = xr.size // C
    if n < 2:
        raise ValueError(f"batchnorm: batch statistics need more than one value per channel, "
                         f"x has shape {xr.shape}")
    mean, var = run("bn_stats", xr)
    y = _bn_train(x, _vec(scale, C), _vec(bias, C), mean, var, _BNWork(), eps)
    if training and have_stats:
        rm, rv = _raw(running_mean), _raw(running_var)
        rdt = np.result_type(rm)
        mean_l, var_l = _like(_host(mean), rm), _like(_host(var), rm)
        running_mean = np.reshape(rm * (1 - m) + mean_l * m, np.shape(rm)).astype(rdt)
        running_var = np.reshape(rv * (1 - m) + var_l * (m * n / (n - 1)),
                                 np.shape(rv)).astype(rdt)
    return _act(y, activation), NormStats(running_mean, running_var)


def groupnorm(x, scale=None, bias=None, groups=1, activation=None, epsilon=1e-5):
    """groupnorm(x, scale=None, bias=None, groups=1, activation=None, epsilon=1e-5) -> y

    Group normalization: the ``C`` channels (axis 1) are split into ``groups``
    groups of consecutive channels; each instance's group is normalized to
    zero mean and unit variance over its channels and spatial axes, then each
    channel is scaled by ``scale`` and shifted by ``bias`` (``(C,)`` vectors or
    None) and ``activation`` is applied.  No running statistics.  Computed in
    float32 or wider; returns x's dtype.

    >>> groupnorm(np.arange(8.0).reshape(1, 4, 2), groups=2).round(3)[0, 0]
    array([-1.342, -0.447])
    """
    xr = _check_x(x, "groupnorm")
    eps = _check_eps(epsilon, "groupnorm")
    _check_act(activation, "groupnorm")
    N, C = xr.shape[:2]
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"groupnorm: groups must be a positive integer, got {groups!r}")
    if C % groups:
        raise ValueError(f"groupnorm: the number of channels C = {C} (axis 1 of x) must be "
                         f"divisible by groups = {groups}")
    scale, bias = _check_vec(scale, C, "groupnorm", "scale"), _check_vec(bias, C, "groupnorm",
                                                                         "bias")
    G = int(groups)
    L = int(np.prod(xr.shape[2:], dtype=np.int64))
    gshape = (1, G, C // G, 1)
    x4 = np.reshape(x, (N, G, C // G, L))
    y = _normalize(x4, None if scale is None else np.reshape(scale, gshape),
                   None if bias is None else np.reshape(bias, gshape), (2, 3), eps)
    return _act(np.reshape(y, xr.shape), activation)


def instancenorm(x, scale=None, bias=None, running_mean=None, running_var=None, training=None,
                 activation=None, momentum=0.1, epsilon=1e-5):
    """instancenorm(x, scale=None, bias=None, running_mean=None, running_var=None,
    training=None, activation=None, momentum=0.1, epsilon=1e-5) -> (y, NormStats)

    Instance normalization: each channel of each instance is normalized over
    its spatial axes (x needs at least 3 dims, ``(N, C, L...)``), then scaled
    and shifted per channel and passed through ``activation``.

    Running statistics (optional): in training they move toward the batch
    average of the per-instance means and (unbiased) variances, by
    ``momentum``; when ``training`` is False and they are given, they are
    used instead of the instance statistics (PyTorch's
    ``track_running_stats``).  ``training=None`` means ``training()``.

    >>> y, _ = instancenorm(np.array([[[1.0, 3.0]]]))
    >>> y.round(4)
    array([[[-1.,  1.]]])
    """
    xr, eps, m, scale, bias, running_mean, running_var, training, out = _running_stats_args(
        "instancenorm", x, 3, scale, bias, running_mean, running_var, training, activation,
        momentum, epsilon)
    if out is not None:
        return out
    have_stats = running_mean is not None
    C = xr.shape[1]
    axes = tuple(range(2, xr.ndim))
    L = xr.size // (xr.shape[0] * C)
    shape = _chan_shape(xr)
    y = _normalize(x, None if scale is None else np.reshape(scale, shape),
                   None if bias is None else np.reshape(bias, shape), axes, eps)
    if training and have_stats:
        if L < 2:
            raise ValueError(f"instancenorm: tracking statistics needs more than one value per "
                             f"instance and channel, x has shape {xr.shape}")
        xh = _host(xr).astype(_cdtype(xr.dtype))
        mean = xh.mean(axis=axes).mean(axis=0)
        var = xh.var(axis=axes, ddof=1).mean(axis=0)
        rm, rv = _raw(running_mean), _raw(running_var)
        rdt = np.result_type(rm)
        running_mean = np.reshape(rm * (1 - m) + _like(mean * m, rm), np.shape(rm)).astype(rdt)
        running_var = np.reshape(rv * (1 - m) + _like(var * m, rv), np.shape(rv)).astype(rdt)
    return _act(y, activation), NormStats(running_mean, running_var)


def _norm_axes(dims, ndim, fname):
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        dims = (dims,)
    try:
        axes = tuple(sorted({int(d) % ndim if -ndim <= int(d) < ndim else None
                             for d in dims}))
    except TypeError:
        raise TypeError(f"{fname}: dims must be an int or a tuple of ints, got {dims!r}") \
            from None
    if None in axes or not axes:
        raise ValueError(f"{fname}: dims must name axes of x (ndim {ndim}), got {dims!r}")
    return axes


def layernorm(x, scale=None, bias=None, activation=None, dims=None, epsilon=1e-5):
    """layernorm(x, scale=None, bias=None, activation=None, dims=None, epsilon=1e-5) -> y

    Layer normalization: ``x`` is normalized to zero mean and unit variance
    over the axes ``dims`` (separately for every index of the other axes),
    then multiplied by ``scale`` and shifted by ``bias`` (arrays broadcastable
    against x, aligned to its trailing axes as numpy does, or None), then
    ``activation``.  ``dims=None``: the trailing ``scale.ndim`` axes when a
    scale is given, else every axis but the batch axis 0.  Computed in
    float32 or wider; returns x's dtype.

    >>> layernorm(np.array([[1.0, 3.0], [0.0, 4.0]])).round(4)
    array([[-1.,  1.],
           [-1.,  1.]])
    """
    xr = _check_x(x, "layernorm", 1)
    eps = _check_eps(epsilon, "layernorm")
    _check_act(activation, "layernorm")
    if dims is None:
        k = np.ndim(_raw(scale)) if scale is not None else max(xr.ndim - 1, 1)
        if not 1 <= k <= xr.ndim:
            raise ValueError(f"layernorm: scale has {k} dims but x has shape {xr.shape}")
        dims = tuple(range(xr.ndim - k, xr.ndim))
    axes = _norm_axes(dims, xr.ndim, "layernorm")
    for name, v in (("scale", scale), ("bias", bias)):
        if v is not None:
            try:
                np.broadcast_shapes(np.shape(_raw(v)), xr.shape)
            except ValueError:
                raise ValueError(f"layernorm: {name} of shape {np.shape(_raw(v))} does not "
                                 f"broadcast against x of shape {xr.shape}") from None
    return _act(_normalize(x, scale, bias, axes, eps), activation)


def _rmsnorm(x, scale, nshape, eps):
    xr = _raw(x)
    k = len(nshape)
    if xr.ndim < k or tuple(xr.shape[xr.ndim - k:]) != tuple(nshape):
        raise ValueError(f"RMSNorm: the trailing dims of x must be normalized_shape = "
                         f"{tuple(nshape)}, got x of shape {xr.shape}")
    return _normalize(x, scale, None, range(xr.ndim - k, xr.ndim), eps, center=False)


# ------------------------------------------------------------------ layers

def _shape_arg(shape, fname, name="shape"):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{fname}: {name} must be an int or a tuple of ints, got {shape!r}") \
            from None
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"{fname}: {name} must hold positive sizes, got {shape!r}")
    return shape


def _chs_arg(chs, fname):
    if not isinstance(chs, numbers.Integral) or isinstance(chs, bool) or chs < 1:
        raise ValueError(f"{fname}: chs must be a positive integer, got {chs!r}")
    return int(chs)


def _init(f, shape, dtype, fname, name):
    """f(*shape, dtype=...) (knetpy's initializers), else numpy's f(shape, dtype=...)."""
    if not callable(f):
        raise TypeError(f"{fname}: {name} must be callable f(*shape, dtype=...) -> array, got "
                        f"{f!r}")
    try:
        v = f(*shape, dtype=dtype)
    except TypeError:
        v = f(shape, dtype=dtype)
    v = np.asarray(v, dtype=dtype)
    if v.shape != tuple(shape):
        raise ValueError(f"{fname}: {name} returned shape {v.shape}, expected {tuple(shape)}")
    return v


def _check_channels(xr, C, fname):
    if xr.shape[1] != C:
        raise ValueError(f"{fname}: x must have {C} channels on axis 1, got shape {xr.shape}")


def _tf(b):
    return "true" if b else "false"


class BatchNorm(Layer):
    """BatchNorm(chs, activation=None, *, affine=True, track_stats=True, epsilon=1e-5,
    momentum=0.1, center=None, scale=None, frozen_averages=False, trainable=True,
    init_bias=np.zeros, init_scale=np.ones, dtype=np.float32)

    Batch normalization over axis 1 (channels) of ``(N, C, ...)`` inputs: in
    training each channel is normalized with the batch's mean and variance
    (over every other axis), otherwise with the running statistics; then
    ``scale * xhat + bias`` and ``activation``.

    Args:
        chs: number of channels C.
        activation: applied after normalization (None: identity).
        affine: learn a per-channel ``scale`` and ``bias`` (Params of shape (C,)).
        center, scale: switch the bias (shift) and the scale separately;
            None takes ``affine``.
        track_stats: keep ``running_mean``/``running_var`` (non-trainable
            state, shape (C,)) and use them outside training; without them
            the batch statistics are always used.
        epsilon: added to the variance.
        momentum: weight of the newest batch in the running statistics
            (PyTorch's and Lux's convention; a Keras/gomlx momentum of 0.99 is
            ``momentum=0.01`` here).  The running variance uses the unbiased
            batch variance.
        frozen_averages: keep the running statistics fixed while training
            (the batch is still normalized with its own statistics).
        trainable: False freezes the layer: scale and bias are plain arrays
            (not Params) and the running statistics are always used.

    Training follows ``istraining()`` (``training()`` unless forced by
    ``trainmode``/``testmode``); a training batch of one instance is an
    error.  ``update_averages(model, data)`` recomputes the running statistics
    exactly; ``reset_averages(model)`` restores their initial values.

    >>> bn = BatchNorm(3)
    >>> bn(np.random.randn(4, 3).astype(np.float32)).shape
    (4, 3)
    """
    _state = ("running_mean", "running_var")

    def __init__(self, chs, activation=None, *, affine=True, track_stats=True, epsilon=1e-5,
                 momentum=0.1, center=None, scale=None, frozen_averages=False, trainable=True,
                 init_bias=np.zeros, init_scale=np.ones, dtype=np.float32):
        fname = "BatchNorm"
        self.chs = _chs_arg(chs, fname)
        self.activation = _check_act(activation, fname)
        self.epsilon = _check_eps(epsilon, fname)
        self.momentum = _check_momentum(momentum, fname)
        self.center = bool(affine if center is None else center)
        self.use_scale = bool(affine if scale is None else scale)
        self.affine = self.center or self.use_scale
        self.track_stats = bool(track_stats)
        self.frozen_averages = bool(frozen_averages)
        self.trainable = bool(trainable)
        self.dtype = np.dtype(dtype)
        wrap = Param if self.trainable else (lambda v: v)
        self.scale = wrap(_init(init_scale, (self.chs,), self.dtype, fname, "init_scale")) \
            if self.use_scale else None
        self.bias = wrap(_init(init_bias, (self.chs,), self.dtype, fname, "init_bias")) \
            if self.center else None
        self.running_mean = self.running_var = None
        self._accum = None
        if self.track_stats:
            self.reset_averages()

    def reset_averages(self):
        """reset_averages(): running mean back to zeros and running variance to ones."""
        if self.track_stats:
            self.running_mean = np.zeros(self.chs, self.dtype)
            self.running_var = np.ones(self.chs, self.dtype)

    def extra_repr(self):
        s = f"{self.chs}{_actname(self.activation)}, affine={_tf(self.affine)}, " \
            f"track_stats={_tf(self.track_stats)}"
        if self.affine and not (self.center and self.use_scale):
            s += f", center={_tf(self.center)}, scale={_tf(self.use_scale)}"
        if self.frozen_averages:
            s += ", frozen_averages=true"
        if not self.trainable:
            s += ", trainable=false"
        return s

    def __call__(self, x):
        xr = _check_x(x, "BatchNorm")
        _check_channels(xr, self.chs, "BatchNorm")
        if self._accum is not None:       # update_averages: batch statistics, exact sums
            self._accum.add(xr)
            y, _ = batchnorm(x, self.scale, self.bias, training=True, epsilon=self.epsilon)
            return _act(y, self.activation)
        training = self.istraining() and self.trainable
        if training and xr.shape[0] == 1:
            raise ValueError(f"BatchNorm: a training batch must hold more than one instance, "
                             f"got x of shape {xr.shape} (use testmode for single inputs)")
        update = training and self.track_stats and not self.frozen_averages
        use_running = self.track_stats and not training
        if use_running and self.running_mean is None:
            self.reset_averages()
        y, st = batchnorm(x, self.scale, self.bias,
                          self.running_mean if (update or use_running) else None,
                          self.running_var if (update or use_running) else None,
                          training=not use_running, momentum=self.momentum,
                          epsilon=self.epsilon)
        if update:
            self.running_mean, self.running_var = st.running_mean, st.running_var
        return _act(y, self.activation)


class _Moments:
    """Exact per-channel count, mean and M2 (sum of squared deviations) merged
    batch by batch (Chan et al.), in float64."""

    def __init__(self, C):
        self.n = 0
        self.mean = np.zeros(C)
        self.m2 = np.zeros(C)

    def add(self, xr):
        x3 = _host(xr).astype(np.float64).reshape(xr.shape[0], xr.shape[1], -1)
        nb = x3.shape[0] * x3.shape[2]
        mb = x3.mean(axis=(0, 2))
        m2b = ((x3 - mb[:, None]) ** 2).sum(axis=(0, 2))
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2b + delta ** 2 * (self.n * nb / n)
        self.n = n


def _batchnorms(model):
    return [lay for lay in sublayers(model) if isinstance(lay, BatchNorm) and lay.track_stats]


def update_averages(model, data):
    """update_averages(model, data) -> bool

    Recompute the running statistics of every BatchNorm in ``model`` (with
    ``track_stats``) exactly: one pass of ``model`` over ``data`` (an iterable
    of batches; a tuple/list batch ``(x, y, ...)`` feeds ``x``), with each
    BatchNorm normalizing by its batch statistics while it sums the exact
    mean and (population, biased) variance of everything it sees.  Nothing is
    recorded; other layers run as they would outside ``diff``.  Returns False
    when the model has no such BatchNorm (nothing to do).  Layers with
    ``frozen_averages`` or ``trainable=False`` are updated too: this is an
    explicit request.

    >>> bn = BatchNorm(2); data = [np.ones((3, 2)), 3 * np.ones((3, 2))]
    >>> update_averages(bn, data), bn.running_mean
    (True, array([2., 2.], dtype=float32))
    """
    bns = _batchnorms(model)
    if not bns:
        return False
    if not callable(model):
        raise TypeError(f"update_averages: model must be callable, got {type(model).__name__}")
    for bn in bns:
        bn._accum = _Moments(bn.chs)
    try:
        nbatches = 0
        for batch in data:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            model(x)
            nbatches += 1
        if nbatches == 0:
            raise ValueError("update_averages: data yielded no batches")
        for bn in bns:
            acc = bn._accum
            if acc.n == 0:
                raise ValueError(f"update_averages: {bn!r} saw no input during the pass over "
                                 f"data")
            bn.running_mean = acc.mean.astype(bn.dtype)
            bn.running_var = (acc.m2 / acc.n).astype(bn.dtype)
    finally:
        for bn in bns:
            bn._accum = None
    return True


def reset_averages(model):
    """reset_averages(model) -> bool: set the running mean of every BatchNorm in
    ``model`` to zeros and its running variance to ones (their initial values).
    Returns False when there is no BatchNorm with ``track_stats``.

    >>> bn = BatchNorm(2); bn.running_mean[:] = 5; reset_averages(bn), bn.running_mean
    (True, array([0., 0.], dtype=float32))
    """
    bns = _batchnorms(model)
    for bn in bns:
        bn.reset_averages()
    return bool(bns)


class GroupNorm(Layer):
    """GroupNorm(chs, groups, activation=None, *, affine=True, epsilon=1e-5,
    init_bias=np.zeros, init_scale=np.ones, dtype=np.float32)

    Group normalization (see ``groupnorm``) of ``(N, C, ...)`` inputs with a
    learned per-channel ``scale`` and ``bias`` (Params of shape (C,)) when
    ``affine``.  ``chs`` must be divisible by ``groups``.  Same behaviour in
    training and test; no state.

    >>> GroupNorm(4, 2)(np.random.randn(2, 4, 3, 3)).shape
    (2, 4, 3, 3)
    """

    def __init__(self, chs, groups, activation=None, *, affine=True, epsilon=1e-5,
                 init_bias=np.zeros, init_scale=np.ones, dtype=np.float32):
        fname = "GroupNorm"
        self.chs = _chs_arg(chs, fname)
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
            raise ValueError(f"GroupNorm: groups must be a positive integer, got {groups!r}")
        if self.chs % groups:
            raise ValueError(f"GroupNorm: chs = {self.chs} must be divisible by groups = "
                             f"{groups}")
        self.groups = int(groups)
        self.activation = _check_act(activation, fname)
        self.epsilon = _check_eps(epsilon, fname)
        self.affine = bool(affine)
        dt = np.dtype(dtype)
        self.scale = Param(_init(init_scale, (self.chs,), dt, fname, "init_scale")) \
            if affine else None
        self.bias = Param(_init(init_bias, (self.chs,), dt, fname, "init_bias")) \
            if affine else None

    def extra_repr(self):
        return f"{self.chs}, {self.groups}{_actname(self.activation)}, " \
               f"affine={_tf(self.affine)}"

    def __call__(self, x):
        xr = _check_x(x, "GroupNorm")
        _check_channels(xr, self.chs, "GroupNorm")
        return groupnorm(x, self.scale, self.bias, self.groups, self.activation, self.epsilon)


class InstanceNorm(Layer):
    """InstanceNorm(chs, activation=None, *, affine=False, track_stats=False,
    epsilon=1e-5, momentum=0.1, init_bias=np.zeros, init_scale=np.ones, dtype=np.float32)

    Instance normalization (see ``instancenorm``) of ``(N, C, L...)`` inputs
    (at least 3 dims).  ``affine`` adds a per-channel ``scale`` and ``bias``;
    ``track_stats`` keeps running statistics (non-trainable state) that are
    updated in training and used outside it.

    >>> InstanceNorm(3, affine=True)(np.random.randn(2, 3, 5)).shape
    (2, 3, 5)
    """
    _state = ("running_mean", "running_var")

    def __init__(self, chs, activation=None, *, affine=False, track_stats=False, epsilon=1e-5,
                 momentum=0.1, init_bias=np.zeros, init_scale=np.ones, dtype=np.float32):
        fname = "InstanceNorm"
        self.chs = _chs_arg(chs, fname)
        self.activation = _check_act(activation, fname)
        self.epsilon = _check_eps(epsilon, fname)
        self.momentum = _check_momentum(momentum, fname)
        self.affine, self.track_stats = bool(affine), bool(track_stats)
        self.dtype = dt = np.dtype(dtype)
        self.scale = Param(_init(init_scale, (self.chs,), dt, fname, "init_scale")) \
            if affine else None
        self.bias = Param(_init(init_bias, (self.chs,), dt, fname, "init_bias")) \
            if affine else None
        self.running_mean = np.zeros(self.chs, dt) if track_stats else None
        self.running_var = np.ones(self.chs, dt) if track_stats else None

    def extra_repr(self):
        return f"{self.chs}{_actname(self.activation)}, affine={_tf(self.affine)}, " \
               f"track_stats={_tf(self.track_stats)}"

    def __call__(self, x):
        xr = _check_x(x, "InstanceNorm", 3)
        _check_channels(xr, self.chs, "InstanceNorm")
        training = self.istraining()
        y, st = instancenorm(x, self.scale, self.bias, self.running_mean, self.running_var,
                             training=training, activation=self.activation,
                             momentum=self.momentum, epsilon=self.epsilon)
        if self.track_stats and training:
            self.running_mean, self.running_var = st.running_mean, st.running_var
        return y


class LayerNorm(Layer):
    """LayerNorm(shape, activation=None, *, epsilon=1e-5, dims=None, affine=True,
    init_bias=np.zeros, init_scale=np.ones, dtype=np.float32)

    Layer normalization: each instance is normalized over its trailing
    ``len(shape)`` axes (or over ``dims`` when given), then multiplied by a
    learned ``scale`` and shifted by ``bias`` (Params of shape ``shape``) when
    ``affine``, then ``activation``.  ``shape`` is the size of the normalized
    trailing axes (an int or a tuple), e.g. ``LayerNorm((28, 28))`` for
    ``(N, 28, 28)`` inputs.  Computed in float32 or wider; float16 inputs come
    back float16 with float32-accurate values.

    >>> LayerNorm(64)(np.ones((10, 64), np.float16)).dtype
    dtype('float16')
    """

    def __init__(self, shape, activation=None, *, epsilon=1e-5, dims=None, affine=True,
                 init_bias=np.zeros, init_scale=np.ones, dtype=np.float32):
        fname = "LayerNorm"
        self.shape = _shape_arg(shape, fname)
        self.activation = _check_act(activation, fname)
        self.epsilon = _check_eps(epsilon, fname)
        if dims is not None:
            _norm_axes(dims, 64, fname)     # type check only; axes are checked per call
        self.dims = dims
        self.affine = bool(affine)
        dt = np.dtype(dtype)
        self.scale = Param(_init(init_scale, self.shape, dt, fname, "init_scale")) \
            if affine else None
        self.bias = Param(_init(init_bias, self.shape, dt, fname, "init_bias")) \
            if affine else None

    def extra_repr(self):
        s = f"{self.shape}{_actname(self.activation)}, affine={_tf(self.affine)}"
        return s + (f", dims={self.dims}" if self.dims is not None else "")

    def __call__(self, x):
        xr = _check_x(x, "LayerNorm", 1)
        k = len(self.shape)
        try:
            np.broadcast_shapes(self.shape, xr.shape)
            ok = xr.ndim >= k
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"LayerNorm: x of shape {xr.shape} does not end with (a shape "
                             f"broadcastable to) shape = {self.shape}")
        dims = self.dims if self.dims is not None else tuple(range(xr.ndim - k, xr.ndim))
        return layernorm(x, self.scale, self.bias, self.activation, dims, self.epsilon)


class RMSNorm(Layer):
    """RMSNorm(*normalized_shape, epsilon=1e-5, affine=True, dtype=np.float32)

    Root-mean-square normalization: each instance is divided by the root mean
    square of its trailing ``normalized_shape`` axes (plus ``epsilon`` under
    the root), then multiplied by a learned ``scale`` of that shape when
    ``affine``.  No centering, no bias.  ``RMSNorm((4, 5))`` and
    ``RMSNorm(4, 5)`` are the same.  Computed in float32 or wider.

    >>> RMSNorm(4)(np.full((2, 4), 3.0)).round(3)[0]
    array([1., 1., 1., 1.])
    """

    def __init__(self, *normalized_shape, epsilon=1e-5, affine=True, dtype=np.float32):
        if len(normalized_shape) == 1:
            normalized_shape = normalized_shape[0]
        self.normalized_shape = _shape_arg(normalized_shape, "RMSNorm", "normalized_shape")
        self.epsilon = _check_eps(epsilon, "RMSNorm")
        self.affine = bool(affine)
        self.scale = Param(np.ones(self.normalized_shape, dtype)) if affine else None

    def extra_repr(self):
        return f"{self.normalized_shape}, affine={_tf(self.affine)}"

    def __call__(self, x):
        _check_x(x, "RMSNorm", 1)
        return _rmsnorm(x, self.scale, self.normalized_shape, self.epsilon)


class WeightNorm(Layer):
    """WeightNorm(layer, which_params, dims=None)

    Weight normalization: each named Param ``w`` of ``layer`` is replaced by
    two Params, a magnitude ``<name>_g`` and a direction ``<name>_v``, and the
    layer runs with ``w = g * v / norm(v)``.

    Args:
        layer: a layer holding the Params as attributes (e.g. ``Dense``'s
            ``weight``).
        which_params: attribute names (a string or a tuple of strings).
        dims: None (default) takes the norm over the whole array (``g`` is a
            single value); otherwise one entry per name: an axis (or tuple of
            axes) that keeps its own magnitude (``0``: one per output unit, as
            PyTorch's ``weight_norm``), or None for the whole array.

    A Param that is all zeros cannot be normalized (its gradient would be
    NaN): an error asks for another initializer or another ``which_params``.

    >>> from knetpy.layers.normalization import LayerNorm
    >>> wn = WeightNorm(LayerNorm(3), "scale")
    >>> sorted(n for n in vars(wn) if n.startswith("scale_"))
    ['scale_g', 'scale_v']
    """

    def __init__(self, layer, which_params, dims=None):
        if not isinstance(layer, Layer):
            raise TypeError(f"WeightNorm: layer must be a Layer, got {type(layer).__name__}")
        if isinstance(which_params, str):
            which_params = (which_params,)
        which_params = tuple(which_params)
        if not which_params or not all(isinstance(n, str) for n in which_params):
            raise ValueError(f"WeightNorm: which_params must be parameter names, got "
                             f"{which_params!r}")
        if dims is None:
            dims = (None,) * len(which_params)
        elif not isinstance(dims, (tuple, list)) or len(dims) != len(which_params):
            raise ValueError(f"WeightNorm: dims must hold one entry per name in which_params "
                             f"({len(which_params)}), got {dims!r}")
        self.layer = layer
        self.which_params = which_params
        self.dims = tuple(dims)
        self._axes = {}
        for name, d in zip(which_params, self.dims):
            p = getattr(layer, name, None)
            if not isinstance(p, Param):
                raise ValueError(f"WeightNorm: {type(layer).__name__} has no Param named "
                                 f"{name!r}")
            v = np.array(_raw(p))
            if not np.any(v):
                raise ValueError(f"WeightNorm: parameter {name!r} is all zeros; its "
                                 f"normalization would give NaN gradients (initialize it "
                                 f"differently or leave it out of which_params)")
            axes = self._reduce_axes(d, v.ndim, name)
            self._axes[name] = axes
            g = np.sqrt(np.sum(v * v, axis=axes, keepdims=True))
            setattr(self, name + "_g", Param(g.astype(v.dtype)))
            setattr(self, name + "_v", Param(v))
            setattr(layer, name, v)      # a plain array now; the Params live here

    @staticmethod
    def _reduce_axes(d, ndim, name):
        if d is None:
            return tuple(range(ndim))
        keep = (d,) if isinstance(d, numbers.Integral) else tuple(d)
        try:
            keep = {int(a) % ndim for a in keep if -ndim <= int(a) < ndim} \
                if len(keep) == len({a for a in keep if -ndim <= int(a) < ndim}) else None
        except TypeError:
            keep = None
        if keep is None:
            raise ValueError(f"WeightNorm: dims entry for {name!r} must be None or axes of a "
                             f"{ndim}-dim array, got {d!r}")
        return tuple(a for a in range(ndim) if a not in keep)

    def weight(self, name):
        """weight(name) -> the normalized parameter ``g * v / norm(v)`` (recorded in diff)."""
        g, v = getattr(self, name + "_g"), getattr(self, name + "_v")
        return g * v / np.sqrt(np.sum(v * v, axis=self._axes[name], keepdims=True))

    def named_children(self):
        return [("layer", self.layer)]

    def extra_repr(self):
        return f"{self.which_params!r}"

    def __call__(self, *args, **kw):
        try:
            for n in self.which_params:
                setattr(self.layer, n, self.weight(n))
            return self.layer(*args, **kw)
        finally:      # leave plain arrays (never recorded values) in the inner layer
            for n in self.which_params:
                g, v = _raw(getattr(self, n + "_g")), _raw(getattr(self, n + "_v"))
                setattr(self.layer, n, g * v / np.sqrt(np.sum(v * v, axis=self._axes[n],
                                                              keepdims=True)))


class LocalResponseNormalization(Layer):
    """LocalResponseNormalization(k=2, n=5, alpha=1e-4, beta=0.75)

    Local response normalization across channels (axis 1 of ``(N, C, ...)``):
    ``y[:, c] = x[:, c] / (k + alpha * sum_j x[:, j]**2) ** beta`` with the sum
    over the at most ``n`` channels ``j`` from ``c - n//2`` to
    ``c + (n-1)//2``.  ``alpha`` multiplies the plain sum (PyTorch's
    ``LocalResponseNorm`` divides it by ``n`` first).  No parameters.

    >>> LocalResponseNormalization()(np.ones((1, 8, 14, 14))).shape
    (1, 8, 14, 14)
    """

    def __init__(self, k=2, n=5, alpha=1e-4, beta=0.75):
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"LocalResponseNormalization: n must be a positive integer, got "
                             f"{n!r}")
        for name, v in (("k", k), ("alpha", alpha), ("beta", beta)):
            if not isinstance(v, numbers.Real) or isinstance(v, bool):
                raise TypeError(f"LocalResponseNormalization: {name} must be a number, got "
                                f"{v!r}")
        self.k, self.n, self.alpha, self.beta = float(k), int(n), float(alpha), float(beta)

    def extra_repr(self):
        return f"k={self.k:g}, n={self.n}, alpha={self.alpha:g}, beta={self.beta:g}"

    def __call__(self, x):
        xr = _check_x(x, "LocalResponseNormalization")
        dt = np.result_type(xr)
        cd = _cdtype(dt)
        xc = _cast(x, cd)
        sq = xc * xc
        C, lo, hi = xr.shape[1], self.n // 2, (self.n - 1) // 2
        pad = [(0, 0)] * xr.ndim
        pad[1] = (lo, hi)
        sqp = np.pad(sq, pad)
        idx = [slice(None)] * xr.ndim
        total = None
        for j in range(self.n):     # window sum as n shifted slices (n is small)
            idx[1] = slice(j, j + C)
            s = sqp[tuple(idx)]
            total = s if total is None else total + s
        y = xc / (self.k + self.alpha * total) ** self.beta
        return _cast(y, dt)
