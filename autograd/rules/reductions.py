"""Reductions: sum, mean, max/min, prod, var/std, cumulative sums and products,
the nan-ignoring forms, sort, median and diff.

Every gradient is written with numpy calls, so it is recorded again when
differentiated a second time."""
import numpy as np

from ..boxes import Value, raw as _raw
from ..core import Primitive
from ..registry import defgrad, register
from ..sparse import Sparse
from .common import _shape


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
    if where is None and x.__class__ is np.ndarray:     # the common case, without lookups
        return broadcast_back(dy if axis is None else _expand(dy, x, axis, keepdims), x.shape)
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


