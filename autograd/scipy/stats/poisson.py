"""Poisson distribution: pmf, logpmf and cdf differentiable in the rate mu
(k is a count, a constant).

>>> round(float(pmf(2, 2.0)), 6)            # 2 exp(-2)
0.270671
"""
import numpy as np
import scipy.special as sp

from ... import rules as _rules  # noqa: F401  (registers the gradients)
from ._common import inside, no_grad, raw

__all__ = ["logpmf", "pmf", "cdf"]


def logpmf(k, mu, loc=0):
    """logpmf(k, mu, loc=0): log P(K = k); -inf unless k - loc is a count.

    >>> round(float(logpmf(0, 1.5)), 6)
    -1.5
    """
    no_grad("poisson.logpmf", "k", k)
    n = np.asarray(raw(k)) - raw(loc)
    ok = (n >= 0) & (n == np.floor(n))
    val = sp.xlogy(np.where(ok, n, 0), mu) - sp.gammaln(np.where(ok, n, 0) + 1) - mu
    return inside(ok, val, -np.inf)


def pmf(k, mu, loc=0):
    """pmf(k, mu, loc=0): P(K = k).

    >>> float(pmf(-1, 1.0))
    0.0
    """
    return np.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
    """cdf(k, mu, loc=0): P(K <= k), with k rounded down; 0 for k < loc.

    >>> round(float(cdf(0, 1.0)), 6)
    0.367879
    """
    no_grad("poisson.cdf", "k", k)
    n = np.floor(np.asarray(raw(k)) - raw(loc))
    val = sp.gammaincc(np.maximum(n, 0) + 1, mu)
    return inside(n >= 0, val, 0.0)
