"""The registry: which callable handles a numpy function on recorded values.

One way to register: ``primitive`` (AutoGrad.jl's decorator), ``defgrad``
(the same for an existing numpy function, as a call) and ``zerograd`` (no
gradient, values unwrapped).  Each writes through ``register``, which
refuses to replace a function that already has a rule unless the call
says ``override=True``.  HIPS's ``defvjp`` / ``defjvp`` (extend.py) change
the gradients of a registered Primitive in place.

``UFUNCS`` and ``FUNCTIONS`` map numpy ufuncs and functions to their
handlers (array.py dispatches through them); the ndarray methods that are
not numpy functions have their own slots, keyed by the real callables:
``ndarray.astype``, ``ndarray.copy`` and ``operator.getitem``.

>>> import numpy as np
>>> lookup(np.sin).__name__
'sin'
"""
import operator

import numpy as np

from . import core
from .boxes import unbox_deep
from .core import Primitive

__all__ = ["UFUNCS", "FUNCTIONS", "ASTYPE", "COPY", "GETITEM", "register", "register_each", "lookup",
           "unregister", "primitive", "zerograd", "defgrad"]

UFUNCS = {}        # numpy ufunc -> its handler
FUNCTIONS = {}     # numpy / scipy function, or one of the method slots -> its handler
ASTYPE, COPY, GETITEM = np.ndarray.astype, np.ndarray.copy, operator.getitem   # method slots


def _table(fn):
    return UFUNCS if isinstance(fn, np.ufunc) else FUNCTIONS


def _registrable(fn):
    return isinstance(fn, np.ufunc) or fn in (ASTYPE, COPY, GETITEM) or \
        (getattr(fn, "__module__", None) or "").startswith(("numpy", "scipy"))


def register(fn, impl, override=False):
    """register(fn, impl, override=False): make ``impl`` handle numpy's ``fn``
    (a ufunc, a numpy or scipy function, or a method slot) on recorded values.

    Raises ValueError when ``fn`` already has a handler, unless ``override``.
    Functions of other modules are not dispatched by numpy and are ignored.

    >>> register(np.sin, lookup(np.sin), override=True) is lookup(np.sin)
    True
    """
    if not _registrable(fn):
        return impl
    table = _table(fn)
    if fn in table and not override and table[fn] is not impl:
        raise ValueError(f"register: {getattr(fn, '__name__', fn)!r} already has a gradient "
                         f"rule; pass override=True to replace it")
    table[fn] = impl
    return impl


def register_each(pairs, override=False):
    """register_each({fn: impl, ...}, override=False): ``register`` each pair.

    >>> register_each({np.cos: lookup(np.cos)})
    """
    for fn, impl in dict(pairs).items():
        register(fn, impl, override)


def lookup(fn, default=None):
    """lookup(fn) -> the handler registered for ``fn`` (``default`` when none).

    >>> lookup(np.cos)
    <primitive cos>
    """
    return _table(fn).get(fn, default)


def unregister(fn):
    """unregister(fn) -> the handler taken away from ``fn`` (KeyError when none);
    a recorded call of ``fn`` then raises.  Used by HIPS's ``primitive_vjps.pop``.

    >>> rule = unregister(np.cbrt)
    >>> register(np.cbrt, rule) is rule          # put back
    True
    """
    return _table(fn).pop(fn)


def primitive(*grads, nary_grad=None, override=False):
    """@primitive(g1, g2, ...): make a function differentiable on the tape.

    ``gi(dy, y, *args, **kwargs)`` is the gradient for the i-th argument;
    ``nary_grad(i, dy, y, *args, **kw)``, when given, serves every argument.
    Applied to a numpy function or ufunc it also registers it, so that
    ``np.f(param)`` is recorded (``override=True`` to replace a rule).

    >>> @primitive(lambda dy, y, x: dy * np.cos(x))
    ... def mysin(x): return np.sin(x)
    """
    def wrap(fn):
        return register(fn, Primitive(fn, grads, nary_grad), override)
    return wrap


def defgrad(fn, *grads, nary_grad=None, override=False):
    """defgrad(fn, g1, g2, ..., nary_grad=None, override=False) -> Primitive:
    register gradients for the existing numpy function ``fn``.

    Example: ``defgrad(np.cbrt, lambda dy, y, x: dy / (3 * y * y))``; the
    rules of ``autograd/rules/`` are written this way.
    """
    return primitive(*grads, nary_grad=nary_grad, override=override)(fn)


def zerograd(fn, override=False):
    """@zerograd: accept Params/Results (also inside list or tuple arguments),
    record nothing, return plain values.

    >>> @zerograd
    ... def mysign(x): return np.sign(x)
    """
    def unboxed(*args, **kw):
        return fn(*unbox_deep(args), **{k: unbox_deep(v) for k, v in kw.items()})
    unboxed.__name__ = getattr(fn, "__name__", "zerograd")
    unboxed.__doc__ = getattr(fn, "__doc__", None)
    unboxed.__wrapped__ = fn
    return register(fn, unboxed, override)


core.provide(UFUNCS=UFUNCS, FUNCTIONS=FUNCTIONS, primitive=primitive, zerograd=zerograd,
             defgrad=defgrad)
