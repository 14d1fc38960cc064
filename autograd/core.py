"""The tape: Tape, the Primitive call, record, diff, grad.

A ``Param`` marks an array whose gradient is wanted.  While ``diff`` runs a
function, every call of a ``Primitive`` that touches a Param (or a value
computed from one) is recorded as a ``Result`` on the active ``Tape``; then
``sweep`` (backward.py) runs the tape backwards once.  Tapes nest: an inner ``diff``
records on its own tape and its sweep is recorded on the outer one; a Result belongs to
one tape (its *level*), which makes higher-order and nested-closure gradients right.

Names defined above core (``primitive``, ``make_vjp``, ...) stay readable here: upper
modules hand them to ``provide`` when they load; the module ``__getattr__`` serves them.
"""
import threading

import numpy as np

from .backward import (NonScalarOutput, add_grads, check_scalar, sweep,  # noqa: F401
                       unbroadcast)
from .boxes import (Param, Result, Value, _raw, _unbox_deep, find_params,  # noqa: F401
                    params, raw, unbox_deep, value)
from .hold import HeldArrayError, hold, hold_all, held_write_error, release

__all__ = ["Value", "Param", "Result", "Primitive", "primitive", "zerograd", "raw",
           "diff", "grad", "gradloss", "value", "params", "training"]


class _PerThread(threading.local):
    def __init__(self):
        self.tapes = []    # this thread's tapes being recorded, innermost last


_local = _PerThread()      # tapes are per thread; tape.level is the index in its thread's list


class Tape:
    """One recording: its Results in order, its Params, its read-only arrays (hold.py)."""
    __slots__ = ("level", "nodes", "pboxes", "roots", "grads", "held")

    def __init__(self):
        self.level = len(_local.tapes)
        self.held, self.nodes = [], []
        self.pboxes = {}   # id(param) -> (param, Result standing for it here)
        self.roots = []    # Results given as arguments by grad(f)
        self.grads = {}    # id(param or root) -> (param or root, gradient)

    def box_param(self, p):
        """The Result that stands for Param ``p`` on this tape (made once)."""
        entry = self.pboxes.get(id(p))
        if entry is None:
            outer = _local.tapes[self.level - 1].box_param(p) if self.level > 0 else p.value
            hold(self, outer)
            entry = self.pboxes[id(p)] = (p, Result(outer, self))
        return entry[1]


def training():
    """training() -> bool: True only while ``diff`` (or ``grad``) is recording."""
    return bool(_local.tapes)


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
        if not kw:
            # fast paths: every wrapped argument a Result of one outermost tape (level 0,
            # no thread-local lookup) or, below, a Param boxed for it when it is the only tape
            grads, n = self.grads, len(args)
            if n == 1 or n == 2 and len(grads) == 2:
                j = 0 if n == 1 or args[0].__class__ is Result else 1
                a = args[j]
                if a.__class__ is Result and a.tape.level == 0 and \
                        (n == 1 or not isinstance(args[1 - j], Value)):
                    top = a.tape
                    v = a.value
                    raw = (v,) if n == 1 else (v, args[1]) if j == 0 else (args[0], v)
                    y = self.fn(*raw)
                    if not ((grads[j] is not None) if j < len(grads)
                            else self.nary_grad is not None):
                        return y
                    r = Result(y, top, self, raw, kw, ((j, a),))
                    top.nodes.append(r)
                    if n == 2 and args[1 - j].__class__ is np.ndarray:
                        hold(top, args[1 - j])     # a constant operand the sweep reads
                    return r
            top, parents = None, []
            raw = list(args)
            for i, a in enumerate(args):
                if a.__class__ is Param:
                    tapes = _local.tapes
                    if len(tapes) != 1:
                        break
                    a = tapes[0].box_param(a)
                if a.__class__ is Result:
                    if top is None and a.tape.level == 0:
                        top = a.tape
                    elif a.tape is not top:
                        break
                    raw[i] = a.value
                    if (grads[i] is not None) if i < len(grads) else self.nary_grad is not None:
                        parents.append((i, a))
                elif isinstance(a, Value):
                    break
            else:
                y = self.fn(*raw)
                if not parents:      # (also: nothing wrapped at all)
                    return y
                r = Result(y, top, self, raw, kw, parents)
                top.nodes.append(r)
                hold_all(top, args)
                return r
        tapes = _local.tapes
        top = None
        wrapped = False
        for a in args:
            if isinstance(a, Value):
                wrapped = True
                if a.__class__ is Result:
                    t = a.tape
                    if t.level < 0:
                        continue
                elif tapes:
                    t = tapes[-1]
                else:
                    continue
                if top is None or t.level > top.level:
                    top = t
        if kw and any(isinstance(v, Value) for v in kw.values()):
            if any(v.tape.level >= 0 if v.__class__ is Result else bool(tapes)
                   for v in kw.values() if isinstance(v, Value)):
                raise TypeError(f"{self.__name__}: pass differentiable arguments positionally; "
                                f"keyword arguments {sorted(kw)} are not differentiated")
            kw = {k: _raw(v) for k, v in kw.items()}
        if top is None:
            if wrapped:
                args = [_raw(a) for a in args]
            return self.fn(*args, **kw)
        if "out" in kw and kw["out"] is not None:
            raise HeldArrayError(f"{self.__name__}: out= would write in place into a recorded "
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
        hold_all(top, args)
        if kw:
            hold_all(top, kw.values())
        return r


def record(f, args, kw, root_index=None, keep_held=False):
    """Run f(*args, **kw) on a new tape of this thread, the arguments at ``root_index``
    (int or tuple) as its roots.  Returns (tape, out), ``out`` a Result of the tape
    (constant when f depends on nothing recorded), the tape finished (level -1) and
    its held arrays released (by the caller with ``keep_held``)."""
    tape = Tape()
    tapes = _local.tapes
    if root_index is not None:
        args = list(args)
        for i in (root_index if isinstance(root_index, tuple) else (root_index,)):
            a = args[i]
            if isinstance(a, Param):   # a Param root stays visible to the enclosing tapes
                a = tapes[-1].box_param(a) if tapes else a.value
            hold(tape, a)
            args[i] = Result(a, tape)
            tape.roots.append(args[i])
    tapes.append(tape)
    try:
        out = f(*args, **kw)
        if isinstance(out, Param):
            out = tape.box_param(out)
    except BaseException as e:
        release(tape)                # nothing stays held after a failure
        err = held_write_error(e)    # numpy's "read-only" error for a held array, explained
        if err is None:
            raise
        raise err
    finally:
        tapes.pop()
        tape.level = -1          # from here on its Results count as constants
    if not keep_held:
        release(tape)
    if not (out.__class__ is Result and out.tape is tape):
        out = Result(out, tape)
    return tape, out


def _run(f, args, kw, root_index=None, real=False):
    """record + check that the output is a scalar (a real one with ``real``)
    + sweep with dy = 1; the held arrays are released when the sweep is over."""
    tape, out = record(f, args, kw, root_index, keep_held=True)
    try:
        check_scalar(out, real)
        sweep(tape, out)     # for nested tapes the sweep is recorded on the outer ones
    finally:
        release(tape)
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
    """
    if isinstance(f, Result):
        if f.tape is None:
            raise TypeError("grad: expected the Result of diff")
        entry = f.tape.grads.get(id(x))
        return None if entry is None or entry[0] is not x else entry[1]
    return _upper["grad_of"](f, argnum if x is None else x, with_loss=False)


def gradloss(f, argnum=0):
    """gradloss(f, argnum=0): like ``grad(f)`` but the function returns ``(gradient, loss)``.
    >>> g, loss = gradloss(lambda w: np.sum(w * w))(np.array([1., 2.]))
    >>> g, float(loss)
    (array([2., 4.]), 5.0)
    """
    return _upper["grad_of"](f, argnum, with_loss=True)


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
