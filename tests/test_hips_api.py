"""HIPS autograd's functional API and autograd.extend on our tape.

Expected values come from closed forms written here (derivatives of tanh
as polynomials in tanh, X^T (p - y) for logistic regression, explicit
Jacobian and Hessian matrices), never from the code under test.
"""
import warnings
from collections import OrderedDict, namedtuple

import numpy as onp
import pytest

import autograd.numpy as np
from autograd import (Param, checkpoint, deriv, diff, elementwise_grad, grad, grad_and_aux,
                      grad_named, hessian, hessian_tensor_product, hessian_vector_product,
                      holomorphic_grad, jacobian, make_ggnvp, make_hvp, make_jvp, make_vjp,
                      multigrad_dict, tensor_jacobian_product, value_and_grad,
                      vector_jacobian_product)
from autograd import primitive as knet_primitive
from autograd.extend import (Box, VSpace, def_linear, defjvp, defjvp_argnum, defvjp,
                             defvjp_argnum, notrace_primitive, primitive, vspace)
from autograd.test_util import check_grads

RTOL = 1e-10


def close(a, b, rtol=RTOL, atol=1e-12):
    return onp.allclose(a, b, rtol=rtol, atol=atol)


def rng(seed=0):
    return onp.random.default_rng(seed)


# ---------------------------------------------------------------- README examples
def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def tanh_derivatives(x, n):
    """d^k tanh / dx^k for k = 0..n: if d^k = p_k(t) with t = tanh x, then
    p_{k+1}(t) = p_k'(t) (1 - t^2)."""
    t = onp.tanh(x)
    p = onp.polynomial.Polynomial([0, 1])
    out = []
    for _ in range(n + 1):
        out.append(p(t))
        p = p.deriv() * onp.polynomial.Polynomial([1, 0, -1])
    return out


def test_readme_tanh_grad_matches_difference_and_closed_form():
    g = grad(tanh)(1.0)
    assert abs(g - (1 - onp.tanh(1.0) ** 2)) < 1e-12
    numeric = (tanh(1.0001) - tanh(0.9999)) / 0.0002
    assert abs(g - numeric) < 1e-8
    assert isinstance(g, (float, onp.floating))


def test_readme_tanh_elementwise_grad_six_orders():
    x = np.linspace(-7, 7, 200)
    expected = tanh_derivatives(x, 6)
    f = tanh
    for k in range(1, 7):
        f = elementwise_grad(f)
        got = f(x)
        assert got.shape == x.shape and got.dtype == onp.float64
        assert onp.allclose(got, expected[k], rtol=1e-7, atol=1e-9 * 10 ** k), k


def test_grad_of_grad_scalar_chain():
    d = tanh_derivatives(0.3, 3)
    assert abs(grad(grad(grad(tanh)))(0.3) - d[3]) < 1e-10


# ---------------------------------------------------------------- logistic regression
INPUTS = onp.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30],
                    [0.74, -2.49, 1.39]])
TARGETS = onp.array([True, True, False, True])


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def training_loss(weights):
    preds = sigmoid(np.dot(INPUTS, weights))
    label_probabilities = preds * TARGETS + (1 - preds) * (1 - TARGETS)
    return -np.sum(np.log(label_probabilities))


def closed_form_loss_grad(w):
    p = 1 / (1 + onp.exp(-INPUTS @ w))
    loss = -onp.sum(onp.log(onp.where(TARGETS, p, 1 - p)))
    return loss, INPUTS.T @ (p - TARGETS)


def test_logistic_regression_grad_descent_and_value_and_grad():
    training_gradient_fun = grad(training_loss)
    weights = np.array([0.0, 0.0, 0.0])
    first = training_loss(weights)
    for _ in range(100):
        weights -= training_gradient_fun(weights) * 0.01
    assert training_loss(weights) < first - 0.5
    loss, g = value_and_grad(training_loss)(weights)
    want_loss, want_g = closed_form_loss_grad(weights)
    assert abs(loss - want_loss) < 1e-12 and close(g, want_g)
    assert g.dtype == onp.float64


def test_value_and_grad_drives_scipy_minimize():
    from scipy.optimize import minimize
    res = minimize(value_and_grad(training_loss), onp.zeros(3), jac=True, method="BFGS")
    assert res.success or res.fun < 1e-3
    assert onp.linalg.norm(closed_form_loss_grad(res.x)[1]) < 1e-4


# ---------------------------------------------------------------- grad and containers
def test_grad_argnum_kwargs_and_tuple_argnum():
    f = lambda x, y, scale=1.0: scale * np.sum(x * np.sin(y))
    x, y = rng().normal(size=3), rng(1).normal(size=3)
    assert close(grad(f)(x, y, scale=2.0), 2 * onp.sin(y))
    assert close(grad(f, 1)(x, y, scale=2.0), 2 * x * onp.cos(y))
    gx, gy = grad(f, (0, 1))(x, y)
    assert close(gx, onp.sin(y)) and close(gy, x * onp.cos(y))
    gy2, gx2 = grad(f, [1, 0])(x, y)
    assert close(gx2, gx) and close(gy2, gy)
    assert close(grad(f, -1)(x, y), x * onp.cos(y))


def test_grad_of_tuple_list_dict_and_nested_arguments():
    w, b = rng().normal(size=(3, 2)), rng(1).normal(size=2)
    x = rng(2).normal(size=(4, 3))

    def loss(params):
        return np.sum(np.tanh(x @ params["w"] + params["b"][0]) * params["b"][1])

    params = {"w": w, "b": [b, 2.0]}
    g = grad(loss)(params)
    assert set(g) == {"w", "b"} and isinstance(g["b"], list) and len(g["b"]) == 2
    h = onp.tanh(x @ w + b)
    dh = 2.0 * (1 - h ** 2)
    assert close(g["w"], x.T @ dh) and close(g["b"][0], dh.sum(0))
    assert close(g["b"][1], h.sum())
    t = grad(lambda p: p[0] * p[1] ** 2)((3.0, 2.0))
    assert isinstance(t, tuple) and close(t, (4.0, 12.0))
    lst = grad(lambda p: p[0] * p[1])([1.0, 2.0])
    assert isinstance(lst, list) and close(lst, [2.0, 1.0])


def test_grad_containers_keep_types_and_static_leaves():
    Pair = namedtuple("Pair", "a b")
    g = grad(lambda p: np.sum(p.a * p.b))(Pair(onp.ones(2), onp.arange(2.0)))
    assert isinstance(g, Pair) and close(g.a, [0, 1]) and close(g.b, [1, 1])
    od = OrderedDict([("z", 1.0), ("a", 2.0)])
    g = grad(lambda d: d["z"] * d["a"])(od)
    assert isinstance(g, OrderedDict) and list(g) == ["z", "a"] and close(list(g.values()), [2, 1])
    g = grad(lambda d: d["x"] ** 2 if d["act"] == "square" else d["x"])({"x": 3.0, "act": "square"})
    assert close(g["x"], 6.0) and g["act"] is None       # not differentiated
    g = grad(lambda d: d["a"] * 2.0)({"a": 1.0, "unused": onp.ones(2)})
    assert close(g["unused"], onp.zeros(2)) and g["unused"].dtype == onp.float64


def test_grad_needs_scalar_output_raises_type_and_value_error():
    with pytest.raises(TypeError, match="scalar"):
        grad(np.sin)(onp.ones(3))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        grad(np.sin)(onp.ones(3))
    with pytest.raises(TypeError, match="scalar"):
        value_and_grad(lambda d: d["a"] * onp.ones(2))({"a": 1.0})
    with pytest.raises(IndexError, match="argnum"):
        grad(lambda x: x, 2)(1.0)
    with pytest.raises(TypeError, match="real scalar-output"):     # as HIPS: complex output
        grad(lambda x: x * (1.0 + 0.2j))(1.0)
    with pytest.raises(TypeError, match="real scalar-output"):
        value_and_grad(lambda x: x * 1j)(1.0)
    g = holomorphic_grad(lambda x: x * (1.0 + 0.2j))(1.0 + 0j)
    assert close(g, 1.0 + 0.2j)
    assert grad.__name__ == "grad" and grad(tanh, 0).__name__ == "grad_of_tanh_wrt_argnum_0"


def test_functional_grad_agrees_with_diff_and_param_roots():
    w0 = rng().normal(size=(2, 3))
    f = lambda w: np.sum(np.exp(w) * w)
    p = Param(w0.copy())
    y = diff(lambda: f(p))
    assert close(grad(y, p), grad(f)(w0))
    assert close(grad(lambda d: f(d["w"]))({"w": w0})["w"], grad(y, p))


def test_float64_and_float32_stay():
    x64 = rng().normal(size=4)
    assert grad(lambda x: np.sum(np.sin(x) ** 2))(x64).dtype == onp.float64
    x32 = x64.astype(onp.float32)
    assert grad(lambda x: np.sum(x * x))(x32).dtype == onp.float32
    assert jacobian(np.sin)(x64).dtype == onp.float64
    assert make_jvp(np.tanh)(x64)(x64)[1].dtype == onp.float64


# ---------------------------------------------------------------- jacobian / hessian
def test_jacobian_of_linear_elementwise_and_matrix_inputs():
    A = rng().normal(size=(3, 4))
    x = rng(1).normal(size=4)
    assert close(jacobian(lambda v: A @ v)(x), A)
    assert close(jacobian(lambda v: v ** 3)(x), onp.diag(3 * x ** 2))
    X = rng(2).normal(size=(2, 3))
    J = jacobian(lambda M: np.sum(M, axis=0) * 2.0)(X)
    assert J.shape == (3, 2, 3)
    want = onp.zeros((3, 2, 3))
    for j in range(3):
        want[j, :, j] = 2.0
    assert close(J, want)
    assert close(jacobian(np.sin)(0.7), onp.cos(0.7))
    J = jacobian(lambda a, b: a * b, 1)(x, x + 1)
    assert close(J, onp.diag(x))


def test_hessian_of_quadratic_and_cubic():
    A = rng().normal(size=(3, 3))
    x = rng(1).normal(size=3)
    assert close(hessian(lambda v: v @ A @ v)(x), A + A.T)
    assert close(hessian(lambda v: np.sum(v ** 3))(x), onp.diag(6 * x))
    H = hessian(lambda v: np.sum(np.sin(v[0] * v[1])))(onp.array([0.4, 0.9]))
    a, b = 0.4, 0.9
    s, c = onp.sin(a * b), onp.cos(a * b)
    assert close(H, [[-b * b * s, c - a * b * s], [c - a * b * s, -a * a * s]])


def hvp_setup():
    A = rng(3).normal(size=(4, 4))
    x = rng(4).normal(size=4)
    f = lambda v: np.sum(np.tanh(A @ v))
    t = onp.tanh(A @ x)
    H = A.T @ onp.diag(-2 * t * (1 - t ** 2)) @ A
    return f, A, x, H


def test_make_hvp_and_hessian_vector_products():
    f, A, x, H = hvp_setup()
    v = rng(5).normal(size=4)
    hvp, g = make_hvp(f)(x)
    assert close(g, A.T @ (1 - onp.tanh(A @ x) ** 2))
    assert close(hvp(v), H @ v) and close(hvp(2 * v), 2 * H @ v)
    assert close(hessian_tensor_product(f)(x, v), H @ v)
    assert hessian_vector_product is hessian_tensor_product
    assert close(hessian(f)(x), H)


def test_make_vjp_and_tensor_jacobian_product():
    A = rng().normal(size=(3, 4))
    x = rng(1).normal(size=4)
    f = lambda v: np.sin(A @ v)
    J = onp.diag(onp.cos(A @ x)) @ A
    vjp, ans = make_vjp(f)(x)
    assert close(ans, onp.sin(A @ x))
    for seed in range(3):
        u = rng(10 + seed).normal(size=3)
        assert close(vjp(u), J.T @ u)
    assert close(tensor_jacobian_product(f)(x, onp.ones(3)), J.T @ onp.ones(3))
    assert vector_jacobian_product is tensor_jacobian_product
    vjp2, ans2 = make_vjp(lambda a, b: a * b, 1)(2.0, 3.0)
    assert ans2 == 6.0 and close(vjp2(1.5), 3.0)
    vjp0, _ = make_vjp(lambda v: onp.ones(2))(x)       # output independent of the input
    assert close(vjp0(onp.ones(2)), onp.zeros(4))


def test_make_jvp_and_deriv_match_jacobian():
    A = rng().normal(size=(3, 4))
    x = rng(1).normal(size=4)
    f = lambda v: np.sin(A @ v) * v[0]
    J = jacobian(f)(x)
    for seed in range(3):
        v = rng(20 + seed).normal(size=4)
        ans, jv = make_jvp(f)(x)(v)
        assert close(ans, onp.sin(A @ x) * x[0]) and close(jv, J @ v)
    assert close(deriv(np.sin)(0.3), onp.cos(0.3))
    assert close(deriv(lambda a, b: a * b ** 2, 1)(2.0, 3.0), 12.0)


def test_make_ggnvp_equals_jt_hg_j():
    A = rng().normal(size=(3, 4))
    x = rng(1).normal(size=4)
    f = lambda v: np.tanh(A @ v)
    J = onp.diag(1 - onp.tanh(A @ x) ** 2) @ A
    v = rng(2).normal(size=4)
    assert close(make_ggnvp(f)(x)(v), J.T @ J @ v)      # default g: half squared norm
    W = rng(3).normal(size=(3, 3))
    Hg = W + W.T
    ggnvp = make_ggnvp(f, lambda y: y @ W @ y)(x)
    assert close(ggnvp(v), J.T @ Hg @ J @ v)


# ---------------------------------------------------------------- other operators
def test_grad_and_aux_returns_aux_unchanged():
    x = rng().normal(size=3)
    g, aux = grad_and_aux(lambda v: (np.sum(v ** 2), {"mean": np.mean(v), "tag": "t"}))(x)
    assert close(g, 2 * x) and aux["tag"] == "t" and close(aux["mean"], x.mean())
    assert not isinstance(aux["mean"], Box)


def test_elementwise_grad_and_its_complex_error():
    x = rng().normal(size=5)
    assert close(elementwise_grad(lambda v: v ** 3)(x), 3 * x ** 2)
    with pytest.raises(TypeError, match="real-output"):
        elementwise_grad(lambda v: v * 1j)(x)


def test_holomorphic_grad_and_complex_conventions():
    z = 0.3 + 0.8j
    assert close(holomorphic_grad(lambda w: w ** 3)(z), 3 * z ** 2)
    assert close(holomorphic_grad(np.exp)(z), onp.exp(z))
    with pytest.warns(UserWarning, match="not complex"):
        holomorphic_grad(np.sin)(0.5)
    # real-valued f(x + iy) = u: grad = du/dx - i du/dy
    assert close(grad(lambda w: np.real(w * w))(1 + 2j), 2 + 4j)     # u = x^2 - y^2
    assert close(grad(lambda w: np.abs(w) ** 2)(1 + 2j), 2 - 4j)     # u = x^2 + y^2
    zs = onp.array([0.5 - 0.2j, -1.0 + 0.7j])
    assert close(grad(lambda w: np.sum(np.real(np.exp(w))))(zs), onp.exp(zs))
    # a real input whose computation goes through complex numbers has a real gradient
    g = grad(lambda x: np.real(np.exp(1j * x)))(0.5)
    assert not onp.iscomplexobj(g) and close(g, -onp.sin(0.5))
    g = grad(lambda x: np.sum(np.real(np.exp(1j * x))))(onp.array([0.5, 1.0]))
    assert g.dtype == onp.float64 and close(g, -onp.sin([0.5, 1.0]))
    g = grad(grad(lambda x: np.real(np.exp(1j * x))))(0.5)            # recorded gradient
    assert not onp.iscomplexobj(g) and close(g, -onp.cos(0.5))


def test_grad_named_and_multigrad_dict():
    f = lambda x, y, *rest, k=3.0: x * y * k + sum(rest)
    assert close(grad_named(f, "y")(2.0, 5.0), 6.0)
    with pytest.raises(ValueError, match="no parameter"):
        grad_named(f, "q")
    g = multigrad_dict(f)(2.0, 5.0, 1.0, 4.0)
    assert list(g) == ["x", "y", "rest", "k"]
    assert close([g["x"], g["y"], g["k"]], [15.0, 6.0, 10.0]) and close(g["rest"], (1.0, 1.0))


def test_checkpoint_same_gradients_first_and_second_order():
    A = rng().normal(size=(3, 3))

    def block(x):
        return np.tanh(A @ x) * np.sin(x)
    cblock = checkpoint(block)
    x = rng(1).normal(size=3)
    assert close(cblock(x), block(x))
    loss = lambda f: (lambda v: np.sum(f(f(v)) ** 2))
    assert close(grad(loss(cblock))(x), grad(loss(block))(x))
    assert close(hessian(loss(cblock))(x), hessian(loss(block))(x))


# ---------------------------------------------------------------- autograd.extend
def test_extend_logsumexp_tutorial_primitive():
    @primitive
    def logsumexp(x):
        m = onp.max(x)
        return m + onp.log(onp.sum(onp.exp(x - m)))

    def logsumexp_vjp(ans, x):
        return lambda g: np.full(x.shape, g) * np.exp(x - np.full(x.shape, ans))
    defvjp(logsumexp, logsumexp_vjp)
    y = onp.array([1.5, 6.7, 1e-10])
    got = grad(lambda v: np.sum(logsumexp(v ** 2)))(y)
    s = onp.exp(y ** 2) / onp.exp(y ** 2).sum()
    assert close(got, 2 * y * s)
    check_grads(logsumexp, modes=["rev"], order=1)(onp.array([0.1, -0.4, 0.3]))
    # a VJP written with broadcasting is differentiable again (second order)
    defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
    check_grads(logsumexp, modes=["rev", "fwd"], order=2)(onp.array([0.1, -0.4, 0.3]))


def test_extend_defvjp_argnums_none_and_missing():
    @primitive
    def mul(a, b, c):
        return a * b * c
    defvjp(mul, lambda ans, a, b, c: lambda g: g * b * c, None,
           lambda ans, a, b, c: lambda g: g * a * b, argnums=(0, 1, 2))
    ga, gb, gc = grad(mul, (0, 1, 2))(2.0, 3.0, 4.0)
    assert (ga, gc) == (12.0, 6.0) and gb == 0.0

    @primitive
    def half(a, b):
        return a + 2 * b
    defvjp(half, lambda ans, a, b: lambda g: g, argnums=[1])
    assert grad(half, 1)(1.0, 1.0) == 1.0       # the (wrong) rule given for b is used
    with pytest.raises(NotImplementedError, match="argument 0"):
        grad(half, 0)(1.0, 1.0)


def test_extend_defvjp_argnum_defjvp_argnum_and_method_binding():
    @primitive
    def weighted(a, b):
        return 2 * a + 3 * b
    defvjp_argnum(weighted, lambda i, ans, args, kw: lambda g: g * (2, 3)[i])
    defjvp_argnum(weighted, lambda i, g, ans, args, kw: g * (2, 3)[i])
    assert grad(weighted, (0, 1))(1.0, 1.0) == (2.0, 3.0)
    assert make_jvp(weighted, 1)(1.0, 1.0)(2.0) == (5.0, 6.0)

    class Model:
        @primitive
        def scaled(self, x):
            return 5.0 * x
    defvjp(Model.scaled, None, lambda ans, self, x: lambda g: 5.0 * g)
    m = Model()
    assert grad(lambda x: m.scaled(x))(1.0) == 5.0


def test_extend_defjvp_same_and_def_linear_and_wrong_rules_caught():
    @primitive
    def cube(x):
        return x ** 3
    defvjp(cube, lambda ans, x: lambda g: 2 * g * x ** 2)            # wrong on purpose
    x = onp.array([0.5, 1.5])
    with pytest.raises(AssertionError, match="VJP"):
        check_grads(cube, modes=["rev"], order=1)(x)
    defvjp(cube, lambda ans, x: lambda g: 3 * g * x ** 2)
    check_grads(cube, modes=["rev", "fwd"], order=2)(x)   # forward by the double-VJP fallback
    defjvp(cube, lambda g, ans, x: 3 * g * x)                        # wrong forward rule
    with pytest.raises(AssertionError, match="JVP"):
        check_grads(cube, modes=["fwd"], order=1)(x)
    defjvp(cube, lambda g, ans, x: 3 * g * x ** 2)
    check_grads(cube, modes=["fwd"], order=1)(x)

    @primitive
    def matvec(A, v):
        return onp.dot(A, v)
    defvjp(matvec, lambda ans, A, v: lambda g: np.outer(g, v),
           lambda ans, A, v: lambda g: np.dot(np.transpose(A), g))
    def_linear(matvec)
    A, v = rng().normal(size=(2, 3)), rng(1).normal(size=3)
    check_grads(matvec, argnum=(0, 1), modes=["fwd", "rev"], order=2)(A, v)

    @primitive
    def double(x):
        return 2 * x
    defvjp(double, lambda ans, x: lambda g: 2 * g)
    defjvp(double, "same")
    assert make_jvp(double)(1.0)(3.0) == (2.0, 6.0)
    with pytest.raises(ValueError, match="same"):
        defjvp(double, "linear")


def test_extend_primitive_on_registered_numpy_function_and_errors():
    with pytest.raises(TypeError, match="not a primitive"):
        defvjp(lambda x: x, lambda ans, x: lambda g: g)
    with pytest.raises(TypeError, match="function"):
        primitive(3)


def test_knet_style_primitive_still_works_and_is_distinct():
    assert knet_primitive is not primitive

    @knet_primitive(lambda dy, y, x: dy * 3 * x ** 2)
    def kcube(x):
        return x ** 3
    assert close(grad(kcube)(2.0), 12.0)


def test_notrace_primitive_and_vspace():
    shape_of = notrace_primitive(onp.shape)
    seen = []
    grad(lambda x: seen.append(shape_of(x)) or np.sum(x))(onp.ones((2, 3)))
    assert seen == [(2, 3)]
    vs = vspace(onp.ones((2, 3)))
    assert isinstance(vs, VSpace) and vs.shape == (2, 3) and vs.size == 6
    assert close(vs.zeros(), onp.zeros((2, 3))) and close(vs.ones(), onp.ones((2, 3)))
    assert vs.randn().shape == (2, 3) and vs == vspace(onp.zeros((2, 3)))
    assert len(list(vs.standard_basis())) == 6
    c = vspace(onp.ones(2, complex))
    assert c.iscomplex and c.size == 4 and len(list(c.standard_basis())) == 4
    assert close(c.inner_prod(onp.array([1j, 1.0]), onp.array([1j, 2.0])), 3.0)
    t = vspace((1.0, {"a": onp.ones(2)}))
    z = t.zeros()
    assert z[0] == 0.0 and close(z[1]["a"], onp.zeros(2)) and t.size == 3
    assert vspace(1.5).ones() == 1.0
    with pytest.raises(TypeError, match="vector space"):
        vspace(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vspace(onp.float64(2.0)).zeros()


# ---------------------------------------------------------------- autograd.misc
def test_misc_flatten_round_trip_order_and_gradients():
    from autograd.misc import flatten
    nest = {"w": onp.arange(4.0).reshape(2, 2), "b": [0.5, (onp.array([7.0, 8.0]), 2.0)]}
    v, unflatten = flatten(nest)
    assert close(v, [0.5, 7, 8, 2, 0, 1, 2, 3])            # dict keys sorted: 'b' before 'w'
    back = unflatten(v)
    assert close(back["w"], nest["w"]) and close(back["b"][1][0], [7, 8])
    assert isinstance(back["b"], list) and isinstance(back["b"][1], tuple)
    g = grad(lambda p: np.sum(flatten(p)[0] ** 2))({"a": onp.ones(2), "b": 3.0})
    assert close(g["a"], [2, 2]) and close(g["b"], 6.0)
    assert close(grad(lambda vec: np.sum(unflatten(vec)["w"] * 3))(v), [0, 0, 0, 0, 3, 3, 3, 3])
    with pytest.raises(ValueError, match="length 8"):
        unflatten(onp.ones(3))


def test_misc_optimizers_first_steps_and_convergence():
    from autograd.misc.optimizers import adam, rmsprop, sgd
    target = {"a": onp.array([1.0, -2.0]), "b": 0.5}

    def loss(p, i):
        return np.sum((p["a"] - target["a"]) ** 2) + (p["b"] - target["b"]) ** 2
    g = grad(loss)
    x0 = {"a": onp.zeros(2), "b": 0.0}
    ga, gb = onp.array([-2.0, 4.0]), -1.0                    # the gradient at x0
    one = lambda opt, **kw: opt(g, x0, num_iters=1, **kw)
    x = one(sgd, step_size=0.1, mass=0.9)
    assert close(x["a"], -0.1 * 0.1 * ga) and close(x["b"], -0.01 * gb)
    x = one(adam, step_size=0.01)                            # first Adam step: step * sign(g)
    assert close(x["a"], -0.01 * onp.sign(ga), rtol=1e-6)
    x = one(rmsprop, step_size=0.1, gamma=0.9)
    assert close(x["b"], -0.1 * gb / onp.sqrt(0.9 + 0.1 * gb ** 2), rtol=1e-6)
    for opt, kw in [(adam, dict(step_size=0.1)), (sgd, {}), (rmsprop, dict(step_size=0.01))]:
        seen = []
        r = opt(g, x0, callback=lambda x, i, gx: seen.append((i, set(x), set(gx))),
                num_iters=400, **kw)
        assert close(r["a"], target["a"], rtol=1e-3, atol=1e-3) and close(r["b"], 0.5, atol=1e-3)
        assert [s[0] for s in seen] == list(range(400)) and seen[0][1] == seen[0][2] == {"a", "b"}


def test_hips_style_neural_net_trains_with_adam():
    from autograd.misc.optimizers import adam
    r = rng(5)
    X = r.normal(size=(64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    params = [(0.5 * r.normal(size=(2, 8)), onp.zeros(8)), (0.5 * r.normal(size=(8, 1)), onp.zeros(1))]

    def predict(params, inputs):
        for W, b in params:
            outputs = np.dot(inputs, W) + b
            inputs = np.tanh(outputs)
        return outputs[:, 0]

    def objective(params, i):
        logits = predict(params, X)
        return np.mean(np.logaddexp(0, logits) - y * logits)
    start = objective(params, 0)
    trained = adam(grad(objective), params, step_size=0.05, num_iters=150)
    assert isinstance(trained, list) and isinstance(trained[0], tuple)
    assert objective(trained, 0) < 0.6 * start


def test_defvjp_on_a_numpy_function_replaces_its_rule():
    from autograd.core import UFUNCS
    prim = UFUNCS[onp.cbrt]
    saved = prim.grads, getattr(prim, "jvps", None)
    try:
        defvjp(onp.cbrt, lambda ans, x: lambda g: g * 100.0)
        assert close(grad(np.cbrt)(8.0), 100.0)
        defjvp(onp.cbrt, lambda g, ans, x: g * 7.0)
        assert close(make_jvp(np.cbrt)(8.0)(1.0)[1], 7.0)
    finally:
        prim.grads = saved[0]
        if saved[1] is None:
            del prim.jvps
        else:
            prim.jvps = saved[1]
    assert close(grad(np.cbrt)(8.0), 1 / 12)
    assert close(make_jvp(np.cbrt)(8.0)(1.0)[1], 1 / 12)


@pytest.mark.parametrize("value", [onp.zeros((3, 2)), 0.0, 1j * onp.zeros((2, 1)),
                                   (1.0, [onp.zeros(2), {"a": 2j}])])
def test_vspace_axioms(value):
    onp.random.seed(3)
    vs = vspace(value)
    add, mul, ip = vs.add, vs.scalar_mul, vs.inner_prod
    x, y, z = vs.randn(), vs.randn(), vs.randn()
    same = lambda a, b: abs(ip(z, a) - ip(z, b)) < 1e-10
    assert same(add(x, add(y, z)), add(add(x, y), z)) and same(add(x, y), add(y, x))
    assert same(add(vs.zeros(), x), x) and same(vs.zeros(), add(x, mul(x, -1.0)))
    assert same(mul(add(x, y), 0.7), add(mul(x, 0.7), mul(y, 0.7)))
    assert abs(ip(x, y) - ip(y, x)) < 1e-12 and ip(x, x) > 0 and ip(vs.zeros(), vs.zeros()) == 0
    basis = list(vs.standard_basis())
    assert len(basis) == vs.size
    assert all(abs(ip(a, b) - (i == j)) < 1e-12
               for i, a in enumerate(basis) for j, b in enumerate(basis))
    total = basis[0]
    for b in basis[1:]:
        total = add(total, b)
    assert same(total, vs.ones())
    assert all(vspace(v) == vs for v in [vs.zeros(), vs.ones(), x, add(x, y), mul(x, 2.0)])


def test_deriv_of_complex_input_uses_ones_of_its_vspace():
    z = 0.3 + 0.4j
    assert close(deriv(np.exp)(z), onp.exp(z) * (1 + 1j))


def test_hips_module_paths_tracer_wrap_util_and_core():
    from autograd.core import make_jvp as core_make_jvp
    from autograd.core import make_vjp as core_make_vjp
    from autograd.core import vspace as core_vspace
    from autograd.tracer import getval, isbox
    from autograd.wrap_util import unary_to_nary
    seen = []
    grad(lambda x: seen.append((isbox(x), isbox(getval(x)), type(getval(x)))) or x * 2)(1.5)
    assert seen == [(True, False, float)]
    vjp, ans = core_make_vjp(lambda x: x ** 2, 3.0)
    assert ans == 9.0 and vjp(1.0) == 6.0
    assert core_make_jvp(np.sin, 0.0)(2.0) == (0.0, 2.0)
    assert core_vspace(onp.ones(2)).shape == (2,)

    @unary_to_nary
    def scaled_grad(fun, x, scale):
        vjp, _ = core_make_vjp(fun, x)
        return scale * vjp(1.0)
    assert scaled_grad(lambda a, b: a * b, 1, 10.0)(3.0, 4.0) == 30.0
    assert scaled_grad.__name__ == "scaled_grad"


def test_containers_of_other_array_types_are_leaves():
    from knetpy import KnetArray
    k = KnetArray(onp.array([1.0, 2.0]))
    g = grad(lambda d: np.sum(d["a"] * d["a"]))({"a": k, "b": KnetArray(onp.ones(3)), "c": "x"})
    assert isinstance(g["a"], KnetArray) and close(onp.asarray(g["a"]), [2, 4])
    assert close(onp.asarray(g["b"]), onp.zeros(3)) and g["c"] is None
    v, gk = value_and_grad(lambda a: np.sum(np.tanh(a)))(k)
    assert close(onp.asarray(gk), 1 - onp.tanh([1.0, 2.0]) ** 2)


def test_hips_neural_net_example_runs_unchanged():
    """The shape of HIPS's examples/neural_net.py: list of (W, b), logsumexp,
    an L2 prior through misc.flatten, minibatches and adam with a callback."""
    import autograd.numpy.random as npr
    from autograd.misc.flatten import flatten
    from autograd.misc.optimizers import adam
    from autograd.scipy.special import logsumexp

    def predict(params, inputs):
        for W, b in params:
            outputs = np.dot(inputs, W) + b
            inputs = np.tanh(outputs)
        return outputs - logsumexp(outputs, axis=1, keepdims=True)

    def log_posterior(params, inputs, targets, L2_reg):
        flat, _ = flatten(params)
        return -L2_reg * np.dot(flat, flat) + np.sum(predict(params, inputs) * targets)

    rs = npr.RandomState(1)
    X = rs.randn(200, 4)
    T = onp.eye(2)[(X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)]
    init = [(0.1 * rs.randn(m, n), 0.1 * rs.randn(n)) for m, n in [(4, 16), (16, 2)]]

    def objective(params, it):
        idx = slice((it % 4) * 50, (it % 4 + 1) * 50)
        return -log_posterior(params, X[idx], T[idx], 1e-4)
    seen = []
    trained = adam(grad(objective), init, step_size=0.02, num_iters=100,
                   callback=lambda p, it, g: seen.append(it))
    accuracy = onp.mean(onp.argmax(predict(trained, X), 1) == onp.argmax(T, 1))
    assert accuracy > 0.9 and len(seen) == 100
