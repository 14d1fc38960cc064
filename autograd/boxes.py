"""The values the tape works with: Value, Param, Result, and unwrapping.

A ``Param`` marks an array whose gradient is wanted; a ``Result`` is a value
recorded on a tape (see ``core``).  Both are ``Value``s and act like the
array they hold (``array.py`` installs the numpy protocol).  ``raw`` strips
every level of wrapping.  This module imports nothing else of autograd.
"""
import types

import numpy as np

from .hold import hold

__all__ = ["Value", "Param", "Result", "value", "raw", "unbox_deep", "find_params", "params",
           "register_array_type"]

_ARRAY_TYPES = [np.ndarray, np.generic, int, float, complex]   # what a Param may hold


def register_array_type(cls):
    """register_array_type(cls): let ``Param`` hold instances of ``cls`` (an
    array type with numpy's protocols, e.g. ``knetpy.KnetArray``).

    >>> class MyArray(np.ndarray): pass
    >>> register_array_type(MyArray)
    """
    if cls not in _ARRAY_TYPES:
        _ARRAY_TYPES.append(cls)


def _check_array(v):
    """Raise a TypeError unless ``v`` may be the value of a Param."""
    if isinstance(v, tuple(_ARRAY_TYPES)) or type(v).__module__.split(".")[0] == "cupy":
        return
    what = f"{type(v).__module__}.{type(v).__qualname__}".replace("builtins.", "")
    if isinstance(v, Value):
        hint = "; a Param cannot wrap another Param or a recorded value"
    elif what.startswith("torch."):
        hint = ("; convert a torch tensor with np.from_dlpack(t) (no copy for a CPU tensor) "
                "or t.detach().cpu().numpy()")
    elif isinstance(v, (list, tuple)):
        hint = "; make an array of it first: Param(np.array(value))"
    elif hasattr(v, "__dlpack__"):
        hint = "; convert it with np.from_dlpack(value)"
    else:
        hint = ""
    raise TypeError(f"Param: value must be a numpy or CuPy array, a KnetArray or a number, "
                    f"got {what}{hint}")


class Value:
    """Base of Param and Result: acts like the array it holds (see array.py)."""
    __slots__ = ()


class Param(Value):
    """Param(value, opt=None): an array whose gradient ``diff`` computes.

    Outside ``diff`` a Param acts exactly like its value and operations on it
    return plain arrays.  ``opt`` may hold the optimizer that ``update_``
    uses for this parameter.

    >>> from autograd import diff, grad
    >>> w = Param(np.array([1., 2.]))
    >>> grad(diff(lambda: np.sum(w * w)), w)
    array([2., 4.])
    """
    __slots__ = ("value", "opt", "__weakref__")

    def __init__(self, value, opt=None):
        _check_array(value)
        self.value = value
        self.opt = opt

    def __repr__(self):
        return f"P({_show(self.value)})"

    def __dlpack__(self, **kw):
        """DLPack export of the held array (``np.from_dlpack(p)``, ``torch.from_dlpack(p)``);
        the consumer shares its memory."""
        return _dlpack_source(self).__dlpack__(**kw)

    def __dlpack_device__(self):
        """The DLPack device of the held array: ``(1, 0)`` for host memory."""
        return _dlpack_source(self).__dlpack_device__()


class Result(Value):
    """A value recorded on a tape, with what is needed to differentiate it.

    ``diff`` returns the Result of the function (shown as ``T(value)``); its
    gradients are read with ``grad(result, param)``.
    """
    __slots__ = ("value", "tape", "prim", "args", "kw", "parents", "outgrad")

    def __init__(self, value, tape, prim=None, args=(), kw=None, parents=()):
        self.value = value
        self.tape = tape
        self.prim = prim
        self.args = args
        self.kw = kw
        self.parents = parents
        self.outgrad = None

    def __repr__(self):
        return f"T({_show(self.value)})"

    __dlpack__ = Param.__dlpack__
    __dlpack_device__ = Param.__dlpack_device__


def _dlpack_source(x):
    """The array whose DLPack methods serve Param/Result x: its raw value (a number
    as a 0-d array); refused for a Result being recorded, as its gradient would be
    lost (``value(r)`` takes the array without it, as for a Param)."""
    if x.__class__ is Result and x.tape is not None and x.tape.level >= 0:
        raise TypeError("DLPack export of a value recorded for differentiation would lose "
                        "its gradient; use value(x) to take the array without it")
    v = raw(x)
    return v if hasattr(v, "__dlpack__") else np.asarray(v)


def _show(v):
    """Scalars as plain numbers, arrays as numpy shows them."""
    if isinstance(v, np.generic) or (isinstance(v, np.ndarray) and v.ndim == 0):
        return repr(v.item())
    return repr(v)


def value(x):
    """value(x): the array held by a Param or Result (one level); anything else as it is.
    The array of a Result being recorded is read-only until its tape's sweep
    is over (see ``hold.py``).

    >>> value(Param(np.ones(2)))
    array([1., 1.])
    """
    if isinstance(x, Value):
        v = x.value
        if v.__class__ is np.ndarray and x.__class__ is Result and x.tape is not None \
                and x.tape.level >= 0:
            hold(x.tape, v)
        return v
    return x


def raw(x):
    """raw(x): x with every level of wrapping (Param, Result of nested tapes)
    stripped, for calls that record nothing; anything else as it is.

    >>> raw(Param(np.zeros(2)))
    array([0., 0.])
    """
    while isinstance(x, Value):
        x = x.value
    return x


_raw = raw      # the former private name (knetpy imports it; use ``raw``)


def unbox_deep(a):
    """a with every Param/Result in it, also inside lists and tuples, unwrapped.

    >>> unbox_deep([Param(1.0), (Param(2.0), 3)])
    [1.0, (2.0, 3)]
    """
    if isinstance(a, Value):
        return raw(a)
    if isinstance(a, (list, tuple)):
        return type(a)(unbox_deep(b) for b in a)
    return a


_unbox_deep = unbox_deep


def find_params(x):
    """find_params(x) -> list of the Params inside x: a search of lists, tuples,
    dicts, sets and object attributes that visits every object once (cycles
    are safe).

    >>> w = Param(np.ones(2))
    >>> find_params({'layer': [w, 3]})[0] is w
    True
    """
    found, seen, stack = [], set(), [x]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, Param):
            found.append(o)
        elif isinstance(o, (str, bytes, np.ndarray, np.generic, int, float, complex, type)) \
                or callable(o) and not hasattr(o, "__dict__") or o is None:
            continue
        elif isinstance(o, dict):
            stack.extend(reversed(list(o.values())))
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(reversed(list(o)))
        else:
            attrs = []
            if hasattr(o, "__dict__") and not isinstance(o, type) and not _is_module_or_function(o):
                attrs.extend(vars(o).values())
            for cls in type(o).__mro__:
                for s in getattr(cls, "__slots__", ()):
                    if s not in ("__dict__", "__weakref__") and hasattr(o, s):
                        attrs.append(getattr(o, s))
            stack.extend(reversed(attrs))
    return found


def _is_module_or_function(o):
    return isinstance(o, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                          types.MethodType))


def params(x):
    """params(x) -> list of the Params found in x: for the Result of ``diff``
    the Params it depends on, otherwise ``find_params(x)`` (a search of
    containers and object attributes).  Example: ``params(model)``."""
    if isinstance(x, Result) and x.tape is not None and x.tape.level < 0:
        return [p for p, _ in x.tape.grads.values() if isinstance(p, Param)]
    return find_params(x)
