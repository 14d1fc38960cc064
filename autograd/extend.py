"""HIPS autograd's API for defining primitives, on our tape.

>>> from autograd.extend import primitive, defvjp, defjvp
>>> @primitive
... def logsumexp(x):
...     m = np.max(x)
...     return m + np.log(np.sum(np.exp(x - m)))
>>> defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
>>> defjvp(logsumexp, lambda g, ans, x: np.sum(g * np.exp(x - ans)))

HIPS's conventions are translated to ours: a *VJP maker*
``maker(ans, *args, **kw)`` returns the function ``g -> gradient`` (ours:
``grad(dy, y, *args, **kw)``); a *JVP* is ``jvp(g, ans, *args, **kw)``
giving the output's tangent for the tangent ``g`` of one argument.

``autograd.extend.primitive`` decorates a function directly (HIPS style);
``autograd.primitive(g1, g2, ...)`` is AutoGrad.jl's form taking the
gradients first.  Both make the same kind of object (``core.Primitive``),
and neither changes how plain numpy functions dispatch.
"""
import types

import numpy as np

from . import core
from .core import Primitive, Value, _raw
from .differential_operators import _make_vjp
from .forward import make_jvp_unary
from .registry import FUNCTIONS, UFUNCS, lookup, register, unregister
from .tree import tree_flatten, tree_unflatten

__all__ = ["primitive", "notrace_primitive", "defvjp", "defvjp_argnum", "defvjp_argnums",
           "defjvp", "defjvp_argnum", "defjvp_argnums", "def_linear", "Box", "VSpace", "vspace",
           "HipsPrimitive", "primitive_vjps"]

#: the class of values being traced (Params and tape Results), HIPS's ``Box``
Box = Value


class HipsPrimitive(Primitive):
    """A Primitive made by ``autograd.extend.primitive``: gradients are added
    later with ``defvjp``; differentiating an argument without one raises
    NotImplementedError.  Binds as a method when used inside a class."""

    def __init__(self, fun):
        super().__init__(fun, (), nary_grad=self._undefined)
        self.jvps = {}
        self.jvp_argnum = None

    def _undefined(self, i, dy, y, *args, **kw):
        raise NotImplementedError(f"VJP of {self.__name__} with respect to argument {i} is not "
                                  f"defined (use autograd.extend.defvjp)")

    def __get__(self, obj, objtype=None):
        return self if obj is None else types.MethodType(self, obj)


def primitive(fun):
    """primitive(fun) -> a function whose calls the tape records as one step.

    HIPS style: decorate first, then give gradients with ``defvjp`` (and
    optionally forward rules with ``defjvp``).  Inside, ``fun`` receives
    plain arrays.

    >>> @primitive
    ... def cube(x): return x ** 3
    >>> defvjp(cube, lambda ans, x: lambda g: 3 * g * x ** 2)
    """
    if not callable(fun):
        raise TypeError(f"primitive: expected a function, got {type(fun).__name__}")
    return HipsPrimitive(fun)


def notrace_primitive(fun):
    """notrace_primitive(fun) -> fun called on plain values, never recorded.

    For functions whose output does not depend differentiably on their
    inputs (shapes, comparisons, random draws).

    >>> shape_of = notrace_primitive(np.shape)
    """
    def unboxed(*args, **kw):
        return fun(*[_raw(a) for a in args], **{k: _raw(v) for k, v in kw.items()})
    unboxed.__name__ = getattr(fun, "__name__", "notrace_primitive")
    unboxed.__doc__ = getattr(fun, "__doc__", None)
    unboxed.__wrapped__ = fun
    return unboxed


def _as_primitive(fun, who):
    if isinstance(fun, Primitive):
        return fun
    impl = lookup(fun)
    if isinstance(impl, Primitive):
        return impl
    raise TypeError(f"{who}: {getattr(fun, '__name__', fun)!r} is not a primitive; decorate it "
                    f"with autograd.extend.primitive first")


def _set_grad(prim, i, g):
    grads = list(prim.grads)
    hips = isinstance(prim, HipsPrimitive)
    while len(grads) <= i:
        grads.append(_undefined_grad(prim, len(grads)) if hips else None)
    grads[i] = g
    prim.grads = tuple(grads)


def _undefined_grad(prim, i):
    def g(dy, y, *args, **kw):
        return prim._undefined(i, dy, y, *args, **kw)
    return g


def _from_vjp_maker(maker):
    def g(dy, y, *args, **kw):
        return maker(y, *args, **kw)(dy)
    g.__name__ = f"vjp_{getattr(maker, '__name__', 'maker')}"
    return g


def defvjp(fun, *vjpmakers, argnums=None):
    """defvjp(fun, maker0, maker1, ..., argnums=None)

    Give primitive ``fun`` the gradient of each argument:
    ``maker(ans, *args, **kw)`` returns ``g -> gradient`` where ``g`` is the
    gradient of the output.  ``None`` declares a zero gradient; ``argnums``
    says which arguments the makers are for (default 0, 1, ...).

    >>> @primitive
    ... def mul(a, b): return a * b
    >>> defvjp(mul, lambda ans, a, b: lambda g: g * b, lambda ans, a, b: lambda g: g * a)
    """
    prim = _as_primitive(fun, "defvjp")
    argnums = range(len(vjpmakers)) if argnums is None else argnums
    for i, maker in zip(argnums, vjpmakers):
        if maker is not None and not callable(maker):
            raise TypeError(f"defvjp: the VJP maker for argument {i} must be callable or None")
        _set_grad(prim, i, None if maker is None else _from_vjp_maker(maker))


def defvjp_argnum(fun, vjpmaker):
    """defvjp_argnum(fun, vjpmaker): one maker for every argument,
    ``vjpmaker(argnum, ans, args, kwargs)`` returning ``g -> gradient``.

    >>> @primitive
    ... def add3(a, b, c): return a + b + c
    >>> defvjp_argnum(add3, lambda i, ans, args, kw: lambda g: g)
    """
    prim = _as_primitive(fun, "defvjp_argnum")
    prim.grads = ()
    prim.nary_grad = lambda i, dy, y, *args, **kw: vjpmaker(i, y, args, kw)(dy)


def defvjp_argnums(fun, vjpmaker):
    """defvjp_argnums(fun, vjpmaker): ``vjpmaker(argnums, ans, args, kwargs)``
    returns ``g -> tuple of gradients`` (one per argnum asked for).

    >>> @primitive
    ... def both(a, b): return a * b
    >>> defvjp_argnums(both, lambda nums, ans, args, kw: lambda g: tuple(
    ...     g * args[1 - i] for i in nums))
    """
    prim = _as_primitive(fun, "defvjp_argnums")
    prim.grads = ()
    prim.nary_grad = lambda i, dy, y, *args, **kw: tuple(vjpmaker((i,), y, args, kw)(dy))[0]


def _jvp_table(prim):
    if getattr(prim, "jvps", None) is None:
        prim.jvps = {}
    return prim.jvps


def defjvp(fun, *jvpfuns, argnums=None):
    """defjvp(fun, jvp0, jvp1, ..., argnums=None)

    Forward-mode rules: ``jvp(g, ans, *args, **kw)`` is the tangent of the
    output for the tangent ``g`` of that argument.  ``None`` means zero and
    ``'same'`` means the function is linear in that argument (its JVP is the
    function applied to the tangent).  Arguments without a rule use the
    double-VJP fallback of ``autograd.forward``.

    >>> @primitive
    ... def cube(x): return x ** 3
    >>> defjvp(cube, lambda g, ans, x: 3 * g * x ** 2)
    """
    prim = _as_primitive(fun, "defjvp")
    table = _jvp_table(prim)
    argnums = range(len(jvpfuns)) if argnums is None else argnums
    for i, r in zip(argnums, jvpfuns):
        if isinstance(r, str):
            if r != "same":
                raise ValueError(f"defjvp: a JVP must be callable, None or 'same', got {r!r}")
            r = _same(prim, i)
        elif r is not None and not callable(r):
            raise TypeError(f"defjvp: the JVP for argument {i} must be callable, None or 'same'")
        table[i] = r


def _same(prim, i):
    def jvp(g, ans, *args, **kw):
        return prim(*args[:i], g, *args[i + 1:], **kw)
    return jvp


def defjvp_argnum(fun, jvpmaker):
    """defjvp_argnum(fun, jvpmaker): one forward rule for every argument,
    ``jvpmaker(argnum, g, ans, args, kwargs)`` -> tangent of the output.

    >>> @primitive
    ... def add3(a, b, c): return a + b + c
    >>> defjvp_argnum(add3, lambda i, g, ans, args, kw: g)
    """
    prim = _as_primitive(fun, "defjvp_argnum")
    prim.jvps = {}
    prim.jvp_argnum = jvpmaker


def defjvp_argnums(fun, jvpmaker):
    """defjvp_argnums(fun, jvpmaker): ``jvpmaker(argnums, gs, ans, args, kwargs)``
    -> the output's tangent for the tangents ``gs`` of the arguments ``argnums``
    (called here with one argument at a time; tangents add)."""
    prim = _as_primitive(fun, "defjvp_argnums")
    prim.jvps = {}
    prim.jvp_argnum = lambda i, g, ans, args, kw: jvpmaker((i,), (g,), ans, args, kw)


def def_linear(fun):
    """def_linear(fun): declare ``fun`` linear in each argument separately
    (multilinear, like a product), so its JVP is ``fun`` with that argument
    replaced by the tangent.

    >>> @primitive
    ... def scale(a, x): return a * x
    >>> def_linear(scale)
    """
    prim = _as_primitive(fun, "def_linear")
    prim.jvps = {}
    prim.jvp_argnum = lambda i, g, ans, args, kw: prim(*args[:i], g, *args[i + 1:], **kw)


# ---------------------------------------------------------------- vector spaces
class VSpace:
    """The vector space a value lives in (HIPS's ``vspace(x)``): its shape
    and dtype, with zeros / ones / random members and the inner product that
    pairs gradients with tangents.  ``vspace(x)`` builds one.

    >>> vspace(np.ones((2, 3))).zeros().shape
    (2, 3)
    """
    iscomplex = False

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((type(self), self._key()))

    def __repr__(self):
        return f"{type(self).__name__}{self._key()}"

    def add(self, x, y):
        """x + y for two members of this space."""
        return x + y

    def scalar_mul(self, x, a):
        """a * x for a real number a."""
        return x * a

    def covector(self, x):
        """The gradient that pairs with x (x itself; its conjugate for complex spaces)."""
        return x


class ArrayVSpace(VSpace):
    """Arrays (and numbers) of one shape and a floating dtype."""

    def __init__(self, value):
        v = _raw(value)
        self.shape = tuple(np.shape(v))
        self.dtype = np.result_type(v)
        self.scalar = not isinstance(v, np.ndarray)
        self.size = int(np.prod(self.shape))
        self.ndim = len(self.shape)

    def _key(self):
        return (self.shape, self.dtype.str)

    def _make(self, a):
        a = np.asarray(a, dtype=self.dtype)
        return a[()] if self.scalar else a

    def zeros(self):
        """The zero member (a number for spaces of numbers)."""
        return self._make(np.zeros(self.shape))

    def ones(self):
        """All ones (the sum of the standard basis)."""
        return self._make(np.ones(self.shape))

    def randn(self):
        """A standard normal draw from numpy's global generator (``np.random.seed``)."""
        return self._make(np.random.randn(*self.shape))

    def standard_basis(self):
        """Yields the unit members one entry at a time, in C order."""
        for idx in np.ndindex(*self.shape):
            e = np.zeros(self.shape, self.dtype)
            e[idx] = 1
            yield self._make(e)

    def inner_prod(self, x, y):
        """The real inner product sum(x * y)."""
        return np.dot(np.ravel(x), np.ravel(y))


class ComplexArrayVSpace(ArrayVSpace):
    """Complex arrays: a real vector space of twice the size, with the inner
    product Re <conj(x), y> and covectors conjugated (HIPS's convention)."""
    iscomplex = True

    def __init__(self, value):
        super().__init__(value)
        self.size = 2 * self.size

    def ones(self):
        return self._make(np.full(self.shape, 1 + 1j))     # the sum of the basis, as HIPS

    def randn(self):
        return self._make(np.random.randn(*self.shape) + 1j * np.random.randn(*self.shape))

    def standard_basis(self):
        for idx in np.ndindex(*self.shape):
            for unit in (1, 1j):
                e = np.zeros(self.shape, self.dtype)
                e[idx] = unit
                yield self._make(e)

    def inner_prod(self, x, y):
        return np.real(np.dot(np.conj(np.ravel(x)), np.ravel(y)))

    def covector(self, x):
        return np.conj(x)


class ContainerVSpace(VSpace):
    """Tuples, lists and dicts of arrays: the product of their spaces."""

    def __init__(self, value):
        leaves, self.tree = tree_flatten(value)
        self.spaces = [vspace(v) for v in leaves]
        self.kind = type(value)
        self.size = sum(s.size for s in self.spaces)
        self.iscomplex = any(s.iscomplex for s in self.spaces)

    def _key(self):
        return (self.kind, tuple(self.spaces), _tree_key(self.tree))

    def _map(self, fn, *xs):
        parts = [tree_flatten(x)[0] for x in xs]
        return tree_unflatten(self.tree, [fn(s, *vs) for s, *vs in zip(self.spaces, *parts)])

    def zeros(self):
        return self._map(lambda s: s.zeros())

    def ones(self):
        return self._map(lambda s: s.ones())

    def randn(self):
        return self._map(lambda s: s.randn())

    def add(self, x, y):
        return self._map(lambda s, a, b: s.add(a, b), x, y)

    def scalar_mul(self, x, a):
        return self._map(lambda s, v: s.scalar_mul(v, a), x)

    def covector(self, x):
        return self._map(lambda s, v: s.covector(v), x)

    def inner_prod(self, x, y):
        return sum(s.inner_prod(a, b) for s, a, b in
                   zip(self.spaces, tree_flatten(x)[0], tree_flatten(y)[0]))

    def standard_basis(self):
        zeros = [s.zeros() for s in self.spaces]
        for k, s in enumerate(self.spaces):
            for e in s.standard_basis():
                yield tree_unflatten(self.tree, zeros[:k] + [e] + zeros[k + 1:])


def _tree_key(tree):
    if tree is None:
        return None
    if tree.kind == "static":
        return ("static", repr(tree.keys))
    keys = tuple(tree.keys) if isinstance(tree.keys, list) else tree.keys
    return (tree.kind, keys, tuple(_tree_key(c) for c in tree.children))


def vspace(value):
    """vspace(value) -> the VSpace of an array, a float/complex number, or a
    tuple / list / dict of them.  Integers and booleans have none (TypeError).

    >>> vspace(1.5).ones()
    np.float64(1.0)
    """
    if isinstance(value, (tuple, list, dict)) and not isinstance(value, Value):
        return ContainerVSpace(value)
    v = _raw(value)
    if isinstance(v, (np.ndarray, np.generic, float, complex)) and not isinstance(v, bool):
        kind = np.result_type(v).kind
        if kind == "f":
            return ArrayVSpace(value)
        if kind == "c":
            return ComplexArrayVSpace(value)
    raise TypeError(f"vspace: no vector space for {type(v).__name__} values"
                    + (f" of dtype {np.result_type(v)}" if hasattr(v, "dtype") else "")
                    + " (use float or complex arrays)")


# ---------------------------------------------------------------- HIPS's older API
class _VJPTable:
    """``autograd.core.primitive_vjps``: HIPS's table of gradient definitions,
    as a view of the numpy / scipy functions that have a registered gradient
    here (function -> its Primitive).  ``pop``/``del`` take a function's
    gradient away (a recorded call then raises), assignment puts one back.

    >>> from autograd.core import primitive_vjps
    >>> np.sin in primitive_vjps
    True
    """

    @staticmethod
    def _table(fun):
        return UFUNCS if isinstance(fun, np.ufunc) else FUNCTIONS

    @staticmethod
    def _has_grad(impl):
        return isinstance(impl, Primitive) and (impl.nary_grad is not None
                                                or any(g is not None for g in impl.grads))

    def __contains__(self, fun):
        return self._has_grad(self._table(fun).get(fun))

    def __getitem__(self, fun):
        if fun not in self:
            raise KeyError(fun)
        return self._table(fun)[fun]

    def __setitem__(self, fun, prim):
        if not isinstance(prim, Primitive):
            raise TypeError(f"primitive_vjps: expected a Primitive, got {type(prim).__name__}")
        register(fun, prim, override=True)

    def __delitem__(self, fun):
        self[fun]                                # KeyError when fun has no gradient
        unregister(fun)

    def get(self, fun, default=None):
        """get(fun, default=None): fun's Primitive, or default."""
        return self[fun] if fun in self else default

    def pop(self, fun, *default):
        """pop(fun[, default]): remove and return fun's Primitive."""
        if fun not in self:
            if default:
                return default[0]
            raise KeyError(fun)
        prim = self[fun]
        del self[fun]
        return prim

    def __iter__(self):
        return (f for t in (UFUNCS, FUNCTIONS) for f, impl in list(t.items())
                if self._has_grad(impl))

    def __len__(self):
        return sum(1 for _ in self)


primitive_vjps = _VJPTable()


def _deprecated(what):
    import warnings
    warnings.warn(f"{what} is deprecated (HIPS autograd's old API); use autograd.extend.defvjp",
                  DeprecationWarning, stacklevel=3)


def _old_defgrad(self, gradmaker, argnum=0):
    """prim.defgrad(maker, argnum=0): deprecated; ``maker(ans, *args)`` returns g -> gradient."""
    _deprecated("defgrad")
    _set_grad(self, argnum, _from_vjp_maker(gradmaker))


def _old_defvjp(self, vjpfun, argnum=0):
    """prim.defvjp(vjp, argnum=0): deprecated; ``vjp(g, ans, vs, gvs, *args)`` is the gradient."""
    _deprecated("defvjp")
    _set_grad(self, argnum, lambda dy, y, *args, **kw: vjpfun(dy, y, vspace(args[argnum]),
                                                              vspace(y), *args, **kw))


def _old_defvjp_is_zero(self, argnums=(0,)):
    """prim.defvjp_is_zero(argnums=(0,)): deprecated; these arguments get zero gradients."""
    _deprecated("defvjp_is_zero")
    for i in argnums:
        _set_grad(self, i, lambda dy, y, *args, _i=i, **kw: np.zeros_like(_raw(args[_i])))


HipsPrimitive.defgrad = _old_defgrad
HipsPrimitive.defvjp = _old_defvjp
HipsPrimitive.defvjp_is_zero = _old_defvjp_is_zero


# HIPS's ``autograd.core`` names (``make_vjp(fun, x)`` and ``make_jvp(fun, x)`` in their
# one-argument form, ``vspace``, ``defvjp``, ...); ``autograd.core.primitive`` stays
# AutoGrad.jl's decorator (HIPS's is this module's ``primitive``)
core.provide(make_vjp=_make_vjp, make_jvp=make_jvp_unary, vspace=vspace, VSpace=VSpace,
             defvjp=defvjp, defvjp_argnum=defvjp_argnum, defjvp=defjvp,
             defjvp_argnum=defjvp_argnum, def_linear=def_linear, primitive_vjps=primitive_vjps)
