"""Gradients of the scipy.special functions HIPS autograd differentiates that
autograd.special_grads does not (yet) cover, plus the Student t CDF.

Each function is registered once (the registry refuses a second rule).  Shape parameters
(the order of a Bessel function, a and b of betainc, df of stdtr) are
constants: their gradient is not available.
"""
import numpy as np
import scipy.special as sp

from . import special_grads as _special_grads  # noqa: F401  (registered first)
from .registry import defgrad


def _betainc_x(dy, y, a, b, x):
    return dy * np.exp(sp.xlogy(a - 1, x) + sp.xlog1py(b - 1, -x) - sp.betaln(a, b))


def _stdtr_t(dy, y, df, t):
    half = (df + 1) / 2
    logpdf = (sp.gammaln(half) - sp.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
              - half * np.log1p(t * t / df))
    return dy * np.exp(logpdf)


defgrad(sp.betainc, None, None, _betainc_x)
defgrad(sp.stdtr, None, _stdtr_t)
defgrad(sp.jv, None, lambda dy, y, v, x: dy * (sp.jv(v - 1, x) - sp.jv(v + 1, x)) / 2)
defgrad(sp.yv, None, lambda dy, y, v, x: dy * (sp.yv(v - 1, x) - sp.yv(v + 1, x)) / 2)
defgrad(sp.yn, None, lambda dy, y, n, x: dy * (sp.yn(n - 1, x) - sp.yn(n + 1, x)) / 2)
defgrad(sp.iv, None, lambda dy, y, v, x: dy * (sp.iv(v - 1, x) + sp.iv(v + 1, x)) / 2)
defgrad(sp.ive, None, lambda dy, y, v, x:
          dy * ((sp.ive(v - 1, x) + sp.ive(v + 1, x)) / 2 - np.sign(x) * y))
defgrad(sp.kv, None, lambda dy, y, v, x: -dy * (sp.kv(v - 1, x) + sp.kv(v + 1, x)) / 2)
defgrad(sp.kve, None, lambda dy, y, v, x:
          dy * (y - (sp.kve(v - 1, x) + sp.kve(v + 1, x)) / 2))
