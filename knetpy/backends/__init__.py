"""The backend seam: every device-specific computation of knetpy goes through here.

A *backend* knows one kind of array memory and computes every numeric kernel
of knetpy's ops on it.  ``knetpy.backends.base.Backend`` states the whole
contract, with a numpy body for each method (see its docstring for the list:
array basics, softmax family, activation gradients, batchnorm, dropout, RNN
cells, im2col/col2im and convolution, pooling, optimizer updates,
scatter_add); ``numpy_backend`` (host memory) is an instance of it.  The
kernel backend (``kernel_backend.KernelBackend``: the CUDA kernels of
``knetpy.kernels`` on CuPy, or on the CPU emulator) subclasses it.  Ops never
touch device arrays directly: ``KnetArray`` routes its numpy protocol calls,
and the ops route their kernels, to the backend that owns the data
(``of(array)``), and every method exists on every backend.

``current()`` is the backend new ``KnetArray``\\ s are allocated with; it is
numpy unless ``knetpy.gpu(d)`` activated a device.  ``use(name)`` switches it
(importing ``knetpy.backends.<name>_backend`` the first time).

>>> from knetpy import backends
>>> backends.current().name
'numpy'
"""
import importlib

from .base import Backend

__all__ = ["current", "use", "of", "loaded", "numpy_backend", "Backend"]

#: the host backend: numpy arrays, computed by the numpy bodies of ``Backend``
numpy_backend = Backend()

_loaded = {"numpy": numpy_backend}
_current = numpy_backend


def current():
    """current() -> the backend new KnetArrays are allocated with.

    >>> current().name
    'numpy'
    """
    return _current


def use(name):
    """use(name) -> backend: make ``name`` (``"numpy"``, ``"cupy"``) current.

    Imports ``knetpy.backends.<name>_backend`` on first use; its
    ``make_backend()`` gives the backend (a module without one is itself the
    backend); a missing or unusable backend raises ``RuntimeError`` saying why.

    >>> use("numpy").name
    'numpy'
    """
    global _current
    if not isinstance(name, str):
        raise TypeError(f"use: name must be a backend name such as 'numpy', got {name!r}")
    be = _loaded.get(name)
    if be is None:
        try:
            mod = importlib.import_module(f"{__name__}.{name}_backend")
            make = getattr(mod, "make_backend", None)
            be = mod if make is None else make()
        except ImportError as e:
            raise RuntimeError(f"use: the {name!r} backend is not available ({e})") from e
        _loaded[name] = be
    _current = be
    return be


def loaded():
    """loaded() -> list of the backends made so far (numpy first)."""
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
