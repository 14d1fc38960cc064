"""Gradients of numpy's elementwise, reduction, shape and indexing functions.

Every gradient is written with numpy calls, so when the values it receives
are themselves recorded (higher-order differentiation) the gradient
computation is recorded too.
"""
import numpy as np

from .core import Primitive, Value, _raw
from .registry import ASTYPE, COPY, GETITEM, defgrad, register, register_each, zerograd
from .sparse import Sparse


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

# (the Sparse test is inlined: add and subtract are the most frequent gradients)
defgrad(np.add, lambda dy, y, a, b: dy if dy.__class__ is not Sparse else _fit(dy, a),
        lambda dy, y, a, b: dy if dy.__class__ is not Sparse else _fit(dy, b))
defgrad(np.subtract, lambda dy, y, a, b: dy if dy.__class__ is not Sparse else _fit(dy, a),
        lambda dy, y, a, b: -dy if dy.__class__ is not Sparse else -_fit(dy, b))
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
defgrad(np.logaddexp, lambda dy, y, a, b: dy * np.exp(a - y),
        lambda dy, y, a, b: dy * np.exp(b - y))
defgrad(np.logaddexp2, lambda dy, y, a, b: dy * np.exp2(a - y),
        lambda dy, y, a, b: dy * np.exp2(b - y))
defgrad(np.arctan2, lambda dy, y, a, b: dy * b / (a * a + b * b),
        lambda dy, y, a, b: -dy * a / (a * a + b * b))
defgrad(np.hypot, lambda dy, y, a, b: dy * a / y, lambda dy, y, a, b: dy * b / y)
defgrad(np.remainder, lambda dy, y, a, b: _fit(dy, a),
        lambda dy, y, a, b: -dy * np.floor_divide(a, b))
defgrad(np.fmod, lambda dy, y, a, b: _fit(dy, a),
        lambda dy, y, a, b: -dy * np.trunc(np.true_divide(a, b)))


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
           np.bincount, np.digitize, np.histogram, np.sort_complex, np.lexsort, np.isin,
           np.nextafter, np.array_str, np.array_repr, np.ravel_multi_index, np.unravel_index,
           np.may_share_memory, np.shares_memory, np.tril_indices_from,
           np.triu_indices_from, np.diag_indices_from, np.full_like, np.argpartition,
           np.can_cast, np.min_scalar_type, np.common_type, np.nanargmax, np.nanargmin,
           np.gcd, np.lcm, np.left_shift, np.right_shift, np.bitwise_count):
    zerograd(_f)


def _where_x(dy, y, c, a, b):
    return np.where(c, dy, 0)


def _where_y(dy, y, c, a, b):
    return np.where(c, 0, dy)


defgrad(np.where, None, _where_x, _where_y)


def _clip_grad(dy, y, x, lo=None, hi=None, *a, **k):
    keep = np.ones(np.broadcast_shapes(_shape(x), _shape(lo), _shape(hi)), bool)
    if lo is not None:
        keep &= np.greater_equal(_raw(x), _raw(lo))
    if hi is not None:
        keep &= np.less_equal(_raw(x), _raw(hi))
    return dy * keep


def _clip_lo_grad(dy, y, x, lo=None, hi=None, *a, **k):
    # np.clip is minimum(maximum(x, lo), hi): lo shows when x < lo <= hi
    if lo is None:
        return None
    passed = np.less(_raw(x), _raw(lo))
    if hi is not None:
        passed = passed & np.less_equal(_raw(lo), _raw(hi))
    return dy * passed


def _clip_hi_grad(dy, y, x, lo=None, hi=None, *a, **k):
    if hi is None:
        return None
    m = _raw(x) if lo is None else np.maximum(_raw(x), _raw(lo))
    return dy * np.greater(m, _raw(hi))


defgrad(np.clip, _clip_grad, _clip_lo_grad, _clip_hi_grad)


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


def _where_mask(where):
    return None if where is None or where is True else _raw(where)


def _sum_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, where=None, **kw):
    where = _where_mask(where)
    if where is not None:
        return broadcast_back(_expand(dy, x, axis, keepdims) * where, _shape(x))
    if axis is None:      # dy is a scalar (or all-ones shape): it broadcasts as it is
        return broadcast_back(dy, _shape(x))
    return broadcast_back(_expand(dy, x, axis, keepdims), _shape(x))


def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """np.sum, calling the reduction directly for ndarrays (saves numpy's Python wrapper)."""
    if a.__class__ is np.ndarray:
        return np.add.reduce(a, axis, dtype, out, keepdims, **kw)
    return np.sum(a, axis, dtype, out, keepdims=keepdims, **kw)


def _mean_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, where=None, **kw):
    where = _where_mask(where)
    if where is not None:
        w = np.broadcast_to(where, _shape(x))
        return _expand(dy, x, axis, keepdims) * w / np.sum(w, axis=axis, keepdims=True)
    return broadcast_back(_expand(dy, x, axis, keepdims) / _count(x, axis), _shape(x))


def _extreme_grad(dy, y, x, axis=None, out=None, keepdims=False, where=None, **kw):
    hit = np.equal(_raw(x), _expand(_raw(y), x, axis, keepdims))
    where = _where_mask(where)
    if where is not None:        # entries left out, or ``initial`` won: no gradient there
        hit = hit & where
    share = hit / np.maximum(np.sum(hit, axis=axis, keepdims=True), 1)
    return _expand(dy, x, axis, keepdims) * share


def _others_product(x, a):
    """For each entry along axis a: the product of the other entries (no division,
    so zeros are fine): exclusive cumulative products from both ends."""
    n = _shape(x)[a]
    one = np.ones_like(np.take(_raw(x), [0], axis=a))
    left = np.cumprod(np.concatenate([one, np.take(x, range(n - 1), axis=a)], a), axis=a)
    rev = np.flip(x, a)
    right = np.flip(np.cumprod(np.concatenate([one, np.take(rev, range(n - 1), axis=a)], a),
                               axis=a), a)
    return left * right


def _prod_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    shape = _shape(x)
    ax = _axes(axis, len(shape))
    if not ax:
        return dy * np.ones(shape)
    if np.any(np.equal(_raw(x), 0)):
        if len(ax) == 1:
            g = _others_product(x, ax[0])
        else:      # reduce over several axes: gather them into one last axis
            rest = [i for i in range(len(shape)) if i not in ax]
            moved = np.reshape(np.transpose(x, rest + list(ax)), [shape[i] for i in rest] + [-1])
            g = np.reshape(_others_product(moved, -1),
                           [shape[i] for i in rest] + [shape[i] for i in ax])
            g = np.transpose(g, np.argsort(rest + list(ax)))
        return _expand(dy, x, axis, keepdims) * g
    return _expand(dy, x, axis, keepdims) * _expand(y, x, axis, keepdims) / x


_sum = register(np.sum, Primitive(_np_sum, (_sum_grad,)))
defgrad(np.mean, _mean_grad)
for _f in (np.max, np.min, np.amax, np.amin):
    defgrad(_f, _extreme_grad)
defgrad(np.prod, _prod_grad)


def _var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, **kw):
    """np.var on recorded values (mean of squared deviations, composite)."""
    where = _where_mask(where)
    if where is not None:
        n = np.sum(np.broadcast_to(where, _shape(x)), axis=axis, keepdims=keepdims)
        d = x - np.mean(x, axis=axis, keepdims=True, where=where)
        return np.sum(d * d, axis=axis, keepdims=keepdims, where=where) / (n - ddof)
    n = _count(x, axis)
    d = x - np.mean(x, axis=axis, keepdims=True)
    return np.sum(d * d, axis=axis, keepdims=keepdims) / (n - ddof)


def _std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, **kw):
    """np.std on recorded values: sqrt of np.var."""
    return np.sqrt(_var(x, axis=axis, ddof=ddof, keepdims=keepdims, where=where))


register_each({np.var: _var, np.std: _std})


def _cumsum_grad(dy, y, x, axis=None, dtype=None, out=None):
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(dy))), _shape(x))
    return np.flip(np.cumsum(np.flip(dy, axis), axis=axis), axis)


defgrad(np.cumsum, _cumsum_grad)


def _cumprod_grad(dy, y, x, axis=None, dtype=None, out=None):
    if axis is None:
        return np.reshape(_cumprod_grad(dy, y, np.ravel(x), 0), _shape(x))
    if not np.any(np.equal(_raw(x), 0)):
        # d y_j / d x_i = y_j / x_i for j >= i
        return np.flip(np.cumsum(np.flip(dy * y, axis), axis=axis), axis) / x
    # with zeros: g_i = (prod_{k<i} x_k) * sum_{j>=i} dy_j prod_{i<k<=j} x_k, the
    # inner products taken as cumprods of x with its first i entries set to 1 (n x n)
    xm, dym = np.moveaxis(x, axis, -1), np.moveaxis(dy, axis, -1)
    n = _shape(xm)[-1]
    later = np.arange(n)[None, :] > np.arange(n)[:, None]           # k > i
    spans = np.cumprod(np.where(later, np.expand_dims(xm, -2), 1.0), axis=-1)
    inner = np.sum(spans * np.triu(np.ones((n, n))) * np.expand_dims(dym, -2), axis=-1)
    one = np.ones_like(_raw(xm)[..., :1])
    before = np.cumprod(np.concatenate([one, xm[..., :n - 1]], -1), axis=-1)
    return np.moveaxis(before * inner, -1, axis)


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


def hstack(tup, **kw):
    """np.hstack(tup) on recorded values (1-D inputs join along axis 0, others along 1).

    >>> np.hstack([np.ones(2), np.zeros(1)]).shape
    (3,)"""
    arrs = [np.atleast_1d(a) for a in tup]
    return _concat_prim(0 if np.ndim(_raw(arrs[0])) == 1 else 1, *arrs)


def vstack(tup, **kw):
    """np.vstack(tup) on recorded values (inputs made at least 2-D, joined along axis 0).

    >>> np.vstack([np.ones(2), np.zeros(2)]).shape
    (2, 2)"""
    return _concat_prim(0, *[np.atleast_2d(a) for a in tup])


def split(ary, indices_or_sections, axis=0):
    """np.split(ary, indices_or_sections, axis=0) on recorded values: a list of
    recorded slices (sections must divide the axis evenly).

    >>> [p.shape for p in np.split(np.ones((4, 2)), 2)]
    [(2, 2), (2, 2)]"""
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
    """np.array_split(ary, indices_or_sections, axis=0) on recorded values: like
    split, but the first n % k parts get one extra element.

    >>> [p.shape for p in np.array_split(np.ones(5), 2)]
    [(3,), (2,)]"""
    if np.ndim(indices_or_sections) == 0:
        n, k = _shape(ary)[axis], int(indices_or_sections)
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        indices_or_sections = list(np.cumsum(sizes)[:-1])
    return split(ary, indices_or_sections, axis)


register_each({np.concatenate: concatenate, np.stack: stack, np.hstack: hstack,
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
    if np.size(repeats) == 1:
        return _repeat_grad(dy, y, x, int(np.ravel(repeats)[0]), axis)
    bounds = np.concatenate([[0], np.cumsum(repeats)])
    if not isinstance(dy, Value):
        # reduceat gives the element at an empty range, so mask rows repeated 0 times
        kept = np.reshape(np.greater(repeats, 0), [-1 if i == ax else 1 for i in range(len(shape))])
        return np.add.reduceat(_raw(dy), np.minimum(bounds[:-1], _shape(dy)[ax] - 1),
                               axis=ax) * kept
    return \
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


register(np.tile, _tile)


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
    """x[index] on a recorded value, for every numpy index kind.  Outside higher
    order its gradient is a Sparse holding only what was read.

    >>> from autograd import Param, diff, grad
    >>> e = Param(np.ones((1000, 4)))
    >>> grad(diff(lambda: np.sum(e[[3, 3]])), e).rows()[0]
    array([3])"""
    if isinstance(index, Value) or isinstance(index, (tuple, list)) and any(
            isinstance(i, Value) for i in index):
        index = type(index)(_raw(i) for i in index) if isinstance(index, (tuple, list)) \
            else _raw(index)
    if isinstance(index, list):
        index = np.asarray(index)
    return _getitem_prim(x, index)


register(GETITEM, getitem)


def take(a, indices, axis=None, out=None, mode="raise"):
    """np.take(a, indices, axis=None) on recorded values (an indexing read).

    >>> from autograd import grad
    >>> grad(lambda a: np.sum(np.take(a, [0, 0, 2])))(np.zeros(3))
    array([2., 0., 1.])"""
    if axis is None:
        return getitem(np.ravel(a), np.asarray(_raw(indices)))
    return getitem(a, (slice(None),) * (axis % len(_shape(a))) + (np.asarray(_raw(indices)),))


register(np.take, take)


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
    if _column_major(a):
        return _T(np.matmul(b, _T(dy)))
    return np.matmul(dy, _T(b))


def _column_major(x):
    """True for a 2-D array stored column-major (typically ``w.T`` of a row-major w):
    its gradient is then computed in that layout, so that transposing it back
    gives a row-major gradient for w (optimizers update contiguous memory fast)."""
    x = _raw(x)
    return x.__class__ is np.ndarray and x.ndim == 2 and x.flags.f_contiguous \
        and not x.flags.c_contiguous


def _matmul_gb(dy, y, a, b):
    na, nb = np.ndim(_raw(a)), np.ndim(_raw(b))
    if na == 1 and nb == 1:
        return dy * a
    if na == 1:
        return np.expand_dims(a, -1) * np.expand_dims(dy, -2)
    if nb == 1:
        return np.squeeze(np.matmul(_T(a), np.expand_dims(dy, -1)), -1)
    if _column_major(b):
        return _T(np.matmul(_T(dy), a))
    return np.matmul(_T(a), dy)


_matmul = defgrad(np.matmul, _matmul_ga, _matmul_gb)


def dot(a, b, out=None):
    """np.dot(a, b) on recorded values (scalar product, matmul, or tensordot over
    a's last and b's second-to-last axis for N-D b).

    >>> from autograd import grad
    >>> grad(lambda a: np.dot(a, np.array([1., 2.])))(np.zeros(2))
    array([1., 2.])"""
    if out is not None:
        raise ValueError("dot: out= is not supported on recorded arrays")
    na, nb = np.ndim(_raw(a)), np.ndim(_raw(b))
    if na == 0 or nb == 0:
        return a * b
    if nb <= 2:
        return _matmul(a, b)
    return np.tensordot(a, b, axes=([na - 1], [nb - 2]))


register(np.dot, dot)
register(np.matmul, _matmul)


# ------------------------------------------------------------ more elementwise
def _sinc_grad(dy, y, x):
    # d/dx sin(pi x)/(pi x) = (cos(pi x) - sinc(x)) / x, which is 0 at x = 0
    zero = np.equal(_raw(x), 0)
    safe = np.where(zero, 1.0, x)
    return dy * np.where(zero, 0.0, (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


defgrad(np.sinc, _sinc_grad)
defgrad(np.degrees, lambda dy, y, x: dy * (180 / np.pi))
defgrad(np.radians, lambda dy, y, x: dy * (np.pi / 180))
# copysign(a, b) = |a| with the sign of b: flat in b
defgrad(np.copysign, lambda dy, y, a, b: dy * np.sign(_raw(a)) *
        np.where(np.signbit(_raw(b)), -1.0, 1.0), None)
defgrad(np.ldexp, lambda dy, y, x, e: dy * np.ldexp(1.0, _raw(e)), None)


def _modf(x, *a, **k):
    """np.modf on a recorded value: (fractional part, recorded; integer part, plain)."""
    whole = np.trunc(_raw(x))
    return x - whole, whole


def _divmod(a, b, *args, **k):
    """np.divmod on recorded values: (floor quotient, plain; remainder, recorded)."""
    return np.floor_divide(_raw(a), _raw(b)), np.remainder(a, b)


def _frexp(x, *a, **k):
    """np.frexp on a recorded value: (mantissa, recorded; exponent, plain)."""
    _, e = np.frexp(_raw(x))
    return x * np.ldexp(1.0, -e), e



register_each({np.modf: _modf, np.divmod: _divmod, np.frexp: _frexp})


# numpy >= 2 matrix-vector ufuncs (default axes only)
def _no_axes(name, kw):
    if kw.get("axes") is not None or kw.get("axis") not in (None, -1):
        raise NotImplementedError(f"gradient of np.{name} with axes=/axis= is not supported")


def _vecdot_ga(dy, y, a, b, axis=-1, **kw):
    _no_axes("vecdot", kw)
    return np.expand_dims(dy, axis) * b


def _vecdot_gb(dy, y, a, b, axis=-1, **kw):
    _no_axes("vecdot", kw)
    return np.expand_dims(dy, axis) * a


def _matvec_ga(dy, y, a, v, **kw):
    _no_axes("matvec", kw)
    return np.expand_dims(dy, -1) * np.expand_dims(v, -2)


def _matvec_gv(dy, y, a, v, **kw):
    _no_axes("matvec", kw)
    return np.matvec(_T(a), dy)


def _vecmat_gv(dy, y, v, a, **kw):
    _no_axes("vecmat", kw)
    return np.matvec(a, dy)


def _vecmat_ga(dy, y, v, a, **kw):
    _no_axes("vecmat", kw)
    return np.expand_dims(v, -1) * np.expand_dims(dy, -2)


if hasattr(np, "vecdot") and isinstance(np.vecdot, np.ufunc):
    defgrad(np.vecdot, _vecdot_ga, _vecdot_gb)
if hasattr(np, "matvec"):
    defgrad(np.matvec, _matvec_ga, _matvec_gv)
    defgrad(np.vecmat, _vecmat_gv, _vecmat_ga)


# ------------------------------------------------------------ more reductions
def _nan_mask(x, where=None):
    ok = np.logical_not(np.isnan(_raw(x)))
    where = _where_mask(where)
    return ok if where is None else ok & where


def _nansum_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, where=None, **kw):
    return _expand(dy, x, axis, keepdims) * _nan_mask(x, where)


def _nanmean_grad(dy, y, x, axis=None, dtype=None, out=None, keepdims=False, where=None,
                  **kw):
    ok = _nan_mask(x, where)
    return _expand(dy, x, axis, keepdims) * ok / np.sum(ok, axis=axis, keepdims=True)


defgrad(np.nansum, _nansum_grad)
defgrad(np.nanmean, _nanmean_grad)
defgrad(np.nanmax, _extreme_grad)      # NaNs never equal the maximum, so they get 0
defgrad(np.nanmin, _extreme_grad)


def _nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    ok = _nan_mask(a)
    n = np.sum(ok, axis=axis, keepdims=keepdims)
    d = np.where(ok, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    return np.sum(d * d, axis=axis, keepdims=keepdims) / (n - ddof)


def _nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    return np.sqrt(_nanvar(a, axis=axis, ddof=ddof, keepdims=keepdims))


def _ptp(a, axis=None, out=None, keepdims=False):
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


def _average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if weights is None:
        avg = np.mean(a, axis=axis, keepdims=keepdims)
        wsum = np.broadcast_to(np.asarray(_count(a, axis), dtype=float), np.shape(_raw(avg)))
        return (avg, wsum) if returned else avg
    w = weights
    if _shape(w) != _shape(a):
        if axis is None or np.ndim(_raw(w)) != 1:
            raise ValueError("average: weights must have the shape of a, or be 1-D along a "
                             "single axis=")
        ax = axis % len(_shape(a))
        w = np.reshape(w, [-1 if i == ax else 1 for i in range(len(_shape(a)))])
    wsum = np.sum(w * np.ones(_shape(a)), axis=axis, keepdims=keepdims)
    avg = np.sum(a * w, axis=axis, keepdims=keepdims) / wsum
    return (avg, wsum) if returned else avg


def _sort(a, axis=-1, kind=None, order=None, **kw):
    if axis is None:
        a, axis = np.ravel(a), 0
    return np.take_along_axis(a, np.argsort(_raw(a), axis=axis, kind=kind), axis=axis)


def _median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    if axis is None:
        a, ax = np.ravel(a), 0
    else:
        ax = axis % len(_shape(a))
    s = _sort(a, axis=ax)
    n = _shape(s)[ax]
    mid = np.take(s, [n // 2] if n % 2 else [n // 2 - 1, n // 2], axis=ax)
    m = np.mean(mid, axis=ax, keepdims=True)
    if keepdims:
        return np.reshape(m, [1] * len(_shape(a))) if axis is None else m
    return np.squeeze(m, axis=ax)


def _diff(a, n=1, axis=-1, prepend=None, append=None):
    if prepend is not None or append is not None:
        ax = axis % len(_shape(a))
        parts = []
        for extra in (prepend, None, append):
            if extra is None:
                continue
            shape = list(_shape(a))
            shape[ax] = 1
            parts.append(np.broadcast_to(extra, shape) if np.ndim(_raw(extra)) == 0 else extra)
        a = np.concatenate(([parts[0]] if prepend is not None else []) + [a]
                           + ([parts[-1]] if append is not None else []), axis=ax)
    ax = axis % len(_shape(a))
    for _ in range(n):
        m = _shape(a)[ax]
        lead = (slice(None),) * ax
        a = a[lead + (slice(1, m),)] - a[lead + (slice(0, m - 1),)]
    return a


register_each({np.nanvar: _nanvar, np.nanstd: _nanstd, np.ptp: _ptp,
                  np.average: _average, np.sort: _sort, np.median: _median, np.diff: _diff})


# ------------------------------------------------------------ more shapes
def _dstack(tup):
    return np.concatenate([np.atleast_3d(a) for a in tup], axis=2)


def _column_stack(tup):
    return np.concatenate([np.reshape(a, (-1, 1)) if np.ndim(_raw(a)) < 2 else a
                           for a in tup], axis=1)


def _append(arr, values, axis=None):
    if axis is None:
        return np.concatenate([np.ravel(arr), np.ravel(values)])
    return np.concatenate([arr, values], axis=axis)


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


def diag(v, k=0):
    """np.diag(v, k=0) on recorded values: the k-th diagonal of a 2-D v, or the
    square matrix with 1-D v on its k-th diagonal.

    >>> np.diag(np.array([1., 2.]), 1).shape
    (3, 3)"""
    nd = np.ndim(_raw(v))
    if nd == 1:
        n = _shape(v)[0] + abs(k)
        return _undiagonal_prim(v, (n, n), k, 0, 1)
    if nd == 2:
        return _diagonal_prim(v, k, 0, 1)
    raise ValueError(f"diag: v must be 1-D or 2-D, got {nd}-D")


def diagflat(v, k=0):
    """np.diagflat(v, k=0) on recorded values: diag of the flattened v.

    >>> np.diagflat(np.ones((2, 2))).shape
    (4, 4)"""
    return diag(np.ravel(v), k)


defgrad(np.triu, lambda dy, y, m, k=0: np.triu(dy, k))
defgrad(np.tril, lambda dy, y, m, k=0: np.tril(dy, k))

register_each({np.dstack: _dstack, np.column_stack: _column_stack, np.append: _append,
                  np.diagonal: diagonal, np.trace: trace, np.diag: diag, np.diagflat: diagflat})


# ------------------------------------------------------------ more products
def _axes_pair(axes, na, nb):
    if np.ndim(axes) == 0:
        k = int(axes)
        return list(range(na - k, na)), list(range(k))
    ax_a, ax_b = axes
    ax_a = [ax_a] if np.ndim(ax_a) == 0 else list(ax_a)
    ax_b = [ax_b] if np.ndim(ax_b) == 0 else list(ax_b)
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: axes must pair up, got {axes}")
    return [i % na for i in ax_a], [i % nb for i in ax_b]


def tensordot(a, b, axes=2):
    """np.tensordot as transposes, reshapes and one matmul (all recorded)."""
    sa, sb = _shape(a), _shape(b)
    ax_a, ax_b = _axes_pair(axes, len(sa), len(sb))
    free_a = [i for i in range(len(sa)) if i not in ax_a]
    free_b = [i for i in range(len(sb)) if i not in ax_b]
    k = int(np.prod([sa[i] for i in ax_a]))
    a2 = np.reshape(np.transpose(a, free_a + ax_a), (-1, k))
    b2 = np.reshape(np.transpose(b, ax_b + free_b), (k, -1))
    return np.reshape(_matmul(a2, b2), [sa[i] for i in free_a] + [sb[i] for i in free_b])


def inner(a, b):
    """np.inner(a, b) on recorded values: sum over the last axes of a and b.

    >>> float(np.inner(np.array([1., 2.]), np.array([3., 4.])))
    11.0"""
    if np.ndim(_raw(a)) == 0 or np.ndim(_raw(b)) == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def outer(a, b, out=None):
    """np.outer(a, b) on recorded values: flattened a times flattened b.

    >>> np.outer(np.ones(2), np.ones(3)).shape
    (2, 3)"""
    return np.reshape(a, (-1, 1)) * np.reshape(b, (1, -1))


def kron(a, b):
    """np.kron(a, b) on recorded values, as a broadcast product and a reshape.

    >>> np.kron(np.eye(2), np.ones((2, 2))).shape
    (4, 4)"""
    na, nb = np.ndim(_raw(a)), np.ndim(_raw(b))
    nd = max(na, nb)
    sa = (1,) * (nd - na) + _shape(a)
    sb = (1,) * (nd - nb) + _shape(b)
    a = np.reshape(a, [v for n in sa for v in (n, 1)])
    b = np.reshape(b, [v for n in sb for v in (1, n)])
    return np.reshape(a * b, [m * n for m, n in zip(sa, sb)])


def vdot(a, b):
    """np.vdot(a, b) on recorded values: sum of conj(a) * b over the flattened arrays.

    >>> float(np.vdot(np.ones((2, 2)), np.ones((2, 2))))
    4.0"""
    if np.iscomplexobj(_raw(a)):
        a = np.conj(a)
    return np.sum(np.ravel(a) * np.ravel(b))


# ---- einsum
def _parse_subscripts(subscripts, ops):
    """'ij,jk' -> (['ij', 'jk'], 'ik') with spaces removed and the output explicit."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
    else:
        ins = subscripts
        letters = ins.replace("...", "").replace(",", "")
        out = ("..." if "..." in ins else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(",")
    if len(ins) != len(ops):
        raise ValueError(f"einsum: {len(ins)} operand subscripts for {len(ops)} operands")
    return ins, out


def _tokens(sub):
    """'i...j' -> ['i', '...', 'j']."""
    toks, k = [], 0
    while k < len(sub):
        if sub.startswith("...", k):
            toks.append("...")
            k += 3
        else:
            toks.append(sub[k])
            k += 1
    return toks


_FRESH = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"]


def _einsum(subscripts, *ops):
    return np.einsum(subscripts, *ops)


def _einsum_grad(i, dy, y, subscripts, *ops):
    ins, out = subscripts.split("->")
    ins = ins.split(",")
    toks = _tokens(ins[i])
    shape = _shape(ops[i])
    nell = len(shape) - (len(toks) - 1) if "..." in toks else 0
    dims, pos = {}, 0
    for t in toks:
        if t == "...":
            ell_shape = shape[pos:pos + nell]
            pos += nell
        else:
            dims[t] = shape[pos]
            pos += 1
    used = set(subscripts)
    fresh = iter(c for c in _FRESH if c not in used)
    subs = [out] + [s for j, s in enumerate(ins) if j != i]
    args = [dy] + [o for j, o in enumerate(ops) if j != i]
    target, seen = [], set()
    for t in toks:
        if t != "..." and t in seen:        # repeated index: a diagonal of the operand
            c = next(fresh)
            subs.append(t + c)
            args.append(np.eye(dims[t]))
            target.append(c)
        else:
            target.append(t)
            seen.add(t)
    present = set("".join(subs))
    for t in set(toks) - {"..."}:
        if t not in present:                 # summed in this operand alone: broadcast back
            subs.append(t)
            args.append(np.ones(dims[t]))
    if "..." in toks:
        subs.append("...")
        args.append(np.ones(ell_shape))
    if "..." not in toks and any("..." in sub for sub in subs):
        # numpy keeps broadcast (ellipsis) axes in an explicit output: sum them here
        g = _einsum_prim(",".join(subs) + "->..." + "".join(target), *args)
        lead = np.ndim(_raw(g)) - len(target)
        return np.sum(g, axis=tuple(range(lead))) if lead else g
    return _einsum_prim(",".join(subs) + "->" + "".join(target), *args)


_einsum_prim = Primitive(_einsum, (None,), nary_grad=lambda i, dy, y, s, *ops:
                         _einsum_grad(i - 1, dy, y, s, *ops))


def einsum(*operands, out=None, optimize=False, **kw):
    """np.einsum on recorded values (subscript-string form)."""
    if out is not None:
        raise ValueError("einsum: out= is not supported on recorded arrays")
    if not isinstance(operands[0], str):
        raise NotImplementedError("einsum: only the subscript-string form is differentiable "
                                  "(np.einsum('ij,jk->ik', a, b))")
    ops = operands[1:]
    ins, out_sub = _parse_subscripts(operands[0], ops)
    return _einsum_prim(",".join(ins) + "->" + out_sub, *ops)


register_each({np.tensordot: tensordot, np.inner: inner, np.outer: outer, np.kron: kron,
                  np.vdot: vdot, np.einsum: einsum})

# ------------------------------------------------------------ signals, statistics
def _convolve(a, v, mode="full"):
    return np.convolve(a, v, mode)


def _full_dy(dy, na, nv, mode):
    """dy of convolve(a, v, mode) placed inside zeros of the 'full' output length."""
    if mode == "full":
        return dy
    n_full, n = na + nv - 1, _shape(dy)[0]
    start = (n_full - n) // 2          # both 'same' and 'valid' are centred windows
    return np.pad(dy, (start, n_full - n - start))


def _convolve_grad(i):
    def g(dy, y, a, v, mode="full"):
        full = _full_dy(dy, _shape(a)[0], _shape(v)[0], mode)
        return correlate(full, v if i == 0 else a, "valid")
    return g


_convolve_prim = Primitive(_convolve, (_convolve_grad(0), _convolve_grad(1)))


def convolve(a, v, mode="full"):
    """np.convolve(a, v, mode="full") on recorded 1-D values; each input's
    gradient is a 'valid' correlation of the (full-length) output gradient.

    >>> from autograd import grad
    >>> grad(lambda a: np.sum(np.convolve(a, np.array([1., 2.]))))(np.zeros(3))
    array([3., 3., 3.])
    """
    if np.ndim(_raw(a)) != 1 or np.ndim(_raw(v)) != 1:
        raise ValueError("convolve: a and v must be 1-D")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"convolve: mode must be 'full', 'same' or 'valid', got {mode!r}")
    return _convolve_prim(a, v, mode)


def correlate(a, v, mode="valid"):
    """np.correlate(a, v, mode="valid") on recorded real 1-D values (a convolution
    with v reversed).

    >>> float(np.correlate(np.array([1., 2., 3.]), np.array([0., 1.]))[0])
    2.0
    """
    if np.iscomplexobj(_raw(v)):
        v = np.conj(v)
    return convolve(a, np.flip(v), mode)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross(a, b) on recorded values (2- or 3-vectors along axisa / axisb).

    >>> np.cross(np.array([1., 0, 0]), np.array([0., 1, 0]))
    array([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    na, nb = _shape(a)[-1], _shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got {na} and {nb}")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    a2 = a[..., 2] if na == 3 else 0.0
    b2 = b[..., 2] if nb == 3 else 0.0
    c = np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z], axis=-1)
    return np.moveaxis(c, -1, axisc)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """np.meshgrid(*xi) on recorded values: each input reshaped (and broadcast)
    along its own axis.

    >>> [g.shape for g in np.meshgrid(np.ones(2), np.ones(3))]
    [(3, 2), (3, 2)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    n = len(xi)
    sizes = [int(np.size(_raw(x))) for x in xi]
    order = list(range(n))
    if indexing == "xy" and n > 1:
        order[0], order[1] = 1, 0
    full = [sizes[order[k]] for k in range(n)]
    out = []
    for i, x in enumerate(xi):
        shape = [1] * n
        shape[order.index(i)] = -1
        g = np.reshape(x, shape)
        out.append(g if sparse else np.broadcast_to(g, full))
    return tuple(out)


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """np.cov(m, y=None, rowvar=True, bias=False, ddof=None) on recorded values
    (no frequency/analytic weights).

    >>> float(np.cov(np.array([1., 2., 3.])))
    1.0
    """
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights= and aweights= are not supported on "
                                  "recorded values")
    x = np.atleast_2d(m)
    if not rowvar and _shape(x)[0] != 1:
        x = np.transpose(x)
    if y is not None:
        y = np.atleast_2d(y)
        if not rowvar and _shape(y)[0] != 1:
            y = np.transpose(y)
        x = np.concatenate([x, y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = _shape(x)[1]
    d = x - np.mean(x, axis=1, keepdims=True)
    return np.squeeze(_matmul(d, np.transpose(d)) / (n - ddof))


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """np.corrcoef(x, y=None, rowvar=True) on recorded values.

    >>> np.corrcoef(np.array([1., 2., 3.]), np.array([2., 4., 7.])).shape
    (2, 2)
    """
    c = cov(x, y, rowvar)
    if np.ndim(_raw(c)) == 0:
        return c / c
    sd = np.sqrt(np.diagonal(c))
    return c / np.reshape(sd, (-1, 1)) / np.reshape(sd, (1, -1))


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """np.trapezoid(y, x=None, dx=1.0, axis=-1) on recorded values (y and x differentiable).

    >>> float(np.trapezoid(np.array([0., 1., 2.])))
    2.0
    """
    nd = np.ndim(_raw(y))
    ax = axis % nd
    n = _shape(y)[ax]
    lead = (slice(None),) * ax
    mid = (y[lead + (slice(1, n),)] + y[lead + (slice(0, n - 1),)]) / 2
    if x is None:
        return np.sum(mid * dx, axis=ax)
    d = np.diff(x)
    if np.ndim(_raw(x)) == 1:
        d = np.reshape(d, [-1 if i == ax else 1 for i in range(nd)])
    else:
        d = np.diff(x, axis=ax)
    return np.sum(mid * d, axis=ax)


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
    """np.quantile(a, q, axis=None, keepdims=False) on recorded values, with the
    default linear interpolation (q is not differentiated).

    >>> float(np.quantile(np.array([1., 2., 3., 4.]), 0.5))
    2.5
    """
    if method != "linear" or weights is not None or out is not None:
        raise NotImplementedError("quantile: only method='linear' without weights= or out= "
                                  "is supported on recorded values")
    qa = np.asarray(_raw(q), dtype=float)
    shape = _shape(a)
    nd = len(shape)
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(i % nd for i in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    rest = [i for i in range(nd) if i not in axes]
    flat = np.reshape(np.transpose(a, rest + list(axes)), [shape[i] for i in rest] + [-1])
    s = _sort(flat, axis=-1)
    n = _shape(s)[-1]
    pos = np.ravel(qa) * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    lower, upper = np.take(s, lo, axis=-1), np.take(s, hi, axis=-1)
    res = lower + (upper - lower) * (pos - lo)          # (*rest, q.size)
    res = np.moveaxis(res, -1, 0)
    if keepdims:
        kept = [1 if i in axes else shape[i] for i in range(nd)]
        return np.reshape(res, qa.shape + tuple(kept))
    return np.reshape(res, qa.shape + tuple(shape[i] for i in rest))


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None):
    """np.percentile(a, q, ...) on recorded values: quantile at q / 100.

    >>> float(np.percentile(np.array([1., 2., 3., 4.]), 50))
    2.5
    """
    return quantile(a, np.asarray(_raw(q), dtype=float) / 100, axis, out, overwrite_input,
                    method, keepdims, weights=weights)


def ediff1d(ary, to_end=None, to_begin=None):
    """np.ediff1d on recorded values: differences of the flattened array.

    >>> np.ediff1d(np.array([1., 4., 9.]))
    array([3., 5.])
    """
    d = np.diff(np.ravel(ary))
    parts = ([np.ravel(to_begin)] if to_begin is not None else []) + [d] + \
        ([np.ravel(to_end)] if to_end is not None else [])
    return np.concatenate(parts) if len(parts) > 1 else d


register_each({np.convolve: convolve, np.correlate: correlate, np.cross: cross,
                  np.meshgrid: meshgrid, np.cov: cov, np.corrcoef: corrcoef,
                  np.quantile: quantile, np.percentile: percentile, np.ediff1d: ediff1d})
if hasattr(np, "trapezoid"):
    register(np.trapezoid, trapezoid)

# ------------------------------------------------------------ more composites
def _no_nan(x, fill):
    return np.where(np.isnan(_raw(x)), fill, x)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """np.nanprod on recorded values (NaNs count as 1).

    >>> float(np.nanprod(np.array([2., np.nan, 3.])))
    6.0
    """
    return np.prod(_no_nan(a, 1.0), axis=axis, keepdims=keepdims)


def nancumsum(a, axis=None, dtype=None, out=None):
    """np.nancumsum on recorded values (NaNs count as 0).

    >>> np.nancumsum(np.array([1., np.nan, 2.]))
    array([1., 1., 3.])
    """
    return np.cumsum(_no_nan(a, 0.0), axis=axis)


def nancumprod(a, axis=None, dtype=None, out=None):
    """np.nancumprod on recorded values (NaNs count as 1).

    >>> np.nancumprod(np.array([2., np.nan, 3.]))
    array([2., 2., 6.])
    """
    return np.cumprod(_no_nan(a, 1.0), axis=axis)


def _cumulative(fn, first):
    def f(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        if axis is None:
            if np.ndim(_raw(x)) != 1:
                raise ValueError(f"{fn.__name__}: axis= is required for arrays of more than "
                                 "one dimension")
            axis = 0
        y = fn(x, axis=axis)
        if include_initial:
            shape = list(_shape(x))
            shape[axis] = 1
            y = np.concatenate([np.full(shape, first), y], axis=axis)
        return y
    f.__name__ = f"cumulative_{'sum' if first == 0 else 'prod'}"
    f.__doc__ = (f"np.{f.__name__}(x, axis=None, include_initial=False) on recorded values.")
    return f


def unstack(x, /, *, axis=0):
    """np.unstack(x, axis=0) on recorded values: the slices along axis.

    >>> len(np.unstack(np.ones((3, 2))))
    3
    """
    ax = axis % np.ndim(_raw(x))
    return tuple(x[(slice(None),) * ax + (i,)] for i in range(_shape(x)[ax]))


def delete(arr, obj, axis=None):
    """np.delete(arr, obj, axis=None) on recorded values: a read of the kept entries.

    >>> np.delete(np.arange(4.), [1, 2])
    array([0., 3.])
    """
    if axis is None:
        arr, axis = np.ravel(arr), 0
    ax = axis % np.ndim(_raw(arr))
    keep = np.ones(_shape(arr)[ax], bool)
    keep[_raw(obj)] = False
    return arr[(slice(None),) * ax + (np.flatnonzero(keep),)]


def block(arrays):
    """np.block(arrays) on recorded values (nested lists joined from the inside out).

    >>> np.block([[np.ones((1, 2)), np.zeros((1, 1))]]).shape
    (1, 3)
    """
    def depth(a):
        return 1 + depth(a[0]) if isinstance(a, list) else 0

    d = depth(arrays)
    if d == 0:
        return arrays

    def join(a, level):
        if not isinstance(a, list):
            return a
        parts = [join(b, level + 1) for b in a]
        ndim = max(d, max(np.ndim(_raw(p)) for p in parts))
        parts = [np.reshape(p, (1,) * (ndim - np.ndim(_raw(p))) + _shape(p)) for p in parts]
        return np.concatenate(parts, axis=-(d - level))
    return join(arrays, 0)


register_each({np.nanprod: nanprod, np.nancumsum: nancumsum, np.nancumprod: nancumprod,
                  np.delete: delete, np.block: block})
if hasattr(np, "cumulative_sum"):
    register_each({np.cumulative_sum: _cumulative(np.cumsum, 0.0),
                      np.cumulative_prod: _cumulative(np.cumprod, 1.0), np.unstack: unstack,
                      np.matrix_transpose: lambda x, /: _T(x),
                      np.astype: lambda x, dtype, /, *, copy=True, **k:
                      astype(x, dtype)})

from . import linalg_grads as _linalg_grads  # noqa: E402,F401  (registers np.linalg)
from . import special_grads as _special_grads  # noqa: E402,F401  (registers scipy.special)
