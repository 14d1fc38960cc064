"""The tape: Tape, the Primitive call, record, diff, grad.

A ``Param`` marks an array whose gradient is wanted.  While ``diff`` runs a
function, every call of a ``Primitive`` that touches a Param (or a value
computed from one) is recorded as a ``Result`` on the active ``Tape``; then
``sweep`` (backward.py) runs the tape backwards once.  Tapes nest: an inner
``diff`` records on its own tape and its sweep is recorded on the outer one;
a Result belongs to one tape (its *level*), which makes higher-order and
nested-closure gradients come out right.

Names defined above core (``primitive``, ``zerograd``, HIPS's ``make_vjp``,
``defvjp``, ...) are still readable here: upper modules hand them to
``provide`` when they load and the module ``__getattr__`` serves them.
"""
import math

import numpy as np

from .backward import add_grads, sweep, unbroadcast  # noqa: F401  (the tape's API)
from .boxes import (Param, Result, Value, _raw, _unbox_deep, find_params,  # noqa: F401
                    raw, unbox_deep, value)

__all__ = ["Value", "Param", "Result", "Primitive", "primitive", "zerograd", "raw",
           "diff", "grad", "gradloss", "value", "params", "training"]

_tapes = []  # the tapes being recorded, innermost last; tape.level is its index


class Tape:
    """One recording: the Results in creation order and the Params it saw."""
    __slots__ = ("level", "nodes", "pboxes", "roots", "grads")

    def __init__(self):
        self.level = len(_tapes)
        self.nodes = []
        self.pboxes = {}   # id(param) -> (param, Result standing for it here)
        self.roots = []    # Results given as arguments by grad(f)
        self.grads = {}    # id(param or root) -> (param or root, gradient)

    def box_param(self, p):
        """The Result that stands for Param ``p`` on this tape (made once)."""
        entry = self.pboxes.get(id(p))
        if entry is None:
            outer = _tapes[self.level - 1].box_param(p) if self.level > 0 else p.value
            entry = self.pboxes[id(p)] = (p, Result(outer, self))
        return entry[1]


def training():
    """training() -> bool: True only while ``diff`` (or ``grad``) is recording."""
    return bool(_tapes)


class Primitive:
    """A function whose calls are recorded, with one gradient per argument.

    ``grads[i](dy, y, *args, **kw)`` returns the gradient for argument ``i``
    given the output gradient ``dy`` and output ``y``; ``None`` (or a missing
    entry) marks an argument that is not differentiated.  ``nary_grad``, when
    given, serves every argument: ``nary_grad(i, dy, y, *args, **kw)``.
    """

    def __init__(self, fn, grads=(), nary_grad=None):
        self.fn = fn
        self.grads = tuple(grads)
        self.nary_grad = nary_grad
        self.__name__ = getattr(fn, "__name__", "primitive")
        self.__qualname__ = getattr(fn, "__qualname__", self.__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    def __repr__(self):
        return f"<primitive {self.__name__}>"

    def grad_of(self, i):
        """The gradient function of argument i, or None."""
        if i < len(self.grads):
            return self.grads[i]
        if self.nary_grad is not None:
            return lambda *a, **k: self.nary_grad(i, *a, **k)
        return None

    def __call__(self, *args, **kw):
        if not kw and len(_tapes) == 1:
            # fast paths for one level of recording, every wrapped argument a
            # Result of that tape (anything else takes the general path below)
            top = _tapes[0]
            grads = self.grads
            # the commonest calls: one recorded argument, or two with one recorded
            n = len(args)
            if n == 1 or n == 2 and len(grads) == 2:
                j = 0 if n == 1 or args[0].__class__ is Result else 1
                a = args[j]
                if a.__class__ is Result and a.tape is top and \
                        (n == 1 or not isinstance(args[1 - j], Value)):
                    v = a.value
                    raw = (v,) if n == 1 else (v, args[1]) if j == 0 else (args[0], v)
                    y = self.fn(*raw)
                    if not ((grads[j] is not None) if j < len(grads)
                            else self.nary_grad is not None):
                        return y
                    r = Result(y, top, self, raw, kw, ((j, a),))
                    top.nodes.append(r)
                    return r
            parents = []
            raw = list(args)
            for i, a in enumerate(args):
                if a.__class__ is Result:
                    if a.tape is not top:
                        break
                    raw[i] = a.value
                    if (grads[i] is not None) if i < len(grads) else self.nary_grad is not None:
                        parents.append((i, a))
                elif isinstance(a, Value):
                    break
            else:
                y = self.fn(*raw)
                if not parents:
                    return y
                r = Result(y, top, self, raw, kw, parents)
                top.nodes.append(r)
                return r
        top = None
        wrapped = False
        for a in args:
            if isinstance(a, Value):
                wrapped = True
                if a.__class__ is Result:
                    t = a.tape
                    if t.level < 0:
                        continue
                elif _tapes:
                    t = _tapes[-1]
                else:
                    continue
                if top is None or t.level > top.level:
                    top = t
        if kw and any(isinstance(v, Value) for v in kw.values()):
            if _recording_kw(kw):
                raise TypeError(f"{self.__name__}: pass differentiable arguments positionally; "
                                f"keyword arguments {sorted(kw)} are not differentiated")
            kw = {k: _raw(v) for k, v in kw.items()}
        if top is None:
            if wrapped:
                args = [_raw(a) for a in args]
            return self.fn(*args, **kw)
        if "out" in kw and kw["out"] is not None:
            raise ValueError(f"{self.__name__}: out= would write in place into a recorded "
                             "array, which would make its gradient wrong")
        raw = list(args)
        parents = []
        grads, nary = self.grads, self.nary_grad is not None
        ngrads = len(grads)
        for i, a in enumerate(args):
            if isinstance(a, Value):
                if a.__class__ is not Result:
                    a = top.box_param(a)
                if a.tape is top:
                    raw[i] = a.value
                    if (grads[i] is not None) if i < ngrads else nary:
                        parents.append((i, a))
                elif a.tape.level < 0:
                    raw[i] = _raw(a)
        y = self(*raw, **kw) if top.level > 0 else self.fn(*raw, **kw)
        if not parents:
            return y
        r = Result(y, top, self, raw, kw, parents)
        top.nodes.append(r)
        return r


def _recording_kw(kw):
    return any(v.tape.level >= 0 if v.__class__ is Result else bool(_tapes)
               for v in kw.values() if isinstance(v, Value))


def record(f, args, kw, root_index=None):
    """Run f(*args, **kw) on a new tape; the arguments at ``root_index`` (an
    int or a tuple of ints) become roots of the tape.  Returns (tape, out)
    where ``out`` is a Result of the tape (a constant one when f's value does
    not depend on anything recorded).  The tape is finished (level -1)."""
    tape = Tape()
    if root_index is not None:
        args = list(args)
        for i in (root_index if isinstance(root_index, tuple) else (root_index,)):
            a = args[i]
            if isinstance(a, Param):   # a Param root stays visible to the enclosing tapes
                a = _tapes[-1].box_param(a) if _tapes else a.value
            args[i] = Result(a, tape)
            tape.roots.append(args[i])
    _tapes.append(tape)
    try:
        out = f(*args, **kw)
        if isinstance(out, Param):
            out = tape.box_param(out)
    finally:
        _tapes.pop()
        tape.level = -1          # from here on its Results count as constants
    if not (out.__class__ is Result and out.tape is tape):
        out = Result(out, tape)
    return tape, out


class NonScalarOutput(ValueError, TypeError):
    """A gradient was asked of a function whose output is not one number; both a
    ValueError (AutoGrad.jl's ``diff``) and a TypeError (HIPS autograd's ``grad``)."""


def _run(f, args, kw, root_index=None, real=False):
    """record + check that the output is a scalar (a real one with ``real``)
    + sweep with dy = 1."""
    tape, out = record(f, args, kw, root_index)
    v = _raw(out.value)
    shape = v.shape if hasattr(v, "shape") else np.shape(v)
    if math.prod(shape) != 1:
        raise NonScalarOutput(f"diff: the function must return a scalar (one element) to be "
                              f"differentiated, but it returned an array of shape {shape}")
    if real and (v.dtype.kind == "c" if hasattr(v, "dtype") else isinstance(v, complex)):
        raise TypeError("grad only applies to real scalar-output functions; use "
                        "holomorphic_grad, or differentiate np.real(f(x)) or np.abs(f(x))")
    sweep(tape, out)     # for nested tapes the sweep is recorded on the outer ones
    return tape, out


def diff(f, *args, **kw):
    """diff(f, *args, **kw) -> Result: run f, recording every operation on a
    Param, and compute the gradients of its scalar output.

    >>> x = Param(np.array([1., 2., 3.]))
    >>> y = diff(lambda: np.sum(x * x))
    >>> float(value(y)), grad(y, x)
    (14.0, array([2., 4., 6.]))
    """
    if not callable(f):
        raise TypeError(f"diff: f must be callable, got {type(f).__name__}")
    return _run(f, args, kw)[1]


def grad(f, x=None, argnum=0):
    """grad(result, param) or grad(f, argnum=0).

    With the Result of ``diff`` and a Param: that Param's gradient, or None
    if the result does not depend on it.  With a function (HIPS autograd's
    form): a function returning the gradient of f's scalar output with
    respect to argument ``argnum`` (an int, or a tuple of ints); arguments
    may be arrays, numbers or tuples / lists / dicts of them (``functional.grad_of``).

    >>> grad(lambda w: np.sum(w * w))(np.array([1., 2.]))
    array([2., 4.])
    >>> bool(grad(grad(np.sin))(0.5) == -np.sin(0.5))
    True
    """
    if isinstance(f, Result):
        if f.tape is None:
            raise TypeError("grad: expected the Result of diff")
        entry = f.tape.grads.get(id(x))
        return None if entry is None or entry[0] is not x else entry[1]
    return _upper["grad_of"](f, argnum if x is None else x, with_loss=False)


def gradloss(f, argnum=0):
    """gradloss(f, argnum=0): like ``grad(f)`` but the function returns
    ``(gradient, loss)``.

    >>> g, loss = gradloss(lambda w: np.sum(w * w))(np.array([1., 2.]))
    >>> g, float(loss)
    (array([2., 4.]), 5.0)
    """
    return _upper["grad_of"](f, argnum, with_loss=True)


def params(x):
    """params(x) -> list of the Params found in x: for the Result of ``diff``
    the Params it depends on, otherwise ``boxes.find_params(x)`` (a search of
    containers and object attributes).  Example: ``params(model)``."""
    if isinstance(x, Result) and x.tape is not None and x.tape.level < 0:
        return [p for p, _ in x.tape.grads.values() if isinstance(p, Param)]
    return find_params(x)


# names defined above core, handed down when their module loads (see the module docstring)
_upper = {}


def provide(**names):
    """provide(name=obj, ...): make ``autograd.core.name`` serve ``obj``; called by
    the modules above core (registry, functional, extend) when they load.
    Example: ``core.provide(grad_of=grad_of)`` in functional.py."""
    _upper.update(names)


def __getattr__(name):
    """The names that upper layers provided (``primitive``, ``make_vjp``, ...)."""
    try:
        return _upper[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
