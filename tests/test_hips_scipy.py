"""autograd.scipy: special, stats, linalg, signal, integrate (HIPS autograd's namespaces)."""
import numpy as onp
import pytest
import scipy.linalg as sl
import scipy.signal as ssig
import scipy.special as ssp
import scipy.stats as ss

import autograd.numpy as np
import autograd.scipy.special as special
import autograd.scipy.stats as stats
from autograd import Param, gcheck, grad
from autograd.scipy import integrate, linalg, signal
from autograd.scipy.stats import (beta, chi2, dirichlet, gamma, multivariate_normal, norm,
                                  poisson, t)
from autograd.test_util import check_grads
from numeric_refs import numeric_grad

RNG = onp.random.default_rng(5)


def check_all_args(ours, ref, args, which, atol=1e-6, rtol=1e-5):
    """Values equal scipy's; the gradient of sum(ours) in each argument in
    ``which`` matches central differences of sum(ref)."""
    onp.testing.assert_allclose(ours(*args), ref(*args), rtol=1e-10, atol=1e-12)
    for i in which:
        def part(v, i=i):
            a = list(args)
            a[i] = v
            return a
        got = grad(lambda v: np.sum(ours(*part(v))))(args[i])
        want = numeric_grad(lambda v: onp.sum(ref(*part(v))), args[i])
        onp.testing.assert_allclose(got, want, atol=atol, rtol=rtol)


# ------------------------------------------------------------ special
def test_special_namespace_and_hips_names():
    for name in ["gammaln", "digamma", "psi", "polygamma", "beta", "betaln", "betainc",
                 "gamma", "gammainc", "gammaincc", "rgamma", "multigammaln", "erf", "erfc",
                 "erfinv", "erfcinv", "logit", "expit", "logsumexp", "j0", "j1", "y0", "y1",
                 "jn", "yn", "i0", "i1", "iv", "ive", "log_ndtr", "ndtr"]:
        assert callable(getattr(special, name)), name
    assert special.jn is ssp.jv


@pytest.mark.parametrize("name, fn, x", [
    ("betainc", lambda x: special.betainc(2.0, 3.0, x), onp.array([0.2, 0.5, 0.7])),
    ("jn", lambda x: special.jn(2, x), onp.array([0.5, 1.5, 3.0])),
    ("jv", lambda x: special.jv(1.5, x), onp.array([0.5, 1.5, 3.0])),
    ("yn", lambda x: special.yn(1, x), onp.array([0.5, 1.5, 3.0])),
    ("yv", lambda x: special.yv(0.5, x), onp.array([0.5, 1.5, 3.0])),
    ("iv", lambda x: special.iv(2.0, x), onp.array([-1.5, 0.5, 3.0])),
    ("ive", lambda x: special.ive(1.0, x), onp.array([-1.5, 0.5, 3.0])),
    ("kv", lambda x: special.kv(1.0, x), onp.array([0.5, 1.5, 3.0])),
    ("kve", lambda x: special.kve(0.5, x), onp.array([0.5, 1.5, 3.0])),
    ("stdtr", lambda x: special.stdtr(3.0, x), onp.array([-1.0, 0.2, 2.0])),
    ("gammaln", special.gammaln, onp.array([0.5, 2.5])),
    ("logsumexp", lambda x: special.logsumexp(x), onp.array([0.5, 2.5, -1.0])),
])
def test_special_gradients(name, fn, x):
    g = grad(lambda v: np.sum(fn(v)))(x)
    onp.testing.assert_allclose(g, numeric_grad(lambda v: onp.sum(fn(v)), x), rtol=1e-6, atol=1e-8)
    p = Param(x.copy())
    assert gcheck(lambda: np.sum(fn(p)))
    check_grads(lambda v: fn(v), modes=["rev"], order=2)(x)


# ------------------------------------------------------------ stats
X = onp.array([0.3, 1.2, -0.4])
U = onp.array([0.1, 0.45, 0.9])


@pytest.mark.parametrize("fn", ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"])
def test_norm(fn):
    ours, ref = getattr(norm, fn), getattr(ss.norm, fn)
    check_all_args(ours, ref, (X, 0.2, 1.5), which=(0, 1, 2))
    onp.testing.assert_allclose(ours(X), ref(X), rtol=1e-12)


def test_norm_ppf_and_hips_call_forms():
    onp.testing.assert_allclose(norm.ppf(U, 1.0, 2.0), ss.norm.ppf(U, 1.0, 2.0))
    assert grad(norm.logpdf)(1.0) == pytest.approx(-1.0)
    g = grad(lambda s: norm.logpdf(1.0, loc=0.0, scale=s))(2.0)   # keyword parameters
    assert g == pytest.approx(-1 / 2.0 + 1 / 8.0)


@pytest.mark.parametrize("fn, which", [("logpdf", (0, 1, 2, 3)), ("pdf", (0, 1, 2, 3)),
                                       ("cdf", (0, 2, 3)), ("logcdf", (0, 2, 3)),
                                       ("sf", (0, 2, 3)), ("logsf", (0, 2, 3))])
def test_t(fn, which):
    check_all_args(getattr(t, fn), getattr(ss.t, fn), (X, 3.5, 0.2, 1.5), which)


@pytest.mark.parametrize("fn, which", [("logpdf", (0, 1, 2, 3, 4)), ("pdf", (0, 1, 2)),
                                       ("cdf", (0, 3, 4))])
def test_beta(fn, which):
    check_all_args(getattr(beta, fn), getattr(ss.beta, fn), (U, 2.0, 3.0, -0.05, 1.1), which)


@pytest.mark.parametrize("fn, which", [("logpdf", (0, 1, 2, 3)), ("pdf", (0, 1, 3)),
                                       ("cdf", (0, 2, 3))])
def test_gamma(fn, which):
    check_all_args(getattr(gamma, fn), getattr(ss.gamma, fn), (U + 0.5, 2.5, 0.1, 1.7), which)


@pytest.mark.parametrize("fn, which", [("logpdf", (0, 1, 2, 3)), ("pdf", (0, 1)),
                                       ("cdf", (0, 2, 3))])
def test_chi2(fn, which):
    check_all_args(getattr(chi2, fn), getattr(ss.chi2, fn), (U + 0.5, 3.0, 0.1, 1.3), which)


def test_support_edges_match_scipy():
    x = onp.array([-0.5, 0.0, 0.5, 1.0, 1.5])
    onp.testing.assert_allclose(beta.logpdf(x, 1.0, 2.0), ss.beta.logpdf(x, 1.0, 2.0))
    onp.testing.assert_allclose(beta.cdf(x, 2.0, 2.0), ss.beta.cdf(x, 2.0, 2.0))
    onp.testing.assert_allclose(gamma.logpdf(x, 1.0), ss.gamma.logpdf(x, 1.0))
    onp.testing.assert_allclose(gamma.cdf(x, 2.0), ss.gamma.cdf(x, 2.0))
    onp.testing.assert_allclose(chi2.pdf(x, 2.0), ss.chi2.pdf(x, 2.0))


@pytest.mark.parametrize("fn", ["logpmf", "pmf", "cdf"])
def test_poisson(fn):
    k = onp.array([0, 1, 3, -1, 2.5, 7])
    onp.testing.assert_allclose(getattr(poisson, fn)(k, 2.2), getattr(ss.poisson, fn)(k, 2.2))
    check_all_args(getattr(poisson, fn), getattr(ss.poisson, fn), (k[(k >= 0) & (k == onp.floor(k))], 2.2),
                   which=(1,))
    onp.testing.assert_allclose(getattr(poisson, fn)(k, 2.2, 1), getattr(ss.poisson, fn)(k, 2.2, 1))


def test_dirichlet():
    alpha = onp.array([1.5, 2.0, 3.0])
    xs = onp.array([[0.2, 0.3], [0.3, 0.3], [0.5, 0.4]])
    for fn in ["logpdf", "pdf"]:
        ours, ref = getattr(dirichlet, fn), getattr(ss.dirichlet, fn)
        onp.testing.assert_allclose(ours(xs, alpha), ref(xs, alpha))
        onp.testing.assert_allclose(ours(xs[:2], alpha), ref(xs[:2], alpha))   # K-1 rows
        onp.testing.assert_allclose(grad(lambda a: np.sum(ours(xs, a)))(alpha),
                                    numeric_grad(lambda a: onp.sum(ref(xs, a)), alpha), rtol=1e-6)
    # HIPS's gradient in x (unconstrained): (alpha - 1) / x
    x0 = xs[:, 0]
    onp.testing.assert_allclose(grad(lambda x: dirichlet.logpdf(x, alpha))(x0), (alpha - 1) / x0)
    with pytest.raises(ValueError, match="sum to 1"):
        dirichlet.logpdf(onp.array([0.2, 0.2, 0.2]), alpha)
    with pytest.raises(ValueError, match="entries"):
        dirichlet.logpdf(onp.array([1.0]), alpha)


def test_multivariate_normal():
    C = onp.array([[2.0, 0.3], [0.3, 1.0]])
    m = onp.array([0.1, -0.2])
    Xs = RNG.standard_normal((4, 2))
    ref = ss.multivariate_normal
    for fn in ["logpdf", "pdf"]:
        ours = getattr(multivariate_normal, fn)
        onp.testing.assert_allclose(ours(Xs, m, C), getattr(ref, fn)(Xs, m, C))
        onp.testing.assert_allclose(ours(Xs[0], m, C), getattr(ref, fn)(Xs[0], m, C))
        for i, arg in enumerate([Xs, m]):
            f = (lambda v: np.sum(ours(v, m, C))) if i == 0 else (lambda v: np.sum(ours(Xs, v, C)))
            r = (lambda v: onp.sum(getattr(ref, fn)(v, m, C))) if i == 0 else \
                (lambda v: onp.sum(getattr(ref, fn)(Xs, v, C)))
            onp.testing.assert_allclose(grad(f)(arg), numeric_grad(r, arg), atol=1e-7)
    # cov: differentiate along symmetric directions (scipy reads one triangle)
    sym = lambda v: (v + v.T) / 2
    g = grad(lambda c: np.sum(multivariate_normal.logpdf(Xs, m, sym(c))))(C)
    onp.testing.assert_allclose(g, numeric_grad(lambda c: onp.sum(ref.logpdf(Xs, m, sym(c))), C),
                                atol=1e-6)
    onp.testing.assert_allclose(multivariate_normal.logpdf(Xs, onp.zeros(2), 2.0),
                                ref.logpdf(Xs, onp.zeros(2), cov=2.0))
    onp.testing.assert_allclose(multivariate_normal.logpdf(Xs, m, onp.array([1.0, 3.0])),
                                ref.logpdf(Xs, m, onp.array([1.0, 3.0])))
    onp.testing.assert_allclose(multivariate_normal.entropy(m, C), ref.entropy(m, C))
    onp.testing.assert_allclose(grad(lambda c: multivariate_normal.entropy(m, c))(C),
                                0.5 * onp.linalg.inv(C), rtol=1e-10)
    onp.testing.assert_allclose(multivariate_normal.logpdf(onp.array([0.3, -1.0, 2.0]), 0.5, 2.0),
                                ref.logpdf(onp.array([0.3, -1.0, 2.0]), 0.5, 2.0))


def test_multivariate_normal_singular():
    S = onp.array([[1.0, 1.0], [1.0, 1.0]])
    m = onp.array([0.1, -0.2])
    pts = onp.vstack([m + onp.outer([0.3, -1.2], [1, 1]), RNG.standard_normal((2, 2))])
    ref = ss.multivariate_normal.logpdf(pts, m, S, allow_singular=True)
    onp.testing.assert_allclose(multivariate_normal.logpdf(pts, m, S, allow_singular=True), ref)
    with pytest.raises(onp.linalg.LinAlgError):
        multivariate_normal.logpdf(pts, m, S)


def test_cdf_shape_gradients_are_refused():
    with pytest.raises(NotImplementedError, match="with respect to a"):
        grad(lambda a: beta.cdf(0.3, a, 2.0))(1.5)
    with pytest.raises(NotImplementedError, match="df"):
        grad(lambda d: t.cdf(0.3, d))(3.0)
    with pytest.raises(NotImplementedError, match="with respect to a"):
        grad(lambda a: gamma.cdf(0.3, a))(3.0)
    with pytest.raises(NotImplementedError, match="df"):
        grad(lambda d: chi2.cdf(0.3, d))(3.0)
    assert set(stats.__all__) >= {"norm", "t", "beta", "gamma", "chi2", "poisson", "dirichlet",
                                  "multivariate_normal"}


# ------------------------------------------------------------ linalg
def _tri(lower):
    a = RNG.standard_normal((3, 3)) + 3 * onp.eye(3)
    return onp.tril(a) if lower else onp.triu(a)


@pytest.mark.parametrize("kw", [dict(lower=True), dict(lower=True, trans="T"), dict(trans=0),
                                dict(lower=True, unit_diagonal=True), dict(trans=1),
                                dict(lower=True, trans="C")])
def test_solve_triangular(kw):
    a, b = _tri(kw.get("lower", False)), RNG.standard_normal((3, 2))
    onp.testing.assert_allclose(linalg.solve_triangular(a, b, **kw), sl.solve_triangular(a, b, **kw))
    order = 2 if kw == dict(lower=True) else 1
    check_grads(lambda a, b: linalg.solve_triangular(a, b, **kw), modes=["rev"], order=order)(a, b)
    check_grads(lambda a, b: linalg.solve_triangular(a, b[:, 0], **kw), modes=["rev"], order=1)(a, b)
    # the gradient stays inside the triangle that is read
    g = grad(lambda a: np.sum(linalg.solve_triangular(a, b, **kw)))(a)
    mask = onp.tril(onp.ones((3, 3)), -1 if kw.get("unit_diagonal") else 0)
    mask = mask if kw.get("lower") else mask.T
    assert onp.all(g[mask == 0] == 0)


def test_solve_triangular_complex_conjugate_transpose():
    a = _tri(True) + 1j * onp.tril(RNG.standard_normal((3, 3)))
    b = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    onp.testing.assert_allclose(linalg.solve_triangular(a, b, trans="C", lower=True),
                                sl.solve_triangular(a, b, trans="C", lower=True))
    check_grads(lambda b: linalg.solve_triangular(a, b, trans="C", lower=True), modes=["rev"])(b)
    with pytest.raises(ValueError, match="trans"):
        linalg.solve_triangular(a, b, trans="X")


def test_matrix_functions():
    S = RNG.standard_normal((3, 3))
    S = S @ S.T + 3 * onp.eye(3)
    A, B, Q = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3)) + 4 * onp.eye(3), \
        RNG.standard_normal((3, 3))
    onp.testing.assert_allclose(linalg.sqrtm(S), sl.sqrtm(S))
    check_grads(linalg.sqrtm, modes=["rev"], order=1)(S)
    onp.testing.assert_allclose(linalg.solve_sylvester(A, B, Q), sl.solve_sylvester(A, B, Q))
    check_grads(linalg.solve_sylvester, modes=["rev"], order=2)(A, B, Q)
    onp.testing.assert_allclose(linalg.expm(A), sl.expm(A))
    check_grads(linalg.expm, modes=["fwd", "rev"], order=2)(0.5 * A)
    onp.testing.assert_allclose(linalg.cholesky(S), sl.cholesky(S))
    onp.testing.assert_allclose(linalg.cholesky(S, lower=True), sl.cholesky(S, lower=True))
    b = RNG.standard_normal((3, 2))
    for lower in (False, True):
        onp.testing.assert_allclose(linalg.cho_solve(linalg.cho_factor(S, lower=lower), b),
                                    sl.cho_solve(sl.cho_factor(S, lower=lower), b))
        sym = lambda s: (s + s.T) / 2
        check_grads(lambda s, b: linalg.cho_solve(linalg.cho_factor(sym(s), lower=lower), b),
                    modes=["rev"], order=1)(S, b)
    onp.testing.assert_allclose(linalg.inv(S), sl.inv(S))
    onp.testing.assert_allclose(linalg.det(S), sl.det(S))
    onp.testing.assert_allclose(linalg.solve(S, b, transposed=True), sl.solve(S, b, transposed=True))
    check_grads(lambda s: linalg.solve(s, b, assume_a="pos"), modes=["rev"])(S)
    onp.testing.assert_allclose(linalg.eigh(S, eigvals_only=True), sl.eigh(S, eigvals_only=True))
    onp.testing.assert_allclose(linalg.norm(S), sl.norm(S))
    check_grads(lambda s: linalg.eigh((s + s.T) / 2, eigvals_only=True), modes=["rev"])(S)


def test_other_scipy_functions_refuse_recorded_values():
    S = onp.eye(2) * 2
    assert linalg.logm(S)[0, 0] == pytest.approx(onp.log(2))     # plain use works
    with pytest.raises(TypeError, match="no gradient"):
        grad(lambda s: np.sum(linalg.logm(s)))(S)
    with pytest.raises(TypeError, match="no gradient"):
        grad(lambda s: np.sum(signal.correlate(s, s)))(S)
    with pytest.raises(NotImplementedError):
        grad(lambda s: np.sum(linalg.eigh(s, S)[0]))(S)


# ------------------------------------------------------------ signal
@pytest.mark.parametrize("sa, sb, mode", [((5,), (3,), "full"), ((5,), (3,), "valid"),
                                          ((3,), (5,), "valid"), ((4, 5), (2, 3), "full"),
                                          ((4, 5), (2, 3), "same"), ((2, 3), (4, 5), "same"),
                                          ((4, 5), (2, 3), "valid")])
def test_convolve_matches_scipy(sa, sb, mode):
    A, B = RNG.standard_normal(sa), RNG.standard_normal(sb)
    onp.testing.assert_allclose(signal.convolve(A, B, mode=mode), ssig.convolve(A, B, mode=mode))
    check_grads(lambda a, b: signal.convolve(a, b, mode=mode), modes=["rev"], order=2)(A, B)


def test_convolve_hips_axes_and_dot_axes():
    X, W = RNG.standard_normal((2, 3, 6, 6)), RNG.standard_normal((3, 4, 3, 3))
    out = signal.convolve(X, W, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode="valid")
    ref = onp.zeros((2, 4, 4, 4))
    for n in range(2):
        for o in range(4):
            for c in range(3):
                ref[n, o] += ssig.convolve(X[n, c], W[c, o], mode="valid")
    onp.testing.assert_allclose(out, ref)
    check_grads(lambda x, w: signal.convolve(x, w, axes=([2, 3], [2, 3]), dot_axes=([1], [0]),
                                             mode="valid"), modes=["rev"])(X, W)
    X2, W2 = RNG.standard_normal((3, 2, 5)), RNG.standard_normal((2, 3, 4, 2))
    out2 = signal.convolve(X2, W2, axes=([2], [3]), dot_axes=([1, 0], [0, 1]), mode="full")
    assert out2.shape == (4, 6)
    ref2 = onp.stack([sum(ssig.convolve(X2[c, b], W2[b, c, k]) for b in range(2) for c in range(3))
                      for k in range(4)])
    onp.testing.assert_allclose(out2, ref2)
    check_grads(lambda x, w: signal.convolve(x, w, axes=([2], [3]), dot_axes=([1, 0], [0, 1])),
                modes=["rev"])(X2, W2)
    with pytest.raises(ValueError, match="mode"):
        signal.convolve(X2, X2, mode="circular")
    with pytest.raises(ValueError, match="at least as large"):
        signal.convolve(onp.ones((2, 5)), onp.ones((3, 3)), mode="valid")


# ------------------------------------------------------------ integrate
def test_odeint_gradients_match_finite_differences():
    def f(y, t, k, A):
        return -k * y + np.dot(A, np.sin(y)) * t

    y0, ts, k = onp.array([1.0, 0.5]), onp.array([0.0, 0.4, 1.0]), 0.7
    A = onp.array([[0.1, 0.3], [-0.2, 0.1]])
    W = RNG.standard_normal((3, 2))
    opts = dict(rtol=1e-10, atol=1e-10)
    L = lambda y0, ts, k, A: np.sum(integrate.odeint(f, y0, ts, (k, A), **opts) * W)
    import scipy.integrate as si
    onp.testing.assert_allclose(integrate.odeint(f, y0, ts, (k, A), **opts),
                                si.odeint(f, y0, ts, (k, A), **opts))
    args = [y0, ts, k, A]
    for i in range(4):
        def part(v, i=i):
            a = list(args)
            a[i] = v
            return a
        got = grad(L, i)(*args)
        want = numeric_grad(lambda v: L(*part(v)), args[i], h=1e-5)
        onp.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="y0"):
        integrate.odeint(f, onp.ones((2, 2)), ts, (k, A))
    with pytest.raises(ValueError, match="not supported"):
        integrate.odeint(f, y0, ts, (k, A), full_output=True)


def test_odeint_with_container_args():
    # parameters as a list of (W, b) tuples, as in HIPS's neural ODE example
    def field(y, t, params):
        for W, b in params:
            y = np.tanh(np.dot(y, W) + b)
        return y

    rs = onp.random.default_rng(2)
    params = [(0.3 * rs.standard_normal((2, 3)), 0.1 * rs.standard_normal(3)),
              (0.3 * rs.standard_normal((3, 2)), 0.1 * rs.standard_normal(2))]
    y0, ts = onp.array([1.0, -0.5]), onp.linspace(0, 1, 4)
    loss = lambda p: np.sum(integrate.odeint(field, y0, ts, (p,), rtol=1e-10, atol=1e-10) ** 2)
    g = grad(loss)(params)
    assert isinstance(g, list) and isinstance(g[0], tuple) and g[1][0].shape == (3, 2)
    for layer, which in [(0, 0), (1, 1)]:
        def part(v, layer=layer, which=which):
            p = [list(pair) for pair in params]
            p[layer][which] = v
            return [tuple(pair) for pair in p]
        want = numeric_grad(lambda v: loss(part(v)), params[layer][which], h=1e-5)
        onp.testing.assert_allclose(g[layer][which], want, atol=1e-6, rtol=1e-5)


_S = onp.array([[3.0, 0.4, 0.1], [0.4, 2.0, 0.3], [0.1, 0.3, 1.5]])
_X4 = onp.array([0.3, -1.1, 0.8, 1.6])
FWD_CASES = {
    "convolve": (lambda a, b: signal.convolve(a, b), (RNG.standard_normal((3, 4)),
                                                      RNG.standard_normal((2, 2)))),
    "solve_triangular": (lambda a, b: linalg.solve_triangular(a, b, lower=True),
                         (onp.tril(_S), _X4[:3])),
    "norm.logpdf": (lambda x, s: norm.logpdf(x, 0.3, s), (_X4, 1.3)),
    "norm.logcdf": (norm.logcdf, (_X4,)),
    "t.logpdf": (lambda x, d: t.logpdf(x, d, 0.3, 1.2), (_X4, 3.3)),
    "mvn.logpdf": (lambda x, m: multivariate_normal.logpdf(x, m, _S),
                   (RNG.standard_normal((5, 3)), _X4[:3])),
    "dirichlet.logpdf": (lambda a: dirichlet.logpdf(onp.array([0.2, 0.3, 0.5]), a),
                         (onp.array([1.5, 2.0, 3.0]),)),
    "gamma.logpdf": (gamma.logpdf, (onp.abs(_X4) + 0.5, 2.5)),
    "jn": (lambda x: special.jn(2, x), (_X4,)),
    "betainc": (lambda x: special.betainc(2.0, 3.0, x), (onp.array([0.2, 0.6]),)),
}


@pytest.mark.parametrize("name", sorted(FWD_CASES))
def test_forward_mode_and_second_order(name):
    f, args = FWD_CASES[name]
    check_grads(f, modes=["fwd", "rev"], order=2)(*args)


def test_gaussian_process_program_runs_unchanged():
    # a HIPS-style program: kernel hyperparameters by value_and_grad + scipy.optimize
    from scipy.optimize import minimize

    import autograd.numpy.random as npr
    import autograd.scipy.stats.multivariate_normal as mvn
    from autograd import value_and_grad

    def kernel(params, x, xp):
        scale, lengths = np.exp(params[0]), np.exp(params[1:])
        d = np.expand_dims(x / lengths, 1) - np.expand_dims(xp / lengths, 0)
        return scale * np.exp(-0.5 * np.sum(d ** 2, axis=2))

    def neg_log_marginal(params, x, y):
        noise = np.exp(params[1]) + 1e-4
        cov = kernel(params[2:], x, x) + noise * np.eye(len(y))
        return -mvn.logpdf(y, params[0] * np.ones(len(y)), cov)

    rs = npr.RandomState(0)
    x = np.linspace(-2, 2, 12).reshape(12, 1)
    y = np.cos(2 * x[:, 0]) + 0.1 * rs.randn(12)
    start = 0.1 * rs.randn(4)
    v, g = value_and_grad(neg_log_marginal)(start, x, y)
    onp.testing.assert_allclose(g, numeric_grad(lambda p: neg_log_marginal(p, x, y), start),
                                rtol=1e-5, atol=1e-6)
    res = minimize(value_and_grad(lambda p: neg_log_marginal(p, x, y)), start, jac=True,
                   method="CG", options=dict(maxiter=15))
    assert res.fun < v
