"""Array creation from Python lists that may hold recorded values.

numpy's ``np.array([x, y])`` reads each element through ``__array__`` and so
would silently drop the tape.  Here a list holding recorded values becomes
one recorded primitive per nesting level, whose gradient hands each element
its slice of the output gradient.
"""
import numpy as np

from ..core import Primitive, Value, _raw

_SEQ = (list, tuple)


def holds_values(obj):
    """True when obj is a recorded value or a (nested) list/tuple holding one."""
    if isinstance(obj, Value):
        return True
    if isinstance(obj, _SEQ):
        return any(holds_values(o) for o in obj)
    return False


def _pack(*items):
    shapes = {np.shape(i) for i in items}
    if len(shapes) > 1:
        raise ValueError(f"array: the elements of a list must all have the same shape, "
                         f"got shapes {sorted(shapes)}")
    return np.array(items)


_pack_prim = Primitive(_pack, (), nary_grad=lambda i, dy, y, *items: dy[i])


def array(object, dtype=None, copy=True, order="K", subok=False, ndmin=0, like=None):
    """array(object, dtype=None, copy=True, order='K', subok=False, ndmin=0):
    numpy's ``np.array`` that also accepts (nested) lists of recorded values.

    A recorded value stays on the tape; a list holding recorded values is
    packed by a differentiable primitive (one per nesting level).  Without
    recorded values this is exactly ``numpy.array``.

    >>> from autograd import grad
    >>> float(grad(lambda x: np.sum(array([[x, 1.0], [2.0, x * x]])))(3.0))
    7.0
    """
    if not holds_values(object):
        kw = {} if like is None else {"like": like}
        return np.array(object, dtype=dtype, copy=copy, order=order, subok=subok,
                        ndmin=ndmin, **kw)
    if isinstance(object, Value):
        out = object
    else:
        out = _pack_prim(*[array(o) for o in object])
    if dtype is not None and np.dtype(dtype) != np.result_type(_raw(out)):
        out = out.astype(dtype)
    if ndmin > np.ndim(_raw(out)):
        out = np.reshape(out, (1,) * (ndmin - np.ndim(_raw(out))) + np.shape(_raw(out)))
    return out


def asarray(a, dtype=None, order=None, **kw):
    """asarray(a, dtype=None, order=None): like ``numpy.asarray``; recorded values
    are returned as they are and lists holding them are packed as ``array``.

    >>> asarray([1, 2]).dtype.kind
    'i'
    """
    if holds_values(a):
        return array(a, dtype=dtype, copy=False)
    return np.asarray(a, dtype=dtype, order=order, **kw)


def asanyarray(a, dtype=None, order=None, **kw):
    """asanyarray(a, dtype=None, order=None): same as ``asarray`` here."""
    if holds_values(a):
        return array(a, dtype=dtype, copy=False)
    return np.asanyarray(a, dtype=dtype, order=order, **kw)


def full(shape, fill_value, dtype=None, order="C", **kw):
    """full(shape, fill_value, dtype=None): an array of ``shape`` filled with
    ``fill_value``, differentiable in a recorded fill value (its gradient is
    the sum of the output gradient, broadcast back).

    >>> from autograd import grad
    >>> float(grad(lambda v: np.sum(full((2, 3), v)))(1.5))
    6.0
    """
    if not holds_values(fill_value):
        return np.full(shape, fill_value, dtype=dtype, order=order, **kw)
    value = array(fill_value)
    dtype = np.result_type(_raw(value)) if dtype is None else dtype
    return np.zeros(shape, dtype) + value


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kw):
    """full_like(a, fill_value, dtype=None, shape=None): ``full`` with the shape
    (and dtype) of ``a``; differentiable in a recorded fill value.

    >>> full_like(np.ones(2), 3.0)
    array([3., 3.])
    """
    shape = np.shape(_raw(a)) if shape is None else shape
    if not holds_values(fill_value):
        return np.full_like(_raw(a), fill_value, dtype=dtype, order=order, subok=subok,
                            shape=shape, **kw)
    return full(shape, fill_value, np.result_type(_raw(a)) if dtype is None else dtype)


# ------------------------------------------------------------------ r_ / c_
class _Concatenator:
    """Index-expression concatenation (``r_``/``c_``) that keeps recorded values
    on the tape.  Without recorded items numpy's own object does the work."""

    def __init__(self, plain, axis, ndmin, trans1d):
        self._plain = plain
        self._axis, self._ndmin, self._trans1d = axis, ndmin, trans1d

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not any(holds_values(k) for k in items):
            return self._plain[key]
        axis, ndmin, trans1d = self._axis, self._ndmin, self._trans1d
        if isinstance(items[0], str):
            spec, items = items[0], items[1:]
            if spec in ("r", "c"):
                raise ValueError(f"{self._name()}: the matrix directive {spec!r} is not "
                                 "supported with recorded values")
            parts = [int(p) for p in spec.split(",")]
            axis = parts[0]
            if len(parts) > 1:
                ndmin = parts[1]
            if len(parts) > 2:
                trans1d = parts[2]
        pieces = []
        for item in items:
            if isinstance(item, slice):
                piece = self._plain[item]
                pieces.append(self._lift(np.asarray(piece), ndmin, trans1d))
            elif isinstance(item, str):
                raise ValueError(f"{self._name()}: a directive string must come first, "
                                 f"got {item!r} later")
            else:
                pieces.append(self._lift(array(item) if holds_values(item) else
                                         np.asarray(item), ndmin, trans1d))
        return np.concatenate(pieces, axis=axis)

    def _name(self):
        return "r_" if self._axis == 0 else "c_"

    @staticmethod
    def _lift(x, ndmin, trans1d):
        """numpy's rule: pad dims to ndmin, then move the old dims to trans1d."""
        nd = np.ndim(_raw(x))
        if nd >= ndmin:
            return x
        shape = np.shape(_raw(x))
        x = np.reshape(x, (1,) * (ndmin - nd) + shape)
        if trans1d != -1 and nd > 0:
            k2 = ndmin - nd
            k1 = trans1d + k2 + 1 if trans1d < 0 else trans1d
            axes = list(range(ndmin))
            x = np.transpose(x, axes[:k1] + axes[k2:] + axes[k1:k2])
        return x

    def __len__(self):
        return 0


r_ = _Concatenator(np.r_, axis=0, ndmin=1, trans1d=-1)
r_.__doc__ = """r_[...]: numpy's row concatenation, differentiable for recorded items.

>>> from autograd import grad
>>> grad(lambda x: np.sum(r_[x, 2 * x, 0:2]))(np.ones(2))
array([3., 3.])
"""
c_ = _Concatenator(np.c_, axis=-1, ndmin=2, trans1d=0)
c_.__doc__ = """c_[...]: numpy's column concatenation, differentiable for recorded items.

>>> c_[np.ones(2), np.zeros(2)].shape
(2, 2)
"""
