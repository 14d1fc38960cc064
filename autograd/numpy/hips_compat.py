"""HIPS autograd's additions to the numpy namespace, for ``autograd.numpy``.

* reductions (``np.mean([x, x + 2])``, ``np.linalg.norm((x, y))``, ...) that
  accept a list or tuple holding recorded values: numpy alone would read the
  list through ``__array__`` and silently drop the tape;
* ``where`` with HIPS's rules: plain Python arguments give Python results
  (``np.where(True, 1, 2) == 1``, lists stay lists) and ``x`` / ``y`` may be
  passed by keyword;
* ``make_diagonal`` (HIPS's inverse of ``np.diagonal``).

>>> import autograd.numpy as np
>>> from autograd import grad
>>> float(grad(lambda x: np.mean([x, x + 2]))(0.0))
1.0
>>> np.where(True, 1, 2)
1
"""
import functools

import numpy as _np

from ..boxes import raw as _raw
from .creation import array, holds_values

__all__ = ["where", "make_diagonal", "listable"]


def listable(fn):
    """listable(fn) -> fn that first packs a list/tuple first argument holding
    recorded values into one recorded array (same name and docstring as fn).

    >>> import numpy
    >>> listable(numpy.sum)([1.0, 2.0])
    np.float64(3.0)
    """
    @functools.wraps(fn)
    def wrapper(a, *args, **kw):
        if isinstance(a, (list, tuple)) and holds_values(a):
            a = array(a)
        return fn(a, *args, **kw)
    return wrapper


_REDUCTIONS = ["sum", "mean", "prod", "std", "var", "max", "min", "amax", "amin", "ptp",
               "average", "median", "cumsum", "cumprod", "nansum", "nanmean", "linalg.norm"]


def _numeric(x):
    if isinstance(x, (_np.ndarray, _np.generic)) or holds_values(x):
        return True
    return isinstance(x, (list, tuple)) and any(_numeric(v) for v in x)


def where(condition, *args, **kwargs):
    """where(condition, x=None, y=None): np.where with HIPS autograd's rules:
    ``x`` and ``y`` may be keywords; when no argument is a numpy array or a
    recorded value the result is a Python value (a list for a list result).

    >>> where([True, False], [1, 2], [3, 4])
    [1, 4]
    >>> where([True, False])[0].tolist()
    [0]
    """
    if not args and not kwargs:
        return _np.where(condition)
    if len(args) + len(kwargs) != 2 or set(kwargs) - {"x", "y"}:
        raise ValueError("where: give both x and y (positionally or as x=, y=) or neither")
    x = args[0] if args else kwargs["x"]
    y = args[1] if len(args) > 1 else kwargs["y"]
    res = _np.where(condition, x, y)
    if _numeric(condition) or _numeric(x) or _numeric(y):
        return res
    return res.tolist() if isinstance(res, _np.ndarray) else res


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    """make_diagonal(D, offset=0, axis1=-1, axis2=-2): HIPS autograd's inverse of
    np.diagonal: an array of shape D.shape + (n,) whose last two axes hold the
    diagonal matrices with D's last axis on their diagonal (differentiable).

    >>> make_diagonal(_np.array([1., 2.]), axis1=-1, axis2=-2)
    array([[1., 0.],
           [0., 2.]])
    """
    if not (offset == 0 and axis1 == -1 and axis2 == -2):
        raise NotImplementedError("make_diagonal: only offset=0, axis1=-1, axis2=-2 is supported")
    return _np.expand_dims(D, -1) * _np.eye(_np.shape(_raw(D))[-1])
