"""Hyperparameter search: concurrent golden-section search and hyperband.

``goldensection(f, n)`` minimizes ``f`` over R^n starting from the zero
vector with unit steps: each dimension keeps its own step size and expected
gain; the dimension with the largest expected gain is tried next; a step
that improves is taken and grown by ``accel`` (the golden ratio), one that
does not is reversed and shrunk.  Search ends when every step is below
``dxmin``.  Map the unit-scale input to your hyperparameters inside ``f``
(e.g. ``lr = 0.01 * exp(x[0])`` to search multiplicatively around 0.01).

``hyperband(getconfig, getloss)`` (Li et al. 2016) spends a resource
budget (epochs, say) on random configurations, repeatedly keeping the best
fraction ``1/reduction`` and giving the survivors ``reduction`` times more.
"""
import math
import numbers

import numpy as np

__all__ = ["goldensection", "hyperband", "golden"]

golden = (1 + math.sqrt(5)) / 2


def _close(a, b):
    """Julia's isapprox for vectors: ||a-b|| <= sqrt(eps) * max(||a||, ||b||)."""
    return np.linalg.norm(a - b) <= math.sqrt(np.finfo(float).eps) * max(np.linalg.norm(a),
                                                                       np.linalg.norm(b))


def _number(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must return a real number, got {type(v).__name__}")
    return float(v)


def goldensection(f, n, dxmin=0.1, accel=golden, verbose=False, history=None, maxevals=None):
    """goldensection(f, n, dxmin=0.1, accel=golden, verbose=False, history=None,
    maxevals=None) -> (fmin, xmin)

    Minimize ``f`` (a function of a float64 vector of length ``n``) with a
    golden-section/hill-climbing search started at ``zeros(n)`` with step 1
    in each dimension.  ``f`` may return NaN for inputs out of range (treated
    as no improvement).

    - ``dxmin``: the smallest step; ``accel``: step growth (shrink 1/accel).
    - ``history``: a list collecting ``(x, f(x))`` pairs; evaluations at a
      point (nearly) equal to one in it are not repeated.
    - ``verbose``: print each step; ``maxevals``: stop after that many calls
      of ``f`` (None: no limit; an ``f`` unbounded below would never stop).

    >>> fmin, xmin = goldensection(lambda x: (x[0] - 2) ** 2 + (x[1] + 1) ** 2, 2)
    >>> round(fmin, 4), np.round(xmin, 1)
    (0.0, array([ 2., -1.]))
    """
    if not callable(f):
        raise TypeError(f"goldensection: f must be callable, got {type(f).__name__}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"goldensection: n must be a positive integer, got {n!r}")
    if not (isinstance(dxmin, numbers.Real) and 0 < dxmin < 1):
        raise ValueError(f"goldensection: dxmin must be in (0, 1), got {dxmin!r}")
    if not (isinstance(accel, numbers.Real) and accel > 1):
        raise ValueError(f"goldensection: accel must be a number > 1, got {accel!r}")
    if history is None:
        history = []
    elif not isinstance(history, list):
        raise TypeError(f"goldensection: history must be a list, got {type(history).__name__}")
    evals = [0]

    def feval(x):
        for k, v in history:
            if np.shape(k) == x.shape and _close(x, np.asarray(k, float)):
                return v
        if maxevals is not None and evals[0] >= maxevals:
            raise _Budget
        evals[0] += 1
        fx = _number(f(x.copy()), "goldensection: f")
        history.append((x.copy(), fx))
        return fx

    x0 = np.zeros(int(n))
    f0 = feval(x0)
    if math.isnan(f0):
        raise ValueError("goldensection: f(zeros(n)) is NaN; the start must be a valid point")
    dx = np.ones(int(n))
    df = np.full(int(n), math.inf)
    try:
        while np.max(np.abs(dx)) >= dxmin:
            i = int(np.argmax(df))
            x1 = x0.copy()
            x1[i] += dx[i]
            f1 = feval(x1)
            if verbose:
                print(f"goldensection: {evals[0]} evaluations: f(x1)={f1:.6g} at x1={x1}; "
                      f"best f0={min(f0, f1) if f1 == f1 else f0:.6g}; "
                      f"largest step {np.max(np.abs(dx)):.3g} (stops below {dxmin})")
            if math.isnan(f1):
                f1 = f0 + df[i]
            if f1 < f0:
                dx[i] *= accel
                df[i] = accel * (f0 - f1)
                x0, f0 = x1, f1
                small = np.abs(dx) < dxmin * accel
                dx[small] = np.sign(dx[small]) * dxmin * accel
                df[small] = np.maximum(df[small], 0)
            else:
                dx[i] = -dx[i] / accel
                df[i] = (f1 - f0) / accel
                if abs(dx[i]) < dxmin:
                    df[i] = -1
    except _Budget:
        if verbose:
            print(f"goldensection: stopped after maxevals={maxevals} evaluations")
    if verbose:
        print(f"goldensection: done after {evals[0]} evaluations: fmin={f0:.6g} at {x0}")
    return f0, x0


class _Budget(Exception):
    """maxevals reached."""


def _successive_halving(getconfig, getloss, n, r, reduction, s, best, report):
    configs = [getconfig() for _ in range(n)]
    for i in range(s + 1):
        ni = math.floor(n / reduction ** i)
        ri = r * reduction ** i
        losses = [_number(getloss(c, ri), "hyperband: getloss") for c in configs]
        order = sorted(range(len(configs)), key=lambda k: (math.isnan(losses[k]), losses[k]))
        if order and losses[order[0]] < best[0]:
            best = (losses[order[0]], ri, configs[order[0]])
        if report is not None:
            top = losses[order[0]] if order else math.nan
            report(f"bracket s={s}, round {i + 1}/{s + 1}: {len(configs)} configurations with "
                   f"resource {ri:g}, best of round {top:.6g}, best so far {best[0]:.6g}")
        configs = [configs[k] for k in order[: math.floor(ni / reduction)]]
    return best


def hyperband(getconfig, getloss, maxresource=27, reduction=3, verbose=False):
    """hyperband(getconfig, getloss, maxresource=27, reduction=3, verbose=False)
    -> (loss, resource, config)

    ``getconfig()`` draws a random configuration; ``getloss(config, r)``
    trains/evaluates it with resource ``r`` (e.g. epochs, a float) and returns
    its loss.  Runs the brackets s = smax, ..., 0 with smax =
    floor(log(maxresource)/log(reduction)); each starts
    ceil((smax+1)/(s+1) * reduction^s) configurations with resource
    maxresource/reduction^s and keeps the best 1/reduction of them per
    round.  Returns the lowest loss seen, with its resource and configuration.
    ``verbose=True`` prints a line per round (bracket, configurations,
    resource, best loss) and the result.

    >>> rs = np.random.default_rng(0)
    >>> loss, r, c = hyperband(lambda: rs.uniform(-5, 5), lambda c, r: (c - 1) ** 2 + 1 / r)
    >>> r, abs(c - 1) < 0.5
    (27.0, True)
    """
    if not callable(getconfig) or not callable(getloss):
        raise TypeError("hyperband: getconfig and getloss must be callable")
    if not (isinstance(maxresource, numbers.Real) and maxresource >= 1):
        raise ValueError(f"hyperband: maxresource must be a number >= 1, got {maxresource!r}")
    if isinstance(reduction, bool) or not isinstance(reduction, numbers.Real) or reduction <= 1:
        raise ValueError(f"hyperband: reduction must be a number > 1, got {reduction!r}")
    smax = int(math.floor(math.log(maxresource) / math.log(reduction) + 1e-9))
    budget = (smax + 1) * maxresource
    best = (math.inf, None, None)
    report = (lambda line: print(f"hyperband: {line}")) if verbose else None
    for s in range(smax, -1, -1):
        n = int(math.ceil(budget / maxresource * reduction ** s / (s + 1)))
        r = maxresource / reduction ** s
        best = _successive_halving(getconfig, getloss, n, r, reduction, s, best, report)
    if report is not None:
        report(f"done: best loss {best[0]:.6g} with resource {best[1]} for {best[2]!r}")
    return best
