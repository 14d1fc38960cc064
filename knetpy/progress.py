"""progress: a live progress line for any iterator (built on tqdm).

``for loss in progress(adam(f, data)): ...`` prints, and keeps rewriting,

    42.00%|############4                 | 252/600 [00:03<00:04, 80.12it/s] 0.412307

percent done, count, elapsed<remaining time, rate (``s/it`` when slower than
one per second) and, at the end, a message: by default the last value when
it is a number.  For a training iterator (``adam(...)`` and friends) the
message labels it: ``epoch 2/10 ema 0.4301 loss 0.412307``, the epoch when
the data is a ``minibatch`` (see ``knetpy.batches.epoch_of``) and an
exponential moving average of the loss beside the last one.  Iterators
without a length show only the count, time and rate.
"""
import numbers
import sys
import time

import numpy as np
from tqdm import tqdm

from autograd.core import raw

from .batches import epoch_of
from .train import Minimize

__all__ = ["progress", "progress_", "Progress"]


class _Bar(tqdm):
    monitor_interval = 0      # no monitor thread: we decide when to redraw


_KNOWN = "{percentage:6.2f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]"
_UNKNOWN = "{n_fmt} [{elapsed}, {rate_fmt}]"


def _number(v):
    """v as a Python int/float when it is a real number (or a 1-element array), else None."""
    c = v.__class__
    if c is float or c is int:            # the common cases first: a training loss
        return v
    if c is np.float32 or c is np.float64:
        return float(v)
    try:
        a = raw(v)
        a = a.to_numpy() if hasattr(a, "to_numpy") else a
        if isinstance(a, (numbers.Number, np.generic)) or (
                isinstance(a, np.ndarray) and a.size == 1 and a.dtype.kind in "biuf"):
            x = np.asarray(a).reshape(()).item()
            return x if isinstance(x, (int, float)) else None
    except Exception:
        pass
    return None


def _fmt(v):
    if isinstance(v, str):
        return v
    x = _number(v)
    if x is None:
        return None
    return f"{x:.6g}" if isinstance(x, float) else str(x)


class Progress:
    """Progress(itr, msg=None, steps=None, seconds=None, file=sys.stderr, total=None,
    ncols=None): the iterable ``progress`` returns.

    While iterating, ``currval`` is the latest value, ``curriter`` the
    number of values so far and ``ema`` the exponential moving average of
    the numeric values (weight ``smoothing`` for the newest, bias-corrected
    as in Adam; None before the first number); a ``msg`` callable receives
    this object.
    """
    smoothing = 0.1

    def __init__(self, itr, msg=None, steps=None, seconds=None, file=None, total=None,
                 ncols=None):
        self.itr = itr
        self.msg = msg
        self.steps = steps
        self.seconds = 1.0 if steps is None and seconds is None else seconds
        self.file = file
        self.total = total
        self.ncols = ncols
        self.currval = None
        self.curriter = 0
        self.ema = None
        self._acc, self._w = 0.0, 0.0

    def _smooth(self, x):
        v = _number(x)
        if v is None or v != v:                                  # NaN: leave the average alone
            return
        a = self.smoothing
        self._acc = (1 - a) * self._acc + a * v
        self._w = (1 - a) * self._w + a
        self.ema = self._acc / self._w

    def __len__(self):
        return len(self.itr)

    def _total(self):
        if self.total is not None:
            return self.total
        try:
            return len(self.itr)
        except (TypeError, AttributeError, NotImplementedError):
            return None

    def message(self):
        """The text shown at the end of the line for the current state."""
        if self.msg is None:
            m = _fmt(self.currval) if self.curriter else None
            if m is None or not isinstance(self.itr, Minimize):
                return m or ""
            e = epoch_of(self.itr)
            ep = "" if e is None else f"epoch {e[0]}/{'?' if e[1] is None else e[1]} "
            ema = "" if self.ema is None else f"ema {self.ema:.4g} "
            return f"{ep}{ema}loss {m}"
        if callable(self.msg):
            out = self.msg(self)
            m = _fmt(out)
            return m if m is not None else str(out)
        return str(self.msg)

    def _draw(self, bar, fmt):
        m = self.message().replace("{", "{{").replace("}", "}}")
        bar.bar_format = fmt + (" " + m if m else "")
        bar.n = self.curriter
        bar.refresh()

    def __iter__(self):
        total = self._total()
        fmt = _KNOWN if total is not None else _UNKNOWN
        file = sys.stderr if self.file is None else self.file
        bar = _Bar(total=total, file=file, bar_format=fmt, mininterval=0, miniters=0,
                   smoothing=0, ncols=self.ncols, dynamic_ncols=self.ncols is None
                   and hasattr(file, "isatty") and file.isatty())
        self.curriter, self.currval, self.ema, self._acc, self._w = 0, None, None, 0.0, 0.0
        smooth = isinstance(self.itr, Minimize) or self.msg is not None
        steps, seconds = self.steps, self.seconds
        last = time.monotonic()
        drawn = 0
        try:
            for x in self.itr:
                self.curriter += 1
                self.currval = x
                if smooth:
                    self._smooth(x)
                i = self.curriter
                if i == 1 or (steps and i % steps == 0) or (
                        seconds is not None and time.monotonic() - last >= seconds):
                    self._draw(bar, fmt)
                    last, drawn = time.monotonic(), i
                yield x
        finally:
            if drawn != self.curriter:
                self._draw(bar, fmt)
            bar.close()


def _check(steps, seconds):
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, numbers.Integral)
                              or steps < 1):
        raise ValueError(f"progress: steps must be a positive integer, got {steps!r}")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, numbers.Real)
                                or not seconds >= 0):
        raise ValueError(f"progress: seconds must be a non-negative number, got {seconds!r}")


def progress(itr, msg=None, steps=None, seconds=None, file=None, total=None, ncols=None):
    """progress(itr, msg=None, steps=None, seconds=None, file=sys.stderr, total=None,
    ncols=None) -> iterable yielding what ``itr`` yields while drawing a progress line.

    - ``msg``: what to show at the end of the line: None (the last value if it
      is a number), a string, or a callable taking the ``Progress`` object
      (fields ``currval``, ``curriter``) and returning a string or number.
    - ``steps``/``seconds``: redraw every ``steps`` values or every
      ``seconds`` seconds (default: every second), plus the first and last.
    - ``total``: the length when ``len(itr)`` is unknown; ``ncols``: line width.

    >>> import io; out = io.StringIO()
    >>> [x for x in progress([0.5, 0.25], file=out, steps=1)]
    [0.5, 0.25]
    >>> last = out.getvalue().split("\\r")[-1]; last[:14], last.strip().endswith("it/s] 0.25")
    ('100.00%|######', True)
    """
    _check(steps, seconds)
    if not hasattr(itr, "__iter__"):
        raise TypeError(f"progress: itr must be iterable, got {type(itr).__name__}")
    if total is not None and (isinstance(total, bool) or not isinstance(total, numbers.Integral)
                              or total < 0):
        raise ValueError(f"progress: total must be a non-negative integer, got {total!r}")
    return Progress(itr, msg, steps, seconds, file, total, ncols)


def progress_(itr, msg=None, steps=None, seconds=None, file=None, total=None, ncols=None):
    """progress_(itr, ...): iterate ``progress(itr, ...)`` to the end; returns None.

    >>> import io; progress_(range(3), file=io.StringIO())
    """
    for _ in progress(itr, msg, steps, seconds, file, total, ncols):
        pass
