"""Where an op's arrays live: the one place ops ask which backend runs them.

``kernel_backend(op, *values)`` answers whether an op has a device kernel
for its inputs (the KnetArrays of a kernel backend: CuPy or its CPU
emulator); ``like(a, x)`` moves a host array onto ``x``'s device, and
``device_array(be, a)`` puts anything onto backend ``be``.  Once every
backend states the whole contract (one Backend class with numpy bodies),
``kernel_backend`` becomes ``backends.of(x)`` and the probe below goes.
"""
import numpy as np

from autograd.core import _raw

from ..knetarray import KnetArray

__all__ = ["kernel_backend", "like", "device_array"]


def kernel_backend(op, *values):
    """kernel_backend(op, *values) -> the backend of the first KnetArray among
    ``values`` (recorded values are unwrapped) whose backend has a method
    ``op`` (e.g. ``"lstm"``, ``"dropout"``); None when there is none, in which
    case the op runs its host code.

    >>> kernel_backend("dropout", np.ones(2)) is None
    True
    """
    for v in values:
        r = _raw(v)
        if isinstance(r, KnetArray) and r.backend.device_kernels:
            return r.backend
    return None


def like(a, x):
    """like(a, x): host array ``a`` on the device of ``x`` (a KnetArray of x's
    backend when ``x`` is a KnetArray, possibly recorded), else ``a`` itself.

    >>> like(np.zeros(2), np.ones(3))
    array([0., 0.])
    """
    xr = _raw(x)
    if isinstance(xr, KnetArray) and not isinstance(_raw(a), KnetArray):
        return KnetArray._of(xr.backend.asarray(np.asarray(a)), xr.backend)
    return a


def device_array(be, a):
    """device_array(be, a): ``a`` (a KnetArray of any backend, a numpy array or
    a scalar) as a C-contiguous array of backend ``be``'s own memory; None
    stays None.  ``be`` is a kernel backend (it has ``contiguous``), e.g.
    ``device_array(kernel_backend("lstm", w), h0)`` puts ``h0`` beside ``w``.
    """
    if a is None:
        return None
    a = _raw(a)
    if isinstance(a, KnetArray):
        a = a.data if a.backend is be else be.asarray(a.to_numpy())
    elif not be.owns(a):
        a = be.asarray(np.asarray(a))
    return be.contiguous(a)
