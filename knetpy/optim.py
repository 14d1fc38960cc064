"""Optimizers: Knet's per-parameter update rules and ``update_``.

An optimizer object holds the hyperparameters of one rule (``lr``, ``gclip``,
...) and, once used, the state of ONE parameter (velocity, squared-gradient
sums, Adam's moments and step count).  ``update_(w, g)`` applies it in place.

Every update runs in two phases.  *Prepare* checks everything (shapes,
dtypes, that the optimizer's state fits the parameter), allocates what is
needed and, for sparse gradients, computes the new rows on copies.  *Apply*
then only writes into memory that already exists, with Ctrl-C deferred to
its end, so a step either happens for every parameter or for none.  An
optimizer class not marked ``nothrow`` (a user subclass) gets its parameters
and state backed up before apply and restored if apply raises.

Sparse gradients (``autograd.Sparse``, from indexing and embeddings) update
only the rows that were read, without building the dense gradient.  For
SGD and Adagrad this is exactly the dense update.  For the rules with
decaying state (Momentum, Nesterov, Rmsprop, Adadelta, Adam) it is the
*lazy* variant: the state of rows that were not read neither decays nor
moves the weights (as TensorFlow's LazyAdam and PyTorch's SparseAdam do);
Adam's step count ``t`` still counts every update of the parameter.
"""
import math
import numbers
import signal
import threading

try:                        # the C module: same calls without the enum conversions
    import _signal as _sig
except ImportError:         # pragma: no cover
    _sig = signal

import numpy as np

from autograd.core import Param, Value, _raw
from autograd.sparse import Sparse

from . import backends
from .knetarray import KnetArray

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "Rmsprop", "Adadelta",
           "Adam", "update_", "optimizers"]

def _axpy(a, x, y, tmp=None):
    """y += a * x in place, through the scratch array ``tmp`` when given."""
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


_CHECKS = {
    "lr": lambda c, n, v: _real(c, n, v, 0.0, math.inf),
    "gclip": lambda c, n, v: _real(c, n, v, 0.0, math.inf),
    "gamma": lambda c, n, v: _real(c, n, v, 0.0, 1.0),
    "rho": lambda c, n, v: _real(c, n, v, 0.0, 1.0),
    "beta1": lambda c, n, v: _real(c, n, v, 0.0, 1.0, hi_open=True),
    "beta2": lambda c, n, v: _real(c, n, v, 0.0, 1.0, hi_open=True),
    "eps": lambda c, n, v: _real(c, n, v, 0.0, math.inf, lo_open=True),
}


def _is_ndarray(a):
    return isinstance(a, np.ndarray)


def _is_number(x):
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, bool)


class Optimizer:
    """Base of the update rules.

    A subclass lists its hyperparameters in ``hyper`` (checked whenever they
    are set), its per-parameter arrays in ``state`` (allocated as zeros on
    the first update) and implements ``_math(w, g, st, tmp, t)``, which
    updates ``w`` and the arrays of ``st`` in place from gradient ``g``
    using the scratch arrays ``tmp`` (``ntmp`` of them, shaped like ``w``);
    ``t`` is the 1-based update count.
    """
    hyper = ("lr", "gclip")
    state = ()
    ntmp = 0
    nothrow = False      # True: _math only writes into the arrays it is given
    kernel = None        # name of the device backend's fused update (``adam_`` ...)
    _tmp = None          # scratch arrays shaped like the parameter (not state)

    def __init__(self, **kw):
        for name in self.hyper:
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

    def clone(self):
        """A new optimizer with the same hyperparameters and no state.

        >>> Adam(lr=0.01).clone()
        Adam(lr=0.01, gclip=0.0, beta1=0.9, beta2=0.999, eps=1e-08)
        """
        return type(self)(**{h: getattr(self, h) for h in self.hyper})

    def copy(self):
        """A new optimizer with the same hyperparameters and a copy of the state."""
        o = self.clone()
        for s in self.state:
            a = getattr(self, s)
            object.__setattr__(o, s, None if a is None else a.copy())
        o.t = self.t
        return o

    # -------------------------------------------------------------- two phases
    def _snapshot(self):
        return {s: (getattr(self, s), None if getattr(self, s) is None else getattr(self, s).copy())
                for s in self.state}, self.t

    def _restore(self, snap):
        arrays, t = snap
        for s, (obj, saved) in arrays.items():
            if obj is not None:
                obj[...] = saved
            object.__setattr__(self, s, obj)
        object.__setattr__(self, "t", t)

    def _prepare(self, w, g, be, check_finite, where):
        """Check and allocate; return the function that applies the update."""
        if getattr(w, "shape", None) is None or w.dtype.kind != "f":
            raise TypeError(f"update_: {where} must be a floating-point array, "
                            f"got {getattr(w, 'dtype', type(w).__name__)}")
        if g.shape != w.shape:
            raise ValueError(f"update_: the gradient of {where} has shape {g.shape} "
                             f"but the parameter has shape {w.shape}")
        gd = getattr(g, "dtype", None)
        if gd is not None and gd.kind not in "fiub":
            raise TypeError(f"update_: the gradient of {where} must be real, got dtype {gd}")
        xp_owns = be.owns if be is not None else _is_ndarray
        st, fresh = {}, {}
        for s in self.state:
            a = getattr(self, s)
            if a is None:
                a = fresh[s] = _zeros_like(w, be)
            elif a.shape != w.shape:
                raise ValueError(f"{type(self).__name__}: its {s} has shape {a.shape} but "
                                 f"{where} has shape "
                                 f"{w.shape}; give every parameter its own optimizer "
                                 f"(opt.clone())")
            elif a.dtype != w.dtype or not xp_owns(a):
                a = fresh[s] = _asarray(a, w.dtype, be)   # e.g. state loaded on another device
            st[s] = a
        t = self.t + 1
        rows = None
        if g.__class__ is Sparse:
            rg = g.rows() if w.ndim > 0 else None
            if rg is None:
                g = g.dense()
            else:
                rows, g = rg
        if check_finite and not bool(np.isfinite(g).all()):
            raise FloatingPointError(f"update_: the gradient of {where} has non-finite values")
        if self.gclip > 0:
            norm = float(np.sqrt(np.sum(np.square(g, dtype=np.float64)))) if g.size else 0.0
            if norm > self.gclip:
                g = g * (self.gclip / norm)
        if rows is not None:
            return self._prepare_rows(w, rows, g, st, fresh, t, be)
        kern = getattr(be, self.kernel, None) if be is not None and self.kernel else None
        if kern is not None and not w.flags.c_contiguous:
            kern = None
        if be is not None and (not xp_owns(g) or (kern is not None and g.dtype != w.dtype)):
            g = _asarray(g, w.dtype, be)
        if kern is not None and not g.flags.c_contiguous:
            g = g.copy()
        tmp = self._tmp
        if self.ntmp and kern is None and (tmp is None or tmp[0].shape != w.shape
                                           or tmp[0].dtype != w.dtype or not xp_owns(tmp[0])):
            tmp = [_empty_like(w, be) for _ in range(self.ntmp)]
        if not fresh and kern is None:
            return _Apply(self, w, g, st, tmp, t)

        def apply():
            if fresh:
                for s, a in fresh.items():
                    object.__setattr__(self, s, a)
            object.__setattr__(self, "t", t)
            if kern is not None:
                self._kernel(kern, w, g, st, t)
            else:
                if tmp is not self._tmp:
                    object.__setattr__(self, "_tmp", tmp)
                self._math(w, g, st, tmp, t)
        return apply

    def _prepare_rows(self, w, rows, g, st, fresh, t, be):
        """The sparse update computed on copies of the rows; apply scatters them."""
        if be is not None:
            rows = be.asarray(rows)
            g = be.asarray(g)
        g = g.astype(w.dtype, copy=False)
        wr = w[rows]
        sr = {s: a[rows] for s, a in st.items()}
        tmp = [np.empty_like(wr) for _ in range(self.ntmp)]
        self._math(wr, g, sr, tmp, t)

        def apply():
            for s, a in fresh.items():
                object.__setattr__(self, s, a)
            object.__setattr__(self, "t", t)
            w[rows] = wr
            for s, a in sr.items():
                st[s][rows] = a
        return apply

    def _math(self, w, g, st, tmp, t):
        raise NotImplementedError(f"{type(self).__name__}: _math is not implemented")

    def _kernel(self, kern, w, g, st, t):
        raise NotImplementedError(f"{type(self).__name__}: no device kernel")


class _Apply:
    """The common apply step (state exists, numpy math) without a closure."""
    __slots__ = ("opt", "w", "g", "st", "tmp", "t")

    def __init__(self, opt, w, g, st, tmp, t):
        self.opt, self.w, self.g, self.st, self.tmp, self.t = opt, w, g, st, tmp, t

    def __call__(self):
        opt = self.opt
        object.__setattr__(opt, "t", self.t)
        if self.tmp is not opt._tmp:
            object.__setattr__(opt, "_tmp", self.tmp)
        opt._math(self.w, self.g, self.st, self.tmp, self.t)


def _zeros_like(w, be):
    return np.zeros_like(w) if be is None else be.asarray(np.zeros(w.shape, w.dtype))


def _empty_like(w, be):
    return np.empty_like(w) if be is None else be.asarray(np.empty(w.shape, w.dtype))


def _asarray(a, dtype, be):
    """``a`` as an array of w's backend (``be``; None for numpy) with ``dtype``."""
    if not isinstance(a, np.ndarray) and (be is None or not be.owns(a)):
        a = backends.of(a).to_numpy(a)
    return np.asarray(a, dtype=dtype) if be is None else be.asarray(a, dtype)


class SGD(Optimizer):
    """SGD(lr=0.1, gclip=0): stochastic gradient descent, ``w -= lr * g``.

    ``gclip > 0`` rescales a gradient whose norm exceeds it to norm ``gclip``
    (per parameter; the caller's gradient is not modified).

    >>> w = np.array([1.0, 2.0]); update_(w, np.array([1.0, 1.0]), SGD(lr=0.5)); w
    array([0.5, 1.5])
    """
    hyper = ("lr", "gclip")
    nothrow = True
    kernel = "sgd_"

    def __init__(self, lr=0.1, gclip=0):
        super().__init__(lr=lr, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        _axpy(-self.lr, g, w)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, self.lr)


class Momentum(Optimizer):
    """Momentum(lr=0.05, gamma=0.95, gclip=0): ``v = gamma*v + lr*g; w -= v``.

    The velocity ``v`` (state ``velocity``) starts at zero.

    >>> o = Momentum(lr=0.1, gamma=0.5); w = np.zeros(1)
    >>> update_(w, np.ones(1), o); update_(w, np.ones(1), o); w
    array([-0.25])
    """
    hyper = ("lr", "gclip", "gamma")
    state = ("velocity",)
    ntmp = 1
    nothrow = True
    kernel = "momentum_"

    def __init__(self, lr=0.05, gamma=0.95, gclip=0):
        super().__init__(lr=lr, gamma=gamma, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        v, d = st["velocity"], tmp[0]
        np.multiply(v, self.gamma, out=v)
        _axpy(self.lr, g, v, d)
        np.subtract(w, v, out=w)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["velocity"], self.lr, self.gamma)


class Nesterov(Optimizer):
    """Nesterov(lr=0.05, gamma=0.95, gclip=0): Nesterov's momentum,
    ``v = gamma*v + lr*g; w -= gamma*v + lr*g`` (the look-ahead form).

    >>> o = Nesterov(lr=0.1, gamma=0.5); w = np.zeros(1); update_(w, np.ones(1), o); w
    array([-0.15])
    """
    hyper = ("lr", "gclip", "gamma")
    state = ("velocity",)
    ntmp = 1
    nothrow = True
    kernel = "nesterov_"

    def __init__(self, lr=0.05, gamma=0.95, gclip=0):
        super().__init__(lr=lr, gamma=gamma, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        v, d = st["velocity"], tmp[0]
        np.multiply(g, self.lr, out=d)
        np.multiply(v, self.gamma, out=v)
        np.add(v, d, out=v)
        np.subtract(w, d, out=w)
        _axpy(-self.gamma, v, w, d)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["velocity"], self.lr, self.gamma)


class Adagrad(Optimizer):
    """Adagrad(lr=0.05, eps=1e-6, gclip=0): ``G += g^2; w -= lr*g/sqrt(G+eps)``.

    >>> w = np.zeros(1); update_(w, np.full(1, 2.0), Adagrad(lr=1.0, eps=0.5)); w.round(4)
    array([-0.9428])
    """
    hyper = ("lr", "gclip", "eps")
    state = ("G",)
    ntmp = 1
    nothrow = True
    kernel = "adagrad_"

    def __init__(self, lr=0.05, eps=1e-6, gclip=0):
        super().__init__(lr=lr, eps=eps, gclip=gclip)

    def _math(self, w, g, st, tmp, t):
        G, d = st["G"], tmp[0]
        np.multiply(g, g, out=d)
        np.add(G, d, out=G)
        np.add(G, self.eps, out=d)
        np.sqrt(d, out=d)
        np.divide(g, d, out=d)
        _axpy(-self.lr, d, w, d)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["G"], self.lr, self.eps)


class Rmsprop(Optimizer):
    """Rmsprop(lr=0.01, rho=0.9, eps=1e-6, gclip=0):
    ``G = rho*G + (1-rho)*g^2; w -= lr*g/sqrt(G+eps)``.

    >>> w = np.zeros(1); update_(w, np.ones(1), Rmsprop(lr=0.1, rho=0.75, eps=0.0001)); w.round(5)
    array([-0.19996])
    """
    hyper = ("lr", "gclip", "rho", "eps")
    state = ("G",)
    ntmp = 1
    nothrow = True
    kernel = "rmsprop_"

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
        _axpy(-self.lr, d, w, d)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["G"], self.lr, self.rho, self.eps)


class Adadelta(Optimizer):
    """Adadelta(lr=1.0, rho=0.9, eps=1e-6, gclip=0): ``G = rho*G + (1-rho)*g^2;
    u = g*sqrt(delta+eps)/sqrt(G+eps); w -= lr*u; delta = rho*delta + (1-rho)*u^2``.

    >>> w = np.zeros(1); update_(w, np.ones(1), Adadelta(rho=0.0, eps=1.0)); w.round(4)
    array([-0.7071])
    """
    hyper = ("lr", "gclip", "rho", "eps")
    state = ("G", "delta")
    ntmp = 2
    nothrow = True
    kernel = "adadelta_"

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
        _axpy(-self.lr, u, w, d)
        np.multiply(D, self.rho, out=D)
        np.multiply(u, u, out=u)
        _axpy(1 - self.rho, u, D, d)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["G"], st["delta"], self.lr, self.rho, self.eps)


class Adam(Optimizer):
    """Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, gclip=0):
    ``m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
    w -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)``, ``t`` the update count.

    With a sparse gradient only the rows read are updated (lazy Adam): the
    moments of other rows keep their values instead of decaying.

    >>> w = np.zeros(2); update_(w, np.array([1.0, -3.0]), Adam(lr=0.1)); w.round(6)
    array([-0.1,  0.1])
    """
    hyper = ("lr", "gclip", "beta1", "beta2", "eps")
    state = ("m", "v")
    ntmp = 1
    nothrow = True
    kernel = "adam_"

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
        _axpy(-self.lr / (1 - b1 ** t), d, w, d)

    def _kernel(self, kern, w, g, st, t):
        kern(w, g, st["m"], st["v"], self.lr, self.beta1, self.beta2, self.eps, t)


optimizers = {c.__name__: c for c in (SGD, Momentum, Nesterov, Adagrad, Rmsprop, Adadelta, Adam)}


# ------------------------------------------------------------ update_
_MAIN = threading.main_thread().ident
_SIGINT = int(signal.SIGINT)


class _DeferInterrupt:
    """Hold Ctrl-C (SIGINT) until the block ends, so an update is never cut in half."""
    __slots__ = ("old", "hit")

    def __enter__(self):
        self.old, self.hit = None, False
        if threading.get_ident() == _MAIN:
            old = _sig.getsignal(_SIGINT)
            if old is signal.default_int_handler:
                self.old = old
                _sig.signal(_SIGINT, self._hold)
        return self

    def _hold(self, signum, frame):
        self.hit = True

    def __exit__(self, *exc):
        if self.old is not None:
            _sig.signal(_SIGINT, self.old)
            if self.hit and exc[0] is None:
                raise KeyboardInterrupt
        return False


class _Target:
    """One parameter to update: where its array is and how to write back."""
    __slots__ = ("array", "be", "param", "scalar_type", "where")

    def __init__(self, w, where):
        self.param = w if isinstance(w, Param) else None
        self.where = where
        self.scalar_type = None
        self.be = None
        a = w.value if self.param is not None else w
        if type(a) is np.ndarray and a.flags.writeable:
            self.array = a
            return
        if isinstance(a, Value):
            a = _raw(a)
        if isinstance(a, KnetArray):
            self.be = a._be if a._be.name != "numpy" else None
            a = a.data
        elif _is_number(a) and self.param is not None:
            self.scalar_type = type(a)
            a = np.array(a, dtype=np.float64 if isinstance(a, numbers.Integral)
                         or not hasattr(a, "dtype") else a.dtype)
        elif isinstance(a, np.ndarray):
            if not a.flags.writeable:
                raise ValueError(f"update_: {where} is a read-only array")
        else:
            raise TypeError(f"update_: {where} must be a Param, a numpy array or a KnetArray "
                            f"(updated in place), got {type(a).__name__}")
        self.array = a

    def writeback(self):
        if self.scalar_type is not None:
            v = self.array[()]
            self.param.value = float(v) if self.scalar_type in (int, float) else \
                self.scalar_type(v)


def _grad_array(g, where):
    if type(g) is np.ndarray:
        return g
    if isinstance(g, Value):
        g = _raw(g)
    if g.__class__ is Sparse:
        return g
    if isinstance(g, KnetArray):
        return g.data
    if _is_number(g):
        return np.asarray(g)
    if not hasattr(g, "shape") or not hasattr(g, "dtype"):
        try:
            g = np.asarray(g)
        except Exception:
            g = None
        if g is None or g.dtype == object:
            raise TypeError(f"update_: the gradient of {where} must be an array, "
                            f"got {type(g).__name__}")
    return g


def _collect(w, g, opt, lr, gclip, where, out):
    """Flatten matching (weights, grads, optimizers) into out: (target, g, opt, set_opt)."""
    if g is None:
        return
    if isinstance(w, (list, tuple)):
        if not isinstance(g, (list, tuple)) or len(g) != len(w):
            raise ValueError(f"update_: {where} is a {type(w).__name__} of {len(w)} weights, "
                             f"so the gradients must be a list/tuple of {len(w)}, got "
                             f"{_describe(g)}")
        opts = _match_opts(opt, len(w), where, range(len(w)))
        for i, (wi, gi) in enumerate(zip(w, g)):
            _collect(wi, gi, opts[i], lr, gclip, f"{where}[{i}]", out)
        return
    if isinstance(w, dict):
        if not isinstance(g, dict):
            raise ValueError(f"update_: {where} is a dict, so the gradients must be a dict "
                             f"with the same keys, got {_describe(g)}")
        extra = set(g) - set(w)
        if extra:
            raise ValueError(f"update_: gradients given for keys {sorted(map(repr, extra))} "
                             f"that {where} does not have")
        if isinstance(opt, dict):
            missing = set(w) - set(opt)
            if missing:
                raise ValueError(f"update_: no optimizer for keys {sorted(map(repr, missing))} "
                                 f"of {where}")
            opts = opt
        else:
            opts = _match_opts(opt, len(w), where, list(w))
            opts = dict(zip(w, opts))
        for k, wk in w.items():
            _collect(wk, g.get(k), opts[k], lr, gclip, f"{where}[{k!r}]", out)
        return
    target = _Target(w, where)
    g = _grad_array(g, where)
    set_opt = None
    if opt is None and target.param is not None and target.param.opt is not None:
        if lr is not None or gclip is not None:
            raise TypeError(f"update_: {where} already has its optimizer in .opt; "
                            "lr=/gclip= apply only to weights without one")
        opt = target.param.opt
    elif opt is None:
        opt = SGD(lr=0.1 if lr is None else lr, gclip=0 if gclip is None else gclip)
        if target.param is not None:
            set_opt = opt
    elif lr is not None or gclip is not None:
        raise TypeError("update_: give either an optimizer or lr=/gclip=, not both")
    if not isinstance(opt, Optimizer):
        raise TypeError(f"update_: the optimizer of {where} must be an Optimizer such as "
                        f"Adam(), got {type(opt).__name__}")
    out.append((target, g, opt, set_opt))


def _match_opts(opt, n, where, keys):
    if opt is None:
        return [None] * n
    if isinstance(opt, (list, tuple)):
        if len(opt) != n:
            raise ValueError(f"update_: {where} has {n} weights but {len(opt)} optimizers")
        return list(opt)
    if isinstance(opt, Optimizer):
        if opt.state and n > 1:
            raise ValueError(f"update_: one {type(opt).__name__} cannot serve the {n} weights "
                             f"of {where}: it keeps per-parameter state; give a list of "
                             "optimizers (e.g. [opt.clone() for _ in weights])")
        return [opt] * n
    raise TypeError(f"update_: optimizers for {where} must be a list/tuple/dict matching the "
                    f"weights, got {type(opt).__name__}")


def _describe(x):
    return f"a {type(x).__name__} of {len(x)}" if hasattr(x, "__len__") else type(x).__name__


def _run_updates(items, check_finite=False):
    """Prepare every (target, g, opt, set_opt), then apply them all (see module doc)."""
    plans = []
    seen = set()
    nothrow = True
    for target, g, opt, set_opt in items:
        if opt.state:
            if id(opt) in seen:
                other = next(t for t, _, o, _ in items if o is opt)
                raise ValueError(f"update_: {target.where} and {other.where} share one "
                                 f"{type(opt).__name__}, which keeps per-parameter state; "
                                 "give each its own (opt.clone())")
            seen.add(id(opt))
        nothrow = nothrow and opt.nothrow
        plans.append(opt._prepare(target.array, g, target.be, check_finite, target.where))
    with _DeferInterrupt():
        if nothrow:       # built-in rules: apply only writes memory that exists already
            for (target, _, opt, set_opt), apply in zip(items, plans):
                apply()
                if target.scalar_type is not None:
                    target.writeback()
                if set_opt is not None:
                    target.param.opt = set_opt
            return
        backups = [(t.array.copy(), opt._snapshot()) for t, _, opt, _ in items]
        done = 0
        try:
            for (target, _, opt, set_opt), apply in zip(items, plans):
                apply()
                done += 1
                target.writeback()
                if set_opt is not None:
                    target.param.opt = set_opt
        except BaseException:
            for (target, _, opt, set_opt), (w0, snap) in zip(items[:done + 1], backups):
                target.array[...] = w0
                target.writeback()
                opt._restore(snap)
                if set_opt is not None:
                    target.param.opt = None
            raise


def update_(w, g, opt=None, *, lr=None, gclip=None):
    """update_(w, g, opt=None, *, lr=None, gclip=None): one optimization step, in place.

    - ``w`` a Param: uses ``opt``, else ``w.opt``; when both are missing an
      ``SGD(lr=lr or 0.1, gclip=gclip or 0)`` is made and stored in ``w.opt``.
    - ``w`` an array (numpy or KnetArray): ``opt``, else SGD with ``lr``/``gclip``.
    - ``w`` a list/tuple/dict of those: ``g`` (and ``opt`` when given) must
      match it element by element / key by key; a ``None`` gradient skips
      its weight.

    ``g`` may be dense or ``autograd.Sparse``.  Either every weight is
    updated or, when anything is wrong, none is (and no optimizer state
    changes).  Returns None.

    >>> w = np.array([1.0, 2.0]); update_(w, np.array([1.0, 1.0]), lr=0.5); w
    array([0.5, 1.5])
    >>> ws = [Param(np.zeros(1), Adam()), Param(np.zeros(1), SGD())]
    >>> update_(ws, [np.ones(1), np.ones(1)]); ws[1]
    P(array([-0.1]))
    """
    items = []
    _collect(w, g, opt, lr, gclip, "w", items)
    _run_updates(items)
