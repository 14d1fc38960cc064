"""Where an op's arrays live.

``like(a, x)`` puts ``a`` beside ``x`` (on x's backend, or on the host when
``x`` is a host array): the one "move to x's device" of the ops; ``host(a)``
brings anything back as a numpy array; ``chan_shape(x)`` is the shape of a
per-channel vector broadcast against ``x`` (channels on axis 1).

``kernel_backend`` and ``device_array`` serve only the RNN op
(``knetpy.ops.rnn``) until it, like dropout and batchnorm, calls the backend
of its arrays directly; then they go.
"""
import numpy as np

from autograd.core import _raw

from ..knetarray import KnetArray

__all__ = ["kernel_backend", "like", "host", "chan_shape", "device_array"]


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
    """like(a, x): ``a`` where ``x`` lives: a KnetArray of x's backend when
    ``x`` is a KnetArray (possibly recorded), a host numpy array when ``x`` is
    a host array and ``a`` a KnetArray, else ``a`` itself.

    >>> like(np.zeros(2), np.ones(3))
    array([0., 0.])
    """
    xr, ar = _raw(x), _raw(a)
    if isinstance(xr, KnetArray):
        if isinstance(ar, KnetArray):
            if ar.backend is xr.backend:
                return a
            ar = ar.to_numpy()
        return KnetArray._of(xr.backend.asarray(np.asarray(ar)), xr.backend)
    if isinstance(ar, KnetArray):
        return ar.to_numpy()
    return a


def chan_shape(x):
    """chan_shape(x): ``(1, C, 1, ...)``, a per-channel vector's shape broadcast
    against ``x``.

    >>> chan_shape(np.zeros((2, 3, 4, 5)))
    (1, 3, 1, 1)
    """
    return (1, np.shape(_raw(x))[1]) + (1,) * (np.ndim(_raw(x)) - 2)


def host(a):
    """host(a): ``a`` (possibly a KnetArray or recorded value) as a numpy array.

    >>> host([1.0]).tolist()
    [1.0]
    """
    a = _raw(a)
    return a.to_numpy() if isinstance(a, KnetArray) else np.asarray(a)


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
