"""Reductions: sum, mean, max/min, prod, var/std, cumulative sums and products,
the nan-ignoring forms, sort, median and diff.

Every gradient is written with numpy calls, so it is recorded again when
differentiated a second time."""
import numpy as np

from ..boxes import Value, raw as _raw
from ..core import Primitive
from ..registry import ASTYPE, COPY, GETITEM, defgrad, register, register_each, zerograd
from ..sparse import Sparse
from .common import _dtype, _fit, _shape


# ------------------------------------------------------------ reductions
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axis) if ndim else ()


def _expand(dy, x, axis, keepdims):
    """dy of a reduction reshaped so that it broadcasts against x."""
    shape = _shape(x)
    if keepdims or not shape:
        return dy
    kept = list(shape)
    for a in _axes(axis, len(shape)):
        kept[a] = 1
    return np.reshape(dy, kept)


def broadcast_back(g, shape):
    """g broadcast to ``shape``: a fresh array, or a recorded broadcast."""
    if isinstance(g, Value):
        return np.broadcast_to(g, shape)
    if g.__class__ is Sparse:
        g = g.dense()
    out = np.empty_like(g, shape=shape)     # empty_like keeps g's array type (device)
    out[...] = g
    return out


def _count(x, axis):
    shape = _shape(x)
    return int(np.prod([shape[a] for a in _axes(axis, len(shape))]))


def _where_mask(where):
    return None if where is None or where is True else _raw(where)


def _sum_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, where=None, **kw):
    where = _where_mask(where)
    if where is not None:
        return broadcast_back(_expand(dy, x, axis, keepdims) * where, _shape(x))
    if axis is None:      # dy is a scalar (or all-ones shape): it broadcasts as it is
        return broadcast_back(dy, _shape(x))
    return broadcast_back(_expand(dy, x, axis, keepdims), _shape(x))


def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """np.sum, calling the reduction directly for ndarrays (saves numpy's Python wrapper)."""
    if a.__class__ is np.ndarray:
        return np.add.reduce(a, axis, dtype, out, keepdims, **kw)
    return np.sum(a, axis, dtype, out, keepdims=keepdims, **kw)


def _mean_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, where=None, **kw):
    where = _where_mask(where)
    if where is not None:
        w = np.broadcast_to(where, _shape(x))
        return _expand(dy, x, axis, keepdims) * w / np.sum(w, axis=axis, keepdims=True)
    return broadcast_back(_expand(dy, x, axis, keepdims) / _count(x, axis), _shape(x))


def _extreme_grad(dy, y, x, axis=None, out=None, keepdims=False, where=None, **kw):
    hit = np.equal(_raw(x), _expand(_raw(y), x, axis, keepdims))
    where = _where_mask(where)
    if where is not None:        # entries left out, or ``initial`` won: no gradient there
        hit = hit & where
    share = hit / np.maximum(np.sum(hit, axis=axis, keepdims=True), 1)
    return _expand(dy, x, axis, keepdims) * share


def _others_product(x, a):
    """For each entry along axis a: the product of the other entries (no division,
    so zeros are fine): exclusive cumulative products from both ends."""
    n = _shape(x)[a]
    one = np.ones_like(np.take(_raw(x), [0], axis=a))
    left = np.cumprod(np.concatenate([one, np.take(x, range(n - 1), axis=a)], a), axis=a)
    rev = np.flip(x, a)
    right = np.flip(np.cumprod(np.concatenate([one, np.take(rev, range(n - 1), axis=a)], a),
                               axis=a), a)
    return left * right


def _prod_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    shape = _shape(x)
    ax = _axes(axis, len(shape))
    if not ax:
        return dy * np.ones(shape)
    if np.any(np.equal(_raw(x), 0)):
        if len(ax) == 1:
            g = _others_product(x, ax[0])
        else:      # reduce over several axes: gather them into one last axis
            rest = [i for i in range(len(shape)) if i not in ax]
            moved = np.reshape(np.transpose(x, rest + list(ax)), [shape[i] for i in rest] + [-1])
            g = np.reshape(_others_product(moved, -1),
                           [shape[i] for i in rest] + [shape[i] for i in ax])
            g = np.transpose(g, np.argsort(rest + list(ax)))
        return _expand(dy, x, axis, keepdims) * g
    return _expand(dy, x, axis, keepdims) * _expand(y, x, axis, keepdims) / x


_sum = register(np.sum, Primitive(_np_sum, (_sum_grad,)))
defgrad(np.mean, _mean_grad)
for _f in (np.max, np.min, np.amax, np.amin):
    defgrad(_f, _extreme_grad)
defgrad(np.prod, _prod_grad)


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


def _std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, **kw):
    """np.std on recorded values: sqrt of np.var."""
    return np.sqrt(_var(x, axis=axis, ddof=ddof, keepdims=keepdims, where=where))


register_each({np.var: _var, np.std: _std})


def _cumsum_grad(dy, y, x, axis=None, dtype=None, out=None):
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(dy))), _shape(x))
    return np.flip(np.cumsum(np.flip(dy, axis), axis=axis), axis)


defgrad(np.cumsum, _cumsum_grad)


def _cumprod_grad(dy, y, x, axis=None, dtype=None, out=None):
    if axis is None:
        return np.reshape(_cumprod_grad(dy, y, np.ravel(x), 0), _shape(x))
    if not np.any(np.equal(_raw(x), 0)):
        # d y_j / d x_i = y_j / x_i for j >= i
        return np.flip(np.cumsum(np.flip(dy * y, axis), axis=axis), axis) / x
    # with zeros: g_i = (prod_{k<i} x_k) * sum_{j>=i} dy_j prod_{i<k<=j} x_k, the
    # inner products taken as cumprods of x with its first i entries set to 1 (n x n)
    xm, dym = np.moveaxis(x, axis, -1), np.moveaxis(dy, axis, -1)
    n = _shape(xm)[-1]
    later = np.arange(n)[None, :] > np.arange(n)[:, None]           # k > i
    spans = np.cumprod(np.where(later, np.expand_dims(xm, -2), 1.0), axis=-1)
    inner = np.sum(spans * np.triu(np.ones((n, n))) * np.expand_dims(dym, -2), axis=-1)
    one = np.ones_like(_raw(xm)[..., :1])
    before = np.cumprod(np.concatenate([one, xm[..., :n - 1]], -1), axis=-1)
    return np.moveaxis(before * inner, -1, axis)


defgrad(np.cumprod, _cumprod_grad)


# ------------------------------------------------------------ more reductions
def _nan_mask(x, where=None):
    ok = np.logical_not(np.isnan(_raw(x)))
    where = _where_mask(where)
    return ok if where is None else ok & where


def _nansum_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, where=None, **kw):
    return _expand(dy, x, axis, keepdims) * _nan_mask(x, where)


def _nanmean_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, where=None,
                  **kw):
    ok = _nan_mask(x, where)
    return _expand(dy, x, axis, keepdims) * ok / np.sum(ok, axis=axis, keepdims=True)


defgrad(np.nansum, _nansum_grad)
defgrad(np.nanmean, _nanmean_grad)
defgrad(np.nanmax, _extreme_grad)      # NaNs never equal the maximum, so they get 0
defgrad(np.nanmin, _extreme_grad)


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


register_each({np.nanvar: _nanvar, np.nanstd: _nanstd, np.ptp: _ptp,
                  np.average: _average, np.sort: _sort, np.median: _median, np.diff: _diff})
