"""Dropout: the one mask path of knetpy.

Every dropout in knetpy (Knet's ``dropout``, the RNN's input dropout, LuxLib's
``knetpy.layers.dropout``/``alpha_dropout`` and the ``Dropout`` layers) asks
the backend of its array (``backend_of(x)``: numpy for host arrays, the
KnetArray's own backend otherwise) for the mask: ``dropout_mask(shape, p,
seed)`` drops element i when the counter-based hash ``uniform(seed, i) < p``
(``knetpy.backends.host_nn.uniform``, the same formula as the CUDA kernel),
so a seed gives the same mask on every backend.  ``dropout`` itself is one
primitive whose forward is the backend's ``dropout`` and whose gradient its
``dropback``: the mask is regenerated from the seed instead of stored, and
gradients of any order stay on the array's device.  The same code runs on
every backend; nothing asks which device it is on.
"""
import numbers

import numpy as np

from autograd.core import raw, primitive, training

from .. import backends, init
from ..knetarray import KnetArray

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
    dt = np.result_type(raw(x))
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


def backend_of(x):
    """backend_of(x) -> the backend that owns ``x``'s memory: a KnetArray's
    (possibly recorded) own backend, numpy's for anything else.

    >>> backend_of(np.ones(2)).name
    'numpy'
    """
    r = raw(x)
    return r.backend if isinstance(r, KnetArray) else backends.of(r)


def draw_seed(gen=None):
    """draw_seed(gen=None) -> a mask seed in [0, 2**63) drawn from numpy
    Generator ``gen`` (default knetpy's, which ``knetpy.seed`` makes
    reproducible).

    >>> draw_seed(np.random.default_rng(0)) == draw_seed(np.random.default_rng(0))
    True
    """
    return int((init.rng() if gen is None else gen).integers(0, _SEED_LIMIT))


def draw_mask(x, shape, p, gen=None, scale=None):
    """draw_mask(x, shape, p, gen=None, scale=1/(1-p)) -> mask of ``shape`` in
    x's float dtype, on x's backend (a KnetArray when ``x`` is one): ``scale``
    where an element is kept (probability 1-p), 0 where the backend's
    ``dropout_mask`` drops it.  The seed is drawn from ``gen`` (a numpy
    Generator; default knetpy's).

    >>> draw_mask(np.ones(4, np.float32), (4,), 0.0).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    dt = np.result_type(raw(x))
    if scale is None:
        scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    be = backend_of(x)
    keep = ~be.dropout_mask(shape, p, draw_seed(gen))
    m = keep.astype(dt) * dt.type(scale)
    return KnetArray._of(m, be) if isinstance(raw(x), KnetArray) else m


def _apply(kname, x, p, seed, be):
    """Kernel ``kname`` (``dropout`` or ``dropback``) of backend ``be`` (that of
    the op's input) on ``x`` (moved there when it lives elsewhere, e.g. a host
    output gradient); float16 is computed in float32.  A KnetArray comes back
    when ``x`` is one or ``be`` is not the host's."""
    wrap = isinstance(x, KnetArray) or be is not backends.numpy_backend
    a = x.data if isinstance(x, KnetArray) and x.backend is be else \
        be.asarray(x.to_numpy() if isinstance(x, KnetArray) else x)
    dt = a.dtype
    y = getattr(be, kname)(a.astype(np.float32) if dt == np.float16 else a, p, seed)
    if dt == np.float16:
        y = y.astype(np.float16)
    return KnetArray._of(y, be) if wrap else y


# dropout and its gradient are the same linear map (multiply by the mask), so
# each one's gradient is the other, on the input's backend: gradients of any
# order use the same kernels
@primitive(lambda dy, y, x, p, seed, be: _dropback(dy, p, seed, be=be))
def _dropout(x, p, seed, be):
    return _apply("dropout", x, p, seed, be)


@primitive(lambda g, y, dy, p, seed, be: _dropout(g, p, seed, be=be))
def _dropback(dy, p, seed, be):
    return _apply("dropback", dy, p, seed, be)


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
        seed: an int makes this call's mask reproducible; otherwise the seed
            comes from knetpy's generator (``knetpy.seed(n)`` makes that
            reproducible).

    The backend of ``x`` computes the result (``dropout``) and its gradient
    (``dropback``) from the seed; every backend draws the same mask for the
    same seed, so host and device results agree.

    >>> y = dropout(np.ones(10000), 0.25, drop=True, seed=1)
    >>> sorted(set(np.round(y, 6).tolist())), round(float(y.mean()), 1)
    ([0.0, 1.333333], 1.0)
    """
    p = check_p(p, "dropout")
    float_dtype(x, "dropout")
    if seed is not None and (not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"dropout: seed must be a non-negative int or None, got {seed!r}")
    if drop is None:
        drop = training()
    if not drop or p == 0:
        return x
    return _dropout(x, p, draw_seed() if seed is None else int(seed) % 2 ** 64, be=backend_of(x))
