"""Composite statistics and signal functions, defined through other registered
functions (their gradients come from the tape): var, std and their nan forms,
ptp, average, sort, median, diff, gradient, convolve, correlate, cross, meshgrid,
cov, corrcoef, trapezoid, quantile, percentile, ediff1d."""
import numpy as np

from ..boxes import raw as _raw
from ..core import Primitive
from ..registry import register, register_each
from .common import _shape
from .products import _matmul
from .reductions import _count, _nan_mask, _where_mask


def _var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, **kw):
    """np.var on recorded values (mean of squared deviations, composite)."""
    where = _where_mask(where)
    if where is not None:
        n = np.sum(np.broadcast_to(where, _shape(x)), axis=axis, keepdims=keepdims)
        d = x - np.mean(x, axis=axis, keepdims=True, where=where)
        return np.sum(d * d, axis=axis, keepdims=keepdims, where=where) / (n - ddof)
    n = _count(x, axis)
    d = x - np.mean(x, axis=axis, keepdims=True)
    return np.sum(d * d, axis=axis, keepdims=keepdims) / (n - ddof)


def std_of_var(var, x, axis):
    """std_of_var(var, x, axis): np.std from np.var of x over axis: sqrt(var), but
    var itself (0, gradient 0, as in HIPS) over a single element, where sqrt's
    gradient would give 0 * inf = nan.

    >>> float(std_of_var(np.float64(4.0), np.ones(3), None))
    2.0"""
    return var if _count(x, axis) <= 1 else np.sqrt(var)


def _std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, **kw):
    """np.std on recorded values: sqrt of np.var (see std_of_var)."""
    return std_of_var(_var(x, axis=axis, ddof=ddof, keepdims=keepdims, where=where), x, axis)


register_each({np.var: _var, np.std: _std})


def _nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    ok = _nan_mask(a)
    n = np.sum(ok, axis=axis, keepdims=keepdims)
    d = np.where(ok, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    return np.sum(d * d, axis=axis, keepdims=keepdims) / (n - ddof)


def _nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    return np.sqrt(_nanvar(a, axis=axis, ddof=ddof, keepdims=keepdims))


def _ptp(a, axis=None, out=None, keepdims=False):
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


def _average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if weights is None:
        avg = np.mean(a, axis=axis, keepdims=keepdims)
        wsum = np.broadcast_to(np.asarray(_count(a, axis), dtype=float), np.shape(_raw(avg)))
        return (avg, wsum) if returned else avg
    w = weights
    if _shape(w) != _shape(a):
        if axis is None or np.ndim(_raw(w)) != 1:
            raise ValueError("average: weights must have the shape of a, or be 1-D along a "
                             "single axis=")
        ax = axis % len(_shape(a))
        w = np.reshape(w, [-1 if i == ax else 1 for i in range(len(_shape(a)))])
    wsum = np.sum(w * np.ones(_shape(a)), axis=axis, keepdims=keepdims)
    avg = np.sum(a * w, axis=axis, keepdims=keepdims) / wsum
    return (avg, wsum) if returned else avg


def _sort(a, axis=-1, kind=None, order=None, **kw):
    if axis is None:
        a, axis = np.ravel(a), 0
    return np.take_along_axis(a, np.argsort(_raw(a), axis=axis, kind=kind), axis=axis)


def _median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    if axis is None:
        a, ax = np.ravel(a), 0
    else:
        ax = axis % len(_shape(a))
    s = _sort(a, axis=ax)
    n = _shape(s)[ax]
    mid = np.take(s, [n // 2] if n % 2 else [n // 2 - 1, n // 2], axis=ax)
    m = np.mean(mid, axis=ax, keepdims=True)
    if keepdims:
        return np.reshape(m, [1] * len(_shape(a))) if axis is None else m
    return np.squeeze(m, axis=ax)


def _diff(a, n=1, axis=-1, prepend=None, append=None):
    if prepend is not None or append is not None:
        ax = axis % len(_shape(a))
        parts = []
        for extra in (prepend, None, append):
            if extra is None:
                continue
            shape = list(_shape(a))
            shape[ax] = 1
            parts.append(np.broadcast_to(extra, shape) if np.ndim(_raw(extra)) == 0 else extra)
        a = np.concatenate(([parts[0]] if prepend is not None else []) + [a]
                           + ([parts[-1]] if append is not None else []), axis=ax)
    ax = axis % len(_shape(a))
    for _ in range(n):
        m = _shape(a)[ax]
        lead = (slice(None),) * ax
        a = a[lead + (slice(1, m),)] - a[lead + (slice(0, m - 1),)]
    return a


def gradient(f, *varargs, axis=None, edge_order=1):
    """np.gradient(f, *varargs, axis=None, edge_order=1) on recorded values: central
    differences inside, one-sided ones (of order edge_order) at the ends; scalar
    spacings only.

    >>> np.gradient(np.array([1., 4., 9., 16.]))
    array([3., 4., 6., 7.])"""
    nd = np.ndim(_raw(f))
    axes = tuple(range(nd)) if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(a % nd for a in axes)
    spacing = list(varargs) if len(varargs) == len(axes) else list(varargs) * len(axes) \
        if len(varargs) == 1 else [1.0] * len(axes)
    outs = []
    for ax, h in zip(axes, spacing):
        if np.ndim(h) != 0:
            raise NotImplementedError("np.gradient: only scalar spacings are differentiable")
        g = np.moveaxis(f, ax, 0)
        mid = (g[2:] - g[:-2]) / 2.0
        if edge_order == 1:
            first, last = g[1:2] - g[:1], g[-1:] - g[-2:-1]
        else:
            first = (-3.0 * g[:1] + 4.0 * g[1:2] - g[2:3]) / 2.0
            last = (3.0 * g[-1:] - 4.0 * g[-2:-1] + g[-3:-2]) / 2.0
        outs.append(np.moveaxis(np.concatenate([first, mid, last], 0) / h, 0, ax))
    return outs[0] if len(outs) == 1 else tuple(outs)


register_each({np.nanvar: _nanvar, np.nanstd: _nanstd, np.ptp: _ptp,
               np.average: _average, np.sort: _sort, np.median: _median, np.diff: _diff,
               np.gradient: gradient})


# ------------------------------------------------------------ signals, statistics
def _convolve(a, v, mode="full"):
    return np.convolve(a, v, mode)


def _full_dy(dy, na, nv, mode):
    """dy of convolve(a, v, mode) placed inside zeros of the 'full' output length."""
    if mode == "full":
        return dy
    n_full, n = na + nv - 1, _shape(dy)[0]
    start = (n_full - n) // 2          # both 'same' and 'valid' are centred windows
    return np.pad(dy, (start, n_full - n - start))


def _convolve_grad(i):
    def g(dy, y, a, v, mode="full"):
        full = _full_dy(dy, _shape(a)[0], _shape(v)[0], mode)
        return correlate(full, v if i == 0 else a, "valid")
    return g


_convolve_prim = Primitive(_convolve, (_convolve_grad(0), _convolve_grad(1)))


def convolve(a, v, mode="full"):
    """np.convolve(a, v, mode="full") on recorded 1-D values; each input's
    gradient is a 'valid' correlation of the (full-length) output gradient.

    >>> from autograd import grad
    >>> grad(lambda a: np.sum(np.convolve(a, np.array([1., 2.]))))(np.zeros(3))
    array([3., 3., 3.])
    """
    if np.ndim(_raw(a)) != 1 or np.ndim(_raw(v)) != 1:
        raise ValueError("convolve: a and v must be 1-D")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"convolve: mode must be 'full', 'same' or 'valid', got {mode!r}")
    return _convolve_prim(a, v, mode)


def correlate(a, v, mode="valid"):
    """np.correlate(a, v, mode="valid") on recorded real 1-D values (a convolution
    with v reversed).

    >>> float(np.correlate(np.array([1., 2., 3.]), np.array([0., 1.]))[0])
    2.0
    """
    if np.iscomplexobj(_raw(v)):
        v = np.conj(v)
    return convolve(a, np.flip(v), mode)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross(a, b) on recorded values (2- or 3-vectors along axisa / axisb).

    >>> np.cross(np.array([1., 0, 0]), np.array([0., 1, 0]))
    array([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    na, nb = _shape(a)[-1], _shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got {na} and {nb}")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    a2 = a[..., 2] if na == 3 else 0.0
    b2 = b[..., 2] if nb == 3 else 0.0
    c = np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z], axis=-1)
    return np.moveaxis(c, -1, axisc)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """np.meshgrid(*xi) on recorded values: each input reshaped (and broadcast)
    along its own axis.

    >>> [g.shape for g in np.meshgrid(np.ones(2), np.ones(3))]
    [(3, 2), (3, 2)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    n = len(xi)
    sizes = [int(np.size(_raw(x))) for x in xi]
    order = list(range(n))
    if indexing == "xy" and n > 1:
        order[0], order[1] = 1, 0
    full = [sizes[order[k]] for k in range(n)]
    out = []
    for i, x in enumerate(xi):
        shape = [1] * n
        shape[order.index(i)] = -1
        g = np.reshape(x, shape)
        out.append(g if sparse else np.broadcast_to(g, full))
    return tuple(out)


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """np.cov(m, y=None, rowvar=True, bias=False, ddof=None) on recorded values
    (no frequency/analytic weights).

    >>> float(np.cov(np.array([1., 2., 3.])))
    1.0
    """
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights= and aweights= are not supported on "
                                  "recorded values")
    x = np.atleast_2d(m)
    if not rowvar and _shape(x)[0] != 1:
        x = np.transpose(x)
    if y is not None:
        y = np.atleast_2d(y)
        if not rowvar and _shape(y)[0] != 1:
            y = np.transpose(y)
        x = np.concatenate([x, y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = _shape(x)[1]
    d = x - np.mean(x, axis=1, keepdims=True)
    return np.squeeze(_matmul(d, np.transpose(d)) / (n - ddof))


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """np.corrcoef(x, y=None, rowvar=True) on recorded values.

    >>> np.corrcoef(np.array([1., 2., 3.]), np.array([2., 4., 7.])).shape
    (2, 2)
    """
    c = cov(x, y, rowvar)
    if np.ndim(_raw(c)) == 0:
        return c / c
    sd = np.sqrt(np.diagonal(c))
    return c / np.reshape(sd, (-1, 1)) / np.reshape(sd, (1, -1))


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """np.trapezoid(y, x=None, dx=1.0, axis=-1) on recorded values (y and x differentiable).

    >>> float(np.trapezoid(np.array([0., 1., 2.])))
    2.0
    """
    nd = np.ndim(_raw(y))
    ax = axis % nd
    n = _shape(y)[ax]
    lead = (slice(None),) * ax
    mid = (y[lead + (slice(1, n),)] + y[lead + (slice(0, n - 1),)]) / 2
    if x is None:
        return np.sum(mid * dx, axis=ax)
    d = np.diff(x)
    if np.ndim(_raw(x)) == 1:
        d = np.reshape(d, [-1 if i == ax else 1 for i in range(nd)])
    else:
        d = np.diff(x, axis=ax)
    return np.sum(mid * d, axis=ax)


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
    """np.quantile(a, q, axis=None, keepdims=False) on recorded values, with the
    default linear interpolation (q is not differentiated).

    >>> float(np.quantile(np.array([1., 2., 3., 4.]), 0.5))
    2.5
    """
    if method != "linear" or weights is not None or out is not None:
        raise NotImplementedError("quantile: only method='linear' without weights= or out= "
                                  "is supported on recorded values")
    qa = np.asarray(_raw(q), dtype=float)
    shape = _shape(a)
    nd = len(shape)
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(i % nd for i in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    rest = [i for i in range(nd) if i not in axes]
    flat = np.reshape(np.transpose(a, rest + list(axes)), [shape[i] for i in rest] + [-1])
    s = _sort(flat, axis=-1)
    n = _shape(s)[-1]
    pos = np.ravel(qa) * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    lower, upper = np.take(s, lo, axis=-1), np.take(s, hi, axis=-1)
    res = lower + (upper - lower) * (pos - lo)          # (*rest, q.size)
    res = np.moveaxis(res, -1, 0)
    if keepdims:
        kept = [1 if i in axes else shape[i] for i in range(nd)]
        return np.reshape(res, qa.shape + tuple(kept))
    return np.reshape(res, qa.shape + tuple(shape[i] for i in rest))


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None):
    """np.percentile(a, q, ...) on recorded values: quantile at q / 100.

    >>> float(np.percentile(np.array([1., 2., 3., 4.]), 50))
    2.5
    """
    return quantile(a, np.asarray(_raw(q), dtype=float) / 100, axis, out, overwrite_input,
                    method, keepdims, weights=weights)


def ediff1d(ary, to_end=None, to_begin=None):
    """np.ediff1d on recorded values: differences of the flattened array.

    >>> np.ediff1d(np.array([1., 4., 9.]))
    array([3., 5.])
    """
    d = np.diff(np.ravel(ary))
    parts = ([np.ravel(to_begin)] if to_begin is not None else []) + [d] + \
        ([np.ravel(to_end)] if to_end is not None else [])
    return np.concatenate(parts) if len(parts) > 1 else d


register_each({np.convolve: convolve, np.correlate: correlate, np.cross: cross,
                  np.meshgrid: meshgrid, np.cov: cov, np.corrcoef: corrcoef,
                  np.quantile: quantile, np.percentile: percentile, np.ediff1d: ediff1d})
if hasattr(np, "trapezoid"):
    register(np.trapezoid, trapezoid)
