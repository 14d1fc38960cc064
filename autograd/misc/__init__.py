"""autograd.misc: HIPS autograd's helpers for examples and training loops.

``flatten`` turns a nest of tuples / lists / dicts of arrays into one
vector (and back); ``autograd.misc.optimizers`` has ``sgd``, ``rmsprop``
and ``adam`` for such nests.
"""
from .flatten import flatten, flatten_func  # noqa: F401
from .tracers import const_graph  # noqa: F401

__all__ = ["flatten", "flatten_func", "const_graph"]
