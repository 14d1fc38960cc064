"""dropout: inverted dropout that is active only while training."""
import numbers

import numpy as np

from autograd.core import _raw, training

from . import init
from .knetarray import KnetArray

__all__ = ["dropout"]


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
            generator seeded with it); otherwise the mask comes from knetpy's
            generator (``knetpy.seed(n)`` makes that reproducible).

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
