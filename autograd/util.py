"""Small helpers: cat1d, and the module ``__getattr__`` of the numpy/scipy namespaces."""
import numpy as np


def cat1d(*arrays):
    """cat1d(*arrays): the flattened arrays joined into one vector (differentiable).

    >>> cat1d(np.ones((2, 2)), np.zeros(3)).shape
    (7,)
    """
    if not arrays:
        raise ValueError("cat1d: needs at least one array")
    return np.concatenate([np.ravel(a) for a in arrays])


def forward_getattr(module, name):
    """A module-level ``__getattr__`` for the module called ``name`` that looks
    every other attribute up in ``module`` (the numpy or scipy module it
    stands for)."""
    def __getattr__(attr):
        try:
            return getattr(module, attr)
        except AttributeError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None
    return __getattr__
