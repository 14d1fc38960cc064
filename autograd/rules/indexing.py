"""Indexing: x[index] (a Sparse gradient outside higher order), take,
take_along_axis.

Every gradient is written with numpy calls, so it is recorded again when
differentiated a second time."""
import numpy as np

from ..boxes import Value, raw as _raw
from ..core import Primitive
from ..registry import GETITEM, defgrad, register
from ..sparse import Sparse
from .common import _dtype, _shape


# ------------------------------------------------------------ indexing
def _untake(dy, index, shape):
    out = np.zeros(shape, np.result_type(dy))
    np.add.at(out, index, dy)
    return out


_untake_prim = Primitive(_untake, (lambda ddy, y, dy, index, shape: ddy[index],))


def _getitem_grad(dy, y, x, index):
    if isinstance(dy, Value):
        return _untake_prim(dy, index, _shape(x))
    return Sparse(_shape(x), _dtype(x), [(index, dy)])


def _getitem(x, index):
    return x[index]


_getitem_prim = Primitive(_getitem, (_getitem_grad,))


def _as_index(i):
    """An index list/range as an array; an empty one is intp as numpy takes it (not float64)."""
    return np.asarray(i, dtype=np.intp) if isinstance(i, (list, range)) and not len(i) \
        else np.asarray(i)


def getitem(x, index):
    """x[index] on a recorded value, for every numpy index kind.  Outside higher
    order its gradient is a Sparse holding only what was read.

    >>> from autograd import Param, diff, grad
    >>> e = Param(np.ones((1000, 4)))
    >>> grad(diff(lambda: np.sum(e[[3, 3]])), e).rows()[0]
    array([3])"""
    if isinstance(index, Value) or isinstance(index, (tuple, list)) and any(
            isinstance(i, Value) for i in index):
        index = type(index)(_raw(i) for i in index) if isinstance(index, (tuple, list)) \
            else _raw(index)
    if isinstance(index, list):
        index = _as_index(index)
    return _getitem_prim(x, index)


register(GETITEM, getitem)


def take(a, indices, axis=None, out=None, mode="raise"):
    """np.take(a, indices, axis=None) on recorded values (an indexing read).

    >>> from autograd import grad
    >>> grad(lambda a: np.sum(np.take(a, [0, 0, 2])))(np.zeros(3))
    array([2., 0., 1.])"""
    if axis is None:
        return getitem(np.ravel(a), _as_index(_raw(indices)))
    return getitem(a, (slice(None),) * (axis % len(_shape(a))) + (_as_index(_raw(indices)),))


register(np.take, take)


def _take_along_axis(arr, indices, axis):
    return np.take_along_axis(arr, indices, axis)


def _take_along_grad(dy, y, arr, indices, axis):
    if axis is None:
        return np.reshape(_take_along_grad(dy, y, np.ravel(arr), indices, 0), _shape(arr))
    idx = list(np.ix_(*[np.arange(n) for n in _shape(indices)]))
    idx[axis % len(idx)] = indices
    return _getitem_grad(dy, y, arr, tuple(idx))


defgrad(np.take_along_axis, _take_along_grad)
