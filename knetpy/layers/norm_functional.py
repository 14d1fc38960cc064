"""LuxLib's functional normalizations: batchnorm, groupnorm, instancenorm, layernorm.

Layout is batch-first: the channel axis is 1 (``(N, C)``, ``(N, C, H, W)``,
``(N, C, D, H, W)``).  Statistics are taken over:

- ``batchnorm``: every axis but the channel axis;
- ``instancenorm``: the spatial axes (2, 3, ...) of each instance and channel;
- ``groupnorm``: each instance and group of ``C/groups`` consecutive channels
  (with their spatial axes);
- ``layernorm``: the chosen axes of each instance.

The math is the ops': ``knetpy.ops.batchnorm`` (the batchnorm kernels, the
same op as Knet's ``knetpy.batchnorm``) and ``knetpy.ops.normalization`` (one
standardization primitive over chosen axes for the others).  Everything is
computed in float32 or wider and returned in the input's dtype.  The layers
(``BatchNorm``, ...) are in ``knetpy.layers.normalization``.
"""
import functools
import numbers
from collections import namedtuple

import numpy as np

from autograd.core import raw
from autograd.core import training as _recording

from ..ops.batchnorm import bn_running, bn_test, bn_train, chan_shape, host, sync_comm
from ..ops.normalization import compute_dtype, normalize

__all__ = ["batchnorm", "groupnorm", "instancenorm", "layernorm", "NormStats"]

NormStats = namedtuple("NormStats", ["running_mean", "running_var"])
NormStats.__doc__ = """NormStats(running_mean, running_var): the running statistics returned by
``batchnorm``/``instancenorm`` (arrays of shape ``(C,)``, or None when not tracked)."""


# ------------------------------------------------------------------ argument checks

def check_x(x, fname, min_ndim=2):
    """check_x(x, fname, min_ndim=2) -> the raw array of ``x``; TypeError or
    ValueError naming ``fname`` unless it is a float array with ``min_ndim`` dims.

    >>> check_x(np.ones((2, 3)), "batchnorm").shape
    (2, 3)
    """
    xr = raw(x)
    if not hasattr(xr, "shape") or not hasattr(xr, "dtype"):
        raise TypeError(f"{fname}: x must be an array, got {type(xr).__name__}")
    if np.dtype(xr.dtype).kind != "f":
        raise TypeError(f"{fname}: x must hold floats, got dtype {xr.dtype}")
    if xr.ndim < min_ndim:
        raise ValueError(f"{fname}: x must have at least {min_ndim} dims (N, C, ...), got shape "
                         f"{xr.shape}")
    return xr


def check_eps(eps, fname, name="epsilon"):
    """check_eps(eps, fname, name='epsilon') -> float(eps), a non-negative number.

    >>> check_eps(1e-5, "layernorm")
    1e-05
    """
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool) or not eps >= 0:
        raise ValueError(f"{fname}: {name} must be a non-negative number, got {eps!r}")
    return float(eps)


def check_momentum(m, fname):
    """check_momentum(m, fname) -> float(m), a number in [0, 1].

    >>> check_momentum(0.1, "BatchNorm")
    0.1
    """
    if not isinstance(m, numbers.Real) or isinstance(m, bool) or not 0 <= m <= 1:
        raise ValueError(f"{fname}: momentum must be in [0, 1], got {m!r}")
    return float(m)


def _check_vec(v, C, fname, name):
    """A per-channel vector (or None), checked to hold C values."""
    if v is None:
        return None
    vr = raw(v)
    if np.size(vr) != C or np.ndim(vr) > 1:
        raise ValueError(f"{fname}: {name} must be a vector of C = {C} values (x has C = {C} "
                         f"channels on axis 1), got shape {np.shape(vr)}")
    return v


def act(y, activation):
    """act(y, activation): ``activation(y)``, or ``y`` when activation is None.

    >>> act(np.array([-1.0]), np.abs)
    array([1.])
    """
    return y if activation is None else activation(y)


def check_act(activation, fname):
    """check_act(activation, fname) -> activation (callable or None), else TypeError.

    >>> check_act(None, "BatchNorm") is None
    True
    """
    if activation is not None and not callable(activation):
        raise TypeError(f"{fname}: activation must be callable or None, got {activation!r}")
    return activation


def actname(activation):
    """actname(activation): ``", name"`` for a layer's repr, ``""`` for None.

    >>> actname(np.tanh)
    ', tanh'
    """
    return "" if activation is None else f", {getattr(activation, '__name__', repr(activation))}"


def _vec(v, C):
    return None if v is None else np.reshape(v, (C,)) if np.ndim(raw(v)) != 1 else v


# ------------------------------------------------------------------ functional forms
# ------------------------------------------------------------------ functional forms

def _with_running_stats(fname, min_ndim, batch_norm, x, scale, bias, running_mean,
                        running_var, training, activation, momentum, epsilon):
    """The frame batchnorm and instancenorm share (errors name ``fname``): check
    the arguments, resolve ``training`` (None: ``training()``), normalize by the
    running statistics when not training and they are given, else by
    ``batch_norm(x, xr, scale, bias, eps, track)`` -> ``(y, stats)`` whose
    ``stats`` = (mean, unbiased var) the running statistics move toward when
    ``track``; then ``activation``.  Returns ``(y, NormStats)``.
    """
    xr = check_x(x, fname, min_ndim)
    eps = check_eps(epsilon, fname)
    m = check_momentum(momentum, fname)
    check_act(activation, fname)
    C = xr.shape[1]
    scale, bias = _check_vec(scale, C, fname, "scale"), _check_vec(bias, C, fname, "bias")
    running_mean = _check_vec(running_mean, C, fname, "running_mean")
    running_var = _check_vec(running_var, C, fname, "running_var")
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{fname}: running_mean and running_var must both be given or both "
                         f"be None")
    if training is None:
        training = _recording()
    if not training and running_mean is not None:
        y = bn_test(x, running_mean, running_var, scale, bias, eps)
    else:
        track = bool(training) and running_mean is not None
        y, stats = batch_norm(x, xr, scale, bias, eps, track)
        if track:
            running_mean, running_var = bn_running(running_mean, running_var, *stats, m)
    return act(y, activation), NormStats(running_mean, running_var)


def _batch_stats_norm(x, xr, scale, bias, eps, track, comm=None):
    C = xr.shape[1]
    y, mean, var, n = bn_train(x, _vec(scale, C), _vec(bias, C), eps, comm=comm)
    return y, (mean, var * (n / (n - 1)))     # global statistics and count when comm


def _instance_stats_norm(x, xr, scale, bias, eps, track):
    axes = tuple(range(2, xr.ndim))
    shape = chan_shape(xr)
    y = normalize(x, None if scale is None else np.reshape(scale, shape),
                  None if bias is None else np.reshape(bias, shape), axes, eps)
    if not track:
        return y, None
    if xr.size // (xr.shape[0] * xr.shape[1]) < 2:
        raise ValueError(f"instancenorm: tracking statistics needs more than one value per "
                         f"instance and channel, x has shape {xr.shape}")
    xh = host(xr).astype(compute_dtype(xr.dtype))
    return y, (xh.mean(axis=axes).mean(axis=0), xh.var(axis=axes, ddof=1).mean(axis=0))


def batchnorm(x, scale=None, bias=None, running_mean=None, running_var=None, training=None,
              activation=None, momentum=0.1, epsilon=1e-5, comm=None):
    """batchnorm(x, scale=None, bias=None, running_mean=None, running_var=None,
    training=None, activation=None, momentum=0.1, epsilon=1e-5, comm=None)
    -> (y, NormStats)

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
        comm: None, or a communicator (``knetpy.distributed.init()``):
            cross-replica batch normalization.  In training the batch
            statistics are those of every rank's instances together (one
            packed collective forward, one backward; ranks may hold different
            batch sizes, even zero), and the running statistics move toward
            the global mean and unbiased variance, so they stay the same on
            every rank.  See ``knetpy.ops.batchnorm`` for the gradients'
            count-weighted convention.

    Returns ``(y, NormStats(running_mean, running_var))`` — new arrays; the
    ones passed in are not modified.

    >>> y, st = batchnorm(np.array([[1.0], [3.0]]), running_mean=np.zeros(1),
    ...                   running_var=np.ones(1), training=True)
    >>> np.round(y.ravel(), 4), st.running_mean
    (array([-1.,  1.]), array([0.2]))
    """
    sync = sync_comm(comm, "batchnorm")
    norm = _batch_stats_norm if sync is None else functools.partial(_batch_stats_norm,
                                                                    comm=sync)
    return _with_running_stats("batchnorm", 2, norm, x, scale, bias, running_mean,
                               running_var, training, activation, momentum, epsilon)


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
    xr = check_x(x, "groupnorm")
    eps = check_eps(epsilon, "groupnorm")
    check_act(activation, "groupnorm")
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
    y = normalize(x4, None if scale is None else np.reshape(scale, gshape),
                   None if bias is None else np.reshape(bias, gshape), (2, 3), eps)
    return act(np.reshape(y, xr.shape), activation)


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
    return _with_running_stats("instancenorm", 3, _instance_stats_norm, x, scale, bias,
                               running_mean, running_var, training, activation, momentum,
                               epsilon)


def norm_axes(dims, ndim, fname):
    """norm_axes(dims, ndim, fname) -> sorted tuple of the axes ``dims`` (an int or
    ints, negative ones counted from the end) of an ``ndim``-dim array.

    >>> norm_axes(-1, 3, "layernorm")
    (2,)
    """
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
    xr = check_x(x, "layernorm", 1)
    eps = check_eps(epsilon, "layernorm")
    check_act(activation, "layernorm")
    if dims is None:
        k = np.ndim(raw(scale)) if scale is not None else max(xr.ndim - 1, 1)
        if not 1 <= k <= xr.ndim:
            raise ValueError(f"layernorm: scale has {k} dims but x has shape {xr.shape}")
        dims = tuple(range(xr.ndim - k, xr.ndim))
    axes = norm_axes(dims, xr.ndim, "layernorm")
    for name, v in (("scale", scale), ("bias", bias)):
        if v is not None:
            try:
                np.broadcast_shapes(np.shape(raw(v)), xr.shape)
            except ValueError:
                raise ValueError(f"layernorm: {name} of shape {np.shape(raw(v))} does not "
                                 f"broadcast against x of shape {xr.shape}") from None
    return act(normalize(x, scale, bias, axes, eps), activation)


def rmsnorm(x, scale, nshape, eps):
    """rmsnorm(x, scale, nshape, eps): ``x / sqrt(mean(x²) + eps) * scale`` over
    the trailing axes, which must have the shape ``nshape`` (RMSNorm's math).

    >>> rmsnorm(np.array([[3.0, 4.0]]), None, (2,), 0.0).round(4)
    array([[0.8485, 1.1314]])
    """
    xr = raw(x)
    k = len(nshape)
    if xr.ndim < k or tuple(xr.shape[xr.ndim - k:]) != tuple(nshape):
        raise ValueError(f"RMSNorm: the trailing dims of x must be normalized_shape = "
                         f"{tuple(nshape)}, got x of shape {xr.shape}")
    return normalize(x, scale, None, range(xr.ndim - k, xr.ndim), eps, center=False)
