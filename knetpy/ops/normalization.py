"""Standardization over chosen axes: the one primitive behind layer, group,
instance and RMS normalization (``knetpy.layers``).

``normalize(x, gamma, beta, axes, eps, center=True)`` computes
``y = (x - mean) / sqrt(var + eps) * gamma + beta`` with mean and variance over
``axes`` (with ``center=False``: ``y = x / sqrt(mean(x²) + eps) * gamma + beta``,
RMS normalization).  ``gamma``/``beta`` come already broadcastable against x.
The forward keeps xhat and 1/std for the hand-written backward; when the
backward's inputs are themselves recorded (higher order) everything is
recomputed with recorded numpy calls.  Statistics are computed in float32 or
wider and the result has x's dtype.
"""
import numpy as np

from autograd.core import Value, raw, primitive

__all__ = ["normalize", "compute_dtype", "cast", "recorded", "standard_stats"]


def compute_dtype(dt):
    """compute_dtype(dt): float32 or wider (float16 inputs are computed in float32).

    >>> compute_dtype(np.float16)
    dtype('float32')
    """
    return np.promote_types(np.dtype(dt), np.float32)


def cast(x, dt):
    """cast(x, dt): ``x`` itself when its dtype is ``dt``, else ``x.astype(dt)``
    (recorded when ``x`` is).

    >>> cast(np.ones(2), np.float32).dtype
    dtype('float32')
    """
    return x if np.result_type(raw(x)) == dt else x.astype(dt)


def recorded(*a):
    """recorded(*a): True when any argument is a recorded value (a Param or Result).

    >>> recorded(np.ones(2), None)
    False
    """
    return any(isinstance(v, Value) for v in a)


class _Work:
    __slots__ = ("xhat", "inv")

    def __init__(self):
        self.xhat = self.inv = None


def standard_stats(xc, axes, eps, center):
    """standard_stats(xc, axes, eps, center) -> (xhat, inv): ``xc`` standardized
    over ``axes`` and 1/std (kept dims); works on recorded values.

    >>> xh, inv = standard_stats(np.array([[1.0, 3.0]]), (1,), 0.0, True)
    >>> xh.tolist(), inv.tolist()
    ([[-1.0, 1.0]], [[1.0]])
    """
    if _rows_ok(xc, axes):
        return _stats_rows(xc, axes, eps, center)
    if center:
        xc = xc - np.mean(xc, axis=axes, keepdims=True)
    inv = 1 / np.sqrt(np.mean(xc * xc, axis=axes, keepdims=True) + eps)
    return xc * inv, inv
def _rows_ok(a, axes):
    """True for a plain numpy array reduced over its trailing axes: the fast
    in-place path views it as (rows, K) and reduces each row."""
    nd = a.ndim if isinstance(a, np.ndarray) else -1
    return nd > 0 and axes == tuple(range(nd - len(axes), nd))


def _rows_shape(shape, axes):
    """(rows, K) and the keepdims shape of a per-row statistic."""
    lead = shape[:len(shape) - len(axes)]
    return (int(np.prod(lead, dtype=np.int64)), -1), lead + (1,) * len(axes)


def _stats_rows(xc, axes, eps, center):
    (M, _), kshape = _rows_shape(xc.shape, axes)
    x2 = xc.reshape(M, -1)
    K = x2.shape[1]
    xh = x2 - x2.mean(axis=1, keepdims=True) if center else x2.copy()
    inv = 1 / np.sqrt(np.einsum("ij,ij->i", xh, xh) / K + eps)
    xh *= inv[:, None]
    return xh.reshape(xc.shape), inv.reshape(kshape)


def _saved(x, ws, axes, eps, center, cd):
    if ws.xhat is None or recorded(x):
        return standard_stats(cast(x, cd), axes, eps, center)
    return ws.xhat, ws.inv


def _std_grad_x(dy, y, x, gamma, beta, ws, axes, eps, center):
    dt = np.result_type(raw(x))
    cd = compute_dtype(dt)
    xhat, inv = _saved(x, ws, axes, eps, center, cd)
    if not recorded(dy, x, gamma) and _rows_ok(xhat, axes) and isinstance(dy, np.ndarray):
        # dx = inv*g - inv*mean(g) - inv*mean(g*xhat)*xhat, row by row, in place
        g = np.multiply(dy, gamma, dtype=cd) if gamma is not None else np.array(dy, cd)
        (M, _), _ = _rows_shape(xhat.shape, axes)
        g2, xh2, inv1 = g.reshape(M, -1), xhat.reshape(M, -1), inv.reshape(M)
        K = g2.shape[1]
        proj = np.einsum("ij,ij->i", g2, xh2) / K
        mg = g2.mean(axis=1) if center else None
        g2 *= inv1[:, None]
        g2 -= xh2 * (inv1 * proj)[:, None]
        if center:
            g2 -= (inv1 * mg)[:, None]
        return g.astype(dt, copy=False)
    g = cast(dy, cd)
    if gamma is not None:
        g = g * cast(gamma, cd)
    proj = np.mean(g * xhat, axis=axes, keepdims=True)
    if center:
        dx = inv * (g - np.mean(g, axis=axes, keepdims=True) - xhat * proj)
    else:
        dx = inv * (g - xhat * proj)
    return cast(dx, dt)


def _std_grad_gamma(dy, y, x, gamma, beta, ws, axes, eps, center):
    cd = compute_dtype(np.result_type(raw(x)))
    xhat, _ = _saved(x, ws, axes, eps, center, cd)
    return cast(dy, cd) * xhat


def _std_grad_beta(dy, y, x, gamma, beta, ws, axes, eps, center):
    return dy


@primitive(_std_grad_x, _std_grad_gamma, _std_grad_beta)
def _standardize(x, gamma, beta, ws, axes, eps, center):
    dt = np.result_type(x)
    cd = compute_dtype(dt)
    xhat, inv = standard_stats(cast(x, cd), axes, eps, center)
    if ws is not None:
        ws.xhat, ws.inv = xhat, inv
    y = xhat
    if gamma is not None:
        y = y * cast(gamma, cd)
    if beta is not None:
        y = y + cast(beta, cd)
    return cast(y, dt)


def normalize(x, gamma, beta, axes, eps, center=True):
    """normalize(x, gamma, beta, axes, eps, center=True): ``x`` standardized over
    ``axes`` (a tuple), times ``gamma`` plus ``beta`` (None or broadcastable
    against x); one primitive with a hand-written backward.

    >>> normalize(np.array([[1.0, 3.0]]), None, None, (1,), 0.0)
    array([[-1.,  1.]])
    """
    return _standardize(x, gamma, beta, _Work(), axes=tuple(axes), eps=eps, center=center)


