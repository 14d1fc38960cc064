"""autograd.scipy: differentiable parts of scipy (HIPS autograd's namespace).

* ``special``   scipy.special (ufuncs record themselves; gradients registered)
* ``stats``     norm, t, beta, gamma, chi2, poisson, dirichlet, multivariate_normal
* ``linalg``    scipy.linalg with gradients for solve_triangular, sqrtm,
                solve_sylvester, cholesky, cho_factor/cho_solve, expm, ...
* ``signal``    convolve (N-D, modes full/valid/same, axes and dot_axes)
* ``integrate`` odeint (adjoint method)

>>> import autograd.scipy.stats.norm as norm
>>> from autograd import grad
>>> float(grad(norm.logpdf)(0.5))
-0.5
"""
from . import special, stats  # noqa: F401
from . import integrate, linalg, misc, signal  # noqa: F401,E402
