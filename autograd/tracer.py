"""HIPS autograd's tracer names, for code that imports them from here.

``isbox(x)`` tells whether ``x`` is being traced (a Param or a recorded
value), ``getval(x)`` strips the tracing and gives the plain array;
``primitive``, ``notrace_primitive`` and ``Box`` are those of
``autograd.extend``.

>>> from autograd.tracer import getval, isbox
>>> isbox(np.ones(2))
False
"""
from .core import Value, _raw
from .extend import Box, notrace_primitive, primitive  # noqa: F401

__all__ = ["isbox", "getval", "primitive", "notrace_primitive", "Box"]


def isbox(x):
    """isbox(x) -> True for a value being traced (a Param or a tape Result).

    >>> isbox(3.0)
    False
    """
    return isinstance(x, Value)


def getval(x):
    """getval(x) -> the plain value inside any levels of tracing (x itself otherwise).

    >>> getval(2.5)
    2.5
    """
    return _raw(x)
