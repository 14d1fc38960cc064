"""Operands of the convolution and pooling ops: unwrapping, backend, checks.

``operands(*arrays)`` turns the ops' inputs (numpy arrays, KnetArrays,
lists) into bare arrays of one backend and names that backend, the one that
computes the op's kernels; ``result`` wraps the answer back into a KnetArray
when an input was one.  ``int_tuple`` and ``check_array`` are the argument
checks shared by ``knetpy.ops.conv`` and ``knetpy.ops.pool``.

>>> (a,), be, knet = operands([1.0, 2.0])
>>> be.name, knet, result(a, be, knet).tolist()
('numpy', False, [1.0, 2.0])
"""
import numbers

import numpy as np

from autograd.core import raw

from .. import backends
from ..knetarray import KnetArray

__all__ = ["operands", "result", "shape_of", "int_tuple", "check_array"]


def operands(*arrays):
    """operands(*arrays) -> (bare arrays, backend, knet): every KnetArray
    unwrapped to its data, everything on the backend of the first KnetArray
    (the numpy backend when there is none); ``knet`` says whether there was
    one (then the op's result is a KnetArray too)."""
    be = next((a.backend for a in arrays if isinstance(a, KnetArray)), None)
    if be is None:
        return [np.asarray(a) for a in arrays], backends.numpy_backend, False
    out = []
    for a in arrays:
        if isinstance(a, KnetArray):
            a = a.data if a.backend is be else be.asarray(a.to_numpy())
        else:
            a = be.asarray(np.asarray(a))
        out.append(a)
    return out, be, True


def result(a, be, knet):
    """result(a, be, knet) -> ``a``, a KnetArray of backend ``be`` when ``knet``."""
    return KnetArray._of(a, be) if knet else a


def shape_of(a):
    """shape_of(a) -> the shape of ``a`` (possibly recorded) as a tuple.

    >>> shape_of(np.zeros((2, 3)))
    (2, 3)
    """
    return tuple(np.shape(raw(a)))


def int_tuple(v, nd, name, fn, least):
    """int_tuple(v, nd, name, fn, least) -> v (an int or a sequence of ``nd``
    ints, each >= ``least``) as a tuple; TypeError/ValueError naming ``name``.

    >>> int_tuple(2, 2, "stride", "pool", 1)
    (2, 2)
    """
    v = raw(v)
    if isinstance(v, np.ndarray):
        v = v.tolist()
    vals = (v,) * nd if isinstance(v, numbers.Integral) else v
    try:
        vals = tuple(vals)
    except TypeError:
        vals = None
    if (vals is None or len(vals) != nd
            or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in vals)):
        raise TypeError(f"{fn}: {name} must be an int or a tuple of {nd} ints (one per "
                        f"spatial axis), got {v!r}")
    if any(a < least for a in vals):
        raise ValueError(f"{fn}: {name} must be >= {least} on every axis, got {v!r}")
    return tuple(int(a) for a in vals)


def check_array(a, name, fn):
    """check_array(a, name, fn) -> the shape of ``a``, a 4-D or 5-D float
    array (possibly recorded or a KnetArray); TypeError/ValueError naming it.

    >>> check_array(np.zeros((1, 2, 3, 4)), "x", "pool")
    (1, 2, 3, 4)
    """
    r = raw(a)
    if isinstance(r, (list, tuple, numbers.Number)):
        r = np.asarray(r)
    if not hasattr(r, "dtype") or not hasattr(r, "shape"):
        raise TypeError(f"{fn}: {name} must be an array, got {type(r).__name__}")
    if np.dtype(r.dtype).kind != "f":
        raise TypeError(f"{fn}: {name} must hold floats (float16/32/64), got dtype {r.dtype}")
    if len(r.shape) not in (4, 5):
        raise ValueError(f"{fn}: {name} must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), got "
                         f"shape {tuple(r.shape)}")
    return tuple(r.shape)
