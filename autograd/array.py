"""Make Param and Result act like numpy arrays.

Operators, properties and ndarray methods are added to ``Value``; numpy
functions and ufuncs reach the registered implementations through the
array protocol (``__array_ufunc__`` / ``__array_function__``).  Outside
``diff`` everything simply runs on the wrapped arrays.
"""
import numpy as np

from .core import Param, Result, Value, _raw, _tapes, _unbox_deep
from .registry import ASTYPE, COPY, FUNCTIONS, GETITEM, UFUNCS


def _recording(args):
    """True when some argument (at any depth of lists) is being recorded."""
    for a in args:
        if isinstance(a, Result):
            if a.tape.level >= 0:
                return True
        elif isinstance(a, Param):
            if _tapes:
                return True
        elif isinstance(a, (list, tuple)) and _recording(a):
            return True
    return False


_REDUCERS = {np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min,
             np.logical_and: np.all, np.logical_or: np.any}


def _array_ufunc(self, ufunc, method, *inputs, **kw):
    if method == "__call__":
        impl = UFUNCS.get(ufunc)
        if impl is not None:
            return impl(*inputs, **kw)
    elif method == "reduce" and ufunc in _REDUCERS:
        kw.setdefault("axis", 0)
        return _array_function(self, _REDUCERS[ufunc], (), inputs, kw)
    if _recording(inputs) or _recording(kw.get("out") or ()):
        raise TypeError(f"np.{ufunc.__name__}.{method} has no gradient; register one with "
                        f"@primitive (or @zerograd if it is not differentiable)")
    if isinstance(kw.get("out"), tuple):
        kw["out"] = _unbox_deep(kw["out"])
    return getattr(ufunc, method)(*_unbox_deep(inputs), **kw)


def _array_function(self, func, types, args, kwargs):
    impl = FUNCTIONS.get(func)
    if impl is not None:
        return impl(*args, **kwargs)
    if _recording(args) or _recording(tuple(kwargs.values())):
        raise TypeError(f"np.{func.__name__} is not differentiable on the tape; register it "
                        f"with @primitive (or @zerograd if it is not differentiable)")
    return func(*_unbox_deep(args), **{k: _unbox_deep(v) for k, v in kwargs.items()})


def _to_array(self, dtype=None, copy=None):
    """np.asarray(x) (numpy's __array__ protocol): the held array, but never of a
    value being recorded, whose gradient would silently stop there (PyTorch's rule);
    a cast to integers or booleans (``np.int64(x)``), which has no gradient, is allowed."""
    if _recording((self,)) and not (dtype is not None and np.dtype(dtype).kind in "biu"):
        raise TypeError("cannot turn a value recorded for differentiation into a plain numpy "
                        "array (np.asarray, np.array, or an ndarray method such as a.dot(x)): "
                        "its gradient would be lost. Use value(x) to take the value without "
                        "its gradient, or a numpy function (np.dot(a, x)) to keep it")
    return np.asarray(_raw(self), dtype=dtype)


def _readonly(self, *a, **k):
    if isinstance(self, Result) or _tapes:
        raise ValueError("cannot write in place into a value recorded for differentiation: "
                         "its gradient would be wrong (build a new array instead, "
                         "e.g. with np.where or concatenation)")


class RecordedWriteError(ValueError, TypeError):
    """``x[i] = v`` into a recorded array: a ValueError, and the TypeError of HIPS autograd."""


def _setitem(self, index, v):
    try:
        _readonly(self)
    except ValueError as e:
        raise RecordedWriteError(str(e)) from None
    self.value[_unbox_deep(index)] = _raw(v)


def _inplace(ufunc):
    def op(self, other):
        _readonly(self)
        if isinstance(self.value, np.ndarray):
            ufunc(self.value, _raw(other), out=self.value)
        else:
            self.value = ufunc(self.value, _raw(other))
        return self
    op.__name__ = f"__i{ufunc.__name__}__"
    return op


def _binary(ufunc):
    def op(self, other):
        return UFUNCS[ufunc](self, other)

    def rop(self, other):
        return UFUNCS[ufunc](other, self)
    return op, rop


def _method(func):
    def m(self, *args, **kw):
        return func(self, *args, **kw)
    m.__name__ = func.__name__
    m.__doc__ = f"Same as np.{func.__name__}(x, ...)."
    return m


def _shape_method(func):
    def m(self, *shape, **kw):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return func(self, shape, **kw) if shape else func(self, **kw)
    m.__name__ = func.__name__
    return m


def _install():
    V = Value
    V.__array_priority__ = 1000
    V.__array_ufunc__ = _array_ufunc
    V.__array_function__ = _array_function
    V.__hash__ = object.__hash__
    for name, uf in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                     ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                     ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                     ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)]:
        op, rop = _binary(uf)
        setattr(V, f"__{name}__", op)
        setattr(V, f"__r{name}__", rop)
        setattr(V, f"__i{name}__", _inplace(uf))
    for name, uf in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                     ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
        setattr(V, f"__{name}__", _binary(uf)[0])
    V.__neg__ = lambda self: UFUNCS[np.negative](self)
    V.__pos__ = lambda self: self
    V.__abs__ = lambda self: UFUNCS[np.absolute](self)
    V.__invert__ = lambda self: np.invert(_raw(self))
    V.__getitem__ = lambda self, index: FUNCTIONS[GETITEM](self, index)
    V.__setitem__ = _setitem
    V.__len__ = lambda self: len(_raw(self))
    V.__iter__ = lambda self: (self[i] for i in range(len(self)))
    V.__bool__ = lambda self: bool(_raw(self))
    V.__float__ = lambda self: float(_raw(self))
    V.__int__ = lambda self: int(_raw(self))
    V.__index__ = lambda self: _raw(self).__index__()
    V.__complex__ = lambda self: complex(_raw(self))
    V.__array__ = _to_array
    V.__format__ = lambda self, spec: format(_raw(self), spec)
    V.shape = property(lambda self: np.shape(_raw(self)))
    V.dtype = property(lambda self: np.result_type(_raw(self)))
    V.ndim = property(lambda self: np.ndim(_raw(self)))
    V.size = property(lambda self: np.size(_raw(self)))
    V.T = property(lambda self: np.transpose(self))
    V.mT = property(lambda self: np.swapaxes(self, -1, -2))
    V.real = property(lambda self: np.real(self))
    V.imag = property(lambda self: np.imag(self))
    V.flat = property(lambda self: np.ravel(self))
    for f in [np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std, np.cumsum,
              np.cumprod, np.argmax, np.argmin, np.argsort, np.all, np.any, np.clip, np.dot,
              np.ravel, np.squeeze, np.swapaxes, np.nonzero, np.round, np.conj, np.trace,
              np.diagonal, np.take, np.repeat, np.sort, np.ptp]:
        setattr(V, f.__name__, _method(f))
    V.conj = _method(np.conj)
    V.round = _method(np.round)
    V.max, V.min = _method(np.max), _method(np.min)
    V.conjugate = V.conj
    V.reshape = _shape_method(np.reshape)
    V.transpose = lambda self, *axes: np.transpose(
        self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else (axes or None))
    V.flatten = lambda self: np.ravel(self)
    V.astype = lambda self, dtype, **kw: FUNCTIONS[ASTYPE](self, dtype)
    V.copy = lambda self: FUNCTIONS[COPY](self)
    V.item = lambda self, *a: _raw(self).item(*a) if hasattr(_raw(self), "item") else _raw(self)
    V.tolist = lambda self: np.asarray(_raw(self)).tolist()


_install()
