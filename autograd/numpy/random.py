"""autograd.numpy.random: numpy.random as it is (random draws are constants).

>>> import autograd.numpy.random as npr
>>> npr.seed(0); npr.randn(2).shape
(2,)
"""
import numpy.random as _npr
from numpy.random import *  # noqa: F401,F403
from ..util import forward_getattr as _forward_getattr


__getattr__ = _forward_getattr(_npr, __name__)  # RandomState, default_rng, ...
