"""Batch normalization: the one op behind Knet's ``batchnorm``, LuxLib's
``knetpy.layers.batchnorm`` and the ``BatchNorm`` layer.

The channel axis is 1: ``(N, C)`` dense activations, ``(N, C, L)``,
``(N, C, H, W)`` images, ``(N, C, D, H, W)`` volumes.  Statistics are taken
over every other axis.

- ``bn_train(x, gamma, beta, eps)`` normalizes with the batch statistics: one
  primitive whose forward is the backend's ``bn_forward`` kernel and whose
  backward is one ``bn_backward`` kernel call serving x, gamma and beta (a
  numpy composition, differentiable again, when the inputs are recorded);
- ``bn_test(x, mean, var, gamma, beta, eps)`` normalizes with given statistics;
- ``bn_running(rm, rv, mean, var, momentum)`` moves running statistics
  toward a batch's: ``(1-momentum)*old + momentum*batch``; callers pass the
  unbiased batch variance (as cuDNN and PyTorch do); the batch itself is normalized
  with the biased variance.

Everything is computed in float32 or wider and returned in x's dtype.

Cross-replica batch normalization (``comm=``, a communicator with ``size``,
``rank`` and ``allreduce_(arrays, op="sum")`` such as
``knetpy.distributed.init()``): the statistics are those of every rank's
instances together.  Forward: each rank writes its count, mean and centered
sum of squares (M2) into its own row of one table, one ``allreduce_`` sums
the table (an all-gather, as PyTorch's SyncBatchNorm gathers mean, invstd
and count), and every rank merges the rows in rank order (Chan et al.:
``M2 = sum M2_i + sum n_i (mean_i - mean)^2``), so all ranks hold the same
global mean and variance bit for bit.  Backward: one ``allreduce_`` of the
packed per-channel sums of ``dy`` and ``dy * xhat``.  A rank with no
instances takes part with count 0 and gets an empty output.  Gradients
follow SPEC §10's count-weighted averaging: each rank's gradients are those
of its own mean loss, and ``sum_i (N_i/N) g_i`` (what the training
iterators with ``comm=`` compute, N_i the instances of rank i) is the
gradient of the global mean loss.  A ``comm`` of size 1 is the plain op.
"""
import numbers

import numpy as np

from autograd.core import Value, raw, primitive
from autograd.core import training as _recording

from ..knetarray import KnetArray, run
from .bn_sync import SyncGrads, global_stats, sync_comm
from .device import chan_shape, host, like
from .normalization import cast, compute_dtype, recorded, standard_stats

__all__ = ["batchnorm", "bnmoments", "bnparams", "BNMoments"]

# chan_shape, host (knetpy.ops.device) and sync_comm (knetpy.ops.bn_sync) are
# imported from here by the normalization layers too


# ------------------------------------------------------------------ the fused op

class _BNWork:
    """Scratch of one batchnorm call: the backward's results for the last
    ``dy`` (one kernel call or one collective serves x, gamma and beta) and,
    for a cross-replica call, the communicator and global counts."""
    __slots__ = ("dy", "grads", "sync")

    def __init__(self, sync=None):
        self.dy, self.grads, self.sync = None, None, sync


def _bn_composed(dy, x, gamma, eps):
    """(dx, dgamma, dbeta) written with numpy calls (for recorded inputs)."""
    xr = raw(x)
    cd = compute_dtype(np.result_type(xr))
    axes = (0,) + tuple(range(2, np.ndim(xr)))
    xhat, inv = standard_stats(cast(x, cd), axes, eps, True)
    d = cast(dy, cd)
    g = d if gamma is None else d * np.reshape(cast(gamma, cd), chan_shape(xr))
    dx = inv * (g - np.mean(g, axis=axes, keepdims=True)
                - xhat * np.mean(g * xhat, axis=axes, keepdims=True))
    return cast(dx, np.result_type(xr)), np.sum(d * xhat, axis=axes), np.sum(d, axis=axes)


def _bn_grads(dy, x, gamma, mean, var, ws, eps):
    if ws.sync is not None:
        if recorded(dy, x, gamma):
            raise NotImplementedError("batchnorm: higher-order gradients through a "
                                      "cross-replica batchnorm (comm=) are not supported")
        if ws.dy is not dy:     # one collective serves x, gamma and beta
            ws.dy, ws.grads = dy, SyncGrads(dy, x, gamma, mean, var, ws.sync, eps)
        return ws.grads
    if recorded(dy, x, gamma):
        return _bn_composed(dy, x, gamma, eps)
    if ws.dy is not dy:         # one kernel call serves x, gamma and beta
        ws.dy, ws.grads = dy, run("bn_backward", dy, x, mean, var, gamma, eps)
    return ws.grads


def _bn_grad(i):
    return lambda dy, y, x, gamma, beta, mean, var, ws, eps: _bn_grads(dy, x, gamma, mean, var,
                                                                       ws, eps)[i]


@primitive(_bn_grad(0), _bn_grad(1), _bn_grad(2))
def _bn_train(x, gamma, beta, mean, var, ws, eps):
    if np.size(x) == 0:         # a rank without instances (cross-replica): empty output
        return like(np.empty(np.shape(x), np.result_type(x)), x)
    return run("bn_forward", x, mean, var, gamma, beta, eps)


def bn_train(x, gamma, beta, eps, fname="batchnorm", comm=None):
    """bn_train(x, gamma, beta, eps, fname="batchnorm", comm=None) -> (y, mean,
    var, n): ``x`` normalized per channel with its batch statistics, times
    ``gamma`` plus ``beta`` (``(C,)`` vectors or None); ``mean``/``var`` are
    the batch statistics (biased variance) and ``n`` the values per channel.
    With a communicator ``comm`` of size > 1 the batch is every rank's
    instances together: ``mean``, ``var`` and ``n`` are global (the same on
    every rank) and a rank may hold zero instances (``knetpy.ops.bn_sync``).

    >>> y, mean, var, n = bn_train(np.array([[1.0], [3.0]]), None, None, 1e-5)
    >>> np.round(y.ravel(), 4).tolist(), mean.tolist(), n
    ([-1.0, 1.0], [2.0], 2)
    """
    xr = raw(x)
    C = np.shape(xr)[1]
    comm = sync_comm(comm, fname)
    if comm is not None:
        mean, var, n, sync = global_stats(comm, xr, C, fname)
        cd = compute_dtype(np.result_type(xr))
        mean, var = like(mean.astype(cd), xr), like(var.astype(cd), xr)
        return _bn_train(x, gamma, beta, mean, var, _BNWork(sync), eps), mean, var, n
    n = np.size(xr) // C
    if n < 2:
        raise ValueError(f"{fname}: batch statistics (training) need more than one value per "
                         f"channel, x has shape {np.shape(xr)}")
    mean, var = run("bn_stats", xr)
    return _bn_train(x, gamma, beta, mean, var, _BNWork(), eps), mean, var, n


def bn_test(x, mean, var, gamma, beta, eps):
    """bn_test(x, mean, var, gamma, beta, eps): per channel
    ``(x - mean) / sqrt(var + eps) * gamma + beta`` with given statistics
    (``gamma``/``beta`` may be None), computed in float32 or wider and
    returned in x's dtype.

    >>> bn_test(np.array([[3.0]]), np.array([1.0]), np.array([4.0]), None, None, 0.0)
    array([[1.]])
    """
    xr = raw(x)
    dt = np.result_type(xr)
    cd = compute_dtype(dt)
    shape = chan_shape(xr)
    a = like(1 / np.sqrt(np.asarray(host(var), cd) + eps), xr)
    m = like(np.asarray(host(mean), cd), xr)
    if gamma is not None:
        a = a * cast(gamma, cd)
    b = -m * a
    if beta is not None:
        b = b + cast(beta, cd)
    return cast(cast(x, cd) * np.reshape(a, shape) + np.reshape(b, shape), dt)


def bn_running(rm, rv, mean, var, momentum):
    """bn_running(rm, rv, mean, var, momentum) -> (new_rm, new_rv): running
    statistics moved toward a batch's ``mean`` and ``var`` (pass the unbiased
    variance): ``(1-momentum)*old + momentum*new``.  New arrays of rm's kind,
    shape and dtype; the old ones are not modified.

    >>> bn_running(np.zeros(1), np.ones(1), np.array([2.0]), np.array([2.0]), 0.5)
    (array([1.]), array([1.5]))
    """
    rm, rv = raw(rm), raw(rv)
    rdt = np.result_type(rm)
    mean, var = like(host(mean), rm), like(host(var), rm)
    return (np.reshape(rm * (1 - momentum) + mean * momentum, np.shape(rm)).astype(rdt),
            np.reshape(rv * (1 - momentum) + var * momentum, np.shape(rv)).astype(rdt))


# ------------------------------------------------------------------ Knet's interface

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


def _check(x, params, moments, eps):
    xr = raw(x)
    dt = np.result_type(xr)
    if dt.kind != "f":
        raise TypeError(f"batchnorm: x must hold floats, got dtype {dt}")
    if np.ndim(xr) < 2:
        raise ValueError(f"batchnorm: x must have at least 2 dims (N, C, ...), got shape "
                         f"{np.shape(xr)}")
    C = np.shape(xr)[1]
    if params is not None and np.shape(raw(params)) != (2 * C,):
        raise ValueError(f"batchnorm: params must be a vector of 2*C = {2 * C} values (scales "
                         f"then biases) for x with C = {C} channels (axis 1), got shape "
                         f"{np.shape(raw(params))}")
    if moments is not None and not isinstance(moments, BNMoments):
        raise TypeError(f"batchnorm: moments must come from bnmoments(), got "
                        f"{type(moments).__name__}")
    if not isinstance(eps, numbers.Real) or eps <= 0:
        raise ValueError(f"batchnorm: eps must be a positive number, got {eps!r}")
    return xr, C


def _as_like(a, xr, C, name):
    """A running statistic as a (C,) array of x's kind (KnetArray or numpy)."""
    a = raw(a)
    if np.size(a) != C:
        raise ValueError(f"batchnorm: moments.{name} has {np.size(a)} values, x has C = {C} "
                         f"channels")
    return like(np.reshape(a, (C,)), xr)


def _init_moments(moments, xr, C):
    dt = np.result_type(xr)
    for name, f in (("mean", moments.meaninit), ("var", moments.varinit)):
        v = getattr(moments, name)
        if v is None:
            if f is None:
                raise ValueError(f"batchnorm: moments.{name} is None and {name}init is None")
            v = f((C,), dtype=dt)
        setattr(moments, name, _as_like(v, xr, C, name))


def batchnorm(x, moments=None, params=None, eps=1e-5, training=None, comm=None):
    """batchnorm(x, moments=None, params=None, eps=1e-5, training=None, comm=None):
    normalize ``x`` per channel (axis 1) to zero mean and unit variance, then
    scale and shift by ``params``.

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
        comm: None, or a communicator (``knetpy.distributed.init()``): in
            training the statistics are those of every rank's instances
            together (one collective forward, one backward; a rank may hold
            zero instances), so the running statistics in ``moments`` stay
            the same on every rank.  Test mode uses ``moments`` and needs
            no collective.

    >>> y = batchnorm(np.array([[1.0], [3.0]]), training=True)
    >>> np.round(y, 4).ravel()
    array([-1.,  1.])
    """
    xr, C = _check(x, params, moments, eps)
    if training is None:     # Knet's rule: train when x or params is a Param/recorded value
        training = _recording() or isinstance(x, Value) or isinstance(params, Value)
    if moments is not None:
        _init_moments(moments, xr, C)
    gamma, beta = (None, None) if params is None else (params[:C], params[C:])
    if training:
        y, mean, var, n = bn_train(x, gamma, beta, eps, comm=comm)
        if moments is not None:     # global statistics when comm: the same on every rank
            moments.mean, moments.var = bn_running(moments.mean, moments.var, mean,
                                                   var * (n / (n - 1)), moments.momentum)
        return y
    if moments is None:
        raise ValueError("batchnorm: test mode (training=False, or outside diff) needs "
                         "moments with the running statistics")
    return bn_test(x, moments.mean, moments.var, gamma, beta, eps)
