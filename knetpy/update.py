"""The update machinery: ``update_`` and the all-or-nothing step it runs.

The rules (``knetpy.optim``) say how one array changes; this module applies
them to parameters.  Every update runs in two phases.  *Prepare* (``plan``)
checks everything (shapes, dtypes, that the optimizer's state fits the
parameter, the learning rate of this step), allocates what is needed and,
for sparse gradients, computes the new rows on copies.  *Apply* then only
writes into memory that already exists, with Ctrl-C deferred to its end, so
a step either happens for every parameter or for none.  An optimizer class
not marked ``nothrow`` (a user subclass) gets its parameters and state
backed up before apply and restored if apply raises.

Sparse gradients (``autograd.Sparse``, from indexing and embeddings) update
only the rows that were read, without building the dense gradient.  For
SGD and Adagrad this is exactly the dense update.  For the rules with
decaying state (Momentum, Nesterov, Rmsprop, Adadelta, Adam) it is the
*lazy* variant: the state of rows that were not read neither decays nor
moves the weights (as TensorFlow's LazyAdam and PyTorch's SparseAdam do);
Adam's step count ``t`` still counts every update of the parameter.

Public pieces for other loops (``knetpy.train``, ``knetpy.distributed``):
``Target`` (a parameter and how to write it back), ``grad_array``,
``run_updates`` and ``fused_kernel`` (the one place that picks a backend's
fused update kernel).
"""
import numbers
import signal
import threading

try:                        # the C module: same calls without the enum conversions
    import _signal as _sig
except ImportError:         # pragma: no cover
    _sig = signal

import numpy as np

from autograd.core import Param, Value, raw
from autograd.sparse import Sparse

from . import backends
from .knetarray import KnetArray
from .optim import SGD, Optimizer

__all__ = ["update_", "Target", "grad_array", "run_updates", "plan", "fused_kernel"]


def _is_number(x):
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, bool)


def fused_kernel(be, opt):
    """fused_kernel(be, opt) -> callable or None: the device backend ``be``'s
    fused update for ``opt`` (``be.adam_`` for Adam ...), or None when the
    numpy math of ``opt._math`` is to run (``be`` None: a numpy array; or a
    rule without a kernel).  The one place the update machinery asks a
    backend about kernels.

    >>> fused_kernel(None, SGD()) is None
    True
    """
    if be is None or opt.kernel is None:
        return None
    return getattr(be, opt.kernel, None)


# ------------------------------------------------------------ prepare
def _zeros_like(w, be):
    return np.zeros_like(w) if be is None else be.asarray(np.zeros(w.shape, w.dtype))


def _empty_like(w, be):
    return np.empty_like(w) if be is None else be.asarray(np.empty(w.shape, w.dtype))


def _asarray(a, dtype, be):
    """``a`` as an array of w's backend (``be``; None for numpy) with ``dtype``."""
    if not isinstance(a, np.ndarray) and (be is None or not be.owns(a)):
        a = backends.of(a).to_numpy(a)
    return np.asarray(a, dtype=dtype) if be is None else be.asarray(a, dtype)


def _owns(be):
    return be.owns if be is not None else (lambda a: isinstance(a, np.ndarray))


def _state(opt, w, be, where):
    """The state arrays of opt for w: (all, freshly allocated or converted)."""
    owns = _owns(be)
    st, fresh = {}, {}
    for s in opt.state:
        a = getattr(opt, s)
        if a is None:
            a = fresh[s] = _zeros_like(w, be)
        elif a.shape != w.shape:
            raise ValueError(f"{type(opt).__name__}: its {s} has shape {a.shape} but "
                             f"{where} has shape {w.shape}; give every parameter its own "
                             f"optimizer (opt.clone())")
        elif a.dtype != w.dtype or not owns(a):
            a = fresh[s] = _asarray(a, w.dtype, be)   # e.g. state loaded on another device
        st[s] = a
    return st, fresh


def _check(w, g, where):
    if getattr(w, "shape", None) is None or w.dtype.kind != "f":
        raise TypeError(f"update_: {where} must be a floating-point array, "
                        f"got {getattr(w, 'dtype', type(w).__name__)}")
    if g.shape != w.shape:
        raise ValueError(f"update_: the gradient of {where} has shape {g.shape} "
                         f"but the parameter has shape {w.shape}")
    gd = getattr(g, "dtype", None)
    if gd is not None and gd.kind not in "fiub":
        raise TypeError(f"update_: the gradient of {where} must be real, got dtype {gd}")


def _clip(g, gclip):
    if gclip > 0:
        norm = float(np.sqrt(np.sum(np.square(g, dtype=np.float64)))) if g.size else 0.0
        if norm > gclip:
            g = g * (gclip / norm)
    return g


def plan(opt, w, g, be=None, check_finite=False, where="w"):
    """plan(opt, w, g, be=None, check_finite=False, where="w") -> apply()

    The prepare phase of one parameter's update: check ``w`` (an array of
    backend ``be``, None for numpy) and its gradient ``g`` (dense or
    ``Sparse``), the learning rate of the step and the optimizer's state;
    allocate; return the function that applies the update, which only writes
    into existing memory (``where`` names the parameter in errors).

    >>> w = np.ones(2); apply = plan(SGD(lr=0.5), w, np.ones(2)); w
    array([1., 1.])
    >>> apply(); w
    array([0.5, 0.5])
    """
    if be is None and g.__class__ is np.ndarray and w.__class__ is np.ndarray \
            and not opt.state and not check_finite and not opt.gclip:
        return _plan_stateless(opt, w, g, where)
    _check(w, g, where)
    st, fresh = _state(opt, w, be, where)
    t = opt.t + 1
    opt.rate(t)                               # a bad schedule fails before anything changes
    rows = None
    if g.__class__ is Sparse:
        rg = g.rows() if w.ndim > 0 else None
        if rg is None:
            g = g.dense()
        else:
            rows, g = rg
    if check_finite and not bool(np.isfinite(g).all()):
        raise FloatingPointError(f"update_: the gradient of {where} has non-finite values")
    g = _clip(g, opt.gclip)
    if rows is not None:
        return _plan_rows(opt, w, rows, g, st, fresh, t, be)
    owns = _owns(be)
    kern = fused_kernel(be, opt)
    if kern is not None and not w.flags.c_contiguous:
        kern = None
    if be is not None and (not owns(g) or (kern is not None and g.dtype != w.dtype)):
        g = _asarray(g, w.dtype, be)
    if kern is not None and not g.flags.c_contiguous:
        g = g.copy()
    tmp = opt._tmp
    if opt.ntmp and kern is None and (tmp is None or tmp[0].shape != w.shape
                                      or tmp[0].dtype != w.dtype or not owns(tmp[0])):
        tmp = [_empty_like(w, be) for _ in range(opt.ntmp)]
    if not fresh and kern is None:
        return _Apply(opt, w, g, st, tmp, t)

    def apply():
        if kern is not None:
            opt.adopt(t, fresh)
            opt._kernel(kern, w, g, st, t)
        else:
            opt.adopt(t, fresh, tmp)
            opt._math(w, g, st, tmp, t)
    return apply


def _plan_stateless(opt, w, g, where):
    """plan() for the commonest step: a rule without state (SGD), dense numpy
    arrays, no clipping or finiteness check: the same checks and result."""
    if g.shape != w.shape or w.dtype.kind != "f" or g.dtype.kind not in "fiub":
        _check(w, g, where)                   # raises the error that names the problem
    t = opt.t + 1
    opt.rate(t)
    tmp = opt._tmp
    if opt.ntmp and (tmp is None or tmp[0].shape != w.shape or tmp[0].dtype != w.dtype
                     or tmp[0].__class__ is not np.ndarray):
        tmp = [np.empty_like(w) for _ in range(opt.ntmp)]
    return _Apply(opt, w, g, {}, tmp, t)


def _plan_rows(opt, w, rows, g, st, fresh, t, be):
    """The sparse update computed on copies of the rows; apply scatters them."""
    if be is not None:
        rows = be.asarray(rows)
        g = be.asarray(g)
    g = g.astype(w.dtype, copy=False)
    wr = w[rows]
    sr = {s: a[rows] for s, a in st.items()}
    tmp = [np.empty_like(wr) for _ in range(opt.ntmp)]
    opt._math(wr, g, sr, tmp, t)

    def apply():
        opt.adopt(t, fresh)
        w[rows] = wr
        for s, a in sr.items():
            st[s][rows] = a
    return apply


class _Apply:
    """The common apply step (state exists, numpy math) without a closure."""
    __slots__ = ("opt", "w", "g", "st", "tmp", "t")

    def __init__(self, opt, w, g, st, tmp, t):
        self.opt, self.w, self.g, self.st, self.tmp, self.t = opt, w, g, st, tmp, t

    def __call__(self):
        self.opt.adopt(self.t, None, self.tmp)
        self.opt._math(self.w, self.g, self.st, self.tmp, self.t)


# ------------------------------------------------------------ apply
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


class Target:
    """Target(w, where): one parameter to update (a Param, numpy array or
    KnetArray): ``array`` is the memory written in place, ``be`` its device
    backend (None for numpy), ``where`` its name in errors; ``writeback()``
    stores the result of a Param holding a Python scalar.

    >>> Target(np.zeros(2), "w").array
    array([0., 0.])
    """
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
            a = raw(a)
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
        """Store the updated scalar back into the Param (arrays are already in place)."""
        if self.scalar_type is not None:
            v = self.array[()]
            self.param.value = float(v) if self.scalar_type in (int, float) else \
                self.scalar_type(v)


def grad_array(g, where):
    """grad_array(g, where) -> the gradient as a raw array (numpy, a backend's
    array or ``Sparse``); ``where`` names the parameter in the error for
    something that is not an array.

    >>> grad_array(2.0, "w")
    array(2.)
    """
    if type(g) is np.ndarray:
        return g
    if isinstance(g, Value):
        g = raw(g)
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


def _check_shared(items):
    seen = set()
    for target, g, opt, set_opt in items:
        if opt.state:
            if id(opt) in seen:
                other = next(t for t, _, o, _ in items if o is opt)
                raise ValueError(f"update_: {target.where} and {other.where} share one "
                                 f"{type(opt).__name__}, which keeps per-parameter state; "
                                 "give each its own (opt.clone())")
            seen.add(id(opt))


def run_updates(items, check_finite=False):
    """run_updates(items, check_finite=False): prepare every ``(target, g,
    opt, set_opt)`` (a ``Target``, its gradient, its optimizer, and the
    optimizer to store in ``target.param.opt`` afterwards or None), then
    apply them all, or none when anything fails (see the module doc).

    >>> w = np.ones(1); run_updates([(Target(w, "w"), np.ones(1), SGD(lr=1.0), None)]); w
    array([0.])
    """
    _check_shared(items)
    plans = [plan(opt, target.array, g, target.be, check_finite, target.where)
             for target, g, opt, _ in items]
    nothrow = all(opt.nothrow for _, _, opt, _ in items)
    with _DeferInterrupt():
        if nothrow:       # built-in rules: apply only writes memory that exists already
            for (target, _, opt, set_opt), apply in zip(items, plans):
                apply()
                if target.scalar_type is not None:
                    target.writeback()
                if set_opt is not None:
                    target.param.opt = set_opt
            return
        backups = [(t.array.copy(), opt.snapshot()) for t, _, opt, _ in items]
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
                opt.restore(snap)
                if set_opt is not None:
                    target.param.opt = None
            raise


# ------------------------------------------------------------ update_
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
    target = Target(w, where)
    g = grad_array(g, where)
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


def update_(w, g, opt=None, *, lr=None, gclip=None, comm=None, count=1):
    """update_(w, g, opt=None, *, lr=None, gclip=None, comm=None, count=1):
    one optimization step, in place.

    - ``w`` a Param: uses ``opt``, else ``w.opt``; when both are missing an
      ``SGD(lr=lr or 0.1, gclip=gclip or 0)`` is made and stored in ``w.opt``.
    - ``w`` an array (numpy or KnetArray): ``opt``, else SGD with ``lr``/``gclip``.
    - ``w`` a list/tuple/dict of those: ``g`` (and ``opt`` when given) must
      match it element by element / key by key; a ``None`` gradient skips
      its weight.
    - ``comm`` (``knetpy.distributed``): the weights are broadcast from rank 0
      the first time this communicator sees them, and the gradients are
      averaged over the ranks, weighted by ``count`` (this rank's instances),
      so every rank takes the same step; a rank that fails makes all fail.

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
    if comm is None:
        _collect(w, g, opt, lr, gclip, "w", items)
        run_updates(items)
        return
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
        raise ValueError(f"update_: count must be a non-negative integer, got {count!r}")
    error = None
    try:
        _collect(w, g, opt, lr, gclip, "w", items)
    except Exception as e:                   # every rank learns of it in agree
        error = e
    comm.agree(error, "update_")             # before the broadcast and the exchange
    comm.broadcast_once_([t.param if t.param is not None else t.array for t, _, _, _ in items],
                         names=[str(t.where) for t, _, _, _ in items])
    grads, total, _ = comm.exchange_grads([gi for _, gi, _, _ in items], int(count))
    if total == 0:
        raise ValueError("update_: count is 0 on every rank")
    run_updates([(t, gi, o, s) for (t, _, o, s), gi in zip(items, grads) if gi is not None])
