"""HIPS autograd's helpers for writing differential operators.

``unary_to_nary(op)`` turns an operator written for a function of one
argument, ``op(fun, x, *extra)``, into one that takes ``argnum`` like
``grad`` does: ``nary_op(fun, argnum=0, *extra)(*args, **kw)``.

>>> from autograd.core import make_vjp
>>> @unary_to_nary
... def double_grad(fun, x):
...     vjp, ans = make_vjp(fun, x)
...     return 2 * vjp(1.0)
>>> float(double_grad(lambda a, b: a * b, 1)(3.0, 4.0))
6.0
"""
import functools

from .functional import nary as _nary

__all__ = ["unary_to_nary", "wraps"]


def unary_to_nary(unary_operator):
    """The n-ary form (with ``argnum``) of ``unary_operator(fun, x, *extra)``."""
    op = _nary(unary_operator, getattr(unary_operator, "__name__", "operator"))
    return functools.wraps(unary_operator)(op)


def wraps(fun, namestr="{fun}", docstr="{doc}", **kwargs):
    """Decorator giving a wrapper the name and docstring of ``fun``, formatted
    through ``namestr`` / ``docstr`` (fields ``fun``, ``doc`` and ``kwargs``)."""
    def _wraps(f):
        name = getattr(fun, "__name__", "[unknown name]")
        f.__name__ = namestr.format(fun=name, **kwargs)
        f.__doc__ = docstr.format(fun=name, doc=getattr(fun, "__doc__", "") or "", **kwargs)
        return f
    return _wraps
