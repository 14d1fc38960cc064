"""Training loops as lazy iterators: minimize and friends, converge, minibatch.

``minimize(f, data, Adam())`` does nothing until iterated; each ``next``
takes one batch, differentiates ``f`` on it, updates every Param that took
part and yields the loss.  So the caller decides how long to train and what
to do along the way::

    for loss in progress(adam(model_loss, ncycle(minibatch(x, y, 100), 10))):
        ...
    converge_(sgd(model_loss, ncycle(dtrn)))      # until the loss stops falling

Each Param keeps its optimizer in ``.opt``; one that already has one keeps
it (with its state), so training can stop and start again without losing
anything.
"""
import math
import numbers

import numpy as np

from autograd.core import Param, raw, diff, grad, params as _params

from .knetarray import KnetArray
from .distributed import Comm, WirePlan
from .batches import Minibatch, epoch_of, minibatch, ncycle, take
from .optim import SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, Optimizer, Rmsprop
from .update import Target, grad_array, run_updates

__all__ = ["minimize", "minimize_", "sgd", "sgd_", "momentum", "momentum_", "nesterov",
           "nesterov_", "adagrad", "adagrad_", "rmsprop", "rmsprop_", "adadelta", "adadelta_",
           "adam", "adam_", "converge", "converge_", "minibatch", "ncycle", "take"]


# ---------------------------------------------------------------- minimize
class Minimize:
    """The iterator ``minimize`` returns; see there.  ``steps`` counts the
    completed updates and ``history`` holds their losses (floats), e.g. for
    ``knetpy.plot.plot_history``.  A step that raises leaves parameters and
    optimizer state as they were, and the iterator can go on with the next
    batch."""

    def __init__(self, f, data, optimizer, params, check_finite, comm=None):
        self.f = f
        self.comm = comm
        self._synced, self._plan, self._seen, self._redone = False, None, set(), False
        self.data = data
        self.optimizer = optimizer
        self.params = params
        self.check_finite = check_finite
        self.steps = 0
        self.history = []
        self._it = None
        self._plist = None

    @property
    def epoch(self):
        """(epoch, epochs) of the data when it is made of a ``minibatch``, else None."""
        if self._it is None:
            return None
        if isinstance(self.data, Minibatch):
            return (1, 1)
        return epoch_of(self.data)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        name = getattr(self.f, "__name__", "f")
        return f"minimize({name}, {self.optimizer!r}, steps={self.steps})"

    def __next__(self):
        if self._it is None:
            self._it = iter(self.data)
        batch = next(self._it)
        step = self.steps + 1
        args = batch if isinstance(batch, tuple) else (batch,)
        if self.comm is not None:
            return self._step_comm(args, step)
        y = diff(self.f, *args)
        loss = raw(y)
        if isinstance(loss, np.ndarray):
            loss = loss.reshape(())[()]
        if self.check_finite and not math.isfinite(float(loss)):
            raise FloatingPointError(f"minimize: the loss of step {step} is {float(loss)}; "
                                     "parameters and optimizer state were left unchanged")
        ps = self.params if self.params is not None else _params(y)
        items = self._items(ps, [grad(y, p) for p in ps], step)
        if not items and self.steps == 0:
            raise ValueError(self._no_param_message(ps))
        run_updates(items, self.check_finite)
        self.steps = step
        self.history.append(float(loss))
        return loss

    def _items(self, ps, grads, step):
        items = []
        for i, (p, g) in enumerate(zip(ps, grads)):
            if g is None:
                continue
            where = _Where(i, p, step)
            target = Target(p, where)
            g = grad_array(g, where)
            if p.opt is None:
                opt = set_opt = self.optimizer.clone()
            else:
                opt, set_opt = p.opt, None
            if not isinstance(opt, Optimizer):
                raise TypeError(f"minimize: the .opt of {where} must be an Optimizer, "
                                f"got {type(opt).__name__}")
            items.append((target, g, opt, set_opt))
        return items

    # ------------------------------------------------------------ with comm=
    def _local(self, args, step, count):
        """This rank's part of a step: (loss, Params, gradients).  A rank with
        an empty batch runs f and its backward too (cross-replica layers
        such as BatchNorm(comm=) exchange statistics there); its loss and
        gradients carry weight 0."""
        y = diff(self.f, *args)
        loss = raw(y)
        loss = float(loss.reshape(())[()] if isinstance(loss, np.ndarray) else loss)
        ps = self.params if self.params is not None else _params(y)
        if not ps and self.steps == 0:
            raise ValueError(self._no_param_message(ps))
        grads = [grad(y, p) for p in ps]
        if self.steps == 0 and self.params is None and not any(g is not None for g in grads) \
                and count:
            raise ValueError(self._no_param_message(ps))
        return (loss if count else 0.0), ps, grads

    def _step_comm(self, args, step):
        comm, error, out = self.comm, None, None
        where = f"minimize: step {step}"
        count = _count(args)
        if not self._synced:                    # rank 0's values before the first step
            known = self.params if self.params is not None else _params(_holders(self.f))
            comm.broadcast_(known, names=[str(_Where(i, p, step)) for i, p in enumerate(known)])
            self._synced, self._plan, self._seen = True, WirePlan(), {id(p) for p in known}
        comm.step_begin()
        try:
            out = self._local(args, step, count)
        except Exception as e:                  # every rank learns of it below
            comm.drain()                        # the collectives others still make
            if count or self._plist is None:
                error = e
            else:                               # an empty batch f cannot take: weight 0
                out = (0.0, self._plist, [None] * len(self._plist))
        if step == 1 and self.steps == 0 and not self._redone:
            # Params that only the tape found (e.g. globals of a plain function):
            # broadcast them and redo the step, on every rank alike
            missing = error is None and any(id(p) not in self._seen for p in out[1])
            if any(comm.agree(error, where, missing)):
                ps = out[1]
                comm.broadcast_(ps, names=[str(_Where(i, p, step)) for i, p in enumerate(ps)])
                comm.step_begin()
                try:
                    out = self._local(args, step, count)
                except Exception as e:
                    error = e
            self._redone = True
        comm.step_end(error is None)
        loss, ps, grads = out if error is None else (0.0, [], [])
        if error is None and ps:
            self._plist = list(ps)
        grads, total, mean = comm.exchange_grads(grads, count, loss, error, where, self._plan)
        if total == 0:
            raise ValueError(f"minimize: step {step}: every rank had an empty batch")
        if self.check_finite and not math.isfinite(mean):
            raise FloatingPointError(f"minimize: the loss of step {step} is {mean}; "
                                     "parameters and optimizer state were left unchanged")
        run_updates(self._items(ps, grads, step), self.check_finite)
        self.steps = step
        self.history.append(mean)
        return mean

    def _no_param_message(self, ps):
        name = getattr(self.f, "__name__", type(self.f).__name__)
        if self.params is None:
            return (f"minimize: the loss {name}(...) uses no Param, so there is nothing to "
                    "train; make the weights with param(...) or Param(array) (a plain numpy "
                    "array such as np.random.randn(...) is a constant to the tape) and use them "
                    "in the loss")
        return (f"minimize: the loss {name}(...) does not depend on any of the {len(ps)} "
                "Params given in params=, so there is nothing to train")


class _Where:
    """Names a parameter in error messages (formatted only when one is raised)."""
    __slots__ = ("i", "p", "step")

    def __init__(self, i, p, step):
        self.i, self.p, self.step = i, p, step

    def __str__(self):
        return f"Param #{self.i} (shape {np.shape(self.p.value)}) at step {self.step}"

    __format__ = lambda self, spec: format(str(self), spec)


def _holders(f):
    """What holds the Params of the loss ``f`` without running it: ``f``
    itself (a model), the object of a bound method and a function's closure."""
    out = [f, getattr(f, "__self__", None)]
    for cell in getattr(f, "__closure__", None) or ():
        try:
            out.append(cell.cell_contents)
        except ValueError:                      # an empty cell
            pass
    return out


def _count(args):
    """The instances of a batch: axis 0 of its first array (1 when it has none)."""
    for a in args:
        s = getattr(a, "shape", None)
        if s is None and isinstance(a, (list, tuple)):
            s = np.shape(a)
        if s is not None and len(s) > 0:
            return int(s[0])
    return 1


def minimize(f, data, optimizer=None, *, params=None, gclip=None, check_finite=False,
             comm=None):
    """minimize(f, data, optimizer=Adam(), *, params=None, gclip=None, check_finite=False,
    comm=None) -> lazy iterator of losses.

    Each iteration takes the next item of ``data`` (a tuple is spread as
    arguments: ``f(*batch)``, anything else is passed as the one argument),
    computes ``diff(f, ...)``, updates the Params and yields the loss.

    - ``optimizer``: the rule given (as a fresh ``clone()``) to every Param
      whose ``.opt`` is None; Params that have one keep it and its state.
    - ``params``: the Params to update (a list, or a model searched with
      ``params``); by default every Param the loss depends on.
    - ``gclip``: gradient norm clipping for the Params that get ``optimizer``.
    - ``check_finite``: raise ``FloatingPointError`` (changing nothing) when
      the loss or a gradient is NaN or infinite.
    - ``comm``: a ``knetpy.distributed`` communicator: data-parallel training
      (parameters broadcast from rank 0 before the first step, gradients
      averaged over the ranks weighted by their instances, the global mean
      loss yielded; see ``knetpy.distributed``).

    >>> w = Param(np.array([3.0]))
    >>> losses = list(minimize(lambda x: np.sum((w - x) ** 2), [1.0] * 3, SGD(lr=0.25)))
    >>> [float(l) for l in losses], w.value
    ([4.0, 1.0, 0.25], array([1.25]))
    """
    if not callable(f):
        raise TypeError(f"minimize: f must be callable, got {type(f).__name__}")
    if optimizer is None:
        optimizer = Adam()
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"minimize: optimizer must be an Optimizer such as Adam(), "
                        f"got {type(optimizer).__name__}")
    if not hasattr(data, "__iter__"):
        raise TypeError(f"minimize: data must be iterable (e.g. minibatch(x, y)), "
                        f"got {type(data).__name__}")
    if gclip is not None:
        optimizer = optimizer.clone()
        optimizer.gclip = gclip
    if params is not None:
        ps = params if isinstance(params, (list, tuple)) and all(
            isinstance(p, Param) for p in params) else _params(params)
        params = list(ps)
    if comm is not None and not isinstance(comm, Comm):
        raise TypeError(f"minimize: comm must be a communicator from distributed.init(), "
                        f"got {type(comm).__name__}")
    return Minimize(f, data, optimizer, params, bool(check_finite), comm)


def _run(itr):
    for _ in itr:
        pass


def minimize_(f, data, optimizer=None, **kw):
    """minimize_(...): like ``minimize`` but runs it to the end; returns None.

    >>> w = Param(np.array([3.0])); minimize_(lambda: np.sum(w * w), [()] * 5, SGD(lr=0.5)); w
    P(array([0.]))
    """
    _run(minimize(f, data, optimizer, **kw))


def _make(cls, name, doc):
    hyper = [h for h in cls.hyper if h != "gclip"]
    defaults = cls()

    def run(f, data, *, params=None, gclip=0, check_finite=False, comm=None, **kw):
        bad = set(kw) - set(hyper)
        if bad:
            raise TypeError(f"{name}: unexpected keyword argument(s) {sorted(bad)}; "
                            f"{cls.__name__} takes {hyper + ['gclip']}")
        return minimize(f, data, cls(gclip=gclip, **kw), params=params,
                        check_finite=check_finite, comm=comm)

    def run_(f, data, **kw):
        _run(run(f, data, **kw))

    sig = ", ".join(f"{h}={getattr(defaults, h):g}" for h in hyper)
    run.__name__, run_.__name__ = name, name + "_"
    run.__qualname__, run_.__qualname__ = name, name + "_"
    run.__doc__ = (f"{name}(f, data, *, {sig}, gclip=0, params=None, check_finite=False, "
                   f"comm=None)\n"
                   f"-> lazy iterator of losses: ``minimize`` with ``{cls.__name__}``"
                   f" ({doc}).\n\n    >>> w = Param(np.array([1.0]))\n"
                   f"    >>> len(list({name}(lambda: np.sum(w * w), [()] * 3)))\n    3\n")
    run_.__doc__ = (f"{name}_(f, data, **kw): run ``{name}(f, data, **kw)`` to the end; "
                    f"returns None.\n\n    >>> w = Param(np.array([1.0]))\n"
                    f"    >>> {name}_(lambda: np.sum(w * w), [()] * 3)\n")
    return run, run_


sgd, sgd_ = _make(SGD, "sgd", "w -= lr*g")
momentum, momentum_ = _make(Momentum, "momentum", "heavy-ball momentum")
nesterov, nesterov_ = _make(Nesterov, "nesterov", "Nesterov momentum")
adagrad, adagrad_ = _make(Adagrad, "adagrad", "steps scaled by the summed squared gradients")
rmsprop, rmsprop_ = _make(Rmsprop, "rmsprop", "steps scaled by a running mean of g^2")
adadelta, adadelta_ = _make(Adadelta, "adadelta", "unit-corrected adaptive steps")
adam, adam_ = _make(Adam, "adam", "bias-corrected moment estimates")


# ---------------------------------------------------------------- converge
class Converge:
    """The iterator ``converge`` returns; see there."""

    def __init__(self, itr, alpha):
        self.itr = itr
        self.alpha = alpha
        self.avgx = None
        self.avgp = 0.0
        self.count = 0
        self._it = None

    def __iter__(self):
        return self

    def __next__(self):
        if self._it is None:
            self._it = iter(self.itr)
        x = next(self._it)
        self.count += 1
        v = _scalar(x, self.count)
        if self.avgx is None:
            self.avgx = v
        p = v - self.avgx
        self.avgx = self.alpha * v + (1 - self.alpha) * self.avgx
        self.avgp = self.alpha * p + (1 - self.alpha) * self.avgp
        if self.avgp > 0:
            raise StopIteration
        return x


def _scalar(x, i):
    try:
        v = float(raw(x).to_numpy() if isinstance(raw(x), KnetArray) else raw(x))
    except (TypeError, ValueError):
        raise TypeError(f"converge: value {i} must be a number, got {type(x).__name__}") from None
    if math.isnan(v):
        raise FloatingPointError(f"converge: value {i} is nan")
    return v


def converge(itr, alpha=0.1):
    """converge(itr, alpha=0.1) -> iterator: the values of ``itr`` until they
    stop decreasing.

    Keeps an exponential average (weight ``alpha``) of the values and of
    their differences from that average; iteration ends, without yielding
    the value that triggered it, as soon as the averaged difference turns
    positive.  A NaN value raises ``FloatingPointError``.

    >>> list(converge([5, 4, 3, 2, 3, 4, 5, 6], alpha=0.5))
    [5, 4, 3, 2, 3]
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha <= 1:
        raise ValueError(f"converge: alpha must be in (0, 1], got {alpha!r}")
    if not hasattr(itr, "__iter__"):
        raise TypeError(f"converge: itr must be iterable, got {type(itr).__name__}")
    return Converge(itr, float(alpha))


def converge_(itr, alpha=0.1):
    """converge_(itr, alpha=0.1): iterate ``converge(itr, alpha)`` to its end; returns None.

    >>> converge_(iter([3.0, 2.0, 1.0, 2.0, 0.5]))
    """
    _run(converge(itr, alpha))
