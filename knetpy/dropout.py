"""dropout: inverted dropout that is active only while training.

Host arrays (and KnetArrays in host memory) are multiplied by a mask drawn
with numpy.  KnetArrays on a kernel backend (the CUDA backend, or its CPU
emulation) go through the backend's ``dropout``/``dropback`` kernels: the
mask is a counter-based hash of (seed, element index), so it never leaves
the device and the backward pass regenerates it instead of storing it.
"""
import numbers

import numpy as np

from autograd.core import _raw, primitive, training

from . import init
from .knetarray import KnetArray

__all__ = ["dropout"]

_SEED_LIMIT = 2 ** 63


def on_kernel_backend(x):
    """True when ``x`` (a value, possibly recorded) is a KnetArray whose
    backend has the dropout kernels."""
    r = _raw(x)
    return isinstance(r, KnetArray) and r.backend.device_kernels


def device_seed():
    """A kernel seed drawn from knetpy's generator (``knetpy.seed`` makes it
    reproducible)."""
    return int(init.rng().integers(0, _SEED_LIMIT))


def _kernel(kname, x, p, seed, be):
    """Run backend kernel ``kname`` (dropout or dropback) of backend ``be`` on
    ``x`` (moved there when it is not a KnetArray of ``be``); float16 is
    computed in float32."""
    if isinstance(x, KnetArray) and x.backend is be:
        a = x.data
    else:
        a = be.asarray(np.asarray(x.to_numpy() if isinstance(x, KnetArray) else x))
    if a.dtype == np.float16:
        return KnetArray._of(getattr(be, kname)(a.astype(np.float32), p, seed)
                             .astype(np.float16), be)
    return KnetArray._of(getattr(be, kname)(a, p, seed), be)


# dropout and its gradient are the same linear map (multiply by the mask), so
# each one's gradient is the other: gradients of any order stay on the device
@primitive(lambda dy, y, x, p, seed, be: _dropback_dev(dy, p, seed, be=be))
def _dropout_dev(x, p, seed, be):
    return _kernel("dropout", x, p, seed, be)


@primitive(lambda g, y, dy, p, seed, be: _dropout_dev(g, p, seed, be=be))
def _dropback_dev(dy, p, seed, be):
    return _kernel("dropback", dy, p, seed, be)


def dropout(x, p, drop=None, seed=None):
    """dropout(x, p, drop=None, seed=None): zero each element of ``x`` with
    probability ``p`` and scale the kept ones by 1/(1-p) (inverted dropout, so
    the expected value is unchanged).

    Args:
        x: array, KnetArray or recorded value (float).
        p: drop probability in [0, 1]; ``p == 0`` returns ``x`` itself and
            ``p == 1`` returns zeros.
        drop: whether to drop at all; ``None`` (default) drops only while
            ``training()`` (inside ``diff``), so evaluation code is unaffected.
        seed: an int makes this call's mask reproducible (drawn from a
            generator seeded with it on the host, hashed from it by the
            kernel on a device); otherwise the mask comes from knetpy's
            generator (``knetpy.seed(n)`` makes that reproducible).

    A KnetArray on the GPU backend is dropped by the ``dropout`` kernel and
    its gradient by ``dropback``; the device mask for a given seed differs
    from the host one (each is reproducible on its own).

    >>> y = dropout(np.ones(10000), 0.25, drop=True, seed=1)
    >>> sorted(set(np.round(y, 6).tolist())), round(float(y.mean()), 1)
    ([0.0, 1.333333], 1.0)
    """
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    dt = np.result_type(_raw(x))
    if dt.kind != "f":
        raise TypeError(f"dropout: x must hold floats, got dtype {dt}")
    if seed is not None and (not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"dropout: seed must be a non-negative int or None, got {seed!r}")
    if drop is None:
        drop = training()
    if not drop or p == 0:
        return x
    if on_kernel_backend(x):
        if seed is None:
            seed = device_seed()
        return _dropout_dev(x, float(p), int(seed) % 2 ** 64, be=_raw(x).backend)
    gen = np.random.default_rng(int(seed)) if seed is not None else init.rng()
    shape = np.shape(_raw(x))
    if p == 1:
        mask = np.zeros(shape, dt)
    else:
        draw = gen.random(shape, dtype=np.float64 if dt == np.float64 else np.float32)
        mask = (draw >= p).astype(dt) * dt.type(1 / (1 - p))
    if isinstance(_raw(x), KnetArray):
        mask = KnetArray._of(_raw(x).backend.asarray(mask), _raw(x).backend)
    return x * mask
