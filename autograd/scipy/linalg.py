"""autograd.scipy.linalg: scipy.linalg with gradients where HIPS has them (and more).

Differentiable: ``solve_triangular``, ``sqrtm``, ``solve_sylvester``,
``expm``, ``cholesky``, ``cho_factor``/``cho_solve`` and, through
numpy.linalg's gradients, ``inv``, ``det``, ``solve``, ``eigh`` (standard
problem), ``svd`` and ``norm``.  Every other scipy.linalg function is
available and raises a clear error when given a value being differentiated.

>>> import numpy as np
>>> from autograd import grad
>>> a = np.array([[2.0, 0.0], [1.0, 3.0]])
>>> grad(lambda b: np.sum(solve_triangular(a, b, lower=True)))(np.ones(2)).round(4)
array([0.3333, 0.3333])
"""
import numpy as np
import scipy.linalg as _sl

from .. import rules as _rules  # noqa: F401  (registers the gradients)
from ..rules.common import is_complex as _is_complex, match as _match
from ..core import Primitive, _raw
from ..rules.products import _T
from ..util import forward_getattr
from ._wrap import reexport

__all__ = ["solve_triangular", "sqrtm", "solve_sylvester", "expm", "cholesky", "cho_factor",
           "cho_solve", "inv", "det", "solve", "eigh", "svd", "norm"]


# ------------------------------------------------------------ solve_triangular
def _trans_code(trans):
    codes = {0: 0, "N": 0, 1: 1, "T": 1, 2: 2, "C": 2}
    if trans not in codes:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    return codes[trans]


def _st(a, b, trans=0, lower=False, unit_diagonal=False):
    return _sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


def _st_grad_b(dy, x, a, b, trans=0, lower=False, unit_diagonal=False):
    return _st_prim(a, dy, trans=1 - trans, lower=lower, unit_diagonal=unit_diagonal)


def _st_grad_a(dy, x, a, b, trans=0, lower=False, unit_diagonal=False):
    if np.ndim(_raw(a)) != 2:
        raise NotImplementedError("solve_triangular: the gradient with respect to a needs a "
                                  "single (2-D) matrix")
    gb = _st_prim(a, dy, trans=1 - trans, lower=lower, unit_diagonal=unit_diagonal)
    if np.ndim(_raw(b)) == 1:
        gb, x = np.expand_dims(gb, -1), np.expand_dims(x, -1)
    ga = -np.matmul(gb, _T(x)) if trans == 0 else -np.matmul(x, _T(gb))
    k = 1 if unit_diagonal else 0
    return np.tril(ga, -k) if lower else np.triu(ga, k)


_st_prim = Primitive(_st, (_st_grad_a, _st_grad_b))


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False): x with
    op(a) x = b for triangular a (op: none, transpose or conjugate transpose),
    differentiable in a (within its triangle) and b.

    >>> solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 2.0]), lower=True)
    array([1., 1.])
    """
    t = _trans_code(trans)
    if t == 2:
        if _is_complex(a):
            a = np.conj(a)
        t = 1
    return _st_prim(a, b, trans=t, lower=bool(lower), unit_diagonal=bool(unit_diagonal))


# ------------------------------------------------------------ Sylvester, sqrtm, expm
def _sylvester(a, b, q):
    return _sl.solve_sylvester(a, b, q)


def _syl_q(dy, x, a, b, q):
    return _syl_prim(_T(a), _T(b), dy)


_syl_prim = Primitive(_sylvester, (
    lambda dy, x, a, b, q: -np.matmul(_syl_q(dy, x, a, b, q), _T(x)),
    lambda dy, x, a, b, q: -np.matmul(_T(x), _syl_q(dy, x, a, b, q)),
    _syl_q))


def solve_sylvester(a, b, q):
    """solve_sylvester(a, b, q): X with a X + X b = q, differentiable in a, b and q.

    >>> solve_sylvester(np.eye(2), np.eye(2), 2 * np.eye(2))
    array([[1., 0.],
           [0., 1.]])
    """
    return _syl_prim(a, b, q)


def _sqrtm(A):
    return _sl.sqrtm(A)


def _sqrtm_grad(dy, y, A):
    # y y = A, so dA = y dy' + dy' y; the gradient solves y^T G + G y^T = dy
    yt = _T(y)
    return _match(A, _syl_prim(yt, yt, dy))


_sqrtm_prim = Primitive(_sqrtm, (_sqrtm_grad,))


def sqrtm(A, disp=True, blocksize=64):
    """sqrtm(A): the principal matrix square root, differentiable in A.

    >>> sqrtm(np.diag([4.0, 9.0]))
    array([[2., 0.],
           [0., 3.]])
    """
    if np.ndim(_raw(A)) != 2:
        raise ValueError(f"sqrtm: A must be a square matrix, got shape {np.shape(_raw(A))}")
    return _sqrtm_prim(A)


def _expm(A):
    return _sl.expm(A)


def _expm_grad(dy, y, A):
    # the Frechet derivative in direction dy is the top-right block of
    # expm([[A^T, dy], [0, A^T]]) (for the transpose, which the VJP needs)
    at = _T(A)
    zeros = np.zeros(np.shape(_raw(at)), np.result_type(_raw(at), _raw(dy)))
    top = np.concatenate([at, dy], axis=-1)
    bottom = np.concatenate([zeros, at], axis=-1)
    big = _expm_prim(np.concatenate([top, bottom], axis=-2))
    n = np.shape(_raw(A))[-1]
    return _match(A, big[..., :n, n:])


_expm_prim = Primitive(_expm, (_expm_grad,))


def expm(A):
    """expm(A): the matrix exponential (of the last two axes), differentiable in A.

    >>> expm(np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    return _expm_prim(A)


# ------------------------------------------------------------ Cholesky
def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """cholesky(a, lower=False): the Cholesky factor (upper by default, as scipy),
    differentiable through numpy.linalg.cholesky.

    >>> cholesky(np.array([[4.0, 2.0], [2.0, 2.0]]))
    array([[2., 1.],
           [0., 1.]])
    """
    L = np.linalg.cholesky(a)
    return L if lower else np.conj(_T(L))


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """cho_factor(a, lower=False) -> (c, lower): the factor for cho_solve (the
    other triangle of c holds zeros).

    >>> cho_factor(np.eye(2))[1]
    False
    """
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """cho_solve((c, lower), b): x with a x = b from the Cholesky factor c of a,
    differentiable in c and b.

    >>> c = cho_factor(np.array([[4.0, 2.0], [2.0, 2.0]]))
    >>> cho_solve(c, np.array([6.0, 4.0]))
    array([1., 1.])
    """
    c, lower = c_and_lower
    if lower:
        return solve_triangular(c, solve_triangular(c, b, lower=True), trans="C", lower=True)
    return solve_triangular(c, solve_triangular(c, b, trans="C", lower=False), lower=False)


# ------------------------------------------------------------ through numpy.linalg
def inv(a, overwrite_a=False, check_finite=True, **kw):
    """inv(a): the matrix inverse (numpy.linalg.inv's gradient).

    >>> inv(2 * np.eye(2))
    array([[0.5, 0. ],
           [0. , 0.5]])
    """
    return np.linalg.inv(a)


def det(a, overwrite_a=False, check_finite=True):
    """det(a): the determinant (numpy.linalg.det's gradient).

    >>> float(det(2 * np.eye(2)))
    4.0
    """
    return np.linalg.det(a)


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """solve(a, b, assume_a=None, transposed=False): x with a x = b (or a^T x = b),
    for any ``assume_a`` structure (solved as a general matrix).

    >>> solve(2 * np.eye(2), np.ones(2))
    array([0.5, 0.5])
    """
    return np.linalg.solve(_T(a) if transposed else a, b)


def eigh(a, b=None, *, lower=True, eigvals_only=False, **kw):
    """eigh(a, lower=True, eigvals_only=False): eigenvalues (and eigenvectors) of
    a Hermitian matrix; the generalized problem (b) and subsets are not
    differentiable.

    >>> eigh(np.diag([2.0, 1.0]), eigvals_only=True)
    array([1., 2.])
    """
    if b is not None or any(kw.get(k) is not None for k in ("subset_by_index", "subset_by_value")):
        raise NotImplementedError("eigh: only the standard problem without subsets is "
                                  "differentiable; call scipy.linalg.eigh on plain arrays")
    uplo = "L" if lower else "U"
    if eigvals_only:
        return np.linalg.eigvalsh(a, UPLO=uplo)
    return np.linalg.eigh(a, UPLO=uplo)


def svd(a, full_matrices=True, compute_uv=True, **kw):
    """svd(a, full_matrices=True, compute_uv=True): singular value decomposition.

    >>> svd(np.diag([3.0, 2.0]), compute_uv=False)
    array([3., 2.])
    """
    return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)


def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    """norm(a, ord=None, axis=None, keepdims=False): matrix or vector norm.

    >>> float(norm(np.array([3.0, 4.0])))
    5.0
    """
    return np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims)


reexport(_sl, "scipy.linalg", globals())


__getattr__ = forward_getattr(_sl, __name__)  # every other name of scipy.linalg


def _banded_to_dense(l_and_u, ab):
    """The (n, n) matrix whose band (l lower, u upper diagonals) is stored in
    ab's rows as scipy's solve_banded reads it: a[i, j] = ab[u + i - j, j]."""
    lower, upper = l_and_u
    n = np.shape(_raw(ab))[-1]
    bands = []
    for r in range(lower + upper + 1):
        k = upper - r                                  # diagonal offset of row r
        bands.append(np.diag(ab[r, k:] if k >= 0 else ab[r, :n + k], k))
    return sum(bands[1:], bands[0])


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """solve_banded((l, u), ab, b): scipy's banded solve, differentiable in ``ab``
    and ``b`` (HIPS test_scipy.py::test_solve_banded): with recorded arguments it
    solves the dense matrix built from the band (scipy's solver otherwise).

    >>> ab = np.array([[0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0, 0.0]])
    >>> solve_banded((1, 1), ab, np.array([5.0, 6.0, 5.0]))
    array([1., 1., 1.])
    """
    from ._wrap import _recorded
    if not (_recorded(ab) or _recorded(b)):
        return _sl.solve_banded(l_and_u, _raw(ab), _raw(b), overwrite_ab=overwrite_ab,
                                overwrite_b=overwrite_b, check_finite=check_finite)
    return np.linalg.solve(_banded_to_dense(l_and_u, ab), b)

