"""autograd.numpy.random: numpy.random as it is (random draws are constants).

>>> import autograd.numpy.random as npr
>>> npr.seed(0); npr.randn(2).shape
(2,)
"""
import numpy.random as _npr
from numpy.random import *  # noqa: F401,F403


def __getattr__(name):
    """Every other name of numpy.random (e.g. ``RandomState``, ``default_rng``)."""
    try:
        return getattr(_npr, name)
    except AttributeError:
        raise AttributeError(f"module 'autograd.numpy.random' has no attribute {name!r}") from None
