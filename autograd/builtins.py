"""autograd.builtins: HIPS autograd's container helpers.

On this tape every recorded array is its own node, so a Python tuple, list
or dict of recorded values needs no wrapping: the elements keep their
gradients.  These names exist so that code written for HIPS autograd runs
unchanged, and they behave like HIPS's:

* ``tuple(xs)``, ``list(xs)``, ``dict(...)`` build ordinary containers, and
  ``isinstance(c, tuple)`` (etc.) is true for every container of that kind;
* ``isinstance(x, cls)`` and ``type(x)`` look through a Param or recorded
  value to the array it holds, so ``isinstance(x, np.ndarray)`` answers for
  the array, as HIPS's boxes do.

>>> import numpy as np
>>> from autograd import grad
>>> f = lambda x: sum(list([x, 2 * x, dict(a=x)['a']]))
>>> float(grad(f)(1.0))
4.0
"""
import builtins as _py

from .core import _raw

__all__ = ["tuple", "list", "dict", "isinstance", "type", "SequenceBox", "DictBox"]


class _ContainerMeta(_py.type):
    """isinstance(obj, autograd.builtins.tuple) is isinstance(obj, builtins.tuple)."""

    def __instancecheck__(cls, obj):
        return _py.isinstance(obj, cls._base)

    def __subclasscheck__(cls, sub):
        return _py.issubclass(sub, cls._base)


class tuple(_py.tuple, metaclass=_ContainerMeta):
    """tuple(xs=()): a plain tuple of ``xs`` (recorded elements keep their gradients).

    >>> tuple([1, 2])
    (1, 2)
    """
    _base = _py.tuple

    def __new__(cls, xs=()):
        return _py.tuple(xs)


class list(_py.list, metaclass=_ContainerMeta):
    """list(xs=()): a plain list of ``xs`` (recorded elements keep their gradients).

    >>> list((1, 2))
    [1, 2]
    """
    _base = _py.list

    def __new__(cls, xs=()):
        return _py.list(xs)


class dict(_py.dict, metaclass=_ContainerMeta):
    """dict(*args, **kwargs): a plain dict, built like Python's ``dict``.

    >>> dict(a=1)
    {'a': 1}
    """
    _base = _py.dict

    def __new__(cls, *args, **kwargs):
        return _py.dict(*args, **kwargs)


def isinstance(obj, cls):
    """isinstance(obj, cls): Python's isinstance applied to the array a Param or
    recorded value holds (HIPS's boxes answer for their contents).

    >>> import numpy as np
    >>> from autograd import Param
    >>> isinstance(Param(np.ones(2)), np.ndarray)
    True
    """
    return _py.isinstance(_raw(obj), cls)


def type(obj):
    """type(obj): the type of the array a Param or recorded value holds.

    >>> from autograd import Param
    >>> type(Param(1.5)).__name__
    'float'
    """
    return _py.type(_raw(obj))


# HIPS code sometimes checks for its box classes; here they name the containers.
SequenceBox = (_py.tuple, _py.list)
DictBox = _py.dict
