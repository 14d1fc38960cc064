"""Helpers shared by the rule tables: shapes, dtypes, complex checks."""
import numpy as np

from ..boxes import raw as _raw
from ..sparse import Sparse

__all__ = ["is_complex", "match"]


def _shape(x):
    return np.shape(_raw(x))


def _dtype(x):
    return np.result_type(_raw(x))


def _fit(dy, x):
    """dy passed straight through to input ``x``: a Sparse dy of the
    (broadcast) output shape is densified unless it already has x's shape,
    because the tape sums only dense gradients back over broadcast axes."""
    if dy.__class__ is Sparse and dy.shape != _shape(x):
        return dy.dense()
    return dy


def is_complex(x):
    """is_complex(x): True when x (a value, Param or Result) holds complex numbers.

    >>> is_complex(np.ones(2) * 1j)
    True
    """
    return np.iscomplexobj(_raw(x))


def match(x, g):
    """match(x, g): g as the gradient of x, its real part when x is real.

    >>> match(1.0, 2 + 3j)
    2.0
    """
    return np.real(g) if is_complex(g) and not is_complex(x) else g
