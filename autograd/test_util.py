"""Numerical derivative checks with HIPS autograd's semantics.

``check_grads(f, argnum=0, modes=['fwd', 'rev'], order=2)(*args)``
compares, in random directions, the reverse-mode VJP and the forward-mode
JVP of ``f`` with central differences, then checks the derivative
functions themselves the same way, down to ``order``.  A mismatch raises
AssertionError.  Tolerances are those for float64 (1e-6 absolute or
relative), so check float64 inputs.

>>> check_grads(np.sin, modes=['rev'], order=2)(np.array([0.3, 1.2]))
"""
from itertools import product

from .differential_operators import _make_vjp
from .functional import nary as _nary
from .extend import vspace
from .forward import make_jvp_unary

__all__ = ["check_grads", "combo_check", "check_vjp", "check_jvp", "check_equivalent",
           "scalar_close", "make_numerical_jvp"]

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def scalar_close(a, b):
    """True when two numbers agree to TOL absolutely or RTOL relatively."""
    a, b = float(a), float(b)
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _name(f):
    return getattr(f, "__name__", "[unknown name]")


def make_numerical_jvp(f, x):
    """The directional derivative of f at x by central differences, as a
    function of the direction v (step EPS)."""
    y = f(x)
    x_vs, y_vs = vspace(x), vspace(y)

    def jvp(v):
        f_plus = f(x_vs.add(x, x_vs.scalar_mul(v, EPS / 2)))
        f_minus = f(x_vs.add(x, x_vs.scalar_mul(v, -EPS / 2)))
        return y_vs.scalar_mul(y_vs.add(f_plus, y_vs.scalar_mul(f_minus, -1.0)), 1.0 / EPS)
    return jvp


def check_vjp(f, x):
    """Check make_vjp(f) at x: <u, J v> by differences against <VJP(u), v>
    for random u and v."""
    vjp, y = _make_vjp(f, x)
    jvp = make_numerical_jvp(f, x)
    x_vs, y_vs = vspace(x), vspace(y)
    x_v, y_v = x_vs.randn(), y_vs.randn()
    vjp_y = x_vs.covector(vjp(y_vs.covector(y_v)))
    assert vspace(vjp_y) == x_vs, (
        f"VJP of {_name(f)} has the wrong vector space:\n{vspace(vjp_y)}\nexpected {x_vs}")
    exact = x_vs.inner_prod(x_v, vjp_y)
    numeric = y_vs.inner_prod(y_v, jvp(x_v))
    assert scalar_close(numeric, exact), (
        f"Derivative (VJP) check of {_name(f)} failed with arg {x}:\n"
        f"analytic: {exact}\nnumeric:  {numeric}")


def check_jvp(f, x):
    """Check make_jvp(f) at x against central differences in a random direction."""
    jvp = make_jvp_unary(f, x)
    numeric = make_numerical_jvp(f, x)
    v = vspace(x).randn()
    check_equivalent(jvp(v)[1], numeric(v), f"Derivative (JVP) check of {_name(f)} "
                                            f"failed with arg {x}")


def check_equivalent(x, y, what="Value mismatch"):
    """Assert that x and y are in the same vector space and agree along a random direction."""
    x_vs, y_vs = vspace(x), vspace(y)
    assert x_vs == y_vs, f"VSpace mismatch:\nx: {x_vs}\ny: {y_vs}"
    v = x_vs.randn()
    a, b = x_vs.inner_prod(x, v), x_vs.inner_prod(y, v)
    assert scalar_close(a, b), f"{what}:\nanalytic: {a}\nnumeric:  {b}\n(x: {x}\ny: {y})"


def _check_grads(f, x, modes=("fwd", "rev"), order=2):
    """check_grads(f, argnum=0, modes=['fwd', 'rev'], order=2)(*args, **kw)

    Check the derivatives of f with respect to argument ``argnum`` at the
    given arguments: forward mode ('fwd') and/or reverse mode ('rev'), and
    recursively the derivatives of those derivative functions up to
    ``order``.  Raises AssertionError on a mismatch; returns None.

    >>> check_grads(lambda x, y: x * np.sin(y), argnum=(0, 1))(1.5, 0.3)
    """
    modes = list(modes)
    if not all(m in ("fwd", "rev") for m in modes):
        raise ValueError(f"check_grads: modes must be taken from 'fwd' and 'rev', got {modes}")
    if "fwd" in modes:
        check_jvp(f, x)
        if order > 1:
            def jvp_f(x, v):
                return make_jvp_unary(f, x)(v)[1]
            jvp_f.__name__ = f"jvp_{_name(f)}"
            v = vspace(x).randn()
            check_grads(jvp_f, (0, 1), modes, order=order - 1)(x, v)
    if "rev" in modes:
        check_vjp(f, x)
        if order > 1:
            def vjp_f(x, v):
                return _make_vjp(f, x)[0](v)
            vjp_f.__name__ = f"vjp_{_name(f)}"
            v = vspace(f(x)).randn()
            check_grads(vjp_f, (0, 1), modes, order=order - 1)(x, v)


check_grads = _nary(_check_grads, "check_grads")


def combo_check(fun, *args, **kwargs):
    """combo_check(fun, argnum=0, modes=..., order=...)(*arg_choices, **kw_choices)

    ``check_grads`` for every combination of the given choices: each
    positional argument is a list of values to try, each keyword a list of
    values for that keyword.

    >>> combo_check(np.sum, [0], modes=['rev'])([np.ones(3), np.ones((2, 2))], axis=[None, 0])
    """
    def _combo_check(*arg_choices, **kw_choices):
        kw_items = [[(k, v) for v in vs] for k, vs in kw_choices.items()]
        for a in product(*arg_choices):
            for kws in product(*kw_items):
                check_grads(fun, *args, **kwargs)(*a, **dict(kws))
    return _combo_check
