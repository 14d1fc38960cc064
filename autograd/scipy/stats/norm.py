"""Normal distribution: differentiable in x, loc and scale.

>>> from autograd import grad
>>> float(grad(logpdf, 2)(1.0, 0.0, 1.0))     # d/dscale at x=1: z^2 - 1
0.0
"""
import numpy as np
import scipy.special as sp

from ... import rules as _rules  # noqa: F401  (registers the gradients)
from ._common import LOG_2PI, log_scale, standardize

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"]


def logpdf(x, loc=0.0, scale=1.0):
    """logpdf(x, loc=0.0, scale=1.0): log density of N(loc, scale^2) at x.

    >>> round(float(logpdf(0.0)), 6)
    -0.918939
    """
    z = standardize(x, loc, scale)
    return -0.5 * z * z - log_scale(scale) - 0.5 * LOG_2PI


def pdf(x, loc=0.0, scale=1.0):
    """pdf(x, loc=0.0, scale=1.0): density of N(loc, scale^2) at x.

    >>> round(float(pdf(0.0)), 6)
    0.398942
    """
    return np.exp(logpdf(x, loc, scale))


def cdf(x, loc=0.0, scale=1.0):
    """cdf(x, loc=0.0, scale=1.0): P(X <= x).

    >>> float(cdf(0.0))
    0.5
    """
    return sp.ndtr(standardize(x, loc, scale))


def logcdf(x, loc=0.0, scale=1.0):
    """logcdf(x, loc=0.0, scale=1.0): log P(X <= x), accurate far in the left tail.

    >>> round(float(logcdf(0.0)), 6)
    -0.693147
    """
    return sp.log_ndtr(standardize(x, loc, scale))


def sf(x, loc=0.0, scale=1.0):
    """sf(x, loc=0.0, scale=1.0): P(X > x) = 1 - cdf.

    >>> float(sf(0.0))
    0.5
    """
    return sp.ndtr(-standardize(x, loc, scale))


def logsf(x, loc=0.0, scale=1.0):
    """logsf(x, loc=0.0, scale=1.0): log P(X > x).

    >>> round(float(logsf(0.0)), 6)
    -0.693147
    """
    return sp.log_ndtr(-standardize(x, loc, scale))


def ppf(q, loc=0.0, scale=1.0):
    """ppf(q, loc=0.0, scale=1.0): the quantile function (inverse of cdf).

    >>> float(ppf(0.5, loc=3.0))
    3.0
    """
    return loc + scale * sp.ndtri(q)
