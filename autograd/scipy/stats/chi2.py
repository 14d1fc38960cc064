"""Chi-squared distribution: densities differentiable in x, df, loc and scale;
the CDF in x, loc and scale.

>>> round(float(pdf(2.0, 2.0)), 6)          # exp(-1) / 2
0.18394
"""
import numpy as np
import scipy.special as sp

from ... import special_grads as _special_grads  # noqa: F401
from ._common import inside, log_scale, no_grad, raw, standardize

__all__ = ["logpdf", "pdf", "cdf"]

LOG2 = float(np.log(2.0))


def logpdf(x, df, loc=0.0, scale=1.0):
    """logpdf(x, df, loc=0.0, scale=1.0): log density, -inf for x < loc.

    >>> round(float(logpdf(1.0, 3.0)), 6)
    -1.418939
    """
    z = standardize(x, loc, scale)
    k = df / 2
    val = sp.xlogy(k - 1, z) - z / 2 - sp.gammaln(k) - k * LOG2 - log_scale(scale)
    return inside(raw(z) >= 0, val, -np.inf)


def pdf(x, df, loc=0.0, scale=1.0):
    """pdf(x, df, loc=0.0, scale=1.0): density, 0 for x < loc.

    >>> float(pdf(-1.0, 3.0))
    0.0
    """
    return np.exp(logpdf(x, df, loc, scale))


def cdf(x, df, loc=0.0, scale=1.0):
    """cdf(x, df, loc=0.0, scale=1.0): P(X <= x); not differentiable in df.

    >>> round(float(cdf(2.0, 2.0)), 6)
    0.632121
    """
    no_grad("chi2.cdf", "df", df)
    return sp.gammainc(df / 2, np.maximum(standardize(x, loc, scale), 0.0) / 2)
