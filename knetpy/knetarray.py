"""KnetArray: an array on the active device with numpy's interface.

A KnetArray holds its memory in ``.data`` (a numpy array on the host, a CuPy
array on a GPU) and implements numpy's protocols, so ``np.exp(k)``,
``k + 1``, ``k @ w``, ``np.sum(k, axis=0)`` and ``k[1:, 0]`` all work and give
KnetArrays.  Every computation is handed to the backend that owns ``.data``
(``knetpy.backends``): elementwise ufuncs to ``unary``/``binary``,
reductions to ``reduce``, products to ``matmul`` and anything else to
``call``.  ``np.asarray(k)`` and ``k.to_numpy()`` copy back to the host.

A Param may wrap a KnetArray; inside ``diff`` the tape records the
operations and the backend computes them.
"""
import numpy as np

from autograd.boxes import Value, raw, register_array_type
from autograd.util import numpy_method

from . import backends

__all__ = ["KnetArray", "run"]

_REDUCE_FUNCS = {np.sum: "sum", np.mean: "mean", np.prod: "prod", np.max: "max",
                 np.min: "min", np.var: "var", np.std: "std", np.all: "all", np.any: "any",
                 np.argmax: "argmax", np.argmin: "argmin"}
_REDUCE_UFUNCS = {np.add: "sum", np.multiply: "prod", np.maximum: "max", np.minimum: "min",
                  np.logical_and: "all", np.logical_or: "any"}


def _unwrap(a):
    if isinstance(a, KnetArray):
        return a.data
    if isinstance(a, (list, tuple)):
        return type(a)(_unwrap(b) for b in a)
    if isinstance(a, dict):
        return {k: _unwrap(v) for k, v in a.items()}
    return a


def _wrap(r, be):
    if isinstance(r, tuple):
        return tuple(_wrap(b, be) for b in r)
    if isinstance(r, list):
        return [_wrap(b, be) for b in r]
    if be.owns(r) and not isinstance(r, (np.str_, np.bytes_)):
        return KnetArray._of(r, be)
    return r


def _has_value(seq):
    return any(isinstance(a, Value) or isinstance(a, (list, tuple)) and _has_value(a)
               for a in seq)


def _backend_of(args):
    for a in args:
        if isinstance(a, KnetArray):
            return a._be
        if isinstance(a, (list, tuple)):
            be = _backend_of(a)
            if be is not None:
                return be
    return None


def run(kernel, *args, **kw):
    """run(kernel, *args, **kw): call backend function ``kernel`` (e.g.
    ``"softmax"``, ``"unary"``) of the backend owning the first KnetArray in
    ``args`` (numpy when there is none), unwrapping KnetArrays going in and
    wrapping arrays coming out.  This is how knetpy's ops reach the device.

    >>> run("softmax", np.zeros(2), None, 1)
    array([0.5, 0.5])
    """
    if _has_value(args):     # grad(f)(param) outside diff hands kernels the Param itself
        args = tuple(raw(a) for a in args)
    be = _backend_of(args)
    if be is None:
        return getattr(backends.numpy_backend, kernel)(*args, **kw)
    return _wrap(getattr(be, kernel)(*_unwrap(args), **_unwrap(kw)), be)


class KnetArray:
    """KnetArray(a, dtype=None): a copy of array-like ``a`` on the active device
    (``knetpy.gpu()``; host memory when it is -1).

    Acts like a numpy array: operators, ufuncs, numpy functions, indexing and
    assignment, ``reshape``, ``.T``, ``shape``/``dtype``/``ndim``/``size``,
    ``astype`` and reduction methods; results are KnetArrays.
    ``np.asarray(k)`` / ``k.to_numpy()`` give host copies.

    >>> k = KnetArray(np.arange(6.0).reshape(2, 3))
    >>> (k * 2).sum(axis=0).to_numpy()
    array([ 6., 10., 14.])
    """
    __slots__ = ("data", "_be", "__weakref__")
    __array_priority__ = 500      # below Param/Result, so recorded values take over

    def __init__(self, a, dtype=None):
        a = raw(a)
        if isinstance(a, KnetArray):
            a = a.data
        if dtype is not None:
            dtype = np.dtype(dtype)
        be = backends.current()
        if not be.owns(a):
            src = backends.of(a)
            if src is not be and src is not backends.numpy_backend:
                a = src.to_numpy(a)
        self.data = be.copy(a, dtype)
        self._be = be

    @classmethod
    def _of(cls, data, be=None):
        """Wrap ``data`` without copying (``be``: its backend, found if None)."""
        k = object.__new__(cls)
        k.data = data
        k._be = backends.of(data) if be is None else be
        return k

    # ----------------------------------------------------- conversion
    @property
    def backend(self):
        """The backend module owning ``.data``."""
        return self._be

    def to_numpy(self):
        """A host numpy copy of the data."""
        return self._be.to_numpy(self.data)

    def __dlpack__(self, **kw):
        """DLPack export of the data, without a copy: the host array's for the
        numpy backend and the emulator, CuPy's on a GPU
        (``torch.from_dlpack(k)``, ``np.from_dlpack(k)`` for host data)."""
        return self.data.__dlpack__(**kw)

    def __dlpack_device__(self):
        """The DLPack device of the data: ``(1, 0)`` on the host, ``(2, id)`` on a CUDA GPU."""
        return self.data.__dlpack_device__()

    def __array__(self, dtype=None, copy=None):
        a = self._be.to_numpy(self.data)
        return a if dtype is None else a.astype(dtype, copy=False)

    def __repr__(self):
        a = self.to_numpy()
        body = np.array2string(a, separator=", ", prefix="KnetArray(")
        plain = a.dtype in (np.float64, np.int64, np.bool_)
        return f"KnetArray({body}{'' if plain else f', dtype={a.dtype}'})"

    def __str__(self):
        return str(self.to_numpy())

    def item(self, *args):
        """The element at ``args`` (the only one when none) as a Python scalar."""
        return self.to_numpy().item(*args)

    def tolist(self):
        """Nested Python lists of the elements."""
        return self.to_numpy().tolist()

    def __bool__(self):
        return bool(self.to_numpy())

    def __float__(self):
        return float(self.to_numpy())

    def __int__(self):
        return int(self.to_numpy())

    def __index__(self):
        return self.to_numpy().__index__()

    def __complex__(self):
        return complex(self.to_numpy())

    def __format__(self, spec):
        return format(self.to_numpy(), spec) if self.ndim == 0 else format(str(self), spec)

    # ----------------------------------------------------- attributes
    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: int(self.data.size))
    T = property(lambda self: np.transpose(self))
    mT = property(lambda self: np.swapaxes(self, -1, -2))

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d KnetArray")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ----------------------------------------------------- numpy protocol
    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        out = kw.get("out")
        if _has_value(inputs) or (out is not None and _has_value(out)):
            return NotImplemented       # a Param/Result handles it and calls us back
        be = self._be
        if method == "__call__" and not kw and ufunc.nout == 1 and ufunc.nin in (1, 2):
            args = _unwrap(inputs)
            if ufunc is np.matmul:
                r = be.matmul(*args)
            elif ufunc.nin == 1:
                r = be.unary(ufunc.__name__, *args)
            else:
                r = be.binary(ufunc.__name__, *args)
            return _wrap(r, be)
        if method == "reduce" and ufunc in _REDUCE_UFUNCS and set(kw) <= {"axis", "keepdims"}:
            r = be.reduce(_REDUCE_UFUNCS[ufunc], _unwrap(inputs[0]), kw.get("axis", 0),
                          kw.get("keepdims", False))
            return _wrap(r, be)
        r = be.call(getattr(ufunc, method), _unwrap(inputs), _unwrap(kw))
        if out is not None:
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        return _wrap(r, be)

    def __array_function__(self, func, types, args, kwargs):
        if any(issubclass(t, Value) for t in types):
            return NotImplemented
        be = self._be
        name = _REDUCE_FUNCS.get(func)
        if name is not None and len(args) == 1 and set(kwargs) <= {"axis", "keepdims"}:
            r = be.reduce(name, args[0].data, kwargs.get("axis"), kwargs.get("keepdims", False))
        elif func is np.matmul and len(args) == 2 and not kwargs:
            r = be.matmul(*_unwrap(args))
        else:
            r = be.call(func, _unwrap(args), _unwrap(kwargs))
        return _wrap(r, be)

    # ----------------------------------------------------- indexing
    def __getitem__(self, index):
        return _wrap(self.data[_unwrap(index)], self._be)

    def __setitem__(self, index, v):
        if isinstance(v, Value):
            v = raw(v)
        self.data[_unwrap(index)] = self._be.asarray(_unwrap(v)) \
            if isinstance(v, (np.ndarray, KnetArray)) else v

    # ----------------------------------------------------- methods
    def astype(self, dtype, copy=True):
        """The data converted to ``dtype`` (a KnetArray)."""
        return KnetArray._of(self.data.astype(dtype, copy=copy), self._be)

    def copy(self):
        """A copy on the same device."""
        return KnetArray._of(self.data.copy(), self._be)

    def reshape(self, *shape, order="C"):
        """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return np.reshape(self, shape, order=order)

    def transpose(self, *axes):
        """Permute the axes (reverse them when none are given)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return np.transpose(self, axes or None)

    def fill(self, v):
        """Set every element to ``v`` in place."""
        self.data.fill(v)

    def flatten(self):
        """A flattened copy."""
        return np.ravel(self).copy()



for _f in (np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std, np.all, np.any,
           np.argmax, np.argmin, np.cumsum, np.cumprod, np.clip, np.dot, np.ravel, np.squeeze,
           np.swapaxes, np.nonzero, np.round, np.repeat, np.take, np.sort, np.argsort,
           np.conj, np.trace, np.diagonal):
    setattr(KnetArray, _f.__name__, numpy_method(_f))
KnetArray.max, KnetArray.min, KnetArray.round = (numpy_method(np.max), numpy_method(np.min),
                                                  numpy_method(np.round))


def _binop(ufunc):
    return (lambda self, other: ufunc(self, other),
            lambda self, other: ufunc(other, self),
            lambda self, other: ufunc(self, other, out=(self,)))


for _name, _uf in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                   ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                   ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                   ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)]:
    _op, _rop, _iop = _binop(_uf)
    setattr(KnetArray, f"__{_name}__", _op)
    setattr(KnetArray, f"__r{_name}__", _rop)
    setattr(KnetArray, f"__i{_name}__", _iop)
for _name, _uf in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                   ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(KnetArray, f"__{_name}__", _binop(_uf)[0])
KnetArray.__neg__ = lambda self: np.negative(self)
KnetArray.__pos__ = lambda self: self
KnetArray.__abs__ = lambda self: np.absolute(self)
KnetArray.__invert__ = lambda self: np.invert(self)
KnetArray.__hash__ = None


register_array_type(KnetArray)      # a Param may hold a KnetArray
