"""Multivariate normal distribution: logpdf, pdf and entropy differentiable in
x, mean and cov (through numpy.linalg's gradients).

As in scipy, the last axis of x holds the dimensions; ``mean`` defaults to
zeros and ``cov`` may be a scalar (times the identity), a vector (the
diagonal) or a matrix.  With ``allow_singular=True`` a singular covariance
uses its pseudo-inverse and pseudo-determinant.

>>> import numpy as np
>>> round(float(logpdf(np.zeros(2), np.zeros(2), np.eye(2))), 6)
-1.837877
"""
import numpy as np

from ... import rules as _rules  # noqa: F401  (registers the gradients)
from ._common import LOG_2PI, raw

__all__ = ["logpdf", "pdf", "entropy"]


def _cov_matrix(cov, dim):
    c = raw(cov)
    if np.ndim(c) == 0:
        return cov * np.eye(dim)
    if np.ndim(c) == 1:
        if np.shape(c)[0] != dim:
            raise ValueError(f"multivariate_normal: cov has {np.shape(c)[0]} entries, "
                             f"expected {dim}")
        return np.eye(dim) * cov
    if np.shape(c) != (dim, dim):
        raise ValueError(f"multivariate_normal: cov must have shape {(dim, dim)}, "
                         f"got {np.shape(c)}")
    return cov


def _dimension(mean, cov):
    """scipy's rule: the size of mean, else the size of a matrix (or vector) cov, else 1."""
    if mean is not None:
        return int(np.size(raw(mean)))
    c = raw(cov)
    return int(np.shape(c)[0]) if np.ndim(c) >= 1 else 1


def _precision_and_logdet(cov, allow_singular):
    """(solve(d) function, log-determinant, rank) of the covariance."""
    if not allow_singular:
        sign, logdet = np.linalg.slogdet(cov)
        if raw(sign) <= 0:
            raise np.linalg.LinAlgError("multivariate_normal: the covariance is not positive "
                                        "definite (pass allow_singular=True for a singular one)")
        return (lambda d: np.transpose(np.linalg.solve(cov, np.transpose(d)))), logdet, None, None
    s, u = np.linalg.eigh(cov)
    sr = raw(s)
    eps = 1e6 * np.finfo(float).eps * np.max(np.abs(sr))
    if np.min(sr) < -eps:
        raise ValueError("multivariate_normal: the covariance must be positive semi-definite")
    keep = sr > eps
    s_kept = np.where(keep, s, 1.0)
    inv_s = np.where(keep, 1.0 / s_kept, 0.0)
    logdet = np.sum(np.where(keep, np.log(s_kept), 0.0))
    pinv = np.matmul(u * inv_s, np.transpose(u))
    null = np.asarray(raw(u))[:, ~keep]
    return (lambda d: np.matmul(d, pinv)), logdet, int(np.sum(keep)), null


def logpdf(x, mean=None, cov=1, allow_singular=False):
    """logpdf(x, mean=None, cov=1, allow_singular=False): log density at x
    (shape (..., d)); returns shape x.shape[:-1] (a scalar for one point).

    >>> round(float(logpdf(np.ones(2), np.zeros(2), 2.0)), 6)
    -3.031024
    """
    dim = _dimension(mean, cov)
    x = np.reshape(x, (1,)) if np.ndim(raw(x)) == 0 and dim == 1 else x
    if dim == 1 and np.shape(raw(x))[-1] != 1:
        x = np.expand_dims(x, -1)        # scipy reads a vector as points of dimension 1
    d = x if mean is None else x - mean
    solve, logdet, rank, null = _precision_and_logdet(_cov_matrix(cov, dim), allow_singular)
    rank = dim if rank is None else rank
    maha = np.sum(d * solve(d), axis=-1)
    out = -0.5 * (rank * LOG_2PI + logdet + maha)
    if null is not None and null.shape[1]:
        # points off the support of a singular normal have density 0 (as scipy)
        dr = np.asarray(raw(d))
        off = np.any(np.abs(dr @ null) > 1e-8 * max(1.0, float(np.max(np.abs(dr)))), axis=-1)
        if np.any(off):
            out = np.where(off, -np.inf, out)
    return out[()] if np.ndim(raw(out)) == 0 else (out[0] if np.shape(raw(out)) == (1,) else out)


def pdf(x, mean=None, cov=1, allow_singular=False):
    """pdf(x, mean=None, cov=1, allow_singular=False): density at x.

    >>> round(float(pdf(np.zeros(2), cov=np.eye(2))), 6)
    0.159155
    """
    return np.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean=None, cov=1):
    """entropy(mean=None, cov=1): differential entropy 0.5 log det(2 pi e cov).

    >>> round(float(entropy(np.zeros(2), np.eye(2))), 6)
    2.837877
    """
    dim = _dimension(mean, cov)
    sign, logdet = np.linalg.slogdet(_cov_matrix(cov, dim))
    return 0.5 * (dim * (1 + LOG_2PI) + logdet)
