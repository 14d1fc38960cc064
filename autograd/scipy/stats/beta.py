"""Beta distribution on [loc, loc + scale]: densities differentiable in x, a,
b, loc and scale; the CDF in x, loc and scale.

>>> round(float(pdf(0.5, 2.0, 2.0)), 6)
1.5
"""
import numpy as np
import scipy.special as sp

from ... import rules as _rules  # noqa: F401  (registers the gradients)
from ._common import inside, log_scale, no_grad, raw, standardize

__all__ = ["logpdf", "pdf", "cdf"]


def logpdf(x, a, b, loc=0.0, scale=1.0):
    """logpdf(x, a, b, loc=0.0, scale=1.0): log density, -inf outside the support.

    >>> round(float(logpdf(0.25, 1.0, 3.0)), 6)
    0.523248
    """
    z = standardize(x, loc, scale)
    zr = raw(z)
    val = (sp.xlogy(a - 1, z) + sp.xlog1py(b - 1, -z) - sp.betaln(a, b) - log_scale(scale))
    return inside((zr >= 0) & (zr <= 1), val, -np.inf)


def pdf(x, a, b, loc=0.0, scale=1.0):
    """pdf(x, a, b, loc=0.0, scale=1.0): density, 0 outside the support.

    >>> float(pdf(2.0, 2.0, 2.0))
    0.0
    """
    return np.exp(logpdf(x, a, b, loc, scale))


def cdf(x, a, b, loc=0.0, scale=1.0):
    """cdf(x, a, b, loc=0.0, scale=1.0): P(X <= x); not differentiable in a, b.

    >>> float(cdf(0.5, 2.0, 2.0))
    0.5
    """
    no_grad("beta.cdf", "a", a)
    no_grad("beta.cdf", "b", b)
    return sp.betainc(a, b, np.clip(standardize(x, loc, scale), 0.0, 1.0))
