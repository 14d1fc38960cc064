"""The backend seam: every device-specific computation of knetpy goes through here.

A *backend* is a small module that knows one kind of array memory.  knetpy
ships ``numpy_backend`` (host memory); a CuPy backend (``cupy_backend``, GPU
memory) plugs in next to it without any change to the operations, because
ops never touch device arrays directly: ``KnetArray`` routes its numpy
protocol calls, and the ops route their numeric kernels, to the backend that
owns the data (``of(array)``).

A backend module provides:

========================  ===================================================
``name``                  ``"numpy"``, ``"cupy"``, ...
``xp``                    its array module (``numpy``, ``cupy``)
``owns(a)``               True when ``a`` is an array of this backend
``asarray(a, dtype)``     ``a`` as an array of this backend (no copy if it is one)
``copy(a, dtype)``        a fresh array of this backend holding ``a``'s values
``to_numpy(a)``           a host numpy copy
``unary(name, x)``        a one-argument ufunc by numpy name (``"exp"``) or an
                          activation (``"relu", "sigm", "elu", "selu", "gelu",
                          "invx"``)
``binary(name, a, b)``    a two-argument ufunc by numpy name (``"add"``), with
                          broadcasting; ``a`` or ``b`` may be a scalar
``reduce(name, x, axis,   ``"sum", "mean", "prod", "max", "min", "var", "std",
keepdims)``               "all", "any", "argmax", "argmin"``
``matmul(a, b)``          batched matrix product (numpy's ``matmul`` rules)
``call(func, args, kw)``  any other numpy function or ufunc method, applied to
                          arrays of this backend (the general fallback)
kernels                   ``softmax, logsoftmax, logsumexp, nll_forward,
                          nll_backward, bn_stats, bn_forward, bn_backward``
                          (see ``numpy_backend`` for their contracts); written
                          with numpy calls only, so a backend whose arrays
                          implement numpy's protocols may reuse them
========================  ===================================================

``current()`` is the backend new ``KnetArray``\\ s are allocated with; it is
numpy unless ``knetpy.gpu(d)`` activated a device.  ``use(name)`` switches it
(importing ``knetpy.backends.<name>_backend`` the first time).

>>> from knetpy import backends
>>> backends.current().name
'numpy'
"""
import importlib

from . import numpy_backend

__all__ = ["current", "use", "of", "loaded"]

_loaded = {"numpy": numpy_backend}
_current = numpy_backend


def current():
    """current() -> the backend module new KnetArrays are allocated with.

    >>> current().name
    'numpy'
    """
    return _current


def use(name):
    """use(name) -> backend module: make ``name`` (``"numpy"``, ``"cupy"``) current.

    Imports ``knetpy.backends.<name>_backend`` on first use; a missing or
    unusable backend raises ``RuntimeError`` saying why.

    >>> use("numpy").name
    'numpy'
    """
    global _current
    if not isinstance(name, str):
        raise TypeError(f"use: name must be a backend name such as 'numpy', got {name!r}")
    be = _loaded.get(name)
    if be is None:
        try:
            be = importlib.import_module(f"{__name__}.{name}_backend")
        except ImportError as e:
            raise RuntimeError(f"use: the {name!r} backend is not available ({e})") from e
        _loaded[name] = be
    _current = be
    return be


def loaded():
    """loaded() -> list of the backend modules imported so far (numpy first)."""
    return list(_loaded.values())


def of(a):
    """of(a) -> the backend that owns array ``a``; numpy for anything else
    (scalars, lists), since those live on the host.

    >>> import numpy as np
    >>> of(np.ones(2)).name
    'numpy'
    """
    for be in _loaded.values():
        if be.owns(a):
            return be
    return numpy_backend
