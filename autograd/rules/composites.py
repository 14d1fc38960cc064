"""Composite functions: numpy functions defined here through other registered
functions (their gradients come from the tape): hstack, vstack, split, tile,
vsplit/hsplit/dsplit, dstack, column_stack, append, diag, tensordot, inner, outer,
kron, vdot, nanprod, nancumsum, delete, block, linspace, partition, rollaxis, ...
(Statistics: statistics.py.)"""
import numpy as np

from ..boxes import raw as _raw
from ..registry import defgrad, register, register_each
from .common import _shape
from .products import _T, _matmul
from .shapes import _concat_prim, _diagonal_prim, _undiagonal_prim, astype, concatenate, stack


def hstack(tup, **kw):
    """np.hstack(tup) on recorded values (1-D inputs join along axis 0, others along 1).

    >>> np.hstack([np.ones(2), np.zeros(1)]).shape
    (3,)"""
    arrs = [np.atleast_1d(a) for a in tup]
    return _concat_prim(0 if np.ndim(_raw(arrs[0])) == 1 else 1, *arrs)


def vstack(tup, **kw):
    """np.vstack(tup) on recorded values (inputs made at least 2-D, joined along axis 0).

    >>> np.vstack([np.ones(2), np.zeros(2)]).shape
    (2, 2)"""
    return _concat_prim(0, *[np.atleast_2d(a) for a in tup])


def split(ary, indices_or_sections, axis=0):
    """np.split(ary, indices_or_sections, axis=0) on recorded values: a list of
    recorded slices (sections must divide the axis evenly).

    >>> [p.shape for p in np.split(np.ones((4, 2)), 2)]
    [(2, 2), (2, 2)]"""
    n = _shape(ary)[axis]
    if np.ndim(indices_or_sections) == 0:
        k = int(indices_or_sections)
        if n % k:
            raise ValueError(f"split: array of length {n} does not divide into {k} equal parts")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0] + list(indices_or_sections) + [n]
    lead = (slice(None),) * (axis % len(_shape(ary)))
    return [ary[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


def array_split(ary, indices_or_sections, axis=0):
    """np.array_split(ary, indices_or_sections, axis=0) on recorded values: like
    split, but the first n % k parts get one extra element.

    >>> [p.shape for p in np.array_split(np.ones(5), 2)]
    [(3,), (2,)]"""
    if np.ndim(indices_or_sections) == 0:
        n, k = _shape(ary)[axis], int(indices_or_sections)
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        indices_or_sections = list(np.cumsum(sizes)[:-1])
    return split(ary, indices_or_sections, axis)


register_each({np.concatenate: concatenate, np.stack: stack, np.hstack: hstack,
                  np.vstack: vstack, np.split: split, np.array_split: array_split})


def _split_along(name, axis_of):
    def f(ary, indices_or_sections):
        return split(ary, indices_or_sections, axis_of(np.ndim(_raw(ary))))
    f.__name__ = name
    f.__doc__ = f"np.{name}(ary, indices_or_sections) on recorded values: np.split along a fixed axis."
    return f


register_each({np.hstack: hstack, np.vstack: vstack, np.split: split,
               np.array_split: array_split,
               np.vsplit: _split_along("vsplit", lambda nd: 0),
               np.hsplit: _split_along("hsplit", lambda nd: 1 if nd > 1 else 0),
               np.dsplit: _split_along("dsplit", lambda nd: 2)})


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """np.linspace on recorded ends: start * (1 - t) + stop * t, linear in both.

    >>> np.linspace(np.float64(0.0), np.float64(1.0), 3)
    array([0. , 0.5, 1. ])"""
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    nd = np.ndim(np.broadcast(_raw(start), _raw(stop)))
    y = start * (1 - np.reshape(t, (-1,) + (1,) * nd)) + stop * np.reshape(t, (-1,) + (1,) * nd)
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    if dtype is not None:
        y = y.astype(dtype)
    if not retstep:
        return y
    div = (num - 1) if endpoint else num
    return y, (stop - start) / div if div > 0 else np.nan


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """np.partition on recorded values: a permutation (take_along_axis of argpartition).

    >>> np.partition(np.array([3., 1., 2.]), 1)
    array([1., 2., 3.])"""
    if axis is None:
        a, axis = np.ravel(a), 0
    idx = np.argpartition(_raw(a), kth, axis=axis, kind=kind, order=order)
    return np.take_along_axis(a, idx, axis=axis)


def rollaxis(a, axis, start=0):
    """np.rollaxis(a, axis, start=0) on recorded values, as a transpose.

    >>> np.rollaxis(np.ones((2, 3, 4)), 2).shape
    (4, 2, 3)"""
    n = np.ndim(_raw(a))
    axis, start = axis % n, start + n if start < 0 else start
    if axis < start:
        start -= 1
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return np.transpose(a, order)


register_each({np.linspace: linspace, np.partition: partition, np.rollaxis: rollaxis})


def _tile(x, reps):
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    shape = _shape(x)
    d = max(len(shape), len(reps))
    x = np.reshape(x, (1,) * (d - len(shape)) + shape)
    reps = (1,) * (d - len(reps)) + reps
    shape = _shape(x)
    inter = []
    for r, n in zip(reps, shape):
        inter += [r, n]
    b = np.broadcast_to(np.reshape(x, tuple(v for n in shape for v in (1, n))), inter)
    return np.reshape(b, tuple(r * n for r, n in zip(reps, shape)))


register(np.tile, _tile)


def _dstack(tup):
    return np.concatenate([np.atleast_3d(a) for a in tup], axis=2)


def _column_stack(tup):
    return np.concatenate([np.reshape(a, (-1, 1)) if np.ndim(_raw(a)) < 2 else a
                           for a in tup], axis=1)


def _append(arr, values, axis=None):
    if axis is None:
        return np.concatenate([np.ravel(arr), np.ravel(values)])
    return np.concatenate([arr, values], axis=axis)


def diag(v, k=0):
    """np.diag(v, k=0) on recorded values: the k-th diagonal of a 2-D v, or the
    square matrix with 1-D v on its k-th diagonal.

    >>> np.diag(np.array([1., 2.]), 1).shape
    (3, 3)"""
    nd = np.ndim(_raw(v))
    if nd == 1:
        n = _shape(v)[0] + abs(k)
        return _undiagonal_prim(v, (n, n), k, 0, 1)
    if nd == 2:
        return _diagonal_prim(v, k, 0, 1)
    raise ValueError(f"diag: v must be 1-D or 2-D, got {nd}-D")


def diagflat(v, k=0):
    """np.diagflat(v, k=0) on recorded values: diag of the flattened v.

    >>> np.diagflat(np.ones((2, 2))).shape
    (4, 4)"""
    return diag(np.ravel(v), k)


defgrad(np.triu, lambda dy, y, m, k=0: np.triu(dy, k))
defgrad(np.tril, lambda dy, y, m, k=0: np.tril(dy, k))

register_each({np.dstack: _dstack, np.column_stack: _column_stack, np.append: _append,
                  np.diag: diag, np.diagflat: diagflat})


# ------------------------------------------------------------ more products
def _axes_pair(axes, na, nb):
    if np.ndim(axes) == 0:
        k = int(axes)
        return list(range(na - k, na)), list(range(k))
    ax_a, ax_b = axes
    ax_a = [ax_a] if np.ndim(ax_a) == 0 else list(ax_a)
    ax_b = [ax_b] if np.ndim(ax_b) == 0 else list(ax_b)
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: axes must pair up, got {axes}")
    return [i % na for i in ax_a], [i % nb for i in ax_b]


def tensordot(a, b, axes=2):
    """np.tensordot as transposes, reshapes and one matmul (all recorded)."""
    sa, sb = _shape(a), _shape(b)
    ax_a, ax_b = _axes_pair(axes, len(sa), len(sb))
    free_a = [i for i in range(len(sa)) if i not in ax_a]
    free_b = [i for i in range(len(sb)) if i not in ax_b]
    k = int(np.prod([sa[i] for i in ax_a]))
    # the free sizes spelled out: -1 is ambiguous when k == 0 (empty contracted axes)
    a2 = np.reshape(np.transpose(a, free_a + ax_a), (int(np.prod([sa[i] for i in free_a])), k))
    b2 = np.reshape(np.transpose(b, ax_b + free_b), (k, int(np.prod([sb[i] for i in free_b]))))
    return np.reshape(_matmul(a2, b2), [sa[i] for i in free_a] + [sb[i] for i in free_b])


def inner(a, b):
    """np.inner(a, b) on recorded values: sum over the last axes of a and b.

    >>> float(np.inner(np.array([1., 2.]), np.array([3., 4.])))
    11.0"""
    if np.ndim(_raw(a)) == 0 or np.ndim(_raw(b)) == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def outer(a, b, out=None):
    """np.outer(a, b) on recorded values: flattened a times flattened b.

    >>> np.outer(np.ones(2), np.ones(3)).shape
    (2, 3)"""
    return np.reshape(a, (-1, 1)) * np.reshape(b, (1, -1))


def kron(a, b):
    """np.kron(a, b) on recorded values, as a broadcast product and a reshape.

    >>> np.kron(np.eye(2), np.ones((2, 2))).shape
    (4, 4)"""
    na, nb = np.ndim(_raw(a)), np.ndim(_raw(b))
    nd = max(na, nb)
    sa = (1,) * (nd - na) + _shape(a)
    sb = (1,) * (nd - nb) + _shape(b)
    a = np.reshape(a, [v for n in sa for v in (n, 1)])
    b = np.reshape(b, [v for n in sb for v in (1, n)])
    return np.reshape(a * b, [m * n for m, n in zip(sa, sb)])


def vdot(a, b):
    """np.vdot(a, b) on recorded values: sum of conj(a) * b over the flattened arrays.

    >>> float(np.vdot(np.ones((2, 2)), np.ones((2, 2))))
    4.0"""
    if np.iscomplexobj(_raw(a)):
        a = np.conj(a)
    return np.sum(np.ravel(a) * np.ravel(b))


register_each({np.tensordot: tensordot, np.inner: inner, np.outer: outer, np.kron: kron,
               np.vdot: vdot})


# ------------------------------------------------------------ more composites
def _no_nan(x, fill):
    return np.where(np.isnan(_raw(x)), fill, x)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """np.nanprod on recorded values (NaNs count as 1).

    >>> float(np.nanprod(np.array([2., np.nan, 3.])))
    6.0
    """
    return np.prod(_no_nan(a, 1.0), axis=axis, keepdims=keepdims)


def nancumsum(a, axis=None, dtype=None, out=None):
    """np.nancumsum on recorded values (NaNs count as 0).

    >>> np.nancumsum(np.array([1., np.nan, 2.]))
    array([1., 1., 3.])
    """
    return np.cumsum(_no_nan(a, 0.0), axis=axis)


def nancumprod(a, axis=None, dtype=None, out=None):
    """np.nancumprod on recorded values (NaNs count as 1).

    >>> np.nancumprod(np.array([2., np.nan, 3.]))
    array([2., 2., 6.])
    """
    return np.cumprod(_no_nan(a, 1.0), axis=axis)


def _cumulative(fn, first):
    def f(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        if axis is None:
            if np.ndim(_raw(x)) != 1:
                raise ValueError(f"{fn.__name__}: axis= is required for arrays of more than "
                                 "one dimension")
            axis = 0
        y = fn(x, axis=axis)
        if include_initial:
            shape = list(_shape(x))
            shape[axis] = 1
            y = np.concatenate([np.full(shape, first), y], axis=axis)
        return y
    f.__name__ = f"cumulative_{'sum' if first == 0 else 'prod'}"
    f.__doc__ = (f"np.{f.__name__}(x, axis=None, include_initial=False) on recorded values.")
    return f


def unstack(x, /, *, axis=0):
    """np.unstack(x, axis=0) on recorded values: the slices along axis.

    >>> len(np.unstack(np.ones((3, 2))))
    3
    """
    ax = axis % np.ndim(_raw(x))
    return tuple(x[(slice(None),) * ax + (i,)] for i in range(_shape(x)[ax]))


def delete(arr, obj, axis=None):
    """np.delete(arr, obj, axis=None) on recorded values: a read of the kept entries.

    >>> np.delete(np.arange(4.), [1, 2])
    array([0., 3.])
    """
    if axis is None:
        arr, axis = np.ravel(arr), 0
    ax = axis % np.ndim(_raw(arr))
    keep = np.ones(_shape(arr)[ax], bool)
    keep[_raw(obj)] = False
    return arr[(slice(None),) * ax + (np.flatnonzero(keep),)]


def block(arrays):
    """np.block(arrays) on recorded values (nested lists joined from the inside out).

    >>> np.block([[np.ones((1, 2)), np.zeros((1, 1))]]).shape
    (1, 3)
    """
    def depth(a):
        return 1 + depth(a[0]) if isinstance(a, list) else 0

    d = depth(arrays)
    if d == 0:
        return arrays

    def join(a, level):
        if not isinstance(a, list):
            return a
        parts = [join(b, level + 1) for b in a]
        ndim = max(d, max(np.ndim(_raw(p)) for p in parts))
        parts = [np.reshape(p, (1,) * (ndim - np.ndim(_raw(p))) + _shape(p)) for p in parts]
        return np.concatenate(parts, axis=-(d - level))
    return join(arrays, 0)


register_each({np.nanprod: nanprod, np.nancumsum: nancumsum, np.nancumprod: nancumprod,
                  np.delete: delete, np.block: block})
if hasattr(np, "cumulative_sum"):
    register_each({np.cumulative_sum: _cumulative(np.cumsum, 0.0),
                      np.cumulative_prod: _cumulative(np.cumprod, 1.0), np.unstack: unstack,
                      np.matrix_transpose: lambda x, /: _T(x),
                      np.astype: lambda x, dtype, /, *, copy=True, **k:
                      astype(x, dtype)})
