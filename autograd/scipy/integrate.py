"""autograd.scipy.integrate: ``odeint`` with gradients by the adjoint method.

``odeint(func, y0, t, args=(), **options)`` solves dy/dt = func(y, t, *args)
with scipy's LSODA and is differentiable (first order) in ``y0``, the times
``t`` and every array in ``args`` (which may hold nested lists, tuples and
dicts of arrays, e.g. a network's parameters).  The backward pass integrates the adjoint
system backwards between consecutive output times, taking the needed
vector-Jacobian products of ``func`` on a fresh tape, so ``func`` must be
written with numpy operations.  Parameters must reach ``func`` through
``args`` (values captured in a closure are treated as constants).  Other
scipy.integrate functions are available and refuse values being
differentiated.

>>> import numpy as np
>>> from autograd import grad
>>> f = lambda y0: odeint(lambda y, t: -y, y0, np.array([0.0, 1.0]))[-1, 0]
>>> grad(f)(np.array([2.0])).round(5)       # d/dy0 of y0 exp(-1)
array([0.36788])
"""
import numpy as np
import scipy.integrate as _si

from ..core import Primitive, Value, _raw, record, sweep
from ..util import forward_getattr
from ._wrap import reexport

__all__ = ["odeint"]

_OPTION_BLOCKLIST = ("Dfun", "full_output", "tfirst", "col_deriv")


def _flatten(tree, leaves):
    """Leaves of nested lists/tuples/dicts (in order) and a function rebuilding
    the structure from a new sequence of leaves."""
    if isinstance(tree, (list, tuple)):
        builders = [_flatten(v, leaves) for v in tree]
        kind = type(tree)
        return lambda it: kind(b(it) for b in builders)
    if isinstance(tree, dict):
        keys = list(tree)
        builders = [_flatten(tree[k], leaves) for k in keys]
        return lambda it: {k: b(it) for k, b in zip(keys, builders)}
    leaves.append(tree)
    return lambda it: next(it)


class _Func:
    """func(y, t, *args) called with the args rebuilt from flat leaves."""

    def __init__(self, func, rebuild):
        self.func, self.rebuild = func, rebuild

    def __call__(self, y, t, *leaves):
        return self.func(y, t, *self.rebuild(iter(leaves)))


def _solve(func, options, y0, t, *leaves):
    return _si.odeint(func, y0, t, args=tuple(leaves), **options)


def _vjps(func, y, t, args, g):
    """(f(y, t, *args), [g^T df/dy, g^T df/dt, g^T df/dargs...]) on a fresh tape."""
    n = 2 + len(args)
    tape, out = record(func, (y, t) + tuple(args), {}, tuple(range(n)))
    fy = np.asarray(_raw(out.value), dtype=float)
    sweep(tape, out, g)
    grads = []
    for r in tape.roots:
        gr = tape.grads[id(r)][1]
        v = _raw(r.value)
        grads.append(np.zeros(np.shape(v)) if gr is None else
                     np.asarray(gr.dense() if hasattr(gr, "dense") else _raw(gr), dtype=float)
                     .reshape(np.shape(v)))
    return fy, grads


def _flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays]) if arrays else np.zeros(0)


def _unflat(vec, like):
    out, i = [], 0
    for a in like:
        n = int(np.size(a))
        out.append(np.reshape(vec[i:i + n], np.shape(a)))
        i += n
    return out


def _adjoint(func, options, yt, g, t, args):
    """Gradients of sum(g * yt) with respect to y0, t and args."""
    T, D = yt.shape
    args = [np.asarray(a, dtype=float) for a in args]
    P = sum(int(a.size) for a in args)

    def augmented(state, s):
        y, adj = state[:D], state[D:2 * D]
        fy, (gy, gt, *gargs) = _vjps(func, y, s, args, -adj)
        return np.concatenate([fy, gy, np.ravel(gt), _flat(gargs)])

    adj = g[-1].copy()
    adj_t0, adj_args = 0.0, np.zeros(P)
    time_grads = []
    for i in range(T - 1, 0, -1):
        g_t = float(np.dot(np.ravel(func(yt[i], t[i], *args)), g[i]))
        time_grads.append(g_t)
        adj_t0 -= g_t
        state = np.concatenate([yt[i], adj, [adj_t0], adj_args])
        back = _si.odeint(augmented, state, np.array([t[i], t[i - 1]]), **options)[1]
        adj = back[D:2 * D] + g[i - 1]
        adj_t0 = back[2 * D]
        adj_args = back[2 * D + 1:]
    time_grads.append(adj_t0)
    return adj, np.array(time_grads[::-1]), _unflat(adj_args, args)


def _grad(i, dy, yt, func, options, y0, t, *args):
    if isinstance(dy, Value):
        raise NotImplementedError("odeint: only first-order gradients are supported")
    key = (id(dy), id(yt))
    cache = _grad.cache
    if cache.get("key") != key:     # one adjoint solve serves every argument
        cache["key"] = key
        cache["value"] = _adjoint(func, options, np.asarray(yt), np.asarray(dy),
                                  np.asarray(t, dtype=float), args)
        cache["refs"] = (dy, yt)    # keep the ids valid while cached
    gy0, gt, gargs = cache["value"]
    if i == 2:
        return np.reshape(gy0, np.shape(y0))
    if i == 3:
        return np.reshape(gt, np.shape(t))
    return np.reshape(gargs[i - 4], np.shape(args[i - 4]))


_grad.cache = {}
_odeint_prim = Primitive(_solve, (None, None), nary_grad=_grad)


def odeint(func, y0, t, args=(), **options):
    """odeint(func, y0, t, args=(), **options): y at the times t (shape (len(t),
    len(y0))) for dy/dt = func(y, t, *args), differentiable in y0, t and args.

    ``options`` are scipy.integrate.odeint's (rtol, atol, mxstep, ...);
    Dfun, full_output, tfirst and col_deriv are not supported.

    >>> ys = odeint(lambda y, t, k: -k * y, np.array([1.0]), np.array([0.0, 2.0]), (0.5,))
    >>> round(float(ys[-1, 0]), 5)
    0.36788
    """
    bad = [k for k in _OPTION_BLOCKLIST if options.get(k)]
    if bad:
        raise ValueError(f"odeint: options {bad} are not supported")
    if np.ndim(_raw(y0)) != 1:
        raise ValueError(f"odeint: y0 must be a vector, got shape {np.shape(_raw(y0))}")
    if not isinstance(args, tuple):
        args = (args,)
    leaves = []
    rebuild = _flatten(args, leaves)
    return _odeint_prim(_Func(func, rebuild), options, y0, t, *leaves)


reexport(_si, "scipy.integrate", globals())


__getattr__ = forward_getattr(_si, __name__)  # every other name of scipy.integrate
