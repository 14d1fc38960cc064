"""Student's t distribution: densities differentiable in x, df, loc and scale;
CDFs in x, loc and scale.

>>> round(float(logpdf(0.0, 1.0)), 6)       # Cauchy at 0: -log(pi)
-1.14473
"""
import numpy as np
import scipy.special as sp

from ... import rules as _rules  # noqa: F401  (registers the gradients)
from ._common import log_scale, no_grad, standardize

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def logpdf(x, df, loc=0.0, scale=1.0):
    """logpdf(x, df, loc=0.0, scale=1.0): log density of the location-scale t.

    >>> round(float(logpdf(1.0, 3.0)), 6)
    -1.576253
    """
    z = standardize(x, loc, scale)
    half = (df + 1) / 2
    return (sp.gammaln(half) - sp.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
            - log_scale(scale) - half * np.log1p(z * z / df))


def pdf(x, df, loc=0.0, scale=1.0):
    """pdf(x, df, loc=0.0, scale=1.0): density of the location-scale t.

    >>> round(float(pdf(0.0, 1.0)), 6)
    0.31831
    """
    return np.exp(logpdf(x, df, loc, scale))


def cdf(x, df, loc=0.0, scale=1.0):
    """cdf(x, df, loc=0.0, scale=1.0): P(X <= x); not differentiable in df.

    >>> float(cdf(0.0, 4.0))
    0.5
    """
    no_grad("t.cdf", "df", df)
    return sp.stdtr(df, standardize(x, loc, scale))


def logcdf(x, df, loc=0.0, scale=1.0):
    """logcdf(x, df, loc=0.0, scale=1.0): log P(X <= x); not differentiable in df.

    >>> round(float(logcdf(0.0, 4.0)), 6)
    -0.693147
    """
    return np.log(cdf(x, df, loc, scale))


def sf(x, df, loc=0.0, scale=1.0):
    """sf(x, df, loc=0.0, scale=1.0): P(X > x); not differentiable in df.

    >>> float(sf(0.0, 4.0))
    0.5
    """
    no_grad("t.sf", "df", df)
    return sp.stdtr(df, -standardize(x, loc, scale))


def logsf(x, df, loc=0.0, scale=1.0):
    """logsf(x, df, loc=0.0, scale=1.0): log P(X > x).

    >>> round(float(logsf(0.0, 4.0)), 6)
    -0.693147
    """
    return np.log(sf(x, df, loc, scale))
