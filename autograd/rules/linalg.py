"""Gradients of numpy.linalg (real matrices, stacked over leading axes).

Every gradient is written with registered numpy functions (``inv``, ``solve``,
``matmul``, ``eigh`` ...), so it is recorded again when differentiated a
second time.  ``cholesky`` reads one triangle of a symmetric input and returns
the symmetrized gradient (differentiate a function of ``a + a.T`` to check it
numerically).  ``eigh`` and ``eigvalsh`` (real or complex) do the same for an
exactly symmetric (Hermitian) input; any other input gets the gradient on the
``UPLO`` triangle they read, as in HIPS autograd.
"""
import numpy as np

from ..core import Primitive, _raw
from ..registry import register, register_each, zerograd
from ..registry import defgrad
from .common import _shape
from .composites import outer, tensordot
from .products import _T as _mT, _matmul
from .shapes import diagonal, trace

LA = np.linalg


def named_result(kind, *parts):
    """parts as numpy's named result tuple ``kind`` (numpy >= 2, e.g. EighResult),
    a plain tuple where numpy has none."""
    cls = getattr(getattr(np.linalg, "_linalg", None), kind, None)
    return cls(*parts) if cls is not None else parts


def _scalar_to_matrix(dy):
    """dy of a (stack of) scalars, ready to scale (stacks of) matrices."""
    return np.expand_dims(np.expand_dims(dy, -1), -1)


def _sym(g):
    return 0.5 * (g + _mT(g))


def _eye_like(a):
    n = _shape(a)[-1]
    return np.eye(n)


# ------------------------------------------------------------ det, slogdet, inv, solve
defgrad(LA.det, lambda dy, y, a: _scalar_to_matrix(dy * y) * _mT(LA.inv(a)))
defgrad(LA.inv, lambda dy, y, a: -_matmul(_mT(y), _matmul(dy, _mT(y))))


def _logabsdet(a):
    return np.linalg.slogdet(a)[1]


_logabsdet_prim = Primitive(_logabsdet, (lambda dy, y, a: _scalar_to_matrix(dy) * _mT(LA.inv(a)),))


def slogdet(a):
    """np.linalg.slogdet on recorded values: (sign, plain; logabsdet, recorded)."""
    sign = np.linalg.slogdet(_raw(a))[0]
    return named_result("SlogdetResult", sign, _logabsdet_prim(a))


def _is_vector_rhs(a, b):
    # numpy >= 2: b is a vector only when it is 1-D
    return np.ndim(_raw(b)) == 1


def _solve_ga(dy, y, a, b):
    gb = _solve_gb(dy, y, a, b)
    if _is_vector_rhs(a, b):
        return -np.expand_dims(gb, -1) * np.expand_dims(y, -2)
    return -_matmul(gb, _mT(y))


def _solve_gb(dy, y, a, b):
    return LA.solve(_mT(a), dy)


defgrad(LA.solve, _solve_ga, _solve_gb)


def _pinv_grad(dy, y, a, rcond=None, hermitian=False, **kw):
    # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, transposed
    p, pt, gt = y, _mT(y), _mT(dy)
    m, n = _shape(a)[-2], _shape(a)[-1]
    left = np.eye(m) - _matmul(a, p)
    right = np.eye(n) - _matmul(p, a)
    return (-_matmul(pt, _matmul(dy, pt)) + _matmul(left, _matmul(gt, _matmul(p, pt)))
            + _matmul(_matmul(pt, p), _matmul(gt, right)))


defgrad(LA.pinv, _pinv_grad)


def matrix_power(a, n):
    """np.linalg.matrix_power on recorded values (repeated squaring, inv for n < 0)."""
    n = int(n)
    if n < 0:
        a, n = LA.inv(a), -n
    if n == 0:
        return np.broadcast_to(_eye_like(a), _shape(a)) + 0.0 * a
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else _matmul(result, base)
        n >>= 1
        if n:
            base = _matmul(base, base)
    return result


def multi_dot(arrays, *, out=None):
    """np.linalg.multi_dot on recorded values (left to right)."""
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("multi_dot: needs at least two arrays")
    result = arrays[0]
    for b in arrays[1:]:
        result = np.dot(result, b)
    return result


# ------------------------------------------------------------ cholesky
def _cholesky_grad(dy, y, a, upper=False):
    # Murray (2016): dA = L^-T Phi(L^T dL) L^-1, Phi = lower triangle with halved diagonal
    if upper:
        dy, y = _mT(dy), _mT(y)
    phi = np.tril(_matmul(_mT(y), dy))
    phi = phi - 0.5 * phi * _eye_like(y)
    linv = LA.inv(y)
    return _sym(_matmul(_mT(linv), _matmul(phi, linv)))


defgrad(LA.cholesky, _cholesky_grad)


# ------------------------------------------------------------ eigh, eig, svd
def _H(a):
    return np.conj(_mT(a))


def _eigh_w(a, UPLO="L"):
    return np.linalg.eigh(a, UPLO)[0]


def _eigh_v(a, UPLO="L"):
    return np.linalg.eigh(a, UPLO)[1]


def _one_triangle(g, a, UPLO):
    """g, the gradient for a symmetric (Hermitian) input, as the gradient of the
    UPLO triangle that eigh reads when ``a`` is not exactly symmetric."""
    if np.array_equal(_raw(a), np.conj(np.swapaxes(_raw(a), -1, -2))):
        return g
    n = _shape(g)[-1]
    tri = np.tril(np.ones((n, n)), -1) if UPLO == "L" else np.triu(np.ones((n, n)), 1)
    return np.real(g) * np.eye(n) + (g + _H(g)) * tri


def _eigh_w_grad(dy, y, a, UPLO="L"):
    # conj(V diag(dy) V^H) (Murray 2016, with HIPS's conjugate convention for complex a)
    v = _eigh_v_prim(a, UPLO)
    dy = np.real(dy) if np.iscomplexobj(_raw(dy)) else dy
    return _one_triangle(np.conj(_matmul(v * np.expand_dims(dy, -2), _H(v))), a, UPLO)


def _eigh_v_grad(dy, v, a, UPLO="L"):
    # conj(V (F o skew(V^H conj(dV))) V^H), F_ij = 1 / (w_j - w_i) off the diagonal
    w = _eigh_w_prim(a, UPLO)
    eye = _eye_like(a)
    vhg = _matmul(_H(v), np.conj(dy))
    f = (1 - eye) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye)
    inner = 0.5 * (vhg - _H(vhg)) * f
    return _one_triangle(np.conj(_matmul(v, _matmul(inner, _H(v)))), a, UPLO)


_eigh_w_prim = Primitive(_eigh_w, (_eigh_w_grad,))
_eigh_v_prim = Primitive(_eigh_v, (_eigh_v_grad,))


def eigh(a, UPLO="L"):
    """np.linalg.eigh on recorded values: (eigenvalues, eigenvectors), both recorded,
    real or complex Hermitian.  Eigenvector gradients assume distinct eigenvalues
    (and a loss that does not depend on each eigenvector's phase)."""
    w, v = _eigh_w_prim(a, UPLO), _eigh_v_prim(a, UPLO)
    return named_result("EighResult", w, v)


def eigvalsh(a, UPLO="L"):
    """np.linalg.eigvalsh(a, UPLO="L") on recorded values; the gradient of
    eigenvalue k is v_k v_k^T.

    >>> from autograd import grad
    >>> grad(lambda a: np.linalg.eigvalsh(a)[1])(np.diag([1., 2.]))
    array([[0., 0.],
           [0., 1.]])"""
    return _eigh_w_prim(a, UPLO)


# eig of a general (real or complex) matrix, HIPS's rule split per output:
# dA = inv(U^T) X U^T with X = diag(dw) for eigenvalues, F o (U^T dU) - F o (U^T conj(U)
# Re(diag(U^T dU))) for eigenvectors; the real part for real a
def _eig_w(a):
    return LA.eig(a)[0]


def _eig_v(a):
    return LA.eig(a)[1]


def _eig_back(a, inner):
    ut = _mT(_eig_v_prim(a))
    r = _matmul(_matmul(LA.inv(ut), inner), ut)
    return r if np.iscomplexobj(_raw(a)) else np.real(r)


def _eig_w_grad(dy, w, a):
    return _eig_back(a, np.expand_dims(dy, -2) * _eye_like(a))


def _eig_v_grad(dy, u, a):
    w, eye = _eig_w_prim(a), _eye_like(a)
    f = (1 - eye) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye)
    utg = _matmul(_mT(u), dy)
    return _eig_back(a, f * utg - f * _matmul(_matmul(_mT(u), np.conj(u)), np.real(utg) * eye))


_eig_w_prim = Primitive(_eig_w, (_eig_w_grad,))
_eig_v_prim = Primitive(_eig_v, (_eig_v_grad,))


def eig(a):
    """np.linalg.eig on recorded values: (eigenvalues, eigenvectors), both recorded;
    needs distinct eigenvalues.

    >>> from autograd import grad
    >>> grad(lambda a: np.real(np.linalg.eig(a)[0][0]))(np.array([[2., 0.], [0., 1.]]))
    array([[1., 0.],
           [0., 0.]])"""
    return named_result("EigResult", _eig_w_prim(a), _eig_v_prim(a))


def eigvals(a):
    """np.linalg.eigvals(a) on recorded values (the eigenvalues of ``eig``)."""
    return _eig_w_prim(a)


def _svdvals(a):
    return np.linalg.svd(a, compute_uv=False)


def _svd_parts(a):
    return np.linalg.svd(a, full_matrices=False)


def _svdvals_grad(dy, y, a):
    u, _, vt = svd(a, full_matrices=False)
    return _matmul(u * np.expand_dims(dy, -2), vt)


_svdvals_prim = Primitive(_svdvals, (_svdvals_grad,))


def _svd_u(a):
    return _svd_parts(a)[0]


def _svd_vt(a):
    return _svd_parts(a)[2]


def _svd_uv_grad(which):
    """Gradient through U (which=0) or Vt (which=2) of the thin SVD, for distinct
    nonzero singular values (Townsend 2016, real case)."""
    def g(dy, y, a):
        u, s, vt = svd(a, full_matrices=False)
        v = _mT(vt)
        m, n = _shape(a)[-2], _shape(a)[-1]
        k = min(m, n)
        eye = np.eye(k)
        s2 = s * s
        gap = np.expand_dims(s2, -2) - np.expand_dims(s2, -1)
        f = (1 - eye) / (gap + eye)
        sm = np.expand_dims(s, -2)                 # scales columns by s
        if which == 0:
            du = dy
            j = f * _matmul(_mT(u), du)
            inner_ = _matmul(u, _matmul((j + _mT(j)) * sm, vt))
            extra = _matmul(np.eye(m) - _matmul(u, _mT(u)), _matmul(du / sm, vt))
            return inner_ + extra
        dv = _mT(dy)
        k_ = f * _matmul(_mT(v), dv)
        inner_ = _matmul(u, _matmul(np.expand_dims(s, -1) * (k_ + _mT(k_)), vt))
        extra = _matmul(_matmul(u, _mT(dv / sm)), np.eye(n) - _matmul(v, vt))
        return inner_ + extra
    return g


_svd_u_prim = Primitive(_svd_u, (_svd_uv_grad(0),))
_svd_vt_prim = Primitive(_svd_vt, (_svd_uv_grad(2),))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """np.linalg.svd on recorded values.  Differentiable for compute_uv=False
    (singular values) and for the thin factorization (full_matrices=False);
    singular vectors need distinct nonzero singular values."""
    if not compute_uv:
        return _svdvals_prim(a)
    m, n = _shape(a)[-2], _shape(a)[-1]
    if full_matrices and m != n:
        raise NotImplementedError("svd: the gradient of the full factorization of a "
                                  "non-square matrix is not defined; use full_matrices=False")
    return named_result("SVDResult", _svd_u_prim(a), _svdvals_prim(a), _svd_vt_prim(a))


def svdvals(x):
    """np.linalg.svdvals(x) on recorded values; the gradient of s_k is u_k v_k^T.

    >>> from autograd import grad
    >>> grad(lambda a: np.linalg.svdvals(a)[0])(np.diag([3., 1.]))
    array([[1., 0.],
           [0., 0.]])"""
    return _svdvals_prim(x)


# ------------------------------------------------------------ norms (composites)
def _reduce_abs(x, fn, axis, keepdims):
    return fn(np.abs(x), axis=axis, keepdims=keepdims)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return _reduce_abs(x, np.max, axis, keepdims)
    if ord == -np.inf:
        return _reduce_abs(x, np.min, axis, keepdims)
    if ord == 0:
        return np.sum(np.not_equal(_raw(x), 0), axis=axis, keepdims=keepdims).astype(float)
    if ord == 1:
        return _reduce_abs(x, np.sum, axis, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is only defined for matrices")
    return np.sum(np.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axis, keepdims):
    r, c = axis
    if ord is None or ord == "fro":
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        along, across = (r, c) if ord in (1, -1) else (c, r)
        pick = np.max if ord > 0 else np.min
        sums = np.sum(np.abs(x), axis=along, keepdims=True)
        out = pick(sums, axis=across, keepdims=True)
    elif ord in (2, -2, "nuc"):
        s = _svdvals_prim(np.moveaxis(x, (r, c), (-2, -1)))
        s = np.max(s, axis=-1) if ord == 2 else np.min(s, axis=-1) if ord == -2 \
            else np.sum(s, axis=-1)
        out = np.expand_dims(np.expand_dims(s, -1), -1)
        out = np.moveaxis(out, (-2, -1), (r, c))
    else:
        raise ValueError(f"norm: invalid ord={ord!r} for a matrix norm")
    return out if keepdims else np.squeeze(out, axis=(r, c))


def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm on recorded values, built from recorded reductions so it
    is differentiable to any order (where the norm is smooth)."""
    nd = np.ndim(_raw(x))
    if axis is None:
        if ord is None:
            out = np.sqrt(np.sum(x * x))
            return np.reshape(out, (1,) * nd) if keepdims else out
        if nd == 1:
            return _vector_norm(x, ord, 0, keepdims)
        if nd == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError("norm: ord= needs a 1-D or 2-D array, or axis=")
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        return _matrix_norm(x, ord, (axis[0] % nd, axis[1] % nd), keepdims)
    if isinstance(axis, (tuple, list)):
        if len(axis) != 1:
            raise ValueError(f"norm: axis must be an int or a pair, got {axis}")
        axis = axis[0]
    return _vector_norm(x, ord, axis % nd, keepdims)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """np.linalg.vector_norm(x, axis=None, keepdims=False, ord=2) on
    recorded values (axis may be a tuple: those axes are flattened together).

    >>> float(np.linalg.vector_norm(np.array([3., 4.])))
    5.0"""
    if axis is None:
        flat = _vector_norm(np.ravel(x), ord, 0, False)
        return np.reshape(flat, (1,) * np.ndim(_raw(x))) if keepdims else flat
    if isinstance(axis, tuple) and len(axis) > 1:
        nd = np.ndim(_raw(x))
        axes = tuple(a % nd for a in axis)
        rest = [i for i in range(nd) if i not in axes]
        moved = np.reshape(np.transpose(x, rest + list(axes)),
                           [_shape(x)[i] for i in rest] + [-1])
        out = _vector_norm(moved, ord, -1, False)
        if keepdims:
            out = np.reshape(out, [1 if i in axes else _shape(x)[i] for i in range(nd)])
        return out
    return _vector_norm(x, ord, axis if not isinstance(axis, tuple) else axis[0], keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """np.linalg.matrix_norm(x, keepdims=False, ord="fro") on recorded
    values, over the last two axes.

    >>> float(np.linalg.matrix_norm(np.eye(2), ord=1))
    1.0"""
    return _matrix_norm(x, ord, (np.ndim(_raw(x)) - 2, np.ndim(_raw(x)) - 1), keepdims)


# ------------------------------------------------------------ array-API spellings
def _la_trace(x, /, *, offset=0, dtype=None):
    return trace(x, offset, -2, -1)


def _la_diagonal(x, /, *, offset=0):
    return diagonal(x, offset, -2, -1)


def _la_tensordot(x1, x2, /, *, axes=2):
    return tensordot(x1, x2, axes)


register_each({
    LA.slogdet: slogdet, LA.eigh: eigh, LA.eigvalsh: eigvalsh, LA.eig: eig, LA.eigvals: eigvals,
    LA.svd: svd, LA.norm: norm,
    LA.matrix_power: matrix_power, LA.multi_dot: multi_dot,
    LA.matmul: _matmul, LA.outer: outer, LA.trace: _la_trace, LA.diagonal: _la_diagonal,
    LA.tensordot: _la_tensordot, LA.matrix_transpose: _mT,
})
if hasattr(LA, "svdvals"):
    register_each({LA.svdvals: svdvals, LA.vector_norm: vector_norm,
                      LA.matrix_norm: matrix_norm})
if hasattr(LA, "vecdot") and hasattr(np, "vecdot"):
    register(LA.vecdot, lambda x1, x2, /, *, axis=-1: np.vecdot(x1, x2, axis=axis))
for _f in (LA.matrix_rank, LA.cond):
    zerograd(_f)


# ------------------------------------------------------------ qr, lstsq
def _copyltu(m):
    """The symmetric matrix whose lower triangle is m's."""
    return np.tril(m) + _mT(np.tril(m, -1))


def _times_r_inv_t(b, r):
    """b @ inv(r).T, by a solve."""
    return _mT(LA.solve(r, _mT(b)))


def _qr_q(a):
    return np.linalg.qr(a)[0]


def _qr_r(a):
    return np.linalg.qr(a)[1]


def _qr_q_grad(dy, y, a):
    q, r = y, _qr_r_prim(a)
    m = -_matmul(_mT(dy), q)
    return _times_r_inv_t(dy + _matmul(q, _copyltu(m)), r)


def _qr_r_grad(dy, y, a):
    q, r = _qr_q_prim(a), y
    return _times_r_inv_t(_matmul(q, _copyltu(_matmul(r, _mT(dy)))), r)


_qr_q_prim = Primitive(_qr_q, (_qr_q_grad,))
_qr_r_prim = Primitive(_qr_r, (_qr_r_grad,))


def qr(a, mode="reduced"):
    """np.linalg.qr(a, mode="reduced") on recorded values, for matrices with at
    least as many rows as columns and full column rank (mode "r" gives R only).

    >>> q, r = np.linalg.qr(np.array([[3., 0.], [4., 1.]]))
    >>> bool(np.allclose(q @ r, [[3., 0.], [4., 1.]]))
    True
    """
    m, n = _shape(a)[-2], _shape(a)[-1]
    if m < n:
        raise NotImplementedError(f"qr: the gradient needs rows >= columns, got a {m}x{n} matrix")
    if mode == "r":
        return _qr_r_prim(a)
    if mode not in ("reduced", "complete"):
        raise NotImplementedError(f"qr: mode={mode!r} is not differentiable")
    if mode == "complete" and m != n:
        raise NotImplementedError("qr: mode='complete' of a tall matrix is not differentiable; "
                                  "use mode='reduced'")
    q, r = _qr_q_prim(a), _qr_r_prim(a)
    return named_result("QRResult", q, r)


def lstsq(a, b, rcond=None):
    """np.linalg.lstsq(a, b) on recorded values: (x, residuals, rank, singular
    values), with x = pinv(a) @ b (a of full rank).

    >>> x = np.linalg.lstsq(np.array([[1., 0.], [0., 1.], [1., 1.]]), np.array([1., 1., 2.]))[0]
    >>> bool(np.allclose(x, [1., 1.]))
    True
    """
    m, n = _shape(a)[-2], _shape(a)[-1]
    x = _matmul(LA.pinv(a), b)
    rank = np.linalg.matrix_rank(_raw(a))
    if rank == n and m > n:
        r = _matmul(a, x) - b
        res = np.sum(r * r, axis=0)
        if np.ndim(_raw(b)) == 1:
            res = np.reshape(res, (1,))
    else:
        res = np.zeros((0,))
    return x, res, rank, _svdvals_prim(a)


register_each({LA.qr: qr, LA.lstsq: lstsq})
