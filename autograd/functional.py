"""Tracing a function of one argument, and ``grad(f)``'s function form.

``Trace(fun, x)`` records ``fun(x)`` once with every leaf of ``x`` (a tree
of arrays) a root of the tape and gives vector-Jacobian products; ``nary``
turns an operator on one argument into HIPS's ``op(fun, argnum)``.  Both
serve the differential operators and forward mode.  ``grad_of`` is the
function form of ``core.grad`` / ``core.gradloss``; this module hands it to
core when it loads (core may not import it: it sits above core).
"""
import numpy as np

from . import core
from .boxes import Result, raw as _raw
from .core import NonScalarOutput, record, sweep
from .sparse import Sparse
from .tree import LEAF, leaves_like, tree_flatten, tree_unflatten

__all__ = ["Trace", "nary", "grad_of", "densify", "dense_like", "ones_like", "zeros_like"]

_CONTAINERS = (tuple, list, dict)


class Trace:
    """Trace(fun, x): fun(x) recorded once, with every leaf of x a root of the tape.

    >>> float(Trace(lambda v: v * v, 3.0).vjp(1.0))
    6.0
    """
    __slots__ = ("tape", "roots", "in_leaves", "in_tree", "out_leaves", "out_tree", "ans")

    def __init__(self, fun, x):
        leaves, self.in_tree = tree_flatten(x)
        self.in_leaves = leaves
        n = len(leaves)
        tree = self.in_tree
        ret = []

        def flat(*ls):
            r = fun(ls[0] if tree is LEAF else tree_unflatten(tree, ls))
            ret.append(r)
            return r

        self.tape, out = record(flat, leaves, {}, tuple(range(n)))
        self.roots = self.tape.roots
        r = ret[0]
        if isinstance(r, (tuple, list, dict)):
            self.out_leaves, self.out_tree = tree_flatten(r)
        else:
            self.out_leaves, self.out_tree = [out], LEAF
        self.ans = tree_unflatten(self.out_tree, [self._value(v) for v in self.out_leaves])

    def _active(self, v):
        return v.__class__ is Result and v.tape is self.tape

    def _value(self, v):
        return v.value if self._active(v) else v

    def vjp(self, g, what="vjp"):
        """The gradient with respect to x of <g, fun(x)>; ``g`` has the output's
        structure (None leaves count as zero)."""
        gl = [g] if self.out_tree is LEAF else leaves_like(self.out_tree, g, what)
        return self.vjp_leaves(gl)

    def vjp_leaves(self, gl):
        """vjp with the output gradient given leaf by leaf (None: zero)."""
        outs, dys = [], []
        for o, d in zip(self.out_leaves, gl):
            if d is not None and self._active(o):
                outs.append(o)
                dys.append(d)
        if outs:
            sweep(self.tape, outs, dys, keep=True)
            gs = [dense_like(self.tape.grads[id(r)][1], r.value) for r in self.roots]
        else:
            gs = [dense_like(None, r.value) for r in self.roots]
        return gs[0] if self.in_tree is LEAF else tree_unflatten(self.in_tree, gs, static=False)

    def scalar_ans(self, who):
        if self.out_tree is not LEAF or np.size(_raw(self.ans)) != 1:
            shape = np.shape(_raw(self.ans)) if self.out_tree is LEAF else type(self.ans).__name__
            raise NonScalarOutput(f"{who}: the function must return a scalar (one element) to be "
                                  f"differentiated, but it returned {shape}; use jacobian, "
                                  f"elementwise_grad or make_vjp for other outputs")
        if np.iscomplexobj(_raw(self.ans)):
            raise TypeError(f"{who} only applies to real scalar-output functions; use "
                            f"holomorphic_grad, or differentiate np.real(f(x))")


def dense_like(g, x):
    """dense_like(g, x): a full gradient for leaf x (zeros when None, numbers for
    number leaves).

    >>> dense_like(None, np.ones(2))
    array([0., 0.])
    """
    if g is None:
        return zeros_like(x)
    g = densify(g, x)
    if g.__class__ is np.ndarray and g.ndim == 0 and not isinstance(_raw(x), np.ndarray):
        g = g[()]
    return g


def ones_like(v):
    """ones_like(v): ones shaped like v, a number for numbers.

    >>> ones_like(2.5)
    np.float64(1.0)
    """
    r = _raw(v)
    if isinstance(r, (np.generic, float, int, complex)):
        return np.result_type(r).type(1)
    return np.ones_like(r)


def zeros_like(v):
    """zeros_like(v): zeros shaped like v, a number for numbers.

    >>> zeros_like(np.ones(2))
    array([0., 0.])
    """
    r = _raw(v)
    if isinstance(r, (np.generic, float, int, complex)):
        return np.result_type(r).type(0)
    return np.zeros_like(r)


def nary(unary, name):
    """nary(unary, name): turn ``unary(fun, x, *extra)`` into HIPS's
    ``op(fun, argnum=0, *extra)``.

    >>> twice = nary(lambda fun, x: 2 * fun(x), "twice")
    >>> twice(lambda a, b: a * b, 1)(3.0, 4.0)
    24.0
    """
    def op(fun, argnum=0, *extra, **extra_kw):
        if not callable(fun):
            raise TypeError(f"{name}: fun must be callable, got {type(fun).__name__}")
        if isinstance(argnum, list):
            argnum = tuple(argnum)
        if not isinstance(argnum, (int, np.integer, tuple)):
            raise TypeError(f"{name}: argnum must be an int or a tuple of ints, got {argnum!r}")

        def nary_f(*args, **kw):
            n = len(args)
            idx = argnum if isinstance(argnum, tuple) else (argnum,)
            for i in idx:
                if not -n <= i < n:
                    raise IndexError(f"{name}: argnum={i} but the function got {n} arguments")
            idx = tuple(i % n for i in idx)
            if isinstance(argnum, tuple):
                x = tuple(args[i] for i in idx)

                def unary_f(x):
                    a = list(args)
                    for i, v in zip(idx, x):
                        a[i] = v
                    return fun(*a, **kw)
            else:
                i = idx[0]
                x = args[i]

                def unary_f(x):
                    return fun(*args[:i], x, *args[i + 1:], **kw)
            unary_f.__name__ = getattr(fun, "__name__", "f")
            return unary(unary_f, x, *extra, **extra_kw)
        nary_f.__name__ = f"{name}_of_{getattr(fun, '__name__', 'f')}_wrt_argnum_{argnum}"
        nary_f.__doc__ = (f"{name} of {getattr(fun, '__name__', 'f')} with respect to argument "
                          f"{argnum}; takes the same arguments as the function.")
        return nary_f
    op.__name__ = name
    op.__doc__ = unary.__doc__
    return op


def _grad_nary(f, argnum, args, kw):
    """core.grad(f) for container arguments and tuples of argnums: (grad, loss)."""
    def unary(fun, x):
        t = Trace(fun, x)
        t.scalar_ans("grad")
        return t.vjp(ones_like(t.ans)), t.ans
    return nary(unary, "grad")(f, argnum)(*args, **kw)


def densify(g, x):
    """densify(g, x): g as a full array for input x (zeros for None, a Sparse
    made dense).

    >>> densify(None, np.ones(2))
    array([0., 0.])
    """
    if g.__class__ is np.ndarray:
        return g
    if g is None:
        return np.zeros_like(_raw(x)) if hasattr(_raw(x), "shape") else 0.0 * _raw(x)
    return g.dense() if g.__class__ is Sparse else g


def grad_of(f, argnum=0, with_loss=False):
    """grad_of(f, argnum=0, with_loss=False): the function form of ``core.grad``
    (``gradloss`` with ``with_loss``): a function of f's arguments returning the
    gradient of its real scalar output with respect to argument ``argnum``.

    >>> grad_of(lambda w: np.sum(w * w))(np.array([1., 2.]))
    array([2., 4.])
    """
    if not callable(f):
        raise TypeError(f"grad: f must be callable or the Result of diff, got {type(f).__name__}")

    if isinstance(argnum, list):
        argnum = tuple(argnum)
    single = not isinstance(argnum, tuple)

    def gradfun(*args, **kw):
        n = len(args)
        if single and 0 <= argnum < n and not isinstance(args[argnum], _CONTAINERS):
            tape, out = core._run(f, args, kw, argnum, real=True)
            r = tape.roots[0]
            g = densify(tape.grads[id(r)][1], r.value)
        else:
            idx = (argnum,) if single else argnum
            for i in idx:
                if not -n <= i < n:
                    raise IndexError(f"grad: argnum={i} but the function got {n} arguments")
            # tuples, lists and dicts of arrays: one root per leaf
            g, loss = _grad_nary(f, argnum, args, kw)
            return (g, loss) if with_loss else g
        return (g, out.value) if with_loss else g
    op = "gradloss" if with_loss else "grad"
    name = getattr(f, "__name__", "f")
    gradfun.__name__ = f"{op}_of_{name}_wrt_argnum_{argnum}"     # HIPS autograd's naming
    gradfun.__doc__ = (f"{op} of function {name} with respect to argument number {argnum}; "
                       f"takes the same arguments as {name}.")
    return gradfun


core.provide(grad_of=grad_of)
