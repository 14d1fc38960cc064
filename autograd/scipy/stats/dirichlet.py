"""Dirichlet distribution: logpdf and pdf differentiable in x and alpha.

As in scipy, the components run along the first axis of x: x has shape
(K,) or (K, N) for N points, or K-1 rows with the last component implied.

>>> import numpy as np
>>> round(float(pdf(np.array([0.2, 0.3, 0.5]), np.ones(3))), 6)   # uniform: Gamma(3)
2.0
"""
import numpy as np
import scipy.special as sp

from ... import rules as _rules  # noqa: F401  (registers the gradients)
from ._common import raw

__all__ = ["logpdf", "pdf", "rvs"]


def _components(x, alpha):
    k = np.shape(raw(alpha))[-1] if np.ndim(raw(alpha)) else None
    if np.ndim(raw(alpha)) != 1:
        raise ValueError(f"dirichlet: alpha must be a vector, got shape {np.shape(raw(alpha))}")
    xr = np.asarray(raw(x))
    if xr.ndim == 0 or xr.shape[0] not in (k, k - 1):
        raise ValueError(f"dirichlet: x must have {k} or {k - 1} entries along its first "
                         f"axis (alpha has {k}), got shape {xr.shape}")
    if xr.shape[0] == k - 1:
        last = 1 - np.sum(x, axis=0, keepdims=True)
        x = np.concatenate([x, last], axis=0)
        xr = np.asarray(raw(x))
    if np.any(xr < 0) or np.any(xr > 1):
        raise ValueError("dirichlet: each entry of x must lie in [0, 1]")
    if np.any(np.abs(np.sum(xr, axis=0) - 1) > 1e-9):
        raise ValueError("dirichlet: the components of x must sum to 1 along the first axis")
    return x


def logpdf(x, alpha):
    """logpdf(x, alpha): log density of Dirichlet(alpha) at the simplex point(s) x.

    >>> round(float(logpdf(np.array([0.5, 0.5]), np.array([2.0, 2.0]))), 6)
    0.405465
    """
    x = _components(x, alpha)
    log_norm = sp.gammaln(np.sum(alpha)) - np.sum(sp.gammaln(alpha))
    terms = sp.xlogy(alpha - 1, np.transpose(x))       # (..., K)
    return np.sum(terms, axis=-1) + log_norm


def pdf(x, alpha):
    """pdf(x, alpha): density of Dirichlet(alpha) at the simplex point(s) x.

    >>> round(float(pdf(np.array([0.5, 0.5]), np.array([2.0, 2.0]))), 6)
    1.5
    """
    return np.exp(logpdf(x, alpha))


def rvs(alpha, size=None, random_state=None):
    """rvs(alpha, size=None, random_state=None): samples of Dirichlet(alpha), as
    scipy.stats.dirichlet.rvs (shape ``size + (K,)``); not differentiated, a
    recorded ``alpha`` is used by its value.

    >>> rvs(np.ones(3), size=2, random_state=0).shape
    (2, 3)
    """
    import scipy.stats
    return scipy.stats.dirichlet.rvs(np.asarray(raw(alpha)), size=size, random_state=random_state)
