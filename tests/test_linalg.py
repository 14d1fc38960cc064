"""numpy.linalg and matrix products: gradients against closed forms written here."""
import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad

LA = np.linalg
rng = np.random.default_rng(0)
A = rng.standard_normal((4, 4)) + 4 * np.eye(4)
W = rng.standard_normal((4, 4))
SPD = (lambda m: m @ m.T + 4 * np.eye(4))(rng.standard_normal((4, 4)))
SYMW = W + W.T


def g_of(f, x):
    return grad(f)(x)


def test_det_and_slogdet():
    np.testing.assert_allclose(g_of(LA.det, A), LA.det(A) * LA.inv(A).T, rtol=1e-10)
    neg = A.copy()
    neg[0] *= -1                                       # negative determinant
    assert LA.det(neg) < 0
    np.testing.assert_allclose(g_of(lambda a: LA.slogdet(a)[1], neg), LA.inv(neg).T, rtol=1e-10)
    sign, logdet = LA.slogdet(Param(neg))               # outside diff: plain values
    assert sign == -1 and np.isclose(logdet, np.log(-LA.det(neg)))
    batch = np.stack([A, 2 * A])
    np.testing.assert_allclose(g_of(lambda a: np.sum(LA.det(a)), batch),
                               LA.det(batch)[:, None, None] * np.swapaxes(LA.inv(batch), 1, 2))


def test_inv_and_solve():
    Ai = LA.inv(A)
    np.testing.assert_allclose(g_of(lambda a: np.sum(LA.inv(a) * W), A), -Ai.T @ W @ Ai.T,
                               atol=1e-12)
    b = rng.standard_normal(4)
    x = LA.solve(A, b)
    lam = LA.solve(A.T, W[0])                         # adjoint solve
    ga, gb = grad(lambda a, bb: np.sum(LA.solve(a, bb) * W[0]), argnum=(0, 1))(A, b)
    np.testing.assert_allclose(gb, lam, atol=1e-12)
    np.testing.assert_allclose(ga, -np.outer(lam, x), atol=1e-12)
    B = rng.standard_normal((4, 3))
    ga = grad(lambda a: np.sum(LA.solve(a, B) * W[:, :3]))(A)
    np.testing.assert_allclose(ga, -LA.solve(A.T, W[:, :3]) @ LA.solve(A, B).T, atol=1e-12)


def test_pinv_matches_the_normal_equations_formula():
    M = rng.standard_normal((5, 3))
    via_normal = lambda m: np.sum(LA.inv(m.T @ m) @ m.T * W[:3, :1])     # noqa: E731
    np.testing.assert_allclose(g_of(lambda m: np.sum(LA.pinv(m) * W[:3, :1]), M),
                               g_of(via_normal, M), atol=1e-10)


def test_cholesky_directional_derivative_along_symmetric_directions():
    L = LA.cholesky(SPD)
    np.testing.assert_allclose(L @ L.T, SPD, atol=1e-12)
    f = lambda a: np.sum(LA.cholesky(a) * W)           # noqa: E731
    G = g_of(f, SPD)
    np.testing.assert_allclose(G, G.T, atol=1e-12)    # symmetric convention
    E = rng.standard_normal((4, 4))
    E = E + E.T
    h = 1e-6
    numeric = (np.sum(LA.cholesky(SPD + h * E) * W) - np.sum(LA.cholesky(SPD - h * E) * W)) / (2 * h)
    assert np.sum(G * E) == pytest.approx(numeric, rel=1e-6)


def test_eigh_eigenvalue_gradient_is_v_vT():
    w, V = LA.eigh(SPD)
    for k in range(4):
        np.testing.assert_allclose(g_of(lambda a: LA.eigh(a)[0][k], SPD),
                                   np.outer(V[:, k], V[:, k]), atol=1e-10)
    # eigenvectors: directional derivative against finite differences (sign-fixed)
    f = lambda a: np.sum(LA.eigh(a)[1] ** 2 * W)       # noqa: E731
    E = SYMW
    h = 1e-6
    numeric = (f(SPD + h * E) - f(SPD - h * E)) / (2 * h)
    assert np.sum(g_of(f, SPD) * E) == pytest.approx(numeric, rel=1e-5)


def test_svd_singular_value_gradient_is_u_vT():
    M = rng.standard_normal((5, 3))
    U, s, Vt = LA.svd(M, full_matrices=False)
    for k in range(3):
        np.testing.assert_allclose(g_of(lambda m: LA.svd(m, compute_uv=False)[k], M),
                                   np.outer(U[:, k], Vt[k]), atol=1e-10)
    # reconstruction from the differentiable factors: d sum(U S Vt * W)/dM = W
    Wm = np.arange(15.0).reshape(5, 3)
    g = g_of(lambda m: np.sum((lambda u, s, vt: (u * s) @ vt)(*LA.svd(m, full_matrices=False)) * Wm), M)
    np.testing.assert_allclose(g, Wm, atol=1e-8)


@pytest.mark.parametrize("ord_, closed", [
    (None, lambda x: x / np.sqrt(np.sum(x * x))),
    (2, lambda x: x / np.sqrt(np.sum(x * x))),
    (1, np.sign),
    (np.inf, lambda x: np.sign(x) * (np.abs(x) == np.abs(x).max())),
    (-np.inf, lambda x: np.sign(x) * (np.abs(x) == np.abs(x).min())),
    (3, lambda x: np.sign(x) * x ** 2 / np.sum(np.abs(x) ** 3) ** (2 / 3)),
    (0, lambda x: np.zeros_like(x)),
])
def test_vector_norms(ord_, closed):
    x = np.array([0.5, -2.0, 1.25, -0.75])
    assert LA.norm(Param(x), ord_) == pytest.approx(LA.norm(x, ord_))
    np.testing.assert_allclose(g_of(lambda v: LA.norm(v, ord_), x), closed(x), atol=1e-12)


def test_matrix_norms():
    M = rng.standard_normal((3, 4))
    U, s, Vt = LA.svd(M, full_matrices=False)
    np.testing.assert_allclose(g_of(lambda m: LA.norm(m, "fro"), M), M / np.sqrt(np.sum(M * M)))
    np.testing.assert_allclose(g_of(lambda m: LA.norm(m, "nuc"), M), U @ Vt, atol=1e-10)
    np.testing.assert_allclose(g_of(lambda m: LA.norm(m, 2), M), np.outer(U[:, 0], Vt[0]),
                               atol=1e-10)
    col = np.argmax(np.abs(M).sum(axis=0))
    expected = np.zeros_like(M)
    expected[:, col] = np.sign(M[:, col])
    np.testing.assert_allclose(g_of(lambda m: LA.norm(m, 1), M), expected)
    row = np.argmax(np.abs(M).sum(axis=1))
    expected = np.zeros_like(M)
    expected[row] = np.sign(M[row])
    np.testing.assert_allclose(g_of(lambda m: LA.norm(m, np.inf), M), expected)
    for ord_ in (None, "fro", 1, -1, 2, -2, "nuc", np.inf, -np.inf):
        assert LA.norm(Param(M), ord_) == pytest.approx(LA.norm(M, ord_))
        assert float(value_of(lambda: LA.norm(Param(M), ord_))) == pytest.approx(LA.norm(M, ord_))


def value_of(f):
    return diff(lambda: f()).value


def test_norm_axis_and_keepdims_match_numpy():
    X = rng.standard_normal((2, 3, 4))
    for kw in [dict(axis=1), dict(axis=-1, ord=1), dict(axis=(0, 2)), dict(axis=(2, 1), ord=1),
               dict(axis=0, keepdims=True), dict(axis=(0, 1), ord="nuc", keepdims=True)]:
        p = Param(X)
        out = []
        diff(lambda: (out.append(LA.norm(p, **kw)), np.sum(out[-1]))[1])
        np.testing.assert_allclose(out[0].value, LA.norm(X, **kw), err_msg=str(kw))
    np.testing.assert_allclose(g_of(lambda x: np.sum(LA.norm(x, axis=2)), X),
                               X / LA.norm(X, axis=2, keepdims=True))


def test_trace_diag_triangles():
    np.testing.assert_array_equal(g_of(np.trace, A), np.eye(4))
    np.testing.assert_array_equal(g_of(lambda a: np.trace(a, 1), A), np.eye(4, k=1))
    np.testing.assert_array_equal(g_of(lambda a: np.sum(np.diag(a) * np.arange(4.0)), A),
                                  np.diag(np.arange(4.0)))
    v = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(g_of(lambda x: np.sum(np.diag(x, -1) * W), v), np.diag(W, -1))
    np.testing.assert_array_equal(g_of(lambda a: np.sum(np.triu(a, 1) * W), A), np.triu(W, 1))
    np.testing.assert_array_equal(g_of(lambda a: np.sum(np.tril(a) * W), A), np.tril(W))


def test_products_match_explicit_sums():
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    # d/da sum(kron(a, b) * K) = sum over the blocks of K weighted by b
    K = rng.standard_normal((6, 6))
    expected = np.array([[np.sum(K[i * 3:(i + 1) * 3, j * 2:(j + 1) * 2] * b) for j in range(3)]
                         for i in range(2)])
    np.testing.assert_allclose(g_of(lambda x: np.sum(np.kron(x, b) * K), a), expected)
    x, y = rng.standard_normal(3), rng.standard_normal(5)
    np.testing.assert_allclose(g_of(lambda u: np.sum(np.outer(u, y)), x), np.full(3, y.sum()))
    np.testing.assert_allclose(g_of(lambda u: np.vdot(u, a.T), a), np.reshape(np.ravel(a.T), a.shape))
    T = rng.standard_normal((3, 4, 5))
    ga = grad(lambda t: np.sum(np.tensordot(t, a, axes=([0], [1])) * 1.0))(T)
    np.testing.assert_allclose(ga, np.broadcast_to(a.sum(axis=0)[:, None, None], T.shape))


def test_einsum_gradients_match_hand_written_ones():
    X, Y = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    G = rng.standard_normal((3, 5))
    gx, gy = grad(lambda x, y: np.sum(np.einsum("ij,jk->ik", x, y) * G), argnum=(0, 1))(X, Y)
    np.testing.assert_allclose(gx, G @ Y.T)
    np.testing.assert_allclose(gy, X.T @ G)
    np.testing.assert_allclose(g_of(lambda a: np.einsum("ii", a), A), np.eye(4))
    np.testing.assert_allclose(g_of(lambda a: np.sum(np.einsum("ii->i", a) * np.arange(4.0)), A),
                               np.diag(np.arange(4.0)))
    # batched with broadcasting over the ellipsis: gradients summed back
    B1, B2 = rng.standard_normal((1, 3, 4)), rng.standard_normal((2, 4, 2))
    g1 = g_of(lambda b: np.sum(np.einsum("...ij,...jk->...ik", b, B2)), B1)
    np.testing.assert_allclose(g1, np.sum(np.ones((2, 3, 2)) @ np.swapaxes(B2, 1, 2), axis=0,
                                          keepdims=True))


def test_matrix_power_and_multi_dot():
    M = A / 4
    np.testing.assert_allclose(LA.matrix_power(Param(M), 3), M @ M @ M)
    g = g_of(lambda m: np.sum(LA.matrix_power(m, 2) * W), M)
    np.testing.assert_allclose(g, W @ M.T + M.T @ W)
    g = g_of(lambda m: np.sum(LA.multi_dot([m, W, m])), M)
    one = np.ones((4, 4))
    np.testing.assert_allclose(g, one @ (W @ M).T + (M @ W).T @ one)


def test_linalg_gradients_pass_gcheck_on_batches():
    B = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    assert gcheck(lambda b: LA.inv(b) @ b @ b, Param(B))
    assert gcheck(lambda b: LA.slogdet(b)[1] * LA.det(b), Param(B))
    assert gcheck(lambda b: LA.eigvalsh(b + np.swapaxes(b, 1, 2)) ** 2, Param(B))
