"""Joining functions built on the differentiable concatenate/where.

Each one follows numpy's documented shape rules and is differentiable
because it only calls recorded primitives.
"""
import numpy as np

from ..core import _raw
from .creation import array, holds_values


def _arr(x):
    return array(x) if holds_values(x) else np.asarray(x)


def column_stack(tup):
    """column_stack(tup): 1-D arrays become columns, 2-D arrays are joined as
    they are, all along axis 1 (numpy's rule), differentiably.

    >>> column_stack([np.ones(3), np.zeros(3)]).shape
    (3, 2)
    """
    cols = []
    for v in tup:
        v = _arr(v)
        if np.ndim(_raw(v)) < 2:
            v = np.reshape(v, (-1, 1))
        cols.append(v)
    return np.concatenate(cols, axis=1)


def dstack(tup):
    """dstack(tup): join along the third axis after making every array 3-D
    (numpy's ``atleast_3d`` rule), differentiably.

    >>> dstack([np.ones((2, 2)), np.zeros((2, 2))]).shape
    (2, 2, 2)
    """
    return np.concatenate([np.atleast_3d(_arr(v)) for v in tup], axis=2)


def row_stack(tup):
    """row_stack(tup): the same as ``vstack`` (kept for old HIPS code).

    >>> row_stack([np.ones(2), np.zeros(2)]).shape
    (2, 2)
    """
    return np.vstack([_arr(v) for v in tup])


def append(arr, values, axis=None):
    """append(arr, values, axis=None): ``values`` joined after ``arr``; both are
    flattened when ``axis`` is None (numpy's rule), differentiably.

    >>> append(np.ones(2), [3.0, 4.0])
    array([1., 1., 3., 4.])
    """
    arr, values = _arr(arr), _arr(values)
    if axis is None:
        arr = np.ravel(arr) if np.ndim(_raw(arr)) != 1 else arr
        values = np.ravel(values)
        axis = np.ndim(_raw(arr)) - 1
    return np.concatenate([arr, values], axis=axis)


def select(condlist, choicelist, default=0):
    """select(condlist, choicelist, default=0): for each element, the entry of
    the first choice whose condition holds, else ``default``; differentiable
    in the choices and the default.

    >>> select([np.array([True, False])], [np.array([1.0, 2.0])], -1.0)
    array([ 1., -1.])
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if not holds_values(choicelist) and not holds_values(default):
        return np.select([_raw(c) for c in condlist], choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist and choicelist must have the same length, "
                         f"got {len(condlist)} and {len(choicelist)}")
    if not condlist:
        raise ValueError("select: condlist must hold at least one condition")
    out = _arr(default)
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        cond = np.asarray(_raw(cond))
        if cond.dtype != bool:
            raise TypeError(f"select: conditions must be boolean arrays, got {cond.dtype}")
        out = np.where(cond, _arr(choice), out)
    shape = np.broadcast_shapes(*[np.shape(_raw(c)) for c in condlist],
                                *[np.shape(_raw(c)) for c in choicelist])
    if np.shape(_raw(out)) != shape:
        out = np.broadcast_to(out, shape)
    return out
