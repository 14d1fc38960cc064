"""autograd.scipy.special: scipy.special with gradients.

The special functions are numpy ufuncs, so they record themselves when
given recorded values; their gradients live in autograd.rules.special (with
the Bessel functions of any order, betainc and stdtr).  The few Python functions of scipy.special (logsumexp, softmax,
log_softmax, multigammaln, ...) are made differentiable there as well.

>>> from autograd import grad
>>> from autograd.scipy.special import gammaln
>>> print(f"{grad(gammaln)(1.0):.6f}")        # digamma(1)
-0.577216
"""
import scipy.special as _sp

from .. import rules as _rules  # noqa: F401  (registers the gradients)
from ..util import forward_getattr as _forward_getattr
from scipy.special import *  # noqa: F401,F403,E402

# HIPS autograd's aliases
from scipy.special import psi, digamma, jn, logsumexp, polygamma, multigammaln  # noqa: F401,E402


__getattr__ = _forward_getattr(_sp, __name__)  # every other name of scipy.special
