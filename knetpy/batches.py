"""Batches of data for the training loops: ``minibatch``, ``ncycle``, ``take``.

``minibatch(x, y, 100)`` cuts arrays (instances along axis 0) into batches,
one epoch per ``iter()``; ``ncycle(data, n)`` makes ``n`` epochs of it and
``take(itr, n)`` the first ``n`` items.  Each of them reports where the
iteration is through ``epoch`` (``(epoch, epochs)`` with ``epochs`` None
when unknown, or None when the data is not a ``minibatch``), which the
progress bar shows.
"""
import itertools
import math
import numbers

import numpy as np

__all__ = ["minibatch", "ncycle", "take", "Minibatch", "epoch_of"]


def epoch_of(data):
    """epoch_of(data) -> (epoch, epochs) or None: the 1-based epoch that the
    iteration of ``data`` (a ``minibatch``, ``ncycle``, ``take`` or a training
    iterator over one) is in and the number of epochs when known; None when
    the data is not made of a ``minibatch`` or iteration has not started.

    >>> d = ncycle(minibatch(np.arange(4), 2), 3); it = iter(d); _ = next(it); epoch_of(d)
    (1, 3)
    """
    e = getattr(data, "epoch", None)
    return e if isinstance(e, tuple) else None


# ---------------------------------------------------------------- minibatch
def _converter(t, name):
    if t is None:
        return None
    if isinstance(t, (str, np.dtype)) or t in (float, int, bool, complex) or (
            isinstance(t, type) and issubclass(t, np.generic)):
        try:
            dt = np.dtype(t)
        except TypeError:
            raise TypeError(f"minibatch: {name}={t!r} is not a dtype; give a dtype such as "
                            f"np.float32 or 'float64', or a callable such as KnetArray") from None
        return lambda a: a.astype(dt, copy=False) if hasattr(a, "astype") else np.asarray(a, dt)
    if callable(t):
        return t
    raise TypeError(f"minibatch: {name} must be a dtype, KnetArray or another callable, "
                    f"got {t!r}")


def _instances(a, name):
    if a is None:
        return None
    if not hasattr(a, "shape") or not hasattr(a, "__getitem__"):
        if hasattr(a, "__next__") or (hasattr(a, "__iter__") and not hasattr(a, "__len__")):
            raise TypeError(f"minibatch: {name} must be an array (or a list) with the "
                            f"instances along axis 0, got a {type(a).__name__}, which can be "
                            f"read only once; make it an array first: {name}=np.array(list(...))")
        try:
            a = np.asarray(a)
        except (TypeError, ValueError) as e:
            raise TypeError(f"minibatch: {name} must be an array with the instances along "
                            f"axis 0, got {type(a).__name__} ({e})") from None
        if a.dtype == object and a.ndim == 0:
            raise TypeError(f"minibatch: {name} must be an array with the instances along "
                            f"axis 0, got a {type(a[()]).__name__}")
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
        self._epochs = 0

    @property
    def epoch(self):
        """(epochs begun, None), or None before the first ``iter()``."""
        return (self._epochs, None) if self._epochs else None

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
        self._epochs += 1
        return self._batches()

    def _batches(self):
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
        self._pass = 0

    def __len__(self):
        if self.n is None:
            raise TypeError("ncycle(data): endless, it has no length")
        return self.n * len(self.data)

    @property
    def epoch(self):
        """(pass, n) while iterating over a ``minibatch``; None otherwise."""
        if self._pass and isinstance(self.data, Minibatch):
            return (self._pass, self.n)
        return None

    @property
    def batches_per_epoch(self):
        """len(data) when the data is a ``minibatch``, else None."""
        return len(self.data) if isinstance(self.data, Minibatch) else None

    def __iter__(self):
        passes = itertools.count() if self.n is None else range(self.n)
        for k in passes:
            self._pass = k + 1
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

    @property
    def epoch(self):
        """The epoch of the data taken from, the number of epochs cut to ``n`` items."""
        e = epoch_of(self.itr)
        per = getattr(self.itr, "batches_per_epoch", None)
        if e is None or not per:
            return e
        total = math.ceil(self.n / per)
        return (e[0], total if e[1] is None else min(total, e[1]))

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
