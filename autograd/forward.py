"""Forward mode: Jacobian-vector products on the recorded tape.

``make_jvp`` records the function once (as reverse mode does) and then
sweeps the tape *forwards*: each recorded step gets the tangent of its
output from the tangents of its inputs.  The rule for one step, in order:

1. a JVP defined with ``autograd.extend.defjvp`` / ``defjvp_argnum`` /
   ``def_linear`` for that primitive;
2. built-in rules: an elementwise ufunc on real arrays of the output's
   shape has a diagonal Jacobian, so its gradient rule applied to the
   tangent is its JVP; functions linear in their first argument (sum,
   reshape, transpose, indexing, ...) map the tangent through themselves;
   multilinear products (matmul, dot, tensordot, einsum, ...) replace one
   factor by the tangent;
3. otherwise the double-VJP trick on that one step: its gradient rule
   ``u -> g(u, y, *args)`` is linear in the cotangent u, so recording it and
   taking its vector-Jacobian product with the tangent gives J t.

Every rule is computed with numpy calls, so forward mode nests with itself
and with reverse mode (``check_grads(..., order=2)``).
"""
import numpy as np

from .backward import sweep, unbroadcast
from .boxes import Result, raw as _raw
from .core import record
from .functional import Trace, zeros_like
from .sparse import Sparse
from .tree import LEAF, leaves_like, tree_unflatten
from .rules.indexing import _getitem
from .rules.reductions import _np_sum

__all__ = ["make_jvp_unary", "jvp_rule"]


def _zero_rule(t, y, args, kw):
    return None


def jvp_rule(prim, i):
    """The JVP of argument ``i`` of primitive ``prim`` as a function
    ``rule(t, y, args, kw) -> tangent of y`` (None result: zero), or None
    when no rule is known (the double-VJP fallback is used)."""
    rules = getattr(prim, "jvps", None)
    if rules is not None and i in rules:
        r = rules[i]
        if r is None:
            return _zero_rule
        return lambda t, y, args, kw: r(t, y, *args, **kw)
    argnum_rule = getattr(prim, "jvp_argnum", None)
    if argnum_rule is not None:
        return lambda t, y, args, kw: argnum_rule(i, t, y, args, kw)
    fn = getattr(prim, "fn", None)
    if fn is None:
        return None
    if isinstance(fn, np.ufunc) and fn.signature is None:
        return _elementwise_rule(prim, i)
    if (fn in _LINEAR_FIRST or _is_getitem(fn)) and i == 0:
        return _linear_first_rule(prim)
    if fn in _MULTILINEAR:
        return lambda t, y, args, kw: prim(*args[:i], t, *args[i + 1:], **kw)
    return None


def _linear_first_rule(prim):
    def rule(t, y, args, kw):
        if kw.get("initial") is not None:         # sum(..., initial=c) is affine, not linear
            return _double_vjp(prim, 0, t, y, args, kw)
        return prim(t, *args[1:], **kw)
    return rule


def _elementwise_rule(prim, i):
    g = prim.grad_of(i)
    if g is None:
        return None

    def rule(t, y, args, kw):
        a, yr = _raw(args[i]), _raw(y)
        if np.shape(a) == np.shape(yr) and _is_real(a) and _is_real(yr) and _is_real(_raw(t)):
            return g(t, y, *args, **kw)
        return _double_vjp(prim, i, t, y, args, kw)
    return rule


def _is_real(v):
    return np.result_type(v).kind == "f"


_LINEAR_FIRST = {np.sum, _np_sum, np.mean, np.reshape, np.ravel, np.squeeze, np.expand_dims,
                 np.atleast_1d, np.atleast_2d, np.atleast_3d, np.transpose, np.swapaxes,
                 np.moveaxis, np.broadcast_to, np.flip, np.fliplr, np.flipud, np.roll, np.rot90,
                 np.cumsum, np.copy, np.asarray, np.ascontiguousarray, np.diagonal, np.trace,
                 np.diag, np.tril, np.triu, np.real}
_MULTILINEAR = {np.matmul, np.dot, np.tensordot, np.einsum, np.inner, np.outer, np.kron,
                np.vdot, np.cross}


def _is_getitem(fn):
    return fn is _getitem


def _double_vjp(prim, i, t, y, args, kw):
    """J_i t for one recorded step from its gradient rule (linear in the cotangent)."""
    g = prim.grad_of(i)
    if g is None:
        return None
    arg = args[i]
    yr = _raw(y)
    u0 = np.zeros_like(yr) if isinstance(yr, np.ndarray) else np.result_type(yr).type(0)

    def vjp_of_u(u):
        r = g(u, y, *args, **kw)
        return None if r is None else unbroadcast(r, arg)     # None: a zero gradient
    try:
        tape, out = record(vjp_of_u, [u0], {}, 0)
    except NotImplementedError as e:
        raise NotImplementedError(f"JVP of {prim.__name__} with respect to argument {i}: no "
                                  f"forward rule (autograd.extend.defjvp) and no VJP to derive "
                                  f"one from ({e})") from None
    sweep(tape, out, t)
    jt = tape.grads[id(tape.roots[0])][1]
    if jt is None:
        return None
    return jt.dense() if jt.__class__ is Sparse else jt


def _fit(tan, y):
    """The tangent broadcast to the output's shape, real when the output is."""
    if tan.__class__ is Sparse:
        tan = tan.dense()
    yr, tr = _raw(y), _raw(tan)
    if np.iscomplexobj(tr) and not np.iscomplexobj(yr):
        tan = np.real(tan)
    if np.shape(tr) != np.shape(yr):
        tan = np.broadcast_to(tan, np.shape(yr))
    return tan


def forward_sweep(tape, tangents):
    """Tangents of every Result of a finished tape, given the tangents of its
    roots (in ``tape.roots`` order; None for no tangent), as a dict
    id(Result) -> tangent (a missing entry means zero).  The tape is not
    changed, so it can be swept again with other tangents."""
    found = {}
    for r, t in zip(tape.roots, tangents):
        if t is not None:
            found[id(r)] = t
    for node in tape.nodes:
        tan = None
        for i, p in node.parents:
            tp = found.get(id(p))
            if tp is None:
                continue
            rule = jvp_rule(node.prim, i)
            c = rule(tp, node.value, node.args, node.kw) if rule is not None else \
                _double_vjp(node.prim, i, tp, node.value, node.args, node.kw)
            if c is None:
                continue
            tan = c if tan is None else tan + c
        if tan is not None:
            found[id(node)] = _fit(tan, node.value)
    return found


def make_jvp_unary(fun, x):
    """jvp(v) -> (fun(x), J v) for one argument x (see differential_operators.make_jvp)."""
    state = []

    def jvp(v):
        if not state:
            state.append(Trace(fun, x))
        t = state[0]
        vs = [v] if t.in_tree is LEAF else leaves_like(t.in_tree, v, "make_jvp")
        found = forward_sweep(t.tape, vs)
        outs = []
        for o in t.out_leaves:
            tan = found.get(id(o)) if o.__class__ is Result and o.tape is t.tape else None
            outs.append(zeros_like(t._value(o)) if tan is None else tan)
        return t.ans, outs[0] if t.out_tree is LEAF else tree_unflatten(t.out_tree, outs)
    return jvp
