"""Normalization layers (Lux's catalog): BatchNorm, GroupNorm, InstanceNorm,
LayerNorm, RMSNorm, WeightNorm, LocalResponseNormalization, and
``update_averages``/``reset_averages`` for BatchNorm's running statistics.

Each layer calls a functional form of ``knetpy.layers.norm_functional``
(LuxLib's arguments; re-exported here), which calls the ops of
``knetpy.ops``.  Layout is batch-first, channels on axis 1.
"""
import numbers
import weakref

import numpy as np

from autograd import Param
from autograd.core import raw

from ..ops.bn_sync import Moments, merge_across_ranks, sync_comm as _sync_comm
from ..ops.normalization import cast as _cast, compute_dtype as _cdtype
from .base import Layer, sublayers
from .norm_functional import (NormStats, act, actname, batchnorm, check_act, check_eps,
                              check_momentum, check_x, groupnorm, instancenorm, layernorm,
                              norm_axes, rmsnorm)

__all__ = ["BatchNorm", "GroupNorm", "InstanceNorm", "LayerNorm", "RMSNorm", "WeightNorm",
           "LocalResponseNormalization", "batchnorm", "groupnorm", "instancenorm",
           "layernorm", "update_averages", "reset_averages", "NormStats"]


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
    init_bias=np.zeros, init_scale=np.ones, dtype=np.float32, comm=None)

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
        comm: None, or a communicator (``knetpy.distributed.init()``):
            cross-replica batch normalization (noxton's BatchNorm).  In
            training the statistics are those of every rank's instances
            together (one packed collective forward, one backward), so ranks
            may hold different batch sizes, even zero, and the running
            statistics stay the same on every rank; ``update_averages``
            merges its exact sums across the ranks too.  The communicator is
            not state: ``save`` leaves it out (set ``layer.comm`` again after
            ``load``).

    Training follows ``istraining()`` (``training()`` unless forced by
    ``trainmode``/``testmode``); a training batch of one instance is an
    error (with ``comm``: one value per channel over all ranks).  ``update_averages(model, data)`` recomputes the running statistics
    exactly; ``reset_averages(model)`` restores their initial values.

    >>> bn = BatchNorm(3)
    >>> bn(np.random.randn(4, 3).astype(np.float32)).shape
    (4, 3)
    """
    _state = ("running_mean", "running_var")

    def __init__(self, chs, activation=None, *, affine=True, track_stats=True, epsilon=1e-5,
                 momentum=0.1, center=None, scale=None, frozen_averages=False, trainable=True,
                 init_bias=np.zeros, init_scale=np.ones, dtype=np.float32, comm=None):
        fname = "BatchNorm"
        self.chs = _chs_arg(chs, fname)
        self.comm = comm
        self.activation = check_act(activation, fname)
        self.epsilon = check_eps(epsilon, fname)
        self.momentum = check_momentum(momentum, fname)
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

    @property
    def comm(self):
        """The communicator of cross-replica batch normalization, or None.  Kept
        outside the layer's attributes, so that saving a model never tries to
        store it."""
        return _COMMS.get(self)

    @comm.setter
    def comm(self, comm):
        _sync_comm(comm, "BatchNorm")      # type check
        if comm is None:
            _COMMS.pop(self, None)
        else:
            _COMMS[self] = comm

    def reset_averages(self):
        """reset_averages(): running mean back to zeros and running variance to ones."""
        if self.track_stats:
            self.running_mean = np.zeros(self.chs, self.dtype)
            self.running_var = np.ones(self.chs, self.dtype)

    def extra_repr(self):
        s = f"{self.chs}{actname(self.activation)}, affine={_tf(self.affine)}, " \
            f"track_stats={_tf(self.track_stats)}"
        if self.affine and not (self.center and self.use_scale):
            s += f", center={_tf(self.center)}, scale={_tf(self.use_scale)}"
        if self.frozen_averages:
            s += ", frozen_averages=true"
        if not self.trainable:
            s += ", trainable=false"
        if self.comm is not None:
            s += f", comm={self.comm.size} ranks"
        return s

    def __call__(self, x):
        xr = check_x(x, "BatchNorm")
        _check_channels(xr, self.chs, "BatchNorm")
        if self._accum is not None:       # update_averages: batch statistics, exact sums
            self._accum.add(xr)
            y, _ = batchnorm(x, self.scale, self.bias, training=True, epsilon=self.epsilon,
                             comm=self.comm)
            return act(y, self.activation)
        training = self.istraining() and self.trainable
        synced = _sync_comm(self.comm, "BatchNorm") is not None
        if training and xr.shape[0] == 1 and not synced:
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
                          epsilon=self.epsilon, comm=self.comm)
        if update:
            self.running_mean, self.running_var = st.running_mean, st.running_var
        return act(y, self.activation)


_COMMS = weakref.WeakKeyDictionary()     # BatchNorm -> its communicator (not saved)


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
    explicit request.  A BatchNorm with a communicator (``comm=``) normalizes
    by the statistics of all ranks during the pass and its exact sums are
    merged across the ranks at the end (one collective per communicator), so
    every rank ends with the statistics of all ranks' data; every rank must
    call ``update_averages`` with the same number of batches (its shards).

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
        bn._accum = Moments(bn.chs)
    try:
        nbatches = 0
        for batch in data:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            model(x)
            nbatches += 1
        if nbatches == 0:
            raise ValueError("update_averages: data yielded no batches")
        merge_across_ranks([(bn.comm, bn._accum) for bn in bns])
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
        self.activation = check_act(activation, fname)
        self.epsilon = check_eps(epsilon, fname)
        self.affine = bool(affine)
        dt = np.dtype(dtype)
        self.scale = Param(_init(init_scale, (self.chs,), dt, fname, "init_scale")) \
            if affine else None
        self.bias = Param(_init(init_bias, (self.chs,), dt, fname, "init_bias")) \
            if affine else None

    def extra_repr(self):
        return f"{self.chs}, {self.groups}{actname(self.activation)}, " \
               f"affine={_tf(self.affine)}"

    def __call__(self, x):
        xr = check_x(x, "GroupNorm")
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
        self.activation = check_act(activation, fname)
        self.epsilon = check_eps(epsilon, fname)
        self.momentum = check_momentum(momentum, fname)
        self.affine, self.track_stats = bool(affine), bool(track_stats)
        self.dtype = dt = np.dtype(dtype)
        self.scale = Param(_init(init_scale, (self.chs,), dt, fname, "init_scale")) \
            if affine else None
        self.bias = Param(_init(init_bias, (self.chs,), dt, fname, "init_bias")) \
            if affine else None
        self.running_mean = np.zeros(self.chs, dt) if track_stats else None
        self.running_var = np.ones(self.chs, dt) if track_stats else None

    def extra_repr(self):
        return f"{self.chs}{actname(self.activation)}, affine={_tf(self.affine)}, " \
               f"track_stats={_tf(self.track_stats)}"

    def __call__(self, x):
        xr = check_x(x, "InstanceNorm", 3)
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
        self.activation = check_act(activation, fname)
        self.epsilon = check_eps(epsilon, fname)
        if dims is not None:
            norm_axes(dims, 64, fname)     # type check only; axes are checked per call
        self.dims = dims
        self.affine = bool(affine)
        dt = np.dtype(dtype)
        self.scale = Param(_init(init_scale, self.shape, dt, fname, "init_scale")) \
            if affine else None
        self.bias = Param(_init(init_bias, self.shape, dt, fname, "init_bias")) \
            if affine else None

    def extra_repr(self):
        s = f"{self.shape}{actname(self.activation)}, affine={_tf(self.affine)}"
        return s + (f", dims={self.dims}" if self.dims is not None else "")

    def __call__(self, x):
        xr = check_x(x, "LayerNorm", 1)
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
        self.epsilon = check_eps(epsilon, "RMSNorm")
        self.affine = bool(affine)
        self.scale = Param(np.ones(self.normalized_shape, dtype)) if affine else None

    def extra_repr(self):
        return f"{self.normalized_shape}, affine={_tf(self.affine)}"

    def __call__(self, x):
        check_x(x, "RMSNorm", 1)
        return rmsnorm(x, self.scale, self.normalized_shape, self.epsilon)


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
            v = np.array(raw(p))
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
                g, v = raw(getattr(self, n + "_g")), raw(getattr(self, n + "_v"))
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
        xr = check_x(x, "LocalResponseNormalization")
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

