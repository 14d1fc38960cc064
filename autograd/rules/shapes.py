"""Shape functions: reshape, transpose, flips, astype/copy, concatenate and
stack, split, pad, repeat, tile, diagonal and triangles.

Every gradient is written with numpy calls, so it is recorded again when
differentiated a second time."""
import numpy as np

from ..boxes import Value, raw as _raw
from ..core import Primitive
from ..registry import ASTYPE, COPY, defgrad, register, register_each
from ..sparse import Sparse
from .common import _dtype, _fit, _shape


# ------------------------------------------------------------ shapes
def _reshape_back(dy, y, x, *a, **k):
    return np.reshape(dy, _shape(x))


for _f in (np.reshape, np.ravel, np.squeeze, np.expand_dims, np.atleast_1d, np.atleast_2d,
           np.atleast_3d):
    defgrad(_f, _reshape_back)


def _transpose_grad(dy, y, x, axes=None):
    if axes is None:
        return np.transpose(dy)
    return np.transpose(dy, np.argsort([a % len(axes) for a in axes]))


defgrad(np.transpose, _transpose_grad)
# (numpy's parameter names: the axes may be passed as keywords)
defgrad(np.swapaxes, lambda dy, y, x, axis1, axis2: np.swapaxes(dy, axis1, axis2))
defgrad(np.moveaxis, lambda dy, y, x, source, destination: np.moveaxis(dy, destination, source))
defgrad(np.broadcast_to, lambda dy, y, x, shape, **k: _fit(dy, x))     # summed back by unbroadcast
defgrad(np.flip, lambda dy, y, x, axis=None: np.flip(dy, axis))
defgrad(np.fliplr, lambda dy, y, x: np.fliplr(dy))
defgrad(np.flipud, lambda dy, y, x: np.flipud(dy))
defgrad(np.roll, lambda dy, y, x, shift, axis=None:
        np.roll(dy, tuple(-s for s in shift) if isinstance(shift, tuple) else -shift, axis))
defgrad(np.rot90, lambda dy, y, x, k=1, axes=(0, 1): np.rot90(dy, -k, axes))


def _astype(x, dtype):
    return np.asarray(x).astype(dtype)


def _astype_grad(dy, y, x, dtype):
    """dy back in x's dtype; a real x takes the real part of a complex dy."""
    if np.iscomplexobj(_raw(dy)) and not np.iscomplexobj(_raw(x)):
        dy = np.real(dy)
    return astype(dy, _dtype(x))


astype = register(ASTYPE, Primitive(_astype, (_astype_grad,)))
register(COPY, Primitive(np.copy, (lambda dy, y, x: dy,)))
defgrad(np.copy, lambda dy, y, x, *a, **k: dy)
# np.asarray / np.array / np.ascontiguousarray are not dispatched by numpy
# (they call __array__), so they cannot be registered: on a recorded value
# they return a plain array.
defgrad(np.real, lambda dy, y, x: np.real(dy))


def _concat(axis, *arrays):
    return np.concatenate(arrays, axis=axis)


def _concat_grad(i, dy, y, axis, *arrays):
    if isinstance(dy, Sparse):
        dy = dy.dense()
    if axis is None:
        sizes = [np.size(_raw(a)) for a in arrays]
        start = sum(sizes[:i - 1])
        return np.reshape(dy[start:start + sizes[i - 1]], _shape(arrays[i - 1]))
    ax = axis % np.ndim(_raw(dy))
    sizes = [_shape(a)[ax] for a in arrays]
    start = sum(sizes[:i - 1])
    return dy[(slice(None),) * ax + (slice(start, start + sizes[i - 1]),)]


_concat_prim = Primitive(_concat, (None,), nary_grad=_concat_grad)


def concatenate(arrays, axis=0, out=None, **kw):
    """np.concatenate(arrays, axis=0) on recorded values; each input's gradient
    is its slice of the output gradient.

    >>> from autograd import grad
    >>> grad(lambda a: np.sum(np.concatenate([a, 2 * a]) ** 2))(np.ones(2))
    array([10., 10.])"""
    if out is not None or kw.get("dtype") is not None:
        raise ValueError("concatenate: out= and dtype= are not supported on recorded arrays")
    return _concat_prim(axis, *arrays)


def stack(arrays, axis=0, out=None, **kw):
    """np.stack(arrays, axis=0) on recorded values (expand_dims + concatenate).

    >>> np.stack([np.ones(2), np.zeros(2)], axis=1).shape
    (2, 2)"""
    arrays = list(arrays)
    if not arrays:
        raise ValueError("stack: need at least one array")
    ax = axis % (np.ndim(_raw(arrays[0])) + 1)
    return _concat_prim(ax, *[np.expand_dims(a, ax) for a in arrays])


def _pad_grad(dy, y, x, pad_width, mode="constant", **kw):
    if mode != "constant":
        raise NotImplementedError(f"gradient of np.pad with mode={mode!r} is not supported "
                                  "(only mode='constant')")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (len(_shape(x)), 2))
    return dy[tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, _shape(x)))]


defgrad(np.pad, _pad_grad)


def _repeat_grad(dy, y, x, repeats, axis=None):
    shape = _shape(x)
    if axis is None:
        flat = np.ravel(x)
        return np.reshape(_repeat_grad(dy, y, flat, repeats, 0), shape)
    ax = axis % len(shape)
    if np.ndim(repeats) == 0:
        r = int(repeats)
        split_shape = shape[:ax] + (shape[ax], r) + shape[ax + 1:]
        return np.sum(np.reshape(dy, split_shape), axis=ax + 1)
    if np.size(repeats) == 1:
        return _repeat_grad(dy, y, x, int(np.ravel(repeats)[0]), axis)
    bounds = np.concatenate([[0], np.cumsum(repeats)])
    if not isinstance(dy, Value):
        # reduceat gives the element at an empty range, so mask rows repeated 0 times;
        # a zero row padded at the end keeps every start index valid (no clipping)
        kept = np.reshape(np.greater(repeats, 0), [-1 if i == ax else 1 for i in range(len(shape))])
        pad = [(0, int(i == ax)) for i in range(len(shape))]
        return np.add.reduceat(np.pad(_raw(dy), pad), bounds[:-1], axis=ax) * kept
    return \
        np.stack([np.sum(dy[(slice(None),) * ax + (slice(a, b),)], axis=ax)
                  for a, b in zip(bounds[:-1], bounds[1:])], axis=ax)


defgrad(np.repeat, _repeat_grad)


# ------------------------------------------------------------ more shapes
def _diagonal(a, offset=0, axis1=0, axis2=1):
    return np.diagonal(a, offset, axis1, axis2)


def _undiagonal(d, shape, offset=0, axis1=0, axis2=1):
    """The array of ``shape`` that is zero except that its diagonal (offset,
    axis1, axis2) holds ``d``: the adjoint of np.diagonal."""
    nd = len(shape)
    a1, a2 = axis1 % nd, axis2 % nd
    moved = [s for i, s in enumerate(shape) if i not in (a1, a2)] + [shape[a1], shape[a2]]
    out = np.zeros(moved, np.result_type(d, np.float64) if np.result_type(d).kind in "iub"
                   else np.result_type(d))
    i = np.arange(np.shape(d)[-1] if np.ndim(d) else 0)
    out[..., i + max(-offset, 0), i + max(offset, 0)] = d
    return np.moveaxis(out, [nd - 2, nd - 1], [a1, a2])


_undiagonal_prim = Primitive(_undiagonal, (
    lambda dy, y, d, shape, offset=0, axis1=0, axis2=1: _diagonal_prim(dy, offset, axis1, axis2),))
_diagonal_prim = Primitive(_diagonal, (
    lambda dy, y, a, offset=0, axis1=0, axis2=1:
    _undiagonal_prim(dy, _shape(a), offset, axis1, axis2),))


def diagonal(a, offset=0, axis1=0, axis2=1):
    """np.diagonal(a, offset=0, axis1=0, axis2=1) on recorded values; its
    gradient puts dy back on the same diagonal of zeros.

    >>> from autograd import grad
    >>> grad(lambda a: np.sum(np.diagonal(a)))(np.zeros((2, 3)))
    array([[1., 0., 0.],
           [0., 1., 0.]])"""
    return _diagonal_prim(a, offset, axis1, axis2)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """np.trace(a, offset=0, axis1=0, axis2=1) on recorded values (sum of the diagonal).

    >>> from autograd import grad
    >>> grad(np.trace)(np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])"""
    return np.sum(_diagonal_prim(a, offset, axis1, axis2), axis=-1)


register_each({np.diagonal: diagonal, np.trace: trace})
