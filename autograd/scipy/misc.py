"""autograd.scipy.misc: the old home of ``logsumexp`` in HIPS autograd.

>>> import numpy as np
>>> round(float(logsumexp(np.zeros(2))), 6)
0.693147
"""
from .special import logsumexp  # noqa: F401

__all__ = ["logsumexp"]
