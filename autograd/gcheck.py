"""Numerical gradient checking (AutoGrad.jl's gcheck)."""
import numpy as np

from .core import Param, _raw, diff, grad, params
from .sparse import Sparse


def gcheck(f, *args, kw=None, nsample=10, atol=0.01, rtol=0.05, delta=1e-4, verbose=1):
    """gcheck(f, *args, kw=None, nsample=10, atol=0.01, rtol=0.05, delta=1e-4, verbose=1) -> bool

    Compare the gradient that ``diff`` computes for ``f(*args, **kw)`` (its sum
    when not a scalar) with central differences, for up to ``nsample`` random
    entries of every Param it uses: those in ``args`` and ``kw`` and those the
    function captures.  Params are checked in float64.  ``verbose`` 0 prints
    nothing, 1 the failures, 2 every comparison.

    >>> w = Param(np.random.randn(3, 2))
    >>> gcheck(lambda x: np.sum(np.tanh(x @ w)), np.ones((4, 3)))
    True
    """
    kw = {} if kw is None else kw

    def loss():
        y = f(*args, **kw)
        return y if np.ndim(_raw(y)) == 0 else np.sum(y)

    found = {id(p): p for p in params(list(args)) + params(kw)}
    saved = {}
    for p in list(found.values()):
        saved[id(p)] = p.value
        p.value = np.array(p.value, dtype=np.float64) if np.iscomplexobj(p.value) is False \
            else np.array(p.value)
    try:
        y = diff(loss)
        for p in params(y):
            if id(p) not in found:
                found[id(p)] = p
                saved[id(p)] = p.value
                p.value = np.array(p.value, dtype=np.float64)
        if not found:
            y = diff(loss)
        ok = True
        rng = np.random.default_rng(0)
        for p in found.values():
            g = grad(y, p)
            g = np.zeros_like(p.value) if g is None else g.dense() if isinstance(g, Sparse) \
                else np.asarray(_raw(g), dtype=np.float64)
            v = p.value
            picks = np.arange(v.size) if v.size <= nsample else \
                rng.choice(v.size, nsample, replace=False)
            for i in picks:
                old = v.flat[i]
                v.flat[i] = old + delta
                fplus = float(np.real(_raw(loss())))
                v.flat[i] = old - delta
                fminus = float(np.real(_raw(loss())))
                v.flat[i] = old
                numeric = (fplus - fminus) / (2 * delta)
                analytic = float(np.real(g.flat[i]))
                good = abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric))
                if verbose >= 2 or (verbose >= 1 and not good):
                    print(f"gcheck: {'ok  ' if good else 'FAIL'} param{v.shape}[{i}] "
                          f"analytic={analytic:.6g} numeric={numeric:.6g}")
                ok &= good
        return bool(ok)
    finally:
        for p in found.values():
            if id(p) in saved:
                p.value = saved[id(p)]
