"""Learning-rate schedules: functions of the step number (1, 2, ...) giving the rate.

An optimizer's ``lr`` may be a number or any function of the step; these are
the usual ones, ready made::

    adam(model, data, lr=schedules.warmup(schedules.cosine(1e-3, steps=10_000), steps=500))

The step is the optimizer's update count ``t`` of the parameter (its first
update is step 1), so a schedule keeps its place when training stops and
resumes with the same Params.
"""
import math
import numbers

__all__ = ["constant", "step", "cosine", "warmup"]


def _positive(fn, name, v, integer=False):
    ok = isinstance(v, numbers.Integral) if integer else isinstance(v, numbers.Real)
    if isinstance(v, bool) or not ok or not v > 0 or not math.isfinite(v):
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{fn}: {name} must be {kind}, got {v!r}")
    return int(v) if integer else float(v)


def _rate(fn, name, v):
    if callable(v) and not isinstance(v, numbers.Number):
        return v
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
        raise ValueError(f"{fn}: {name} must be a non-negative number or a schedule, got {v!r}")
    return float(v)


def _step_number(fn, t):
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 1:
        raise ValueError(f"{fn}: the step must be an integer >= 1, got {t!r}")
    return int(t)


class _Schedule:
    """Base: a picklable, printable function of the step."""
    _fields = ()

    def __repr__(self):
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"schedules.{type(self).__name__.lower()}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None


class Constant(_Schedule):
    """The rate of ``constant(lr)``."""
    _fields = ("lr",)

    def __init__(self, lr):
        self.lr = _rate("constant", "lr", lr)

    def __call__(self, t):
        _step_number("constant", t)
        return self.lr


def constant(lr):
    """constant(lr) -> schedule: ``lr`` at every step.

    >>> constant(0.1)(7)
    0.1
    """
    return Constant(lr)


class Step(_Schedule):
    """The rate of ``step(lr, every, gamma)``."""
    _fields = ("lr", "every", "gamma")

    def __init__(self, lr, every, gamma):
        self.lr = _positive("step", "lr", lr)
        self.every = _positive("step", "every", every, integer=True)
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not 0 < gamma <= 1:
            raise ValueError(f"step: gamma must be in (0, 1], got {gamma!r}")
        self.gamma = float(gamma)

    def __call__(self, t):
        t = _step_number("step", t)
        return self.lr * self.gamma ** ((t - 1) // self.every)


def step(lr, every, gamma=0.1):
    """step(lr, every, gamma=0.1) -> schedule: ``lr`` for the first ``every``
    steps, then ``lr*gamma``, ``lr*gamma**2``, ... (multiplied by ``gamma``
    every ``every`` steps).

    >>> s = step(1.0, every=2, gamma=0.5); [s(t) for t in (1, 2, 3, 4, 5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    return Step(lr, every, gamma)


class Cosine(_Schedule):
    """The rate of ``cosine(lr, steps, min_lr)``."""
    _fields = ("lr", "steps", "min_lr")

    def __init__(self, lr, steps, min_lr):
        self.lr = _positive("cosine", "lr", lr)
        self.steps = _positive("cosine", "steps", steps, integer=True)
        if isinstance(min_lr, bool) or not isinstance(min_lr, numbers.Real) \
                or not 0 <= min_lr <= self.lr:
            raise ValueError(f"cosine: min_lr must be in [0, lr={self.lr}], got {min_lr!r}")
        self.min_lr = float(min_lr)

    def __call__(self, t):
        t = _step_number("cosine", t)
        frac = min(t - 1, self.steps) / self.steps
        return self.min_lr + (self.lr - self.min_lr) * 0.5 * (1 + math.cos(math.pi * frac))


def cosine(lr, steps, min_lr=0.0):
    """cosine(lr, steps, min_lr=0.0) -> schedule: cosine annealing from ``lr``
    at step 1 down to ``min_lr`` at step ``steps + 1``, ``min_lr`` after that.

    >>> c = cosine(1.0, steps=4); [round(c(t), 4) for t in (1, 3, 5, 9)]
    [1.0, 0.5, 0.0, 0.0]
    """
    return Cosine(lr, steps, min_lr)


class Warmup(_Schedule):
    """The rate of ``warmup(lr, steps)``."""
    _fields = ("lr", "steps")

    def __init__(self, lr, steps):
        self.lr = _rate("warmup", "lr", lr)
        self.steps = _positive("warmup", "steps", steps, integer=True)

    def __call__(self, t):
        t = _step_number("warmup", t)
        base = self.lr(t) if callable(self.lr) else self.lr
        return base * min(1.0, t / self.steps)


def warmup(lr, steps):
    """warmup(lr, steps) -> schedule: linear warm-up, ``lr * t/steps`` for the
    first ``steps`` steps and ``lr`` after; ``lr`` may itself be a schedule
    (e.g. ``warmup(cosine(0.1, 1000), 100)``), which the ramp multiplies.

    >>> w = warmup(0.4, steps=4); [w(t) for t in (1, 2, 4, 10)]
    [0.1, 0.2, 0.4, 0.4]
    """
    return Warmup(lr, steps)
