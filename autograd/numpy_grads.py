"""Gradients of numpy's elementwise, reduction, shape and indexing functions.

Every gradient is written with numpy calls, so when the values it receives
are themselves recorded (higher-order differentiation) the gradient
computation is recorded too.
"""
import numpy as np

from .core import FUNCTIONS, Primitive, Value, _raw, primitive, zerograd
from .sparse import Sparse


def defgrad(fn, *grads, nary_grad=None):
    """Register gradients for an existing numpy function; returns the primitive."""
    return primitive(*grads, nary_grad=nary_grad)(fn)


def _shape(x):
    return np.shape(_raw(x))


def _dtype(x):
    return np.result_type(_raw(x))


def _fit(dy, x):
    """dy passed straight through to input ``x``: a Sparse dy of the
    (broadcast) output shape is densified unless it already has x's shape,
    because the tape sums only dense gradients back over broadcast axes."""
    if dy.__class__ is Sparse and dy.shape != _shape(x):
        return dy.dense()
    return dy


# ------------------------------------------------------------ elementwise
LN2, LN10 = np.log(2.0), np.log(10.0)

defgrad(np.add, lambda dy, y, a, b: _fit(dy, a), lambda dy, y, a, b: _fit(dy, b))
defgrad(np.subtract, lambda dy, y, a, b: _fit(dy, a), lambda dy, y, a, b: -_fit(dy, b))
defgrad(np.multiply, lambda dy, y, a, b: dy * b, lambda dy, y, a, b: dy * a)
defgrad(np.true_divide, lambda dy, y, a, b: dy / b, lambda dy, y, a, b: -dy * y / b)
defgrad(np.negative, lambda dy, y, x: -dy)
defgrad(np.positive, lambda dy, y, x: dy)
defgrad(np.exp, lambda dy, y, x: dy * y)
defgrad(np.exp2, lambda dy, y, x: dy * y * LN2)
defgrad(np.expm1, lambda dy, y, x: dy * (y + 1))
defgrad(np.log, lambda dy, y, x: dy / x)
defgrad(np.log2, lambda dy, y, x: dy / (x * LN2))
defgrad(np.log10, lambda dy, y, x: dy / (x * LN10))
defgrad(np.log1p, lambda dy, y, x: dy / (x + 1))
defgrad(np.sqrt, lambda dy, y, x: dy * 0.5 / y)
defgrad(np.cbrt, lambda dy, y, x: dy / (3 * y * y))
defgrad(np.square, lambda dy, y, x: dy * 2 * x)
defgrad(np.reciprocal, lambda dy, y, x: -dy * y * y)
defgrad(np.sin, lambda dy, y, x: dy * np.cos(x))
defgrad(np.cos, lambda dy, y, x: -dy * np.sin(x))
defgrad(np.tan, lambda dy, y, x: dy * (1 + y * y))
defgrad(np.arcsin, lambda dy, y, x: dy / np.sqrt(1 - x * x))
defgrad(np.arccos, lambda dy, y, x: -dy / np.sqrt(1 - x * x))
defgrad(np.arctan, lambda dy, y, x: dy / (1 + x * x))
defgrad(np.sinh, lambda dy, y, x: dy * np.cosh(x))
defgrad(np.cosh, lambda dy, y, x: dy * np.sinh(x))
defgrad(np.tanh, lambda dy, y, x: dy * (1 - y * y))
defgrad(np.arcsinh, lambda dy, y, x: dy / np.sqrt(x * x + 1))
defgrad(np.arccosh, lambda dy, y, x: dy / np.sqrt(x * x - 1))
defgrad(np.arctanh, lambda dy, y, x: dy / (1 - x * x))
defgrad(np.deg2rad, lambda dy, y, x: dy * (np.pi / 180))
defgrad(np.rad2deg, lambda dy, y, x: dy * (180 / np.pi))
defgrad(np.absolute, lambda dy, y, x: dy * np.sign(x))
defgrad(np.fabs, lambda dy, y, x: dy * np.sign(x))
defgrad(np.logaddexp, lambda dy, y, a, b: dy * np.exp(a - y), lambda dy, y, a, b: dy * np.exp(b - y))
defgrad(np.logaddexp2, lambda dy, y, a, b: dy * np.exp2(a - y),
        lambda dy, y, a, b: dy * np.exp2(b - y))
defgrad(np.arctan2, lambda dy, y, a, b: dy * b / (a * a + b * b),
        lambda dy, y, a, b: -dy * a / (a * a + b * b))
defgrad(np.hypot, lambda dy, y, a, b: dy * a / y, lambda dy, y, a, b: dy * b / y)
defgrad(np.remainder, lambda dy, y, a, b: _fit(dy, a), lambda dy, y, a, b: -dy * np.floor_divide(a, b))
defgrad(np.fmod, lambda dy, y, a, b: _fit(dy, a), lambda dy, y, a, b: -dy * np.trunc(np.true_divide(a, b)))


def _pick(first):
    """Gradient of max/min-like choices: the chosen side gets dy, a tie splits it."""
    def g(dy, y, a, b):
        a, b, y = _raw(a), _raw(b), _raw(y)
        chosen = np.equal(a if first else b, y)
        return dy * (chosen * (1.0 - 0.5 * np.equal(a, b)))
    return g


for _f in (np.maximum, np.minimum, np.fmax, np.fmin):
    defgrad(_f, _pick(True), _pick(False))


def _power_base(dy, y, a, b):
    return dy * b * np.power(a, b - 1)


def _power_exponent(dy, y, a, b):
    positive = np.greater(a, 0)
    return dy * y * np.log(np.where(positive, a, 1))


defgrad(np.power, _power_base, _power_exponent)
defgrad(np.float_power, _power_base, _power_exponent)

for _f in (np.sign, np.floor, np.ceil, np.rint, np.trunc, np.floor_divide, np.isnan, np.isinf,
           np.isfinite, np.signbit, np.equal, np.not_equal, np.less, np.less_equal, np.greater,
           np.greater_equal, np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
           np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.heaviside, np.spacing,
           np.isnat, np.iscomplex, np.isreal, np.isneginf, np.isposinf, np.fix, np.round,
           np.around, np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.argwhere,
           np.nonzero, np.flatnonzero, np.count_nonzero, np.all, np.any, np.allclose, np.isclose,
           np.array_equal, np.array_equiv, np.zeros_like, np.ones_like, np.empty_like,
           np.searchsorted, np.unique, np.result_type, np.iscomplexobj, np.isrealobj,
           np.bincount, np.digitize, np.histogram, np.sort_complex, np.lexsort, np.copysign,
           np.nextafter, np.array_str, np.array_repr, np.ravel_multi_index, np.unravel_index,
           np.may_share_memory, np.shares_memory, np.isscalar, np.tril_indices_from,
           np.triu_indices_from, np.diag_indices_from, np.full_like, np.argpartition,
           np.can_cast, np.min_scalar_type, np.common_type, np.nanargmax, np.nanargmin):
    zerograd(_f)


def _where_x(dy, y, c, a, b):
    return np.where(c, dy, 0)


def _where_y(dy, y, c, a, b):
    return np.where(c, 0, dy)


defgrad(np.where, None, _where_x, _where_y)


def _clip_grad(dy, y, x, lo=None, hi=None, *a, **k):
    keep = np.ones(_shape(x), bool)
    if lo is not None:
        keep &= np.greater_equal(_raw(x), _raw(lo))
    if hi is not None:
        keep &= np.less_equal(_raw(x), _raw(hi))
    return dy * keep


defgrad(np.clip, _clip_grad)


# ------------------------------------------------------------ reductions
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axis) if ndim else ()


def _expand(dy, x, axis, keepdims):
    """dy of a reduction reshaped so that it broadcasts against x."""
    shape = _shape(x)
    if keepdims or not shape:
        return dy
    kept = list(shape)
    for a in _axes(axis, len(shape)):
        kept[a] = 1
    return np.reshape(dy, kept)


def broadcast_back(g, shape):
    """g broadcast to ``shape``: a fresh array, or a recorded broadcast."""
    if isinstance(g, Value):
        return np.broadcast_to(g, shape)
    if g.__class__ is Sparse:
        g = g.dense()
    out = np.empty_like(g, shape=shape)     # empty_like keeps g's array type (device)
    out[...] = g
    return out


def _count(x, axis):
    shape = _shape(x)
    return int(np.prod([shape[a] for a in _axes(axis, len(shape))]))


def _sum_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    if axis is None:      # dy is a scalar (or all-ones shape): it broadcasts as it is
        return broadcast_back(dy, _shape(x))
    return broadcast_back(_expand(dy, x, axis, keepdims), _shape(x))


def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """np.sum, calling the reduction directly for ndarrays (saves numpy's Python wrapper)."""
    if a.__class__ is np.ndarray:
        return np.add.reduce(a, axis, dtype, out, keepdims, **kw)
    return np.sum(a, axis, dtype, out, keepdims=keepdims, **kw)


def _mean_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return broadcast_back(_expand(dy, x, axis, keepdims) / _count(x, axis), _shape(x))


def _extreme_grad(dy, y, x, axis=None, out=None, keepdims=False, **kw):
    hit = np.equal(_raw(x), _expand(_raw(y), x, axis, keepdims))
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return _expand(dy, x, axis, keepdims) * share


def _prod_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    ax = _axes(axis, len(_shape(x)))
    if len(ax) == 1 and np.any(np.equal(_raw(x), 0)):
        # product of the others without dividing by zero: exclusive cumprods both ways
        a = ax[0]
        left = np.cumprod(np.concatenate([np.ones_like(np.take(_raw(x), [0], a)),
                                          np.take(x, range(_shape(x)[a] - 1), axis=a)], a), axis=a)
        rev = np.flip(x, a)
        right = np.flip(np.cumprod(np.concatenate(
            [np.ones_like(np.take(_raw(x), [0], a)),
             np.take(rev, range(_shape(x)[a] - 1), axis=a)], a), axis=a), a)
        return _expand(dy, x, axis, keepdims) * left * right
    return _expand(dy, x, axis, keepdims) * _expand(y, x, axis, keepdims) / x


_sum = FUNCTIONS[np.sum] = Primitive(_np_sum, (_sum_grad,))
defgrad(np.mean, _mean_grad)
for _f in (np.max, np.min, np.amax, np.amin):
    defgrad(_f, _extreme_grad)
defgrad(np.prod, _prod_grad)


def _var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    n = _count(x, axis)
    d = x - np.mean(x, axis=axis, keepdims=True)
    return np.sum(d * d, axis=axis, keepdims=keepdims) / (n - ddof)


def _std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    return np.sqrt(_var(x, axis=axis, ddof=ddof, keepdims=keepdims))


FUNCTIONS[np.var] = _var
FUNCTIONS[np.std] = _std


def _cumsum_grad(dy, y, x, axis=None, dtype=None, out=None):
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(dy))), _shape(x))
    return np.flip(np.cumsum(np.flip(dy, axis), axis=axis), axis)


defgrad(np.cumsum, _cumsum_grad)


def _cumprod_grad(dy, y, x, axis=None, dtype=None, out=None):
    # d y_j / d x_i = y_j / x_i for j >= i (x without zeros)
    if axis is None:
        return np.reshape(_cumprod_grad(dy, y, np.ravel(x), 0), _shape(x))
    return np.flip(np.cumsum(np.flip(dy * y, axis), axis=axis), axis) / x


defgrad(np.cumprod, _cumprod_grad)


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
defgrad(np.swapaxes, lambda dy, y, x, a, b: np.swapaxes(dy, a, b))
defgrad(np.moveaxis, lambda dy, y, x, src, dst: np.moveaxis(dy, dst, src))
defgrad(np.broadcast_to, lambda dy, y, x, shape, **k: _fit(dy, x))     # summed back by unbroadcast
defgrad(np.flip, lambda dy, y, x, axis=None: np.flip(dy, axis))
defgrad(np.fliplr, lambda dy, y, x: np.fliplr(dy))
defgrad(np.flipud, lambda dy, y, x: np.flipud(dy))
defgrad(np.roll, lambda dy, y, x, shift, axis=None:
        np.roll(dy, tuple(-s for s in shift) if isinstance(shift, tuple) else -shift, axis))
defgrad(np.rot90, lambda dy, y, x, k=1, axes=(0, 1): np.rot90(dy, -k, axes))


def _astype(x, dtype):
    return np.asarray(x).astype(dtype)


FUNCTIONS["astype"] = Primitive(_astype, (lambda dy, y, x, dtype: FUNCTIONS["astype"](dy, _dtype(x)),))
FUNCTIONS["copy"] = Primitive(np.copy, (lambda dy, y, x: dy,))
defgrad(np.copy, lambda dy, y, x, *a, **k: dy)
defgrad(np.asarray, lambda dy, y, x, *a, **k: dy)
defgrad(np.ascontiguousarray, lambda dy, y, x, *a, **k: dy)
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
    if out is not None or kw.get("dtype") is not None:
        raise ValueError("concatenate: out= and dtype= are not supported on recorded arrays")
    return _concat_prim(axis, *arrays)


def stack(arrays, axis=0, out=None, **kw):
    arrays = list(arrays)
    if not arrays:
        raise ValueError("stack: need at least one array")
    ax = axis % (np.ndim(_raw(arrays[0])) + 1)
    return _concat_prim(ax, *[np.expand_dims(a, ax) for a in arrays])


def hstack(tup, **kw):
    arrs = [np.atleast_1d(a) for a in tup]
    return _concat_prim(0 if np.ndim(_raw(arrs[0])) == 1 else 1, *arrs)


def vstack(tup, **kw):
    return _concat_prim(0, *[np.atleast_2d(a) for a in tup])


def split(ary, indices_or_sections, axis=0):
    n = _shape(ary)[axis]
    if np.ndim(indices_or_sections) == 0:
        k = int(indices_or_sections)
        if n % k:
            raise ValueError(f"split: array of length {n} does not divide into {k} equal parts")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0] + list(indices_or_sections) + [n]
    lead = (slice(None),) * (axis % len(_shape(ary)))
    return [ary[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


def array_split(ary, indices_or_sections, axis=0):
    if np.ndim(indices_or_sections) == 0:
        n, k = _shape(ary)[axis], int(indices_or_sections)
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        indices_or_sections = list(np.cumsum(sizes)[:-1])
    return split(ary, indices_or_sections, axis)


FUNCTIONS.update({np.concatenate: concatenate, np.stack: stack, np.hstack: hstack,
                  np.vstack: vstack, np.split: split, np.array_split: array_split})


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
    bounds = np.concatenate([[0], np.cumsum(repeats)])
    return np.add.reduceat(_raw(dy), bounds[:-1], axis=ax) if not isinstance(dy, Value) else \
        np.stack([np.sum(dy[(slice(None),) * ax + (slice(a, b),)], axis=ax)
                  for a, b in zip(bounds[:-1], bounds[1:])], axis=ax)


defgrad(np.repeat, _repeat_grad)


def _tile(x, reps):
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    shape = _shape(x)
    d = max(len(shape), len(reps))
    x = np.reshape(x, (1,) * (d - len(shape)) + shape)
    reps = (1,) * (d - len(reps)) + reps
    shape = _shape(x)
    inter = []
    for r, n in zip(reps, shape):
        inter += [r, n]
    b = np.broadcast_to(np.reshape(x, tuple(v for n in shape for v in (1, n))), inter)
    return np.reshape(b, tuple(r * n for r, n in zip(reps, shape)))


FUNCTIONS[np.tile] = _tile


# ------------------------------------------------------------ indexing
def _untake(dy, index, shape):
    out = np.zeros(shape, np.result_type(dy))
    np.add.at(out, index, dy)
    return out


_untake_prim = Primitive(_untake, (lambda ddy, y, dy, index, shape: ddy[index],))


def _getitem_grad(dy, y, x, index):
    if isinstance(dy, Value):
        return _untake_prim(dy, index, _shape(x))
    return Sparse(_shape(x), _dtype(x), [(index, dy)])


def _getitem(x, index):
    return x[index]


_getitem_prim = Primitive(_getitem, (_getitem_grad,))


def getitem(x, index):
    if isinstance(index, Value) or isinstance(index, (tuple, list)) and any(
            isinstance(i, Value) for i in index):
        index = type(index)(_raw(i) for i in index) if isinstance(index, (tuple, list)) \
            else _raw(index)
    if isinstance(index, list):
        index = np.asarray(index)
    return _getitem_prim(x, index)


FUNCTIONS["getitem"] = getitem


def take(a, indices, axis=None, out=None, mode="raise"):
    if axis is None:
        return getitem(np.ravel(a), np.asarray(_raw(indices)))
    return getitem(a, (slice(None),) * (axis % len(_shape(a))) + (np.asarray(_raw(indices)),))


FUNCTIONS[np.take] = take


def _take_along_axis(arr, indices, axis):
    return np.take_along_axis(arr, indices, axis)


def _take_along_grad(dy, y, arr, indices, axis):
    if axis is None:
        return np.reshape(_take_along_grad(dy, y, np.ravel(arr), indices, 0), _shape(arr))
    idx = list(np.ix_(*[np.arange(n) for n in _shape(indices)]))
    idx[axis % len(idx)] = indices
    return _getitem_grad(dy, y, arr, tuple(idx))


defgrad(np.take_along_axis, _take_along_grad)


# ------------------------------------------------------------ products
def _T(a):
    return np.swapaxes(a, -1, -2)


def _matmul_ga(dy, y, a, b):
    if np.ndim(_raw(b)) == 1:
        return np.expand_dims(dy, -1) * b
    if np.ndim(_raw(a)) == 1:
        return np.squeeze(np.matmul(b, np.expand_dims(dy, -1)), -1)
    return np.matmul(dy, _T(b))


def _matmul_gb(dy, y, a, b):
    na, nb = np.ndim(_raw(a)), np.ndim(_raw(b))
    if na == 1 and nb == 1:
        return dy * a
    if na == 1:
        return np.expand_dims(a, -1) * np.expand_dims(dy, -2)
    if nb == 1:
        return np.squeeze(np.matmul(_T(a), np.expand_dims(dy, -1)), -1)
    return np.matmul(_T(a), dy)


_matmul = defgrad(np.matmul, _matmul_ga, _matmul_gb)


def dot(a, b, out=None):
    if out is not None:
        raise ValueError("dot: out= is not supported on recorded arrays")
    na, nb = np.ndim(_raw(a)), np.ndim(_raw(b))
    if na == 0 or nb == 0:
        return a * b
    if nb <= 2:
        return _matmul(a, b)
    return np.tensordot(a, b, axes=([na - 1], [nb - 2]))


FUNCTIONS[np.dot] = dot
FUNCTIONS[np.matmul] = _matmul
