"""Dropout: the one mask path of knetpy.

Every dropout in knetpy (Knet's ``dropout``, the RNN's input dropout, LuxLib's
``knetpy.layers.dropout``/``alpha_dropout`` and the ``Dropout`` layers) draws
its mask with ``draw_mask``: ``(u >= p) * scale`` for uniform ``u`` drawn in
the input's float width from a numpy Generator.  KnetArrays on a kernel
backend (CUDA or its CPU emulation) that need no mask handed back go through
the backend's ``dropout``/``dropback`` kernels instead: the mask is a
counter-based hash of (seed, element index), so it never leaves the device
and the backward pass regenerates it instead of storing it.
"""
import numbers

import numpy as np

from autograd.core import _raw, primitive, training

from .. import init
from ..knetarray import KnetArray
from .device import kernel_backend, like

__all__ = ["dropout"]

_SEED_LIMIT = 2 ** 63


def check_p(p, fname):
    """check_p(p, fname) -> float(p), or ValueError naming ``fname`` unless ``p``
    is a probability in [0, 1].

    >>> check_p(0.5, "dropout")
    0.5
    """
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"{fname}: p must be a probability in [0, 1], got {p!r}")
    return float(p)


def float_dtype(x, fname):
    """float_dtype(x, fname) -> x's dtype, or TypeError naming ``fname`` unless
    it is a float type.

    >>> float_dtype(np.ones(2, np.float32), "dropout")
    dtype('float32')
    """
    dt = np.result_type(_raw(x))
    if dt.kind != "f":
        raise TypeError(f"{fname}: x must hold floats, got dtype {dt}")
    return dt


def mask_shape(shape, dims, fname):
    """mask_shape(shape, dims, fname): the shape of a mask that varies along the
    axes ``dims`` (an int, a tuple, or None for every axis) and is 1 elsewhere.

    >>> mask_shape((2, 3, 4), (0, 1), "dropout")
    (2, 3, 1)
    """
    if dims is None:
        return tuple(shape)
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    nd = len(shape)
    out = [1] * nd
    for d in dims:
        if not isinstance(d, numbers.Integral) or not -nd <= d < nd:
            raise ValueError(f"{fname}: dims must be axes of the {nd}-D input, got {dims!r}")
        out[d % nd] = shape[d % nd]
    return tuple(out)


def draw_mask(shape, p, dtype, gen=None, scale=None):
    """draw_mask(shape, p, dtype, gen=None, scale=1/(1-p)) -> host array of
    ``dtype``: ``scale`` where a uniform draw ``u >= p`` (kept, probability
    1-p), 0 elsewhere.  ``gen`` is a numpy Generator (default knetpy's, which
    ``knetpy.seed`` makes reproducible); draws are float64 for float64 masks
    and float32 otherwise.

    >>> draw_mask((4,), 0.0, np.float32).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    dt = np.dtype(dtype)
    if scale is None:
        scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    gen = init.rng() if gen is None else gen
    u = gen.random(shape, dtype=np.float64 if dt == np.float64 else np.float32)
    return (u >= p).astype(dt) * dt.type(scale)


def device_seed():
    """A kernel seed drawn from knetpy's generator (``knetpy.seed`` makes it
    reproducible).

    >>> 0 <= device_seed() < 2 ** 63
    True
    """
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
    p = check_p(p, "dropout")
    dt = float_dtype(x, "dropout")
    if seed is not None and (not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"dropout: seed must be a non-negative int or None, got {seed!r}")
    if drop is None:
        drop = training()
    if not drop or p == 0:
        return x
    be = kernel_backend("dropout", x)
    if be is not None:
        if seed is None:
            seed = device_seed()
        return _dropout_dev(x, p, int(seed) % 2 ** 64, be=be)
    gen = np.random.default_rng(int(seed)) if seed is not None else None
    return x * like(draw_mask(np.shape(_raw(x)), p, dt, gen), x)
