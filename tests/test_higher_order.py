"""Higher-order gradients: gradients are recorded like any other computation."""
import numpy as np
import pytest
import scipy.special as sp

from autograd import Param, diff, gcheck, grad
from grad_table import TABLE

UNARY = sorted(n for n, e in TABLE.items() if e.elementwise and len(e.domains) == 1)
BINARY = sorted(n for n, e in TABLE.items() if e.elementwise and len(e.domains) == 2)
GRAD = sorted(n for n, e in TABLE.items() if e.kind == "grad")


def _point(dom, t=0.63):
    lo, hi = dom[-2:]
    return (1 - t) * lo + t * hi         # an interior point, away from the middle of "s" gaps


def _check_fourth_order(fn, x0, label):
    """Each derivative of order k matches central differences of order k - 1."""
    derivs = [fn]
    for _ in range(4):
        derivs.append(grad(derivs[-1]))
    h = 1e-4
    for k in range(1, 5):
        analytic = float(derivs[k](x0))
        numeric = (float(derivs[k - 1](x0 + h)) - float(derivs[k - 1](x0 - h))) / (2 * h)
        assert analytic == pytest.approx(numeric, rel=1e-4, abs=1e-5), f"{label} order {k}"


def test_sin_to_fourth_order_on_arrays():
    x0 = np.array([-1.0, 0.3, 2.0])
    expected = [np.cos(x0), -np.sin(x0), -np.cos(x0), np.sin(x0)]
    f = lambda x: np.sum(np.sin(x))       # noqa: E731
    for k in range(4):
        g = grad(f)
        np.testing.assert_allclose(g(x0), expected[k], rtol=1e-12, atol=1e-15)
        f = lambda x, g=g: np.sum(g(x))     # noqa: E731


@pytest.mark.parametrize("name", UNARY)
def test_elementwise_derivatives_to_fourth_order(name):
    e = TABLE[name]
    x0 = _point(e.domains[0])
    if isinstance(e.domains[0][0], str):      # random-sign domain: use the positive side
        x0 = abs(x0)
    _check_fourth_order(e.fn, x0, name)


@pytest.mark.parametrize("name", BINARY)
def test_binary_elementwise_to_fourth_order_in_each_argument(name):
    e = TABLE[name]
    a0, b0 = (abs(_point(d, t)) if isinstance(d[0], str) else _point(d, t)
              for d, t in zip(e.domains, (0.63, 0.29)))
    _check_fourth_order(lambda a: e.fn(a, b0), a0, f"{name} in a")
    _check_fourth_order(lambda b: e.fn(a0, b), b0, f"{name} in b")


@pytest.mark.parametrize("name", BINARY)
def test_binary_elementwise_second_order_with_mixed_terms(name):
    e = TABLE[name]
    call, arrays = e.cases[2]                 # the (3, 1) x (1, 4) broadcast pair
    w = np.random.default_rng(0).uniform(0.5, 1.5, (3, 4))

    def first(a, b):
        ga, gb = grad(lambda a, b: np.sum(call(a, b) * w), argnum=(0, 1))(a, b)
        return np.sum(ga * ga) + np.sum(gb * np.arange(1.0, 5.0))
    assert gcheck(first, Param(arrays[0].copy()), Param(arrays[1].copy()), nsample=6), name


@pytest.mark.parametrize("name", GRAD)
def test_second_order_of_every_differentiable_function(name):
    """gcheck the gradient of <call(*ps), w> (w fixed, random), i.e. check
    Hessian-vector products of every registered gradient."""
    cases = TABLE[name].cases
    for call, arrays in cases[:2] + cases[2:][-1:]:
        n = len(arrays)
        rng = np.random.default_rng(5)
        w = rng.uniform(0.5, 1.5, np.shape(call(*[np.array(a) for a in arrays])))
        v = [rng.uniform(-1, 1, np.shape(a)) for a in arrays]

        def hvp(*ps):
            gs = grad(lambda *qs: np.sum(call(*qs) * w), argnum=tuple(range(n)))(*ps)
            return sum(np.sum(g * vi) for g, vi in zip(gs, v))
        ps = [Param(np.array(a, dtype=np.float64)) for a in arrays]
        assert gcheck(hvp, *ps, nsample=4), name


def test_hessian_of_softmax_nll_matches_closed_form():
    # NLL(W) = logsumexp(W x) - (W x)[c]; its Hessian in vec(W) (row-major) is
    # (diag(p) - p p^T) kron (x x^T) with p = softmax(W x)
    rng = np.random.default_rng(2)
    C, D, c = 3, 4, 1
    x = rng.standard_normal(D)
    W0 = rng.standard_normal((C, D))

    def nll(W):
        z = W @ x
        return sp.logsumexp(z) - z[c]

    p = np.exp(W0 @ x - sp.logsumexp(W0 @ x))
    closed = np.kron(np.diag(p) - np.outer(p, p), np.outer(x, x))
    g = grad(nll)
    hessian = np.stack([np.ravel(grad(lambda W, i=i: np.ravel(g(W))[i])(W0)) for i in range(C * D)])
    np.testing.assert_allclose(hessian, closed, atol=1e-12)
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-14)


def test_nested_closures():
    assert grad(lambda x: x * grad(lambda y: x + y)(x))(5.0) == 1.0
    # d/dx [x * d/dy (x y^2)]_{y=x} = d/dx 2 x^3 = 6 x^2
    assert grad(lambda x: x * grad(lambda y: x * y * y)(x))(2.0) == pytest.approx(24.0)
    # an inner gradient that captures an outer Param
    w = Param(np.array([1.5, -0.5]))
    y = diff(lambda: np.sum(grad(lambda v: np.sum(np.sin(w * v)))(np.ones(2)) ** 2))
    # inner grad = w cos(w); d/dw sum(w^2 cos^2 w) = 2 w cos^2 w - 2 w^2 cos w sin w
    wv = w.value
    np.testing.assert_allclose(grad(y, w), 2 * wv * np.cos(wv) ** 2
                               - 2 * wv ** 2 * np.cos(wv) * np.sin(wv))


def test_third_order_of_a_matrix_function():
    # f(A) = sum(inv(A)): check d^3/dt^3 f(A + t V) at t = 0 by nested scalar grads
    rng = np.random.default_rng(4)
    A = rng.standard_normal((3, 3)) + 4 * np.eye(3)
    V = rng.standard_normal((3, 3))
    f = lambda t: np.sum(np.linalg.inv(A + t * V))      # noqa: E731
    d3 = grad(grad(grad(f)))(0.0)
    # d^k/dt^k inv(A + tV) = (-1)^k k! (A^-1 V)^k A^-1
    Ai = np.linalg.inv(A)
    closed = -6 * np.sum(Ai @ V @ Ai @ V @ Ai @ V @ Ai)
    assert d3 == pytest.approx(closed, rel=1e-9)
