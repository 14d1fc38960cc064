"""autograd.numpy.fft: numpy.fft with gradients (see autograd.rules.fft).

Every transform (fft, ifft, rfft, irfft, hfft, ihfft and their 2-D and N-D
forms) and fftshift/ifftshift is differentiable, for real and complex
input, any ``n``/``s``, ``axis``/``axes`` and ``norm``.

>>> import autograd.numpy as np
>>> from autograd import grad
>>> g = grad(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2))(np.ones(4))
>>> bool(np.allclose(g, 8 * np.ones(4)))
True
"""
import numpy.fft as _fft
from numpy.fft import *  # noqa: F401,F403

from .. import rules as _rules  # noqa: F401  (registers the gradients)
from ..util import forward_getattr as _forward_getattr


__getattr__ = _forward_getattr(_fft, __name__)  # every other name of numpy.fft
