"""scipy.special: derivatives against closed forms and known constants."""
import numpy as np
import pytest
import scipy.special as sp

from autograd import Param, diff, gcheck, grad

X = np.array([0.3, 1.0, 1.7, 2.5])
EULER = np.euler_gamma


def d(f, x=X, order=1):
    g = f
    for _ in range(order):
        g = grad(lambda v, g=g: np.sum(g(v)))
    return g(x)


def test_error_functions():
    np.testing.assert_allclose(d(sp.erf), 2 / np.sqrt(np.pi) * np.exp(-X ** 2))
    np.testing.assert_allclose(d(sp.erfc), -2 / np.sqrt(np.pi) * np.exp(-X ** 2))
    np.testing.assert_allclose(d(sp.erfcx), 2 * X * sp.erfcx(X) - 2 / np.sqrt(np.pi))
    u = np.array([-0.8, 0.1, 0.6])
    # inverse function theorem: erfinv'(u) = 1 / erf'(erfinv(u))
    np.testing.assert_allclose(d(sp.erfinv, u),
                               1 / (2 / np.sqrt(np.pi) * np.exp(-sp.erfinv(u) ** 2)))
    np.testing.assert_allclose(d(sp.erfcinv, 1 - u), -d(sp.erfinv, u))
    np.testing.assert_allclose(d(sp.erf, X, order=2), -2 * X * 2 / np.sqrt(np.pi) * np.exp(-X ** 2))


def test_gamma_family_constants():
    one = np.array([1.0])
    np.testing.assert_allclose(d(sp.gamma, one), [-EULER])               # Gamma'(1) = -gamma
    np.testing.assert_allclose(d(sp.gammaln, one), [-EULER])
    np.testing.assert_allclose(d(sp.digamma, one), [np.pi ** 2 / 6])     # trigamma(1)
    np.testing.assert_allclose(d(sp.gammaln, one, order=2), [np.pi ** 2 / 6])
    np.testing.assert_allclose(d(sp.gammaln, one, order=3), [-2 * sp.zeta(3.0)])
    np.testing.assert_allclose(d(sp.loggamma, X), sp.digamma(X))
    np.testing.assert_allclose(d(sp.rgamma, X), -sp.digamma(X) / sp.gamma(X))
    np.testing.assert_allclose(d(lambda x: sp.polygamma(1, x), one), [-2 * sp.zeta(3.0)])
    np.testing.assert_allclose(d(lambda x: sp.polygamma(2, x), X), sp.polygamma(3, X))


def test_beta_functions():
    a, b = 1.5, 2.5
    ga, gb = grad(lambda a, b: sp.betaln(a, b), argnum=(0, 1))(a, b)
    assert ga == pytest.approx(sp.digamma(a) - sp.digamma(a + b))
    assert gb == pytest.approx(sp.digamma(b) - sp.digamma(a + b))
    ga, gb = grad(lambda a, b: sp.beta(a, b), argnum=(0, 1))(a, b)
    assert ga == pytest.approx(sp.beta(a, b) * (sp.digamma(a) - sp.digamma(a + b)))


def test_logistic_functions():
    z = np.array([-3.0, 0.0, 0.5, 4.0])
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(d(sp.expit, z), s * (1 - s))
    np.testing.assert_allclose(d(sp.log_expit, z), 1 - s)
    p = np.array([0.1, 0.5, 0.8])
    np.testing.assert_allclose(d(sp.logit, p), 1 / (p * (1 - p)))
    np.testing.assert_allclose(d(sp.expit, z, order=2), s * (1 - s) * (1 - 2 * s))


def test_entropy_functions():
    x, y = np.array([0.2, 1.0, 2.0]), np.array([0.5, 0.5, 3.0])
    gx, gy = grad(lambda a, b: np.sum(sp.xlogy(a, b)), argnum=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.log(y))
    np.testing.assert_allclose(gy, x / y)
    gx, _ = grad(lambda a, b: np.sum(sp.xlogy(a, b)), argnum=(0, 1))(np.zeros(3), y)
    np.testing.assert_allclose(gx, np.log(y))                 # d/dx (x log y) at x = 0
    gx, gy = grad(lambda a, b: np.sum(sp.kl_div(a, b)), argnum=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.log(x / y))
    np.testing.assert_allclose(gy, 1 - x / y)
    np.testing.assert_allclose(d(sp.entr, x), -np.log(x) - 1)


def test_normal_distribution_functions():
    z = np.array([-2.0, 0.0, 1.3])
    pdf = np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(d(sp.ndtr, z), pdf)
    np.testing.assert_allclose(d(sp.log_ndtr, z), pdf / sp.ndtr(z))
    p = sp.ndtr(z)
    np.testing.assert_allclose(d(sp.ndtri, p), 1 / pdf)


def test_bessel_recurrences():
    x = np.array([0.5, 1.5, 3.0])
    np.testing.assert_allclose(d(sp.i0, x), sp.i1(x))
    np.testing.assert_allclose(d(sp.j0, x), -sp.j1(x))
    np.testing.assert_allclose(d(sp.j1, x), (sp.j0(x) - sp.jv(2, x)) / 2)
    np.testing.assert_allclose(d(sp.i1, x), (sp.i0(x) + sp.iv(2, x)) / 2)
    np.testing.assert_allclose(d(sp.y1, x), (sp.y0(x) - sp.yv(2, x)) / 2)
    np.testing.assert_allclose(d(sp.k1, x), -(sp.k0(x) + sp.kv(2, x)) / 2)
    np.testing.assert_allclose(d(sp.i1e, -x), sp.i0e(-x) - sp.i1e(-x) * (-1 - 1 / x))


def test_logsumexp_softmax_family():
    z = np.array([[1.0, -2.0, 0.5], [1000.0, 1000.0, 999.0]])   # second row overflows naively
    p = sp.softmax(z, axis=1)
    np.testing.assert_allclose(d(lambda v: sp.logsumexp(v, axis=1), z), p)
    assert np.isfinite(diff(lambda: np.sum(sp.logsumexp(Param(z), axis=1))).value)
    w = np.array([0.3, -1.0, 2.0])
    # d/dz sum(softmax(z) * w) = p * (w - p.w)
    np.testing.assert_allclose(d(lambda v: sp.softmax(v, axis=1) * w, z),
                               p * (w - np.sum(p * w, axis=1, keepdims=True)))
    np.testing.assert_allclose(d(lambda v: sp.log_softmax(v, axis=1) * w, z),
                               w - p * np.sum(w))
    b = np.array([1.0, 2.0, 0.5])
    bp = b * sp.softmax(z, axis=1)         # b e^z, rescaled per row to avoid overflow
    np.testing.assert_allclose(d(lambda v: sp.logsumexp(v, axis=1, b=b), z),
                               bp / np.sum(bp, axis=1, keepdims=True))
    # values with keepdims / return_sign agree with scipy
    v, s = sp.logsumexp(Param(z), axis=0, b=-np.ones(2)[:, None], return_sign=True)
    v0, s0 = sp.logsumexp(z, axis=0, b=-np.ones(2)[:, None], return_sign=True)
    np.testing.assert_allclose(v, v0)
    np.testing.assert_array_equal(s, s0)
    assert np.isneginf(sp.logsumexp(Param(np.full(3, -np.inf))))


def test_scipy_functions_are_unchanged_for_plain_arrays():
    for name in ("logsumexp", "softmax", "log_softmax", "polygamma", "zeta", "multigammaln"):
        f = getattr(sp, name)
        assert f.__name__ == name and hasattr(f, "__wrapped__")
    z = np.array([0.1, 2.0])
    assert sp.logsumexp(z) == sp.logsumexp.__wrapped__(z)
    assert type(sp.softmax(z)) is np.ndarray
    np.testing.assert_array_equal(sp.polygamma(1, z), sp.polygamma.__wrapped__(1, z))


def test_functions_differentiable_in_one_argument():
    x = np.array([0.5, 1.0, 3.0])
    a = 2.5
    np.testing.assert_allclose(d(lambda v: sp.gammainc(a, v), x),
                               np.exp(-x) * x ** (a - 1) / sp.gamma(a))
    np.testing.assert_allclose(d(lambda q: sp.zeta(3.0, q), x), -3.0 * sp.zeta(4.0, x))
    np.testing.assert_allclose(d(lambda v: sp.multigammaln(v, 2), x + 1),
                               sp.digamma(x + 1) + sp.digamma(x + 0.5))
    r = np.array([-2.0, 0.3, 1.5])
    np.testing.assert_allclose(d(lambda v: sp.huber(1.0, v), r), np.clip(r, -1, 1))
    aP = Param(np.array(2.5))
    y = diff(lambda: np.sum(sp.gammainc(aP, x)))           # a is not differentiated
    assert grad(y, aP) is None


def test_higher_order_special_gcheck():
    assert gcheck(lambda x: grad(lambda v: np.sum(sp.gammaln(v) * sp.erf(v)))(x),
                  Param(np.array([0.7, 1.4, 2.2])))
    assert gcheck(lambda x: grad(lambda v: sp.logsumexp(v * v))(x), Param(np.array([0.1, -0.5, 0.9])))
