"""dropout: Dropout, AlphaDropout, VariationalHiddenDropout and LuxLib's functional forms.

The functional ``dropout`` and ``alpha_dropout`` here take LuxLib's
arguments; they are reached as ``knetpy.layers.dropout`` /
``knetpy.layers.alpha_dropout`` (``from knetpy.layers import *`` does not
export them, so ``knetpy.dropout`` keeps its meaning).
"""
import numpy as np

from autograd import training
from autograd.core import raw

from ..ops.activations import ALPHA_SELU
from ..ops.device import like as _to_like
from ..ops.dropout import check_p as _check_p, draw_mask, dropout as _dropout_op, \
    float_dtype as _float_dt, mask_shape as _mask_shape
from .base import Layer

__all__ = ["Dropout", "AlphaDropout", "VariationalHiddenDropout"]


def dropout(x, p, training=None, invp=None, dims=None, mask=None, update_mask=True, rng=None):
    """dropout(x, p, training=None, invp=None, dims=None, mask=None, update_mask=True,
    rng=None) -> (y, mask): LuxLib's dropout.

    While training, ``y = x * mask`` with ``mask = (u >= p) * invp`` for the
    uniform ``u`` of the backend's ``dropout_mask`` (the one mask path of
    ``knetpy.ops.dropout``, drawn on x's device); ``invp`` defaults to 1/(1-p) (inverted dropout).  ``dims`` (an axis
    or tuple of axes) are the axes along which the mask varies; it is
    broadcast along the others (``dims=(0, 1)`` on NCHW drops whole channels).
    ``dims=None`` draws one value per element.

    ``mask`` with ``update_mask=False`` reuses a mask returned by an earlier
    call (it must broadcast against x); otherwise a new one is drawn.
    ``training=None`` follows ``autograd.training()``; when not training,
    ``(x, mask)`` is returned unchanged (the mask then means nothing).
    ``rng`` is a numpy Generator (default: knetpy's) that draws the mask's seed.

    >>> import knetpy.layers as L
    >>> y, m = L.dropout(np.ones((2, 3)), 0.5, training=True, dims=0)
    >>> m.shape
    (2, 1)
    """
    p = _check_p(p, "dropout")
    dt = _float_dt(x, "dropout")
    if training is None:
        training = _training()
    if not training:
        return x, mask
    if not update_mask:
        if mask is None:
            raise ValueError("dropout: update_mask=False needs a mask from an earlier call")
        return x * _to_like(mask, x).astype(dt, copy=False), mask
    new = draw_mask(x, _mask_shape(np.shape(raw(x)), dims, "dropout"), p, rng, invp)
    return x * new, new


def _training():
    return training()


def alpha_dropout(x, p, training=None, alpha=None, A=None, B=None, rng=None):
    """alpha_dropout(x, p, training=None, alpha=None, A=None, B=None, rng=None) -> y.

    Dropout for self-normalizing (SELU) networks: dropped elements are set to
    ``alpha`` (selu's saturation value -λα ≈ -1.7581) and the result is
    ``A * x' + B`` with ``A = 1/sqrt((1-p)(1 + p·alpha²))``, ``B = -A·alpha·p``,
    which keeps zero mean and unit variance.  Pass ``alpha, A, B`` to skip
    recomputing them.  ``training=None`` follows ``autograd.training()``.

    >>> import knetpy.layers as L
    >>> x = np.random.default_rng(0).standard_normal(200000)
    >>> y = L.alpha_dropout(x, 0.2, training=True, rng=np.random.default_rng(1))
    >>> bool(abs(y.mean()) < 0.01), round(float(y.std()), 1)
    (True, 1.0)
    """
    p = _check_p(p, "alpha_dropout")
    dt = _float_dt(x, "alpha_dropout")
    if training is None:
        training = _training()
    if not training or p == 0:
        return x
    if p == 1:
        return x * dt.type(0)
    if alpha is None:
        alpha = ALPHA_SELU
    if A is None:
        A = 1.0 / np.sqrt((1 - p) * (1 + p * alpha ** 2))
    if B is None:
        B = -A * alpha * p
    keep = draw_mask(x, np.shape(raw(x)), p, rng, 1.0)
    shift = ((1 - keep) * dt.type(A * alpha) + dt.type(B)).astype(dt)   # alpha*A + B if dropped
    return x * (keep * dt.type(A)) + shift


class Dropout(Layer):
    """Dropout(p, dims=None): inverted dropout while training (see ``dropout``).

    Active when the layer is training: inside ``diff``, or when forced by
    ``trainmode``.  ``dims`` selects the axes the mask varies along.

    >>> from knetpy.layers import trainmode
    >>> y = trainmode(Dropout(0.5))(np.ones(1000)); sorted(set(y.tolist()))
    [0.0, 2.0]
    """

    def __init__(self, p, dims=None):
        self.p = _check_p(p, "Dropout")
        self.dims = dims

    def __call__(self, x):
        if not self.istraining() or self.p == 0:
            return x
        if self.dims is None:       # no mask to keep: the Knet op (mask regenerated in backward)
            return _dropout_op(x, self.p, drop=True)
        return dropout(x, self.p, True, dims=self.dims)[0]

    def extra_repr(self):
        return f"{self.p}" + ("" if self.dims is None else f", dims={self.dims}")


class AlphaDropout(Layer):
    """AlphaDropout(p): ``alpha_dropout`` while training, identity otherwise.

    >>> AlphaDropout(0.1)(np.ones(3))
    array([1., 1., 1.])
    """

    def __init__(self, p):
        self.p = _check_p(p, "AlphaDropout")
        self.alpha = ALPHA_SELU
        self.A = 1.0 / np.sqrt((1 - self.p) * (1 + self.p * self.alpha ** 2)) if self.p < 1 else 0.0
        self.B = -self.A * self.alpha * self.p

    def __call__(self, x):
        if not self.istraining():
            return x
        return alpha_dropout(x, self.p, True, self.alpha, self.A, self.B)

    def extra_repr(self):
        return f"{self.p}"


class VariationalHiddenDropout(Layer):
    """VariationalHiddenDropout(p, dims=None): dropout whose mask is kept between calls.

    The first training call draws a mask; later calls reuse it (so every
    time step of an RNN sees the same mask) until ``new_mask()`` is called,
    or the input's shape no longer matches the mask.  The mask is
    non-trainable state (``layer.mask``).

    >>> from knetpy.layers import trainmode
    >>> d = trainmode(VariationalHiddenDropout(0.5))
    >>> bool((d(np.ones(8)) == d(np.ones(8))).all())
    True
    """
    _state = ("mask",)

    def __init__(self, p, dims=None):
        self.p = _check_p(p, "VariationalHiddenDropout")
        self.dims = dims
        self.mask = None
        self.update_mask = True

    def new_mask(self):
        """Draw a fresh mask at the next training call."""
        self.update_mask = True
        return self

    def __call__(self, x):
        if not self.istraining() or self.p == 0:
            return x
        shape = _mask_shape(np.shape(raw(x)), self.dims, "VariationalHiddenDropout")
        stale = self.mask is None or np.shape(self.mask) != shape or \
            np.result_type(self.mask) != np.result_type(raw(x))
        y, m = dropout(x, self.p, True, dims=self.dims, mask=self.mask,
                       update_mask=self.update_mask or stale)
        self.mask, self.update_mask = m, False
        return y

    def extra_repr(self):
        return f"{self.p}" + ("" if self.dims is None else f", dims={self.dims}")
