"""The tape: Param, Result, Primitive, diff, grad.

A ``Param`` marks an array whose gradient is wanted.  While ``diff`` runs a
function, every call of a ``Primitive`` that touches a Param (or a value
computed from one) is recorded as a ``Result`` on the active ``Tape``.  When
the function returns, ``diff`` sweeps the tape backwards once, calling each
primitive's gradient functions, and keeps only the gradients of the Params.

Tapes nest: a ``diff`` (or ``grad``) inside another one records on its own
tape, and the backward sweep of the inner tape is itself recorded on the
outer one.  A Result belongs to exactly one tape (its *level*), so values
of different tapes are never confused; this is what makes higher-order and
nested-closure gradients come out right.
"""
import math

import numpy as np

from .sparse import Sparse

__all__ = ["Value", "Param", "Result", "Primitive", "primitive", "zerograd",
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


class Value:
    """Base of Param and Result: acts like the array it holds (see array.py)."""
    __slots__ = ()


class Param(Value):
    """Param(value, opt=None): an array whose gradient ``diff`` computes.

    Outside ``diff`` a Param acts exactly like its value and operations on it
    return plain arrays.  ``opt`` may hold the optimizer that ``update_``
    uses for this parameter.

    >>> w = Param(np.array([1., 2.]))
    >>> grad(diff(lambda: np.sum(w * w)), w)
    array([2., 4.])
    """
    __slots__ = ("value", "opt", "__weakref__")

    def __init__(self, value, opt=None):
        if isinstance(value, Value):
            raise TypeError(f"Param: value must be an array, got {type(value).__name__}")
        self.value = value
        self.opt = opt

    def __repr__(self):
        return f"P({_show(self.value)})"


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


def _show(v):
    """Scalars as plain numbers, arrays as numpy shows them."""
    if isinstance(v, np.generic) or (isinstance(v, np.ndarray) and v.ndim == 0):
        return repr(v.item())
    return repr(v)


def value(x):
    """value(x): the array held by a Param or Result; anything else as it is.

    >>> value(Param(np.ones(2)))
    array([1., 1.])
    """
    return x.value if isinstance(x, Value) else x


def _raw(x):
    """Strip every level of wrapping (for calls that record nothing)."""
    while isinstance(x, Value):
        x = x.value
    return x


def _unbox_deep(a):
    """a with every Param/Result in it, also inside lists and tuples, unwrapped."""
    if isinstance(a, Value):
        return _raw(a)
    if isinstance(a, (list, tuple)):
        return type(a)(_unbox_deep(b) for b in a)
    return a


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


def primitive(*grads, nary_grad=None):
    """@primitive(g1, g2, ...): make a function differentiable on the tape.

    ``gi(dy, y, *args, **kwargs)`` is the gradient for the i-th argument.
    Applied to an existing numpy function or ufunc, it also registers it, so
    that ``np.f(param)`` is recorded.

    >>> @primitive(lambda dy, y, x: dy * np.cos(x))
    ... def mysin(x): return np.sin(x)
    """
    def wrap(fn):
        p = Primitive(fn, grads, nary_grad)
        _register(fn, p)
        return p
    return wrap


def zerograd(fn):
    """@zerograd: accept Params/Results (also inside list or tuple arguments),
    record nothing, return plain values.

    >>> @zerograd
    ... def mysign(x): return np.sign(x)
    """
    def unboxed(*args, **kw):
        return fn(*_unbox_deep(args), **{k: _unbox_deep(v) for k, v in kw.items()})
    unboxed.__name__ = getattr(fn, "__name__", "zerograd")
    unboxed.__doc__ = getattr(fn, "__doc__", None)
    unboxed.__wrapped__ = fn
    _register(fn, unboxed)
    return unboxed


# numpy functions and ufuncs -> the callables that handle Values (filled by array.py)
UFUNCS = {}
FUNCTIONS = {}


def _register(fn, impl):
    if isinstance(fn, np.ufunc):
        UFUNCS[fn] = impl
    elif hasattr(fn, "__module__") and (fn.__module__ or "").startswith(("numpy", "scipy")):
        FUNCTIONS[fn] = impl


# ---------------------------------------------------------------- backward

def unbroadcast(g, x):
    """Sum gradient ``g`` down to the shape (and float dtype) of input ``x``."""
    xs = np.shape(x) if not isinstance(x, np.ndarray) else x.shape
    if g.__class__ is Sparse:
        if g.shape != xs:                  # a sparse gradient that was broadcast
            g = g.dense()
        else:
            xd = getattr(x, "dtype", None)
            if xd is not None and xd.kind == "f" and g.dtype.kind == "c":
                g = Sparse(xs, xd, [(i, np.real(v)) for i, v in g.pairs])
            return g
    gs = np.shape(g) if not isinstance(g, np.ndarray) else g.shape
    if gs != xs:
        lead = len(gs) - len(xs)
        axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(xs)
                                          if n == 1 and gs[i + lead] != 1)
        if axes:
            g = np.sum(g, axis=axes)
        if np.shape(g) != xs:
            g = np.reshape(g, xs)
    xd = getattr(x, "dtype", None)
    if xd is not None and xd.kind in "fc":
        gd = getattr(g, "dtype", None)
        if gd is not xd and gd is not None and gd != xd:
            if not isinstance(g, Value):
                g = g.astype(xd) if xd.kind == "c" or gd.kind != "c" else g.real.astype(xd)
            elif gd.kind == "c" and xd.kind != "c":
                g = np.real(g)       # a real input's gradient is real (recorded case)
            elif xd.kind == "c" and gd.kind != "c":
                g = g * (1 + 0j)     # and a complex input's gradient complex
    elif xd is None and isinstance(x, (float, int, complex)):
        # a Python number: a real one gets a real gradient, a complex one a complex gradient
        if isinstance(x, complex):
            if not np.iscomplexobj(_raw(g)):
                g = g * (1 + 0j)
        elif np.iscomplexobj(_raw(g)):
            g = np.real(g)
    return g


def add_grads(a, b):
    """Sum of two gradient contributions (either may be Sparse or recorded)."""
    if a.__class__ is Sparse:
        return a.add(b)
    if b.__class__ is Sparse:
        return b.add(a)
    return a + b


def sweep(tape, out, dy=None, keep=False):
    """Run the backward pass of a finished ``tape`` from its Result ``out``
    with output gradient ``dy`` (ones when None).  ``out`` may also be a
    list of Results of the tape with ``dy`` the list of their gradients
    (None entries are skipped).

    Afterwards ``tape.grads`` maps id(Param or root) to (it, gradient).  With
    ``keep=True`` the tape can be swept again (with another ``dy``);
    otherwise its intermediates are dropped.
    """
    tape.grads = {}
    if out.__class__ is not Result:      # several outputs: out and dy are lists
        for r, d in zip(out, dy):
            if d is not None:
                r.outgrad = d if r.outgrad is None else add_grads(r.outgrad, d)
    else:
        if dy is None:
            v = _raw(out.value)
            dy = np.ones_like(v) if v.__class__ is np.ndarray else \
                v.dtype.type(1) if isinstance(v, np.generic) else 1.0
        out.outgrad = dy
    for node in reversed(tape.nodes):
        dy = node.outgrad
        if dy is None:
            continue
        node.outgrad = None
        prim, y, args, kw = node.prim, node.value, node.args, node.kw
        grads = prim.grads
        for i, parent in node.parents:
            if i < len(grads):
                g = grads[i](dy, y, *args, **kw)
            else:
                g = prim.nary_grad(i, dy, y, *args, **kw)
            if g is None:
                continue
            pv = parent.value
            # unbroadcast, except in the common case of a gradient that already fits
            if not (g.__class__ is np.ndarray and pv.__class__ is np.ndarray
                    and g.shape == pv.shape and g.dtype == pv.dtype):
                g = unbroadcast(g, pv)
            parent.outgrad = g if parent.outgrad is None else add_grads(parent.outgrad, g)
        if not keep:
            node.args = node.kw = node.parents = node.prim = None
    for p, box in tape.pboxes.values():
        if box.outgrad is not None:
            tape.grads[id(p)] = (p, box.outgrad)
            box.outgrad = None
    for r in tape.roots:
        tape.grads[id(r)] = (r, r.outgrad)
        r.outgrad = None
    if not keep:
        tape.nodes = []
        tape.pboxes = {}
    return tape.grads


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
    """A gradient was asked of a function whose output is not one number.

    Both a ValueError (AutoGrad.jl's ``diff``) and a TypeError (what HIPS
    autograd's ``grad`` raises), so code written for either catches it."""


_CONTAINERS = (tuple, list, dict)


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
    >>> value(y), grad(y, x)
    (14.0, array([2., 4., 6.]))
    """
    if not callable(f):
        raise TypeError(f"diff: f must be callable, got {type(f).__name__}")
    return _run(f, args, kw)[1]


def _tape_grad(y, x):
    if not isinstance(y, Result) or y.tape is None:
        raise TypeError(f"grad: expected the Result of diff, got {type(y).__name__}")
    entry = y.tape.grads.get(id(x))
    return None if entry is None or entry[0] is not x else entry[1]


def _densify(g, x):
    if g.__class__ is np.ndarray:
        return g
    if g is None:
        return np.zeros_like(_raw(x)) if hasattr(_raw(x), "shape") else 0.0 * _raw(x)
    return g.dense() if g.__class__ is Sparse else g


def grad(f, x=None, argnum=0):
    """grad(result, param) or grad(f, argnum=0).

    With the Result of ``diff`` and a Param: that Param's gradient, or None
    if the result does not depend on it.  With a function (HIPS autograd's
    form): a function that returns the gradient of f's scalar output with
    respect to argument ``argnum`` (an int, or a tuple of ints for a tuple of
    gradients).  The argument may be an array, a number or a tuple / list /
    dict of them; the gradient has the same structure.  A non-scalar output
    raises ``NonScalarOutput`` (both a ValueError and a TypeError).

    >>> grad(lambda w: np.sum(w * w))(np.array([1., 2.]))
    array([2., 4.])
    >>> grad(grad(np.sin))(0.5) == -np.sin(0.5)
    True
    >>> grad(lambda p: p['a'] * p['b'])({'a': 2.0, 'b': 3.0})['a']
    np.float64(3.0)
    """
    if isinstance(f, Result):
        return _tape_grad(f, x)
    if x is not None:
        argnum = x
    return _functional(f, argnum, with_loss=False)


def gradloss(f, argnum=0):
    """gradloss(f, argnum=0): like ``grad(f)`` but the function returns
    ``(gradient, loss)``.

    >>> gradloss(lambda w: np.sum(w * w))(np.array([1., 2.]))
    (array([2., 4.]), 5.0)
    """
    return _functional(f, argnum, with_loss=True)


def _functional(f, argnum, with_loss):
    if not callable(f):
        raise TypeError(f"grad: f must be callable or the Result of diff, got {type(f).__name__}")

    if isinstance(argnum, list):
        argnum = tuple(argnum)
    single = not isinstance(argnum, tuple)

    def gradfun(*args, **kw):
        n = len(args)
        if single and 0 <= argnum < n and not isinstance(args[argnum], _CONTAINERS):
            tape, out = _run(f, args, kw, argnum, real=True)
            r = tape.roots[0]
            g = _densify(tape.grads[id(r)][1], r.value)
        else:
            idx = (argnum,) if single else argnum
            for i in idx:
                if not -n <= i < n:
                    raise IndexError(f"grad: argnum={i} but the function got {n} arguments")
            # tuples, lists and dicts of arrays: one root per leaf (differential_operators)
            from .differential_operators import _grad_nary
            g, loss = _grad_nary(f, argnum, args, kw)
            return (g, loss) if with_loss else g
        return (g, out.value) if with_loss else g
    op = "gradloss" if with_loss else "grad"
    name = getattr(f, "__name__", "f")
    gradfun.__name__ = f"{op}_of_{name}_wrt_argnum_{argnum}"     # HIPS autograd's naming
    gradfun.__doc__ = (f"{op} of function {name} with respect to argument number {argnum}; "
                       f"takes the same arguments as {name}.")
    return gradfun


def params(x):
    """params(x) -> list of the Params found in x.

    For the Result of ``diff``: the Params it depends on.  Otherwise a search
    of lists, tuples, dicts, sets and object attributes, which visits every
    object once (cycles are safe).
    """
    if isinstance(x, Result) and x.tape is not None and x.tape.level < 0:
        return [p for p, _ in x.tape.grads.values() if isinstance(p, Param)]
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
    import types
    return isinstance(o, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                          types.MethodType))


_HIPS_CORE = {"make_vjp": ("differential_operators", "_make_vjp"),
              "make_jvp": ("forward", "make_jvp_unary"),
              "vspace": ("extend", "vspace"), "VSpace": ("extend", "VSpace"),
              "defvjp": ("extend", "defvjp"), "defvjp_argnum": ("extend", "defvjp_argnum"),
              "defjvp": ("extend", "defjvp"), "defjvp_argnum": ("extend", "defjvp_argnum"),
              "def_linear": ("extend", "def_linear")}


def __getattr__(name):
    """HIPS autograd's ``autograd.core`` names (``make_vjp(fun, x)`` and
    ``make_jvp(fun, x)`` in their one-argument form, ``vspace``, ``defvjp``,
    ...), loaded on first use.  ``primitive`` here stays AutoGrad.jl's
    decorator; HIPS's is ``autograd.extend.primitive``."""
    if name in _HIPS_CORE:
        import importlib
        module, attr = _HIPS_CORE[name]
        return getattr(importlib.import_module(f"{__package__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
