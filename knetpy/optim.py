"""Optimizers: Knet's per-parameter update rules.

An optimizer object holds the hyperparameters of one rule (``lr``, ``gclip``,
...) and, once used, the state of ONE parameter (velocity, squared-gradient
sums, Adam's moments and step count ``t``).  This module holds the rules
only: what a rule is (``Optimizer``: ``hyper``, ``state``, ``kernel``,
``_math``, ``_kernel``) and the seven rules of Knet.  Applying them to
parameters (``update_``, the all-or-nothing two-phase step, sparse rows,
device kernels) is ``knetpy.update``; the training loops are
``knetpy.train``.

``lr`` is a number or a function of the update count ``t`` (1, 2, ...)
returning the rate, e.g. one of ``knetpy.schedules``::

    Adam(lr=schedules.cosine(0.01, steps=1000))
"""
import math
import numbers
import os

import numpy as np

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "Rmsprop", "Adadelta",
           "Adam", "optimizers"]


try:                        # BLAS axpy: y += a*x in one pass, no temporary
    from scipy.linalg import blas as _blas
    _BLAS_AXPY = {np.dtype(np.float32): _blas.saxpy, np.dtype(np.float64): _blas.daxpy}
except ImportError:         # pragma: no cover
    _BLAS_AXPY = {}
# OpenBLAS runs an axpy of more than 10000 elements on its thread pool; inside a
# training loop (between the matrix products, whose threads are then busy-waiting)
# one such call was measured to take milliseconds instead of 30 µs, so unless the
# BLAS is limited to one thread the update goes in chunks that stay on this thread.
_AXPY_CHUNK = 8192
_BLAS_ONE_THREAD = any(os.environ.get(v, "").strip() == "1"
                       for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"))


def _axpy(a, x, y, tmp=None):
    """y += a * x in place: BLAS axpy for contiguous float32/float64 numpy arrays
    of one dtype and shape, otherwise numpy through the scratch array ``tmp``
    when given."""
    if y.__class__ is np.ndarray and x.__class__ is np.ndarray:
        f = _BLAS_AXPY.get(y.dtype)
        if f is not None and x.dtype == y.dtype and x.shape == y.shape and y.size \
                and y.flags.c_contiguous and x.flags.c_contiguous and y.flags.writeable:
            yv, xv, n = y.reshape(-1), x.reshape(-1), y.size
            if n <= _AXPY_CHUNK or _BLAS_ONE_THREAD:
                r = f(xv, yv, a=a)
                if r is not yv:         # f2py made a copy (never expected): write it back
                    yv[...] = r
                return
            for i in range(0, n, _AXPY_CHUNK):
                r = f(xv, yv, n=min(_AXPY_CHUNK, n - i), a=a, offx=i, offy=i)
                if r is not yv:
                    yv[...] = r
            return
    if tmp is None:
        y += a * x
    else:
        np.multiply(x, a, out=tmp)
        np.add(y, tmp, out=y)


# ------------------------------------------------------------ hyperparameter checks
def _real(cls, name, v, lo, hi, lo_open=False, hi_open=False):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{cls}: {name} must be a finite real number, got {v!r}")
    v = float(v)
    if v < lo or (lo_open and v == lo) or v > hi or (hi_open and v == hi):
        rng = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
        raise ValueError(f"{cls}: {name} must be in {rng}, got {v!r}")
    return v


def _rate(c, n, v):
    """lr: a non-negative number, or a callable of the step (checked when called)."""
    if callable(v) and not isinstance(v, (numbers.Number, np.generic)):
        return v
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"{c}: {n} must be a non-negative number or a function of the "
                         f"step (1, 2, ...) such as schedules.cosine(...), got {v!r}")
    return _real(c, n, v, 0.0, math.inf)


_CHECKS = {
    "lr": _rate,
    "gclip": lambda c, n, v: _real(c, n, v, 0.0, math.inf),
    "gamma": lambda c, n, v: _real(c, n, v, 0.0, 1.0),
    "rho": lambda c, n, v: _real(c, n, v, 0.0, 1.0),
    "beta1": lambda c, n, v: _real(c, n, v, 0.0, 1.0, hi_open=True),
    "beta2": lambda c, n, v: _real(c, n, v, 0.0, 1.0, hi_open=True),
    "eps": lambda c, n, v: _real(c, n, v, 0.0, math.inf, lo_open=True),
}


class Optimizer:
    """Base of the update rules.

    A subclass lists its hyperparameters in ``hyper`` (checked whenever they
    are set), its per-parameter arrays in ``state`` (allocated as zeros on
    the first update), names the device backend's fused update in
    ``kernel`` (``"adam_"``; None: none) and implements ``_math(w, g, st,
    tmp, t)``, which updates ``w`` and the arrays of ``st`` in place from
    gradient ``g`` using the scratch arrays ``tmp`` (``ntmp`` of them, shaped
    like ``w``); ``t`` is the 1-based update count and ``self.rate(t)`` the
    learning rate of this update.  ``_kernel(kern, w, g, st, t)`` calls the
    fused kernel with the rule's arguments.

    >>> class Sign(Optimizer):
    ...     hyper = ("lr", "gclip")
    ...     nothrow = True
    ...     def __init__(self, lr=0.1, gclip=0):
    ...         super().__init__(lr=lr, gclip=gclip)
    ...     def _math(self, w, g, st, tmp, t):
    ...         w -= self.rate(t) * np.sign(g)
    >>> Sign(lr=0.5)
    Sign(lr=0.5, gclip=0.0)
    """
    hyper = ("lr", "gclip")
    state = ()
    ntmp = 0
    nothrow = False      # True: _math only writes into the arrays it is given
    kernel = None        # name of the device backend's fused update (``adam_`` ...)
    _tmp = None          # scratch arrays shaped like the parameter (not state)

    def __init__(self, **kw):
        for name in self.hyper:
            if name not in kw:
                raise TypeError(f"{type(self).__name__}: missing hyperparameter {name!r}")
            setattr(self, name, kw.pop(name))
        if kw:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kw)}")
        for name in self.state:
            object.__setattr__(self, name, None)
        object.__setattr__(self, "t", 0)
        object.__setattr__(self, "_tmp", None)

    def __setattr__(self, name, v):
        check = _CHECKS.get(name) if name in self.hyper else None
        if check is not None:
            v = check(type(self).__name__, name, v)
        elif name == "t" and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0):
            raise ValueError(f"{type(self).__name__}: t must be a non-negative integer, got {v!r}")
        object.__setattr__(self, name, v)

    def __repr__(self):
        hp = ", ".join(f"{h}={getattr(self, h)!r}" for h in self.hyper)
        return f"{type(self).__name__}({hp})"

    def rate(self, t):
        """rate(t) -> float: the learning rate of update ``t`` (1, 2, ...):
        ``lr`` itself, or ``lr(t)`` when ``lr`` is a function of the step.

        >>> Adam(lr=lambda t: 0.1 / t).rate(4)
        0.025
        """
        lr = self.lr
        if isinstance(lr, float):
            return lr
        v = lr(t)
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.floating, np.integer)) \
                or not math.isfinite(v) or v < 0:
            raise ValueError(f"{type(self).__name__}: lr({t}) must give a finite non-negative "
                             f"number, got {v!r}")
        return float(v)

    def clone(self):
        """A new optimizer with the same hyperparameters and no state.

        >>> Adam(lr=0.01).clone()
        Adam(lr=0.01, gclip=0.0, beta1=0.9, beta2=0.999, eps=1e-08)
        """
        return type(self)(**{h: getattr(self, h) for h in self.hyper})

    def copy(self):
        """A new optimizer with the same hyperparameters and a copy of the state.

        >>> o = SGD(lr=0.5); o.t = 3; o.copy().t
        3
        """
        o = self.clone()
        for s in self.state:
            a = getattr(self, s)
            object.__setattr__(o, s, None if a is None else a.copy())
        o.t = self.t
        return o

    def snapshot(self):
        """snapshot() -> token: the state (arrays copied) and ``t``, for ``restore``.

        >>> o = SGD(); s = o.snapshot(); o.t = 5; o.restore(s); o.t
        0
        """
        return {s: (getattr(self, s), None if getattr(self, s) is None else getattr(self, s).copy())
                for s in self.state}, self.t

    def restore(self, snap):
        """restore(snap): put back what ``snapshot()`` saved, into the same arrays.

        >>> o = Momentum(); s = o.snapshot(); o.restore(s); o.velocity is None
        True
        """
        arrays, t = snap
        for s, (obj, saved) in arrays.items():
            if obj is not None:
                obj[...] = saved
            object.__setattr__(self, s, obj)
        object.__setattr__(self, "t", t)

    def adopt(self, t, state=None, scratch=None):
        """adopt(t, state=None, scratch=None): take update count ``t``, the new
        state arrays (dict name -> array) and the scratch arrays (a list) that
        the update machinery allocated; writes no array.

        >>> o = Momentum(); o.adopt(1, {"velocity": np.zeros(2)}); o.t, o.velocity
        (1, array([0., 0.]))
        """
        for s, a in (state or {}).items():
            if s not in self.state:
                raise ValueError(f"{type(self).__name__}: {s!r} is not part of its state")
            object.__setattr__(self, s, a)
        object.__setattr__(self, "t", t)
        if scratch is not None and scratch is not self._tmp:
            object.__setattr__(self, "_tmp", scratch)

    def _math(self, w, g, st, tmp, t):
        raise NotImplementedError(f"{type(self).__name__}: _math is not implemented")

    def _kernel(self, kern, w, g, st, t):
        raise NotImplementedError(f"{type(self).__name__}: no device kernel")


class SGD(Optimizer):
    """SGD(lr=0.1, gclip=0): stochastic gradient descent, ``w -= lr * g``.

    ``gclip > 0`` rescales a gradient whose norm exceeds it to norm ``gclip``
    (per parameter; the caller's gradient is not modified).

    >>> w = np.array([1.0, 2.0]); update_(w, np.array([1.0, 1.0]), SGD(lr=0.5)); w
    array([0.5, 1.5])
    """
    hyper, kernel = ("lr", "gclip"), "sgd_"
    nothrow = True

    def __init__(self, lr=0.1, gclip=0):
        super().__init__(lr=lr, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        _axpy(-self.rate(t), g, w)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, self.rate(t))


class Momentum(Optimizer):
    """Momentum(lr=0.05, gamma=0.95, gclip=0): ``v = gamma*v + lr*g; w -= v``.

    The velocity ``v`` (state ``velocity``) starts at zero.

    >>> o = Momentum(lr=0.1, gamma=0.5); w = np.zeros(1)
    >>> update_(w, np.ones(1), o); update_(w, np.ones(1), o); w
    array([-0.25])
    """
    hyper, state, kernel = ("lr", "gclip", "gamma"), ("velocity",), "momentum_"
    ntmp, nothrow = 1, True

    def __init__(self, lr=0.05, gamma=0.95, gclip=0):
        super().__init__(lr=lr, gamma=gamma, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        v, d = st["velocity"], tmp[0]
        np.multiply(v, self.gamma, out=v)
        _axpy(self.rate(t), g, v, d)
        np.subtract(w, v, out=w)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["velocity"], self.rate(t), self.gamma)


class Nesterov(Momentum):
    """Nesterov(lr=0.05, gamma=0.95, gclip=0): Nesterov's momentum,
    ``v = gamma*v + lr*g; w -= gamma*v + lr*g`` (the look-ahead form); the
    settings, state and kernel call of ``Momentum``, another update.

    >>> o = Nesterov(lr=0.1, gamma=0.5); w = np.zeros(1); update_(w, np.ones(1), o); w
    array([-0.15])
    """
    kernel = "nesterov_"

    def _math(self, w, g, st, tmp, t):
        v, d = st["velocity"], tmp[0]
        np.multiply(g, self.rate(t), out=d)
        np.multiply(v, self.gamma, out=v)
        np.add(v, d, out=v)
        np.subtract(w, d, out=w)
        _axpy(-self.gamma, v, w, d)


class Adagrad(Optimizer):
    """Adagrad(lr=0.05, eps=1e-6, gclip=0): ``G += g^2; w -= lr*g/sqrt(G+eps)``.

    >>> w = np.zeros(1); update_(w, np.full(1, 2.0), Adagrad(lr=1.0, eps=0.5)); w.round(4)
    array([-0.9428])
    """
    hyper, state, kernel = ("lr", "gclip", "eps"), ("G",), "adagrad_"
    ntmp, nothrow = 1, True

    def __init__(self, lr=0.05, eps=1e-6, gclip=0):
        super().__init__(lr=lr, eps=eps, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        G, d = st["G"], tmp[0]
        np.multiply(g, g, out=d)
        np.add(G, d, out=G)
        np.add(G, self.eps, out=d)
        np.sqrt(d, out=d)
        np.divide(g, d, out=d)
        _axpy(-self.rate(t), d, w, d)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["G"], self.rate(t), self.eps)


class Rmsprop(Optimizer):
    """Rmsprop(lr=0.01, rho=0.9, eps=1e-6, gclip=0):
    ``G = rho*G + (1-rho)*g^2; w -= lr*g/sqrt(G+eps)``.

    >>> w = np.zeros(1); update_(w, np.ones(1), Rmsprop(lr=0.1, rho=0.75, eps=0.0001)); w.round(5)
    array([-0.19996])
    """
    hyper, state, kernel = ("lr", "gclip", "rho", "eps"), ("G",), "rmsprop_"
    ntmp, nothrow = 1, True

    def __init__(self, lr=0.01, rho=0.9, eps=1e-6, gclip=0):
        super().__init__(lr=lr, rho=rho, eps=eps, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        G, d = st["G"], tmp[0]
        np.multiply(G, self.rho, out=G)
        np.multiply(g, g, out=d)
        _axpy(1 - self.rho, d, G, d)
        np.add(G, self.eps, out=d)
        np.sqrt(d, out=d)
        np.divide(g, d, out=d)
        _axpy(-self.rate(t), d, w, d)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["G"], self.rate(t), self.rho, self.eps)


class Adadelta(Rmsprop):
    """Adadelta(lr=1.0, rho=0.9, eps=1e-6, gclip=0): ``G = rho*G + (1-rho)*g^2;
    u = g*sqrt(delta+eps)/sqrt(G+eps); w -= lr*u; delta = rho*delta + (1-rho)*u^2``
    (Rmsprop's settings and average ``G``, plus the average step ``delta``).

    >>> w = np.zeros(1); update_(w, np.ones(1), Adadelta(rho=0.0, eps=1.0)); w.round(4)
    array([-0.7071])
    """
    state, kernel = ("G", "delta"), "adadelta_"
    ntmp = 2

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, gclip=0):
        super().__init__(lr=lr, rho=rho, eps=eps, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        G, D = st["G"], st["delta"]
        u, d = tmp
        np.multiply(G, self.rho, out=G)
        np.multiply(g, g, out=d)
        _axpy(1 - self.rho, d, G, d)
        np.add(D, self.eps, out=u)
        np.add(G, self.eps, out=d)
        np.divide(u, d, out=u)
        np.sqrt(u, out=u)
        np.multiply(u, g, out=u)
        _axpy(-self.rate(t), u, w, d)
        np.multiply(D, self.rho, out=D)
        np.multiply(u, u, out=u)
        _axpy(1 - self.rho, u, D, d)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["G"], st["delta"], self.rate(t), self.rho, self.eps)


class Adam(Optimizer):
    """Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, gclip=0):
    ``m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
    w -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)``, ``t`` the update count.

    With a sparse gradient only the rows read are updated (lazy Adam): the
    moments of other rows keep their values instead of decaying.

    >>> w = np.zeros(2); update_(w, np.array([1.0, -3.0]), Adam(lr=0.1)); w.round(6)
    array([-0.1,  0.1])
    """
    hyper, state, kernel = ("lr", "gclip", "beta1", "beta2", "eps"), ("m", "v"), "adam_"
    ntmp, nothrow = 1, True

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, gclip=0):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        m, v, d = st["m"], st["v"], tmp[0]
        b1, b2 = self.beta1, self.beta2
        np.multiply(m, b1, out=m)
        _axpy(1 - b1, g, m, d)
        np.multiply(v, b2, out=v)
        np.multiply(g, g, out=d)
        _axpy(1 - b2, d, v, d)
        np.sqrt(v, out=d)
        np.multiply(d, 1 / math.sqrt(1 - b2 ** t), out=d)
        np.add(d, self.eps, out=d)
        np.divide(m, d, out=d)
        _axpy(-self.rate(t) / (1 - b1 ** t), d, w, d)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["m"], st["v"], self.rate(t), self.beta1, self.beta2, self.eps, t)


optimizers = {c.__name__: c for c in (SGD, Momentum, Nesterov, Adagrad, Rmsprop, Adadelta, Adam)}
