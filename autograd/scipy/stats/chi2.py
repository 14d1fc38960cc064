"""Chi-squared distribution: densities differentiable in x, df, loc and scale;
the CDF in x, loc and scale.  chi2(df, loc, scale) is gamma(df / 2, loc, 2 scale).

>>> round(float(pdf(2.0, 2.0)), 6)          # exp(-1) / 2
0.18394
"""
from . import gamma
from ._common import no_grad

__all__ = ["logpdf", "pdf", "cdf"]

def logpdf(x, df, loc=0.0, scale=1.0):
    """logpdf(x, df, loc=0.0, scale=1.0): log density, -inf for x < loc.

    >>> round(float(logpdf(1.0, 3.0)), 6)
    -1.418939
    """
    return gamma.logpdf(x, df / 2, loc, 2 * scale)


def pdf(x, df, loc=0.0, scale=1.0):
    """pdf(x, df, loc=0.0, scale=1.0): density, 0 for x < loc (``pdf(-1.0, 3.0)`` is 0.0)."""
    return gamma.pdf(x, df / 2, loc, 2 * scale)


def cdf(x, df, loc=0.0, scale=1.0):
    """cdf(x, df, loc=0.0, scale=1.0): P(X <= x), not differentiable in df;
    ``cdf(2.0, 2.0)`` is 1 - exp(-1)."""
    no_grad("chi2.cdf", "df", df)
    return gamma.cdf(x, df / 2, loc, 2 * scale)
