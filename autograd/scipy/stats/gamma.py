"""Gamma distribution (shape a, scale): densities differentiable in x, a, loc
and scale; the CDF in x, loc and scale.

>>> round(float(pdf(1.0, 1.0)), 6)          # exponential: exp(-1)
0.367879
"""
import numpy as np
import scipy.special as sp

from ... import rules as _rules  # noqa: F401  (registers the gradients)
from ._common import inside, log_scale, no_grad, raw, standardize

__all__ = ["logpdf", "pdf", "cdf"]


def logpdf(x, a, loc=0.0, scale=1.0):
    """logpdf(x, a, loc=0.0, scale=1.0): log density, -inf for x < loc.

    >>> round(float(logpdf(2.0, 3.0)), 6)
    -1.306853
    """
    z = standardize(x, loc, scale)
    val = sp.xlogy(a - 1, z) - z - sp.gammaln(a) - log_scale(scale)
    return inside(raw(z) >= 0, val, -np.inf)


def pdf(x, a, loc=0.0, scale=1.0):
    """pdf(x, a, loc=0.0, scale=1.0): density, 0 for x < loc.

    >>> float(pdf(-1.0, 2.0))
    0.0
    """
    return np.exp(logpdf(x, a, loc, scale))


def cdf(x, a, loc=0.0, scale=1.0):
    """cdf(x, a, loc=0.0, scale=1.0): P(X <= x); not differentiable in a.

    >>> round(float(cdf(1.0, 1.0)), 6)
    0.632121
    """
    no_grad("gamma.cdf", "a", a)
    return sp.gammainc(a, np.maximum(standardize(x, loc, scale), 0.0))
