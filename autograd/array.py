"""Make Param and Result act like numpy arrays.

Operators, properties and ndarray methods are added to ``Value``; numpy
functions and ufuncs reach the registered implementations through the
array protocol (``__array_ufunc__`` / ``__array_function__``).  Outside
``diff`` everything simply runs on the wrapped arrays.

Augmented assignment (``x += y``) on a recorded value rebinds ``x`` to a new
recorded value, as HIPS autograd's boxes do; a write into a recorded array
(``x[i] = ...``, ``out=x``, ``np.add.at(x, ...)``) raises ``HeldArrayError``.
On a Param, ``+=`` updates its array in place outside ``diff`` (an optimizer
step) and raises inside it.
"""
import numpy as np

from . import core
from .core import Param, Result, Value, _raw, _unbox_deep
from .hold import HeldArrayError
from .registry import ASTYPE, COPY, FUNCTIONS, GETITEM, UFUNCS
from .util import numpy_method


def _recording(args):
    """True when some argument (at any depth of lists) is being recorded."""
    for a in args:
        if isinstance(a, Result):
            if a.tape.level >= 0:
                return True
        elif isinstance(a, Param):
            if core._local.tapes:
                return True
        elif isinstance(a, (list, tuple)) and _recording(a):
            return True
    return False


_REDUCERS = {np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min,
             np.logical_and: np.all, np.logical_or: np.any}


def _array_ufunc(self, ufunc, method, *inputs, **kw):
    if kw and kw.get("out") is not None and _recording(kw["out"]):
        where = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        raise _write_error(kw["out"], f"np.{where}(..., out=x)")
    if method == "__call__":
        impl = UFUNCS.get(ufunc)
        if impl is not None:
            return impl(*inputs, **kw)
    elif method == "at" and _recording(inputs[:1]):
        raise _write_error(inputs[0], f"np.{ufunc.__name__}.at(x, ...)")
    elif method == "reduce" and ufunc in _REDUCERS:
        kw.setdefault("axis", 0)
        return _array_function(self, _REDUCERS[ufunc], (), inputs, kw)
    if _recording(inputs):
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


def _describe(x):
    """A short name for a value: ``Param of shape (3,) float64``."""
    if isinstance(x, tuple):
        return ", ".join(_describe(a) for a in x)
    kind = "Param" if isinstance(x, Param) else "recorded value" if isinstance(x, Result) \
        else type(x).__name__
    return f"{kind} of shape {np.shape(_raw(x))} {np.result_type(_raw(x))}"


def _write_error(target, how):
    return HeldArrayError(
        f"{how}: cannot write in place into a {_describe(target)} while it is recorded for "
        f"differentiation: its gradient would be wrong (build a new array instead, e.g. "
        f"with np.where or concatenation; x += y, without a write, gives a new value)")


def _recorded(x):
    """True when a write into x must be refused: x is recorded, or a Param while this
    thread records."""
    return x.tape.level >= 0 if isinstance(x, Result) else bool(core._local.tapes)


def _setitem(self, index, v):
    if _recorded(self):
        raise _write_error(self, f"x[{index!r}] = ...")
    self.value[_unbox_deep(index)] = _raw(v)


def _inplace(ufunc, symbol):
    def op(self, other):
        if isinstance(self, Result):     # rebinds x to a new (recorded) value, as HIPS does
            return UFUNCS[ufunc](self, other)
        if _recorded(self):
            raise _write_error(self, f"x {symbol}= y on a Param (write x = x {symbol} y for a "
                                     f"new recorded value)")
        if isinstance(self.value, np.ndarray):
            ufunc(self.value, _raw(other), out=self.value)
        else:
            self.value = ufunc(self.value, _raw(other))
        return self
    op.__name__ = f"__i{ufunc.__name__}__"
    op.__doc__ = (f"x {symbol}= y: a Result is rebound to the new value x {symbol} y; a "
                  f"Param is updated in place (refused while recording).")
    return op


def _binary(ufunc):
    def op(self, other):
        return UFUNCS[ufunc](self, other)

    def rop(self, other):
        return UFUNCS[ufunc](other, self)
    return op, rop



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
    for name, uf, sym in [("add", np.add, "+"), ("sub", np.subtract, "-"),
                          ("mul", np.multiply, "*"), ("truediv", np.true_divide, "/"),
                          ("floordiv", np.floor_divide, "//"), ("mod", np.remainder, "%"),
                          ("pow", np.power, "**"), ("matmul", np.matmul, "@"),
                          ("and", np.bitwise_and, "&"), ("or", np.bitwise_or, "|"),
                          ("xor", np.bitwise_xor, "^")]:
        op, rop = _binary(uf)
        setattr(V, f"__{name}__", op)
        setattr(V, f"__r{name}__", rop)
        setattr(V, f"__i{name}__", _inplace(uf, sym))
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
        setattr(V, f.__name__, numpy_method(f))
    V.conj = numpy_method(np.conj)
    V.round = numpy_method(np.round)
    V.max, V.min = numpy_method(np.max), numpy_method(np.min)
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
