"""Array utilities: bmm (batched matrix product) and mat (flatten to a matrix).

Both follow the batch-first, row-major layout: Knet's ``(m, n, b...)`` batch
of matrices is ``(b..., m, n)`` here, and Knet's "join the first k dims" of
a column-major array is "join the last k axes" of the same memory here.
"""
import math
import numbers

import numpy as np

from autograd.core import raw

__all__ = ["bmm", "mat"]


def bmm(a, b, trans_a=False, trans_b=False):
    """bmm(a, b, trans_a=False, trans_b=False): batched matrix product.

    ``a`` is ``(B..., m, n)`` and ``b`` is ``(B..., n, k)`` with the same batch
    dims (leading); the result is ``(B..., m, k)``, ``result[i] = a[i] @ b[i]``.
    ``trans_a``/``trans_b`` transpose the last two axes of ``a``/``b`` first.

    >>> bmm(np.ones((4, 2, 3)), np.ones((4, 3, 5))).shape
    (4, 2, 5)
    """
    sa, sb = np.shape(raw(a)), np.shape(raw(b))
    if len(sa) < 2 or len(sb) < 2:
        raise ValueError(f"bmm: a and b must have at least 2 dims, got shapes {sa} and {sb}")
    if sa[:-2] != sb[:-2]:
        raise ValueError(f"bmm: the batch dims of a {sa[:-2]} and b {sb[:-2]} must match")
    if trans_a:
        a, sa = np.swapaxes(a, -1, -2), sa[:-2] + (sa[-1], sa[-2])
    if trans_b:
        b, sb = np.swapaxes(b, -1, -2), sb[:-2] + (sb[-1], sb[-2])
    if sa[-1] != sb[-2]:
        raise ValueError(f"bmm: inner dims differ: a is {sa}, b is {sb} "
                         f"(after trans_a={trans_a}, trans_b={trans_b})")
    return np.matmul(a, b)


def mat(x, dims=None):
    """mat(x, dims=x.ndim - 1): reshape ``x`` into a matrix whose second axis joins
    the last ``dims`` axes: shape ``(prod(shape[:ndim-dims]), prod(shape[ndim-dims:]))``.

    The default flattens every instance of a batch-first array: a conv output
    ``(N, C, H, W)`` becomes ``(N, C*H*W)``.  ``dims=1`` turns an RNN output
    ``(T, B, H)`` into ``(T*B, H)``; ``dims=0`` gives ``(size, 1)`` and
    ``dims=ndim`` gives ``(1, size)`` (Knet's mat on the same memory).

    >>> mat(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    >>> mat(np.zeros((7, 2, 3)), dims=1).shape
    (14, 3)
    """
    r = raw(x)
    shape = r.shape if r.__class__ is np.ndarray else np.shape(r)
    nd = len(shape)
    dims = nd - 1 if dims is None else dims
    if not isinstance(dims, numbers.Integral) or not 0 <= dims <= nd:
        raise ValueError(f"mat: dims must be an int in 0..{nd} for an array with {nd} dims, "
                         f"got {dims!r}")
    split = nd - dims
    new = (math.prod(shape[:split]), math.prod(shape[split:]))
    if x.__class__ is np.ndarray:            # a constant (the data): no dispatch
        return x.reshape(new)
    return np.reshape(x, new)
