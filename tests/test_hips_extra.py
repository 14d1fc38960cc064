"""Our own checks of what was added for HIPS autograd's test suite (rules in the topic
tables of autograd/rules/, autograd/numpy/hips_compat.py), independent of that suite: each
gradient by gcheck and by HIPS-style check_grads in forward and reverse mode (second order
where HIPS checks it)."""
import numpy as onp
import pytest

import autograd.numpy as np
from autograd import Param, gcheck, grad
from autograd.test_util import check_grads

rng = onp.random.default_rng(7)
R = lambda *s: rng.standard_normal(s)                          # noqa: E731
C = lambda *s: rng.standard_normal(s) + 1j * rng.standard_normal(s)   # noqa: E731


def both(f, *args, order=2, modes=("fwd", "rev")):
    """gcheck on Params and check_grads (HIPS's checker) on every argument."""
    assert gcheck(f, *[Param(onp.array(a, dtype=float)) for a in args], nsample=6, verbose=0)
    check_grads(f, modes=list(modes), order=order)(*args)


CASES = {
    "linspace": (lambda a, b: np.linspace(a, b, 5), [1.2, -3.4]),
    "linspace arrays axis": (lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=1),
                             [R(3), R(2, 3)]),
    "linspace num=1": (lambda a, b: np.linspace(a, b, 1) * 3.0, [0.5, 2.0]),
    "gradient 1-D": (lambda a: np.gradient(a), [R(10)]),
    "gradient axis edge_order=2": (lambda a: np.gradient(a, 0.3, axis=-1, edge_order=2), [R(4, 5)]),
    "gradient all axes": (lambda a: np.gradient(a)[1], [R(4, 5)]),
    "nan_to_num": (lambda a: np.sin(np.nan_to_num(a + onp.array([0.0, onp.nan, onp.inf]))), [R(3)]),
    "partition": (lambda a: np.partition(a, 2, axis=0), [R(5, 3)]),
    "rollaxis": (lambda a: np.rollaxis(a, 2, 0), [R(2, 3, 4)]),
    "vsplit": (lambda a: np.vsplit(a, 2)[1], [R(4, 3)]),
    "hsplit": (lambda a: np.hsplit(a, [1])[1], [R(2, 3)]),
    "dsplit": (lambda a: np.dsplit(a, 2)[0], [R(2, 2, 4)]),
    "swapaxes keywords": (lambda a: np.swapaxes(a, axis1=0, axis2=2), [R(2, 3, 4)]),
    "moveaxis keywords": (lambda a: np.moveaxis(a, source=0, destination=2), [R(2, 3, 4)]),
    "clip keywords": (lambda a: np.clip(a, a_min=-0.5, a_max=0.7), [R(4, 4)]),
    "einsum ellipsis tail": (lambda a, b: np.einsum("jk...,lj...->lk...", a, b), [R(3, 2, 4), R(2, 3, 4)]),
    "einsum ellipsis center": (lambda a, b: np.einsum("j...k,lj...->lk...", a, b), [R(2, 2, 2), R(2, 2, 2)]),
    "einsum ellipsis broadcast": (lambda a, b: np.einsum("...jk,...lj->...lk", a, b), [R(4, 4), R(3, 4, 4)]),
    "einsum sublists": (lambda a, b: np.einsum(a, [Ellipsis, 0, 1], b, [Ellipsis, 1, 2], [Ellipsis, 0, 2]),
                        [R(2, 2, 3), R(3, 4)]),
    "std of one element": (lambda a: np.std(a), [3.5]),
    "std over a length-1 axis": (lambda a: np.std(a, axis=1) + np.std(a, axis=0), [R(3, 1)]),
    "clip min= max=": (lambda a: np.clip(a, min=-0.5, max=0.7), [R(4, 4)]),
    "power at nonzero": (lambda a: np.power(a, 2.5), [1.3]),
    "eig real": (lambda a: np.abs(np.linalg.eig(a)[0]) + np.sum(np.abs(np.linalg.eig(a)[1]), 0), [R(4, 4)]),
    "eigh lower triangle": (lambda a: np.linalg.eigh(a)[0], [R(4, 4)]),
    "eigh upper vectors": (lambda a: np.abs(np.linalg.eigh(a, "U")[1]), [R(4, 4)]),
    "pinv batched": (lambda a: np.linalg.pinv(a), [R(2, 4, 3)]),
    "make_diagonal": (lambda d: np.make_diagonal(d, axis1=-1, axis2=-2), [R(3, 4)]),
    "diagonal negative axes": (lambda a: np.diagonal(a, axis1=-1, axis2=-2), [R(3, 4, 4)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_real_gradients(name):
    f, args = CASES[name]
    both(f, *args)


COMPLEX = {   # check_grads only: gcheck takes real Params
    "eig complex": lambda a: (np.linalg.eig(a)[0], np.abs(np.linalg.eig(a)[1])),
    "eig batched": lambda a: np.abs(np.linalg.eig(a)[1]),
    "eigh complex lower": lambda a: (np.linalg.eigh(a)[0], np.abs(np.linalg.eigh(a)[1])),
    "svd complex thin": lambda a: (np.abs(np.linalg.svd(a, full_matrices=False)[0]),
                                   np.linalg.svd(a, full_matrices=False)[1],
                                   np.abs(np.linalg.svd(a, full_matrices=False)[2])),
    "nuclear norm complex": lambda a: np.linalg.norm(a, ord="nuc"),
    "spectral norm complex": lambda a: np.linalg.norm(a, ord=2, axis=(0, 2), keepdims=True),
    "std of one complex element": lambda a: np.std(a, axis=1),
}
SHAPES = {"eig complex": (4, 4), "eig batched": (2, 3, 3), "eigh complex lower": (4, 4),
          "svd complex thin": (3, 5), "nuclear norm complex": (4, 3),
          "spectral norm complex": (3, 2, 4), "std of one complex element": (3, 1)}


@pytest.mark.parametrize("name", sorted(COMPLEX))
def test_complex_gradients(name):
    check_grads(COMPLEX[name])(C(*SHAPES[name]))


def test_svd_complex_tall_and_batched():
    f = lambda a: (np.abs(np.linalg.svd(a, full_matrices=False)[0]),      # noqa: E731
                   np.abs(np.linalg.svd(a, full_matrices=False)[2]))
    check_grads(f, order=1)(C(5, 3))
    check_grads(f, order=1)(C(2, 3, 4))


def test_eigh_keeps_the_symmetrized_gradient_for_symmetric_input():
    a = R(3, 3)
    s = a + a.T
    g = grad(lambda m: np.linalg.eigvalsh(m)[0])(s)
    v = onp.linalg.eigh(s)[1][:, 0]
    onp.testing.assert_allclose(g, onp.outer(v, v), atol=1e-12)
    g = grad(lambda m: np.linalg.eigvalsh(m)[0])(a)          # not symmetric: lower triangle
    assert onp.all(onp.triu(g, 1) == 0)


def test_power_with_zero_exponent_at_zero():
    f = lambda x: np.power(x, 0.0)                            # noqa: E731
    assert grad(f)(0.0) == 0.0 and grad(grad(f))(0.0) == 0.0


def test_linspace_values_and_retstep():
    y, step = np.linspace(np.array([0.0, 1.0]), 2.0, 5, retstep=True)
    onp.testing.assert_allclose(y, onp.linspace([0.0, 1.0], 2.0, 5))
    onp.testing.assert_allclose(step, [0.5, 0.25])


def test_reductions_of_lists_of_recorded_values():
    assert grad(lambda x: np.mean([x, x + 2]))(0.0) == 1.0
    assert grad(lambda x: np.sum((x, 3 * x)))(1.0) == 4.0
    assert grad(lambda x: np.linalg.norm((x, x + 2)))(0.0) == 1.0
    assert np.mean.__name__ == "mean" and "mean" in np.mean.__doc__


def test_where_follows_hips():
    assert np.where(True, 1, 2) == 1 and isinstance(np.where(True, 1, 2), int)
    assert np.where([True, False], [1, 2], [3, 4]) == [1, 4]
    assert np.where(False, onp.ones(1, onp.float32), onp.zeros(1, onp.float32)).dtype == onp.float32
    onp.testing.assert_array_equal(np.where([True, False], x=onp.ones(2), y=onp.zeros(2)), [1, 0])
    with pytest.raises(ValueError, match="both x and y"):
        np.where([True], onp.ones(1))


def test_assignment_into_a_recorded_array_raises_type_and_value_error():
    def f(a):
        a[0] = 1.0
        return np.sum(a)
    with pytest.raises(TypeError, match="in place"):
        grad(f)(onp.ones(3))
    with pytest.raises(ValueError, match="in place"):
        grad(f)(onp.ones(3))


def test_assignment_error_is_a_held_array_error():
    from autograd.hold import HeldArrayError
    with pytest.raises(HeldArrayError):
        grad(lambda a: a.__setitem__(0, 1.0))(onp.ones(3))


def test_integer_cast_of_a_recorded_value_gives_indices():
    # HIPS's test_cast_to_int: np.int64(W[:, -1]) as indices (no gradient through them)
    inds = onp.array([0., 2., 1.])

    def f(w):
        idx = onp.int64(w[:, -1])
        assert idx.dtype == onp.int64
        return np.sum(w[:, :-1][idx] * onp.arange(1.0, 4.0)[:, None])
    w = onp.concatenate([R(3, 2), inds[:, None]], axis=1)
    g = grad(f)(w)
    expected = onp.zeros((3, 3))
    for row, i in enumerate(inds.astype(int)):
        expected[i, :2] += row + 1.0
    onp.testing.assert_allclose(g, expected)
    with pytest.raises(TypeError, match="plain numpy array"):       # a float cast still raises
        grad(lambda w: np.sum(onp.float64(w) * w))(onp.ones(2))


def test_dirichlet_rvs():
    from autograd.scipy.stats import dirichlet
    x = dirichlet.rvs(onp.ones(3), size=4, random_state=0)
    assert x.shape == (4, 3) and onp.allclose(x.sum(1), 1)


@pytest.mark.parametrize("name", ["autograd.rules.composites", "autograd.rules.statistics",
                                  "autograd.rules.products", "autograd.rules.linalg",
                                  "autograd.rules.elementwise", "autograd.numpy.hips_compat",
                                  "autograd.tracer", "autograd.misc.tracers",
                                  "autograd.misc.fixed_points", "autograd.misc.flatten",
                                  "autograd.util", "autograd.extend"])
def test_docstring_examples_run(name):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(name), extraglobs={"np": onp},
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_solve_banded_gradients():
    import autograd.scipy.linalg as spla
    ab, b = R(3, 5) + onp.array([[0.0], [4.0], [0.0]]), R(5)
    check_grads(lambda ab, b: spla.solve_banded((1, 1), ab, b), modes=["rev", "fwd"])(ab, b)
    assert gcheck(lambda ab, b: spla.solve_banded((1, 1), ab, b), Param(ab), Param(b), verbose=0)


def test_const_graph_replays_without_running_python():
    from autograd.misc import const_graph
    calls = []

    def f(x, y):
        calls.append(1)
        return np.sin(x) * y + x
    fast = const_graph(f)
    assert fast(0.3, 2.0) == pytest.approx(f(0.3, 2.0))
    assert fast(1.1, -1.0) == pytest.approx(f(1.1, -1.0))
    assert len(calls) == 3                                   # replays ran no Python of f
    assert grad(fast)(0.5, 2.0) == pytest.approx(2 * onp.cos(0.5) + 1)


def test_trace_builds_hips_nodes_in_order():
    from autograd.tracer import Node, trace

    class Names(Node):
        def __init__(self, value, fun, args, kwargs, argnums, parents):
            self.name, self.parents, self.value = fun.__name__, parents, value

        def initialize_root(self):
            self.name, self.parents = "x", []
    value, node = trace(Names.new_root(), lambda x: np.exp(np.sin(x)) * 2.0, 0.5)
    assert value == pytest.approx(2 * onp.exp(onp.sin(0.5)))
    names = []
    while node.parents:
        names.append(node.name)
        node = node.parents[0]
    assert names == ["multiply", "exp", "sin"]
    assert trace(Names.new_root(), lambda x: 3.0, 1.0)[1] is None


def test_fixed_point_gradient_is_the_implicit_one():
    from autograd.misc.fixed_points import fixed_point
    step = lambda a: lambda x: x - 0.1 * (x * x - a)       # noqa: E731  fixed point sqrt(a)
    f = lambda a: fixed_point(step, a, 1.0, lambda x, y: np.abs(x - y), 1e-12)   # noqa: E731
    assert f(2.0) == pytest.approx(onp.sqrt(2.0))
    assert grad(f)(2.0) == pytest.approx(0.5 / onp.sqrt(2.0), rel=1e-6)


def test_flatten_func_and_util_func():
    from autograd.misc.flatten import flatten_func
    from autograd.util import func
    f, unflatten, x = flatten_func(lambda p, k: {"a": p["a"] * k, "b": p["b"]},
                                   {"a": onp.ones(2), "b": 3.0})
    onp.testing.assert_allclose(f(x, 2.0), [2.0, 2.0, 3.0])
    assert func(abs) is abs


def test_primitive_vjps_and_deprecated_wrappers():
    import warnings

    from autograd.core import primitive_vjps
    from autograd.extend import primitive
    from autograd.util import quick_grad_check
    assert np.sin in primitive_vjps and np.iscomplex not in primitive_vjps
    saved = primitive_vjps.pop(np.cosh)
    try:
        with pytest.raises(TypeError):
            grad(np.cosh)(1.0)
    finally:
        primitive_vjps[np.cosh] = saved
    assert grad(np.cosh)(1.0) == pytest.approx(onp.sinh(1.0))

    @primitive
    def mul(x, y):
        return x * y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        mul.defgrad(lambda ans, x, y: lambda g: y * g)
        mul.defvjp(lambda g, ans, vs, gvs, x, y: x * g, argnum=1)
        check_grads(mul, modes=["rev"])(R(2, 2), R(2, 2))
        mul.defvjp_is_zero([0, 1])
        assert grad(mul)(2.0, 3.0) == 0.0
        quick_grad_check(lambda x, y: x ** 2 + y, 1.0, (2.0,))
        with pytest.raises(AssertionError):
            quick_grad_check(_wrong, 1.0)             # a deliberately wrong gradient


def _wrong(x):
    from autograd.extend import defvjp, primitive
    f = primitive(lambda x: 2 * x)
    defvjp(f, lambda ans, x: lambda g: 3 * g)
    return f(x)
