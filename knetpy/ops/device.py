"""Where an op's arrays live.

``like(a, x)`` puts ``a`` beside ``x`` (on x's backend, or on the host when
``x`` is a host array): the one "move to x's device" of the ops; ``host(a)``
brings anything back as a numpy array; ``chan_shape(x)`` is the shape of a
per-channel vector broadcast against ``x`` (channels on axis 1).
"""
import numpy as np

from autograd.core import raw

from ..knetarray import KnetArray

__all__ = ["like", "host", "chan_shape"]


def like(a, x):
    """like(a, x): ``a`` where ``x`` lives: a KnetArray of x's backend when
    ``x`` is a KnetArray (possibly recorded), a host numpy array when ``x`` is
    a host array and ``a`` a KnetArray, else ``a`` itself.

    >>> like(np.zeros(2), np.ones(3))
    array([0., 0.])
    """
    xr, ar = raw(x), raw(a)
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
    return (1, np.shape(raw(x))[1]) + (1,) * (np.ndim(raw(x)) - 2)


def host(a):
    """host(a): ``a`` (possibly a KnetArray or recorded value) as a numpy array.

    >>> host([1.0]).tolist()
    [1.0]
    """
    a = raw(a)
    return a.to_numpy() if isinstance(a, KnetArray) else np.asarray(a)
