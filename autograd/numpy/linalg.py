"""autograd.numpy.linalg: numpy.linalg's functions.

They dispatch recorded arguments through the array protocol, so the
gradients registered for them (autograd.rules.linalg) apply; a function
without a registered gradient raises a clear error when its argument is
being recorded.

>>> import autograd.numpy as np
>>> from autograd import grad
>>> bool(np.allclose(grad(lambda a: np.linalg.det(a))(np.eye(2)), np.eye(2)))
True
"""
import numpy.linalg as _la
from numpy.linalg import *  # noqa: F401,F403
from ..util import forward_getattr as _forward_getattr

try:  # gradients of numpy.linalg, when that module is present
    from .. import rules as _rules  # noqa: F401  (registers the gradients)
except ImportError:  # pragma: no cover - depends on the tree
    pass
from .hips_compat import listable as _listable  # noqa: E402

norm = _listable(_la.norm)          # np.linalg.norm([x, y]) of recorded values keeps the tape


def _dot(a, b):
    """_dot(a, b): HIPS autograd's batched matrix product (np.matmul of stacks)."""
    import numpy
    return numpy.matmul(a, b)


def T(x):
    """T(x): HIPS autograd's batched transpose (swap the last two axes)."""
    import numpy
    return numpy.swapaxes(x, -1, -2)


__getattr__ = _forward_getattr(_la, __name__)  # every other name of numpy.linalg
