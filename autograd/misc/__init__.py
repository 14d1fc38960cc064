"""autograd.misc: HIPS autograd's helpers for examples and training loops.

``flatten`` turns a nest of tuples / lists / dicts of arrays into one
vector (and back); ``autograd.misc.optimizers`` has ``sgd``, ``rmsprop``
and ``adam`` for such nests.
"""
from .flatten import flatten  # noqa: F401

__all__ = ["flatten"]
