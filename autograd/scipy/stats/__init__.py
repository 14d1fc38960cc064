"""autograd.scipy.stats: differentiable log-densities, densities and CDFs.

Each distribution is a module of functions with scipy.stats' names and
arguments (``norm.logpdf(x, loc=0, scale=1)``, ...), built from
differentiable numpy and scipy.special operations, so gradients flow to
``x`` and to the parameters.  A CDF whose gradient with respect to a shape
parameter is not available raises ``NotImplementedError`` when that
parameter is being differentiated.

>>> from autograd.scipy.stats import norm
>>> from autograd import grad
>>> float(grad(norm.logpdf)(1.0))
-1.0
"""
from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t  # noqa: F401

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]
