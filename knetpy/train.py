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
import itertools
import math
import numbers

import numpy as np

from autograd.core import Param, _raw, diff, grad, params as _params

from .knetarray import KnetArray
from .optim import (SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, Optimizer, Rmsprop,
                    _grad_array, _run_updates, _Target)

__all__ = ["minimize", "minimize_", "sgd", "sgd_", "momentum", "momentum_", "nesterov",
           "nesterov_", "adagrad", "adagrad_", "rmsprop", "rmsprop_", "adadelta", "adadelta_",
           "adam", "adam_", "converge", "converge_", "minibatch", "ncycle", "take"]


# ---------------------------------------------------------------- minimize
class Minimize:
    """The iterator ``minimize`` returns; see there.  ``steps`` counts the
    completed updates.  A step that raises leaves parameters and optimizer
    state as they were, and the iterator can go on with the next batch."""

    def __init__(self, f, data, optimizer, params, check_finite):
        self.f = f
        self.data = data
        self.optimizer = optimizer
        self.params = params
        self.check_finite = check_finite
        self.steps = 0
        self._it = None

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
        y = diff(self.f, *args)
        loss = _raw(y)
        if isinstance(loss, np.ndarray):
            loss = loss.reshape(())[()]
        if self.check_finite and not math.isfinite(float(loss)):
            raise FloatingPointError(f"minimize: the loss of step {step} is {float(loss)}; "
                                     "parameters and optimizer state were left unchanged")
        ps = self.params if self.params is not None else _params(y)
        items = []
        for i, p in enumerate(ps):
            g = grad(y, p)
            if g is None:
                continue
            where = _Where(i, p, step)
            target = _Target(p, where)
            g = _grad_array(g, where)
            if p.opt is None:
                opt = set_opt = self.optimizer.clone()
            else:
                opt, set_opt = p.opt, None
            if not isinstance(opt, Optimizer):
                raise TypeError(f"minimize: the .opt of {where} must be an Optimizer, "
                                f"got {type(opt).__name__}")
            items.append((target, g, opt, set_opt))
        _run_updates(items, self.check_finite)
        self.steps = step
        return loss


class _Where:
    """Names a parameter in error messages (formatted only when one is raised)."""
    __slots__ = ("i", "p", "step")

    def __init__(self, i, p, step):
        self.i, self.p, self.step = i, p, step

    def __str__(self):
        return f"Param #{self.i} (shape {np.shape(self.p.value)}) at step {self.step}"

    __format__ = lambda self, spec: format(str(self), spec)


def minimize(f, data, optimizer=None, *, params=None, gclip=None, check_finite=False):
    """minimize(f, data, optimizer=Adam(), *, params=None, gclip=None, check_finite=False)
    -> lazy iterator of losses.

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
    return Minimize(f, data, optimizer, params, bool(check_finite))


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

    def run(f, data, *, params=None, gclip=0, check_finite=False, **kw):
        bad = set(kw) - set(hyper)
        if bad:
            raise TypeError(f"{name}: unexpected keyword argument(s) {sorted(bad)}; "
                            f"{cls.__name__} takes {hyper + ['gclip']}")
        return minimize(f, data, cls(gclip=gclip, **kw), params=params,
                        check_finite=check_finite)

    def run_(f, data, **kw):
        _run(run(f, data, **kw))

    sig = ", ".join(f"{h}={getattr(defaults, h):g}" for h in hyper)
    run.__name__, run_.__name__ = name, name + "_"
    run.__qualname__, run_.__qualname__ = name, name + "_"
    run.__doc__ = (f"{name}(f, data, *, {sig}, gclip=0, params=None, check_finite=False)\n"
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
        v = float(_raw(x).to_numpy() if isinstance(_raw(x), KnetArray) else _raw(x))
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


# ---------------------------------------------------------------- minibatch
def _converter(t, name):
    if t is None:
        return None
    if isinstance(t, (str, np.dtype)) or t in (float, int, bool, complex) or (
            isinstance(t, type) and issubclass(t, np.generic)):
        dt = np.dtype(t)
        return lambda a: a.astype(dt, copy=False) if hasattr(a, "astype") else np.asarray(a, dt)
    if callable(t):
        return t
    raise TypeError(f"minibatch: {name} must be a dtype, KnetArray or another callable, "
                    f"got {t!r}")


def _instances(a, name):
    if a is None:
        return None
    if not hasattr(a, "shape") or not hasattr(a, "__getitem__"):
        a = np.asarray(a)
    if len(a.shape) == 0:
        raise ValueError(f"minibatch: {name} must have an instance axis 0, got a 0-d array")
    return a


def _check_size(size, a, name):
    if size is None:
        return None
    if not isinstance(size, (tuple, list)) or not all(
            isinstance(s, numbers.Integral) and (s > 0 or s == -1) for s in size) or not size:
        raise ValueError(f"minibatch: {name} must be a tuple of positive ints (the shape of "
                         f"the data, instances first), got {size!r}")
    rest = tuple(int(s) for s in size[1:])
    have = int(np.prod(a.shape[1:]))
    want = int(np.prod([s for s in rest if s != -1]))
    if (-1 not in rest and want != have) or (-1 in rest and (want == 0 or have % want)) \
            or rest.count(-1) > 1:
        raise ValueError(f"minibatch: {name}={tuple(size)} does not fit instances of shape "
                         f"{tuple(a.shape[1:])}")
    return rest


class Minibatch:
    """The iterable ``minibatch`` returns: one epoch per ``iter()``; ``len()``
    is the number of batches in an epoch."""

    def __init__(self, x, y, batchsize, shuffle, partial, xtype, ytype, xsize, ysize, seed):
        self.x, self.y = x, y
        self.n = x.shape[0]
        self.batchsize = batchsize
        self.shuffle = shuffle
        self.partial = partial
        self._xconv, self._yconv = _converter(xtype, "xtype"), _converter(ytype, "ytype")
        self._xsize = _check_size(xsize, x, "xsize")
        self._ysize = _check_size(ysize, y, "ysize") if y is not None else None
        if ysize is not None and y is None:
            raise ValueError("minibatch: ysize given but there is no y")
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self):
        full, rest = divmod(self.n, self.batchsize)
        return full + (1 if rest and self.partial else 0)

    def __repr__(self):
        return (f"minibatch({self.n} instances, batchsize={self.batchsize}, "
                f"shuffle={self.shuffle}, partial={self.partial}: {len(self)} batches)")

    def _order(self):
        if not self.shuffle:
            return None
        from .init import rng
        return (self._rng or rng()).permutation(self.n)

    def _take(self, a, ids, conv, size):
        b = a[ids]
        if size is not None:
            b = b.reshape((b.shape[0],) + size)
        return conv(b) if conv is not None else b

    def __iter__(self):
        order = self._order()
        for k in range(len(self)):
            lo, hi = k * self.batchsize, min((k + 1) * self.batchsize, self.n)
            ids = slice(lo, hi) if order is None else order[lo:hi]
            xb = self._take(self.x, ids, self._xconv, self._xsize)
            if self.y is None:
                yield xb
            else:
                yield xb, self._take(self.y, ids, self._yconv, self._ysize)


def minibatch(x, y=None, batchsize=100, *, shuffle=False, partial=False, xtype=None,
              ytype=None, xsize=None, ysize=None, seed=None):
    """minibatch(x, y=None, batchsize=100, *, shuffle=False, partial=False,
    xtype=None, ytype=None, xsize=None, ysize=None, seed=None) -> re-iterable of batches.

    Instances are along axis 0 of ``x`` (and ``y``, which must have as many).
    Iterating gives ``x[i:i+b]`` batches, or ``(xb, yb)`` pairs when ``y`` is
    given; each ``iter()`` is a new epoch.  ``minibatch(x, 32)`` (an int as
    second argument) means ``batchsize=32``.

    - ``shuffle``: a new random order every epoch, drawn from
      ``np.random.default_rng(seed)`` when ``seed`` is given, otherwise from
      knetpy's generator (``knetpy.seed(n)`` makes it reproducible).
    - ``partial``: also yield the last, shorter batch.
    - ``xtype``/``ytype``: convert each batch: a dtype (``np.float32``) or a
      callable such as ``KnetArray``.
    - ``xsize``/``ysize``: reshape each batch to this shape of the whole data,
      instances first (the first entry is replaced by the batch length).

    >>> d = minibatch(np.arange(10), np.arange(10) % 2, 4, partial=True)
    >>> len(d), [b.tolist() for b, _ in d]
    (3, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    """
    if isinstance(y, numbers.Integral) and not isinstance(y, bool) and batchsize == 100:
        y, batchsize = None, y
    if isinstance(batchsize, bool) or not isinstance(batchsize, numbers.Integral) or batchsize < 1:
        raise ValueError(f"minibatch: batchsize must be a positive integer, got {batchsize!r}")
    x, y = _instances(x, "x"), _instances(y, "y")
    if y is not None and y.shape[0] != x.shape[0]:
        raise ValueError(f"minibatch: x has {x.shape[0]} instances (axis 0) but y has "
                         f"{y.shape[0]}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or seed < 0):
        raise ValueError(f"minibatch: seed must be a non-negative integer, got {seed!r}")
    return Minibatch(x, y, int(batchsize), bool(shuffle), bool(partial), xtype, ytype, xsize,
                     ysize, seed)


# ---------------------------------------------------------------- repeating and cutting
class _NCycle:
    def __init__(self, data, n):
        self.data, self.n = data, n

    def __len__(self):
        if self.n is None:
            raise TypeError("ncycle(data): endless, it has no length")
        return self.n * len(self.data)

    def __iter__(self):
        passes = itertools.count() if self.n is None else range(self.n)
        for _ in passes:
            empty = True
            for b in self.data:
                empty = False
                yield b
            if empty:
                return


def ncycle(data, n=None):
    """ncycle(data, n=None) -> iterable: ``n`` passes over the re-iterable
    ``data`` (endless when n is None), calling ``iter(data)`` anew for each
    pass, so a shuffling ``minibatch`` reshuffles every epoch.  Has a
    ``len()`` when ``n`` and ``len(data)`` are known.

    >>> list(ncycle([1, 2], 3))
    [1, 2, 1, 2, 1, 2]
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0):
        raise ValueError(f"ncycle: n must be a non-negative integer or None, got {n!r}")
    if iter(data) is data:
        raise TypeError("ncycle: data must be re-iterable (a list, minibatch(...)); "
                        "a one-shot iterator would be empty after the first pass")
    return _NCycle(data, n)


class _Take:
    def __init__(self, itr, n):
        self.itr, self.n = itr, n

    def __len__(self):
        try:
            return min(self.n, len(self.itr))
        except TypeError:
            return self.n

    def __iter__(self):
        return itertools.islice(self.itr, self.n)


def take(itr, n):
    """take(itr, n) -> iterable of the first ``n`` items of ``itr`` (with a ``len()``).

    >>> list(take(ncycle([1, 2]), 5))
    [1, 2, 1, 2, 1]
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"take: n must be a non-negative integer, got {n!r}")
    return _Take(itr, int(n))
