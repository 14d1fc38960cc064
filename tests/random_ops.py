"""The table of operations random programs are built from (used by random_programs.py).

Each ``Op`` has a numpy form ``fn(p, *xs)`` (plain numpy calls, which reach autograd's
registered gradients through the array protocol when ``xs`` are recorded), a torch form
``th(T, p, *xs)`` (``T`` is the torch module; this file never imports torch), a parameter
maker ``gen(rng, *shapes) -> p or None`` (None: not applicable to these shapes) and a
validity check ``ok(p, *values)`` that keeps programs away from kinks (ties, zeros of
``abs``) where neither central differences nor two libraries need agree.

Shape and index ops need no torch form: ``gather_th`` replays them on integer position
arrays in numpy and gathers the same entries with torch, which is exact.

>>> sorted({op.family for op in OPS})[:3]
['arith', 'cumulative', 'elementwise']
"""
import numpy as np
import scipy.special as sp

GAP = 1e-3     # the least distance from a kink (tie, zero of abs) a program may come


class Op:
    """Op(name, family, arity, fn, th, gen=None, ok=None, elementwise=False)."""

    def __init__(self, name, family, arity, fn, th, gen=None, ok=None, elementwise=False):
        self.name, self.family, self.arity = name, family, arity
        self.fn, self.th = fn, th
        self.gen = gen or (lambda rng, *shapes: {})
        self.ok = ok or (lambda p, *xs: True)
        self.elementwise = elementwise

    def __repr__(self):
        return self.name


def _distinct(v, axis=None):
    """True when the entries along ``axis`` (all when None) differ pairwise by > GAP."""
    v = np.asarray(v, dtype=float)
    if v.size <= 1:
        return True
    v = np.moveaxis(v, axis, -1) if axis is not None else v.reshape(-1)
    s = np.sort(v, axis=-1)
    return s.shape[-1] < 2 or bool(np.all(np.diff(s, axis=-1) > GAP))


def gather_th(T, p, fn, *xs):
    """torch replay of a pure rearrangement ``fn``: its positions on integer arrays, -1 for
    filled-in zeros (pad, triu), gathered from the concatenated flat inputs."""
    pos, start = [], 1
    for x in xs:
        n = int(np.prod(x.shape))
        pos.append(np.arange(start, start + n).reshape(tuple(x.shape)))
        start += n
    where = np.asarray(fn(p, *pos)) - 1
    flat = T.cat([x.reshape(-1) for x in xs] + [T.zeros(1, dtype=T.float64)])
    return flat[T.as_tensor(where.astype(np.int64))]


def _axis(rng, shape, none=True):
    if not shape or (none and rng.random() < 0.25):
        return None
    return int(rng.integers(-len(shape), len(shape)))


def _th_axis(a):
    return {} if a is None else {"dim": a}


OPS = []


def op(*a, **k):
    OPS.append(Op(*a, **k))


# ---- elementwise (also scipy.special); domains kept by composing with x*x + c or tanh
def _unary(name, fn, th, ok=None):
    op(name, "elementwise", 1, lambda p, x: fn(x), lambda T, p, x: th(T, x), ok=ok,
       elementwise=True)


_pos = lambda x: x * x + 0.5   # noqa: E731  (a positive argument)
_unary("sin", np.sin, lambda T, x: T.sin(x))
_unary("cos", np.cos, lambda T, x: T.cos(x))
_unary("tanh", np.tanh, lambda T, x: T.tanh(x))
_unary("exp", np.exp, lambda T, x: T.exp(x))
_unary("expm1", np.expm1, lambda T, x: T.expm1(x))
_unary("log", lambda x: np.log(_pos(x)), lambda T, x: T.log(_pos(x)))
_unary("log1p", lambda x: np.log1p(x * x), lambda T, x: T.log1p(x * x))
_unary("sqrt", lambda x: np.sqrt(_pos(x)), lambda T, x: T.sqrt(_pos(x)))
_unary("square", np.square, lambda T, x: T.square(x))
_unary("reciprocal", lambda x: np.reciprocal(_pos(x)), lambda T, x: T.reciprocal(_pos(x)))
_unary("cube", lambda x: x ** 3, lambda T, x: x ** 3)
_unary("pow2.5", lambda x: _pos(x) ** 2.5, lambda T, x: _pos(x) ** 2.5)
_unary("abs", np.abs, lambda T, x: T.abs(x), ok=lambda p, x: bool(np.all(np.abs(x) > GAP)))
_unary("neg", np.negative, lambda T, x: -x)
_unary("arctan", np.arctan, lambda T, x: T.atan(x))
_unary("arcsin", lambda x: np.arcsin(0.9 * np.tanh(x)), lambda T, x: T.asin(0.9 * T.tanh(x)))
_unary("arccos", lambda x: np.arccos(0.9 * np.tanh(x)), lambda T, x: T.acos(0.9 * T.tanh(x)))
_unary("arctanh", lambda x: np.arctanh(0.9 * np.tanh(x)),
       lambda T, x: T.atanh(0.9 * T.tanh(x)))
_unary("sinh", np.sinh, lambda T, x: T.sinh(x))
_unary("cosh", np.cosh, lambda T, x: T.cosh(x))
_unary("arcsinh", np.arcsinh, lambda T, x: T.asinh(x))
_unary("arccosh", lambda x: np.arccosh(_pos(x) + 1), lambda T, x: T.acosh(_pos(x) + 1))
_unary("expit", sp.expit, lambda T, x: T.sigmoid(x))
_unary("erf", sp.erf, lambda T, x: T.special.erf(x))
_unary("erfc", sp.erfc, lambda T, x: T.special.erfc(x))
_unary("gammaln", lambda x: sp.gammaln(_pos(x)), lambda T, x: T.lgamma(_pos(x)))
_unary("digamma", lambda x: sp.digamma(_pos(x)), lambda T, x: T.digamma(_pos(x)))
_unary("ndtr", sp.ndtr, lambda T, x: T.special.ndtr(x))
_unary("log_ndtr", sp.log_ndtr, lambda T, x: T.special.log_ndtr(x))
_unary("scale", lambda x: 2.5 * x - 0.75, lambda T, x: 2.5 * x - 0.75)


# ---- broadcasting arithmetic between two program values
def _bshape(rng, a, b):
    try:
        np.broadcast_shapes(a, b)
        return {}
    except ValueError:
        return None


def _binary(name, fn, th, ok=None):
    op(name, "arith", 2, lambda p, a, b: fn(a, b), lambda T, p, a, b: th(T, a, b), gen=_bshape,
       ok=ok, elementwise=True)


_apart = lambda p, a, b: bool(np.all(np.abs(np.subtract(a, b)) > GAP))  # noqa: E731
_binary("add", np.add, lambda T, a, b: a + b)
_binary("subtract", np.subtract, lambda T, a, b: a - b)
_binary("multiply", np.multiply, lambda T, a, b: a * b)
_binary("divide", lambda a, b: a / _pos(b), lambda T, a, b: a / _pos(b))
_binary("power", lambda a, b: np.power(_pos(a), np.tanh(b)),
        lambda T, a, b: T.pow(_pos(a), T.tanh(b)))
_binary("maximum", np.maximum, lambda T, a, b: T.maximum(a, b), ok=_apart)
_binary("minimum", np.minimum, lambda T, a, b: T.minimum(a, b), ok=_apart)
_binary("arctan2", np.arctan2, lambda T, a, b: T.atan2(a, b),
        ok=lambda p, a, b: bool(np.all(np.abs(a) + np.abs(b) > 0.1)))
_binary("hypot", lambda a, b: np.hypot(a, _pos(b)), lambda T, a, b: T.hypot(a, _pos(b)))
_binary("logaddexp", np.logaddexp, lambda T, a, b: T.logaddexp(a, b))
_binary("where", lambda a, b: np.where(a > 0, a, b), lambda T, a, b: T.where(a > 0, a, b),
        ok=lambda p, a, b: bool(np.all(np.abs(a) > GAP)))
_binary("xlogy", lambda a, b: sp.xlogy(a, _pos(b)), lambda T, a, b: T.xlogy(a, _pos(b)))


# ---- reductions and logsumexp
def _red_gen(rng, s):
    return {"axis": _axis(rng, s), "keepdims": bool(rng.random() < 0.3)}


def _th_red(fname):
    def th(T, p, x):
        a, kd = p["axis"], p["keepdims"]
        if a is None:
            y = getattr(T, fname)(x.reshape(-1), dim=0)
            return y.reshape((1,) * x.dim()) if kd else y
        return getattr(T, fname)(x, dim=a, keepdim=kd)
    return th


def _reduction(name, fn, tname, ok=None, family="reduce"):
    op(name, family, 1, lambda p, x: fn(x, axis=p["axis"], keepdims=p["keepdims"]),
       _th_red(tname), gen=_red_gen, ok=ok)


_reduction("sum", np.sum, "sum")
_reduction("mean", np.mean, "mean")
_reduction("prod", np.prod, "prod", family="products")
_reduction("max", np.max, "amax", ok=lambda p, x: _distinct(x, p["axis"]))
_reduction("min", np.min, "amin", ok=lambda p, x: _distinct(x, p["axis"]))
# scipy's logsumexp of a 0-d array with keepdims=True has shape (1,) (autograd's: ()), so
# it meets 0-d values without keepdims only
op("logsumexp", "logsumexp", 1,
   lambda p, x: sp.logsumexp(x, axis=p["axis"], keepdims=p["keepdims"] and np.ndim(x) > 0),
   _th_red("logsumexp"), gen=_red_gen)
op("var", "reduce", 1, lambda p, x: np.var(x, axis=p["axis"], keepdims=p["keepdims"]),
   lambda T, p, x: T.var(x, dim=p["axis"], correction=0, keepdim=p["keepdims"]), gen=_red_gen)
op("std", "reduce", 1, lambda p, x: np.std(x),
   lambda T, p, x: T.std(x.reshape(-1), correction=0),
   ok=lambda p, x: np.std(x) > GAP)    # sqrt's kink at zero spread
op("norm", "reduce", 1, lambda p, x: np.linalg.norm(x), lambda T, p, x: T.linalg.norm(x),
   ok=lambda p, x: np.linalg.norm(x) > GAP)
op("zero_some", "products", 1, lambda p, x: x * p["mask"],
   lambda T, p, x: x * T.as_tensor(p["mask"]),
   gen=lambda rng, s: {"mask": (rng.random(s) < 0.7).astype(float)})


# ---- products
def _mat_gen(rng, a, b):
    if len(a) == 1 and len(b) == 1:
        return {} if a == b else None
    if len(a) >= 1 and len(b) >= 2 and a[-1] == b[-2]:
        try:
            np.broadcast_shapes(a[:-2], b[:-2])
            return {}
        except ValueError:
            return None
    if len(a) >= 2 and len(b) == 1 and a[-1] == b[0]:
        return {}
    return None


op("matmul", "products", 2, lambda p, a, b: a @ b, lambda T, p, a, b: a @ b, gen=_mat_gen)
op("dot", "products", 2, lambda p, a, b: np.dot(a, b), lambda T, p, a, b: a @ b,
   gen=lambda rng, a, b: {} if len(a) <= 2 and len(b) <= 2 and _mat_gen(rng, a, b) == {}
   else None)
op("dot_method", "products", 1, lambda p, x: x.dot(p["c"]),
   lambda T, p, x: x @ T.as_tensor(p["c"]),
   gen=lambda rng, s: {"c": rng.standard_normal((s[-1], 2))} if len(s) in (1, 2) else None)
op("const_dot", "products", 1, lambda p, x: np.dot(p["c"], x),
   lambda T, p, x: T.as_tensor(p["c"]) @ x,
   gen=lambda rng, s: {"c": rng.standard_normal((2, s[0]))} if len(s) in (1, 2) else None)
op("outer", "products", 2, lambda p, a, b: np.outer(a, b),
   lambda T, p, a, b: T.outer(a.reshape(-1), b.reshape(-1)))
op("inner", "products", 2, lambda p, a, b: np.inner(a, b), lambda T, p, a, b: T.inner(a, b),
   gen=lambda rng, a, b: {} if a and b and a[-1] == b[-1] else None)
op("einsum", "products", 2, lambda p, a, b: np.einsum("ij,jk->ik", a, b),
   lambda T, p, a, b: T.einsum("ij,jk->ik", a, b),
   gen=lambda rng, a, b: {} if len(a) == 2 and len(b) == 2 and a[1] == b[0] else None)
op("einsum_diag", "products", 1, lambda p, x: np.einsum("ii->i", x),
   lambda T, p, x: T.einsum("ii->i", x),
   gen=lambda rng, s: {} if len(s) == 2 and s[0] == s[1] else None)
op("tensordot", "products", 2, lambda p, a, b: np.tensordot(a, b, axes=1),
   lambda T, p, a, b: T.tensordot(a, b, dims=1),
   gen=lambda rng, a, b: {} if a and b and a[-1] == b[0] else None)
op("trace", "products", 1, lambda p, x: np.trace(x), lambda T, p, x: T.trace(x),
   gen=lambda rng, s: {} if len(s) == 2 else None)


# ---- cumulative, sort
op("cumsum", "cumulative", 1, lambda p, x: np.cumsum(x, axis=p["axis"]),
   lambda T, p, x: T.cumsum(x.reshape(-1) if p["axis"] is None else x,
                            dim=0 if p["axis"] is None else p["axis"]),
   gen=lambda rng, s: {"axis": _axis(rng, s)})
op("cumprod", "cumulative", 1, lambda p, x: np.cumprod(x, axis=p["axis"]),
   lambda T, p, x: T.cumprod(x.reshape(-1) if p["axis"] is None else x,
                             dim=0 if p["axis"] is None else p["axis"]),
   gen=lambda rng, s: {"axis": _axis(rng, s)})
op("sort", "sort", 1, lambda p, x: np.sort(x, axis=p["axis"]),
   lambda T, p, x: T.sort(x, dim=p["axis"]).values,
   gen=lambda rng, s: {"axis": _axis(rng, s, none=False)} if s else None,
   ok=lambda p, x: _distinct(x, p["axis"]))


# ---- shape functions and every index kind: torch replays them with gather_th
def _shape_op(name, family, arity, fn, gen=None):
    op(name, family, arity, fn, lambda T, p, *xs: gather_th(T, p, fn, *xs), gen=gen)


def _reshape_gen(rng, s):
    n = int(np.prod(s))
    dims = [d for d in range(1, n + 1) if n % d == 0]
    a = int(rng.choice(dims))
    return {"shape": (a, -1) if rng.random() < 0.5 else (n // a, a)}


def _perm_gen(rng, s):
    return {"axes": tuple(int(i) for i in rng.permutation(len(s)))} if s else None


def _two_axes(rng, s):
    return {"a": int(rng.integers(len(s))), "b": int(rng.integers(len(s)))} if s else None


def _repeat_gen(rng, s):
    ax = _axis(rng, s)
    n = int(np.prod(s)) if ax is None else s[ax]
    if rng.random() < 0.3:
        return {"r": int(rng.integers(1, 3)), "axis": ax}
    return {"r": [int(v) for v in rng.integers(0, 3, n)], "axis": ax}


def _concat_gen(rng, a, b):
    if len(a) != len(b) or not a:
        return None
    ax = int(rng.integers(len(a)))
    return {"axis": ax} if a[:ax] + a[ax + 1:] == b[:ax] + b[ax + 1:] else None


_shape_op("reshape", "shape", 1, lambda p, x: np.reshape(x, p["shape"]), _reshape_gen)
_shape_op("reshape_method", "shape", 1, lambda p, x: x.reshape(*p["shape"]), _reshape_gen)
_shape_op("ravel", "shape", 1, lambda p, x: np.ravel(x))
_shape_op("transpose", "shape", 1, lambda p, x: np.transpose(x, p["axes"]), _perm_gen)
_shape_op("T", "shape", 1, lambda p, x: x.T)
_shape_op("swapaxes", "shape", 1, lambda p, x: np.swapaxes(x, p["a"], p["b"]), _two_axes)
_shape_op("moveaxis", "shape", 1, lambda p, x: np.moveaxis(x, p["a"], p["b"]), _two_axes)
_shape_op("expand_dims", "shape", 1, lambda p, x: np.expand_dims(x, p["a"]),
          lambda rng, s: {"a": int(rng.integers(-len(s) - 1, len(s) + 1))})
_shape_op("squeeze", "shape", 1, lambda p, x: np.squeeze(x),
          lambda rng, s: {} if 1 in s else None)
_shape_op("flip", "shape", 1, lambda p, x: np.flip(x, p["axis"]),
          lambda rng, s: {"axis": _axis(rng, s)})
_shape_op("roll", "shape", 1, lambda p, x: np.roll(x, p["k"], p["axis"]),
          lambda rng, s: {"k": int(rng.integers(-3, 4)), "axis": _axis(rng, s)})
_shape_op("tile", "shape", 1, lambda p, x: np.tile(x, p["reps"]),
          lambda rng, s: {"reps": tuple(int(v) for v in rng.integers(1, 3, rng.integers(1, 3)))})
_shape_op("repeat", "shape", 1, lambda p, x: np.repeat(x, p["r"], axis=p["axis"]), _repeat_gen)
_shape_op("pad", "shape", 1, lambda p, x: np.pad(x, p["w"]),
          lambda rng, s: {"w": [tuple(int(v) for v in rng.integers(0, 2, 2)) for _ in s]})
_shape_op("broadcast_to", "shape", 1, lambda p, x: np.broadcast_to(x, (2,) + np.shape(x)))
_shape_op("triu", "shape", 1, lambda p, x: np.triu(x, p["k"]),
          lambda rng, s: {"k": int(rng.integers(-1, 2))} if len(s) >= 2 else None)
_shape_op("tril", "shape", 1, lambda p, x: np.tril(x, p["k"]),
          lambda rng, s: {"k": int(rng.integers(-1, 2))} if len(s) >= 2 else None)
_shape_op("diagonal", "shape", 1, lambda p, x: np.diagonal(x),
          lambda rng, s: {} if len(s) >= 2 else None)
_shape_op("concatenate", "shape", 2, lambda p, a, b: np.concatenate([a, b], axis=p["axis"]),
          _concat_gen)
_shape_op("stack", "shape", 2, lambda p, a, b: np.stack([a, b], axis=p["axis"]),
          lambda rng, a, b: {"axis": int(rng.integers(len(a) + 1))} if a == b else None)


def _index_gen(rng, s):
    """A random index of one of numpy's kinds for an array of shape s."""
    if not s:
        return {"i": [(), None, Ellipsis][int(rng.integers(3))]}
    n = s[0]
    kind = rng.integers(10)
    if kind == 0:
        i = int(rng.integers(-n, n))
    elif kind == 1:
        lo, hi = sorted(int(v) for v in rng.integers(-n, n + 1, 2))
        i = slice(lo, hi, int(rng.choice([1, 2, -1, -2]))) if rng.random() < 0.5 \
            else slice(lo, hi)
    elif kind == 2:
        i = (Ellipsis, int(rng.integers(-s[-1], s[-1])))
    elif kind == 3:
        i = (None, slice(None)) if rng.random() < 0.5 else (Ellipsis, None)
    elif kind == 4:
        i = rng.integers(-n, n, int(rng.integers(1, 5)))
    elif kind == 5:
        i = [int(v) for v in rng.integers(-n, n, int(rng.integers(0, 4)))]
    elif kind == 6:
        i = rng.random(s) < 0.6
    elif kind == 7:
        i = rng.random(n) < 0.6
    elif kind == 8 and len(s) >= 2:
        i = (slice(None), rng.integers(0, s[1], (2, 2)))
    elif kind == 8 or kind == 9 and len(s) < 3:
        i = (rng.integers(0, n, 3),) + ((rng.integers(0, s[1], 3),) if len(s) >= 2 else ())
    else:
        i = (rng.integers(0, n, 2), slice(None), rng.integers(0, s[2], 2))
    return {"i": i}


def _take_gen(rng, s):
    ax = _axis(rng, s)
    n = int(np.prod(s)) if ax is None else s[ax]
    return {"i": [int(v) for v in rng.integers(-n, n, int(rng.integers(0, 4)))], "axis": ax}


def _along_gen(rng, s):
    if not s:
        return None
    ax = int(rng.integers(len(s)))
    return {"i": rng.integers(0, s[ax], s[:ax] + (int(rng.integers(1, 4)),) + s[ax + 1:]),
            "axis": ax}


_shape_op("index", "index", 1, lambda p, x: x[p["i"]], _index_gen)
_shape_op("take", "index", 1, lambda p, x: np.take(x, p["i"], axis=p["axis"]),
          lambda rng, s: _take_gen(rng, s) if s else None)
_shape_op("take_along_axis", "index", 1,
          lambda p, x: np.take_along_axis(x, p["i"], axis=p["axis"]), _along_gen)


# ---- linalg (square matrices kept well conditioned)
def _square(rng, s):
    return {} if len(s) >= 2 and s[-1] == s[-2] else None


def _shift(x, c=3.0):
    return x + c * np.eye(np.shape(x)[-1])


def _th_shift(T, x, c=3.0):
    return x + c * T.eye(x.shape[-1], dtype=T.float64)


def _well(p, x):
    return bool(np.all(np.linalg.cond(_shift(np.asarray(x))) < 50))


def _sym(x):
    return x + np.swapaxes(x, -1, -2)


op("inv", "linalg", 1, lambda p, x: np.linalg.inv(_shift(x)),
   lambda T, p, x: T.linalg.inv(_th_shift(T, x)), gen=_square, ok=_well)
op("det", "linalg", 1, lambda p, x: np.linalg.det(_shift(x)),
   lambda T, p, x: T.linalg.det(_th_shift(T, x)), gen=_square, ok=_well)
op("slogdet", "linalg", 1, lambda p, x: np.linalg.slogdet(_shift(x))[1],
   lambda T, p, x: T.linalg.slogdet(_th_shift(T, x))[1], gen=_square, ok=_well)
op("solve", "linalg", 2, lambda p, a, b: np.linalg.solve(_shift(a), b),
   lambda T, p, a, b: T.linalg.solve(_th_shift(T, a), b),
   gen=lambda rng, a, b: {} if len(a) == 2 and a[0] == a[1] and b and b[0] == a[0]
   and len(b) <= 2 else None, ok=lambda p, a, b: _well(p, a))
op("cholesky", "linalg", 1,
   lambda p, x: np.linalg.cholesky(x @ np.swapaxes(x, -1, -2) + np.eye(np.shape(x)[-1])),
   lambda T, p, x: T.linalg.cholesky(x @ x.mT + T.eye(x.shape[-1], dtype=T.float64)),
   gen=_square)
op("eigvalsh", "linalg", 1, lambda p, x: np.linalg.eigh(_sym(x))[0],
   lambda T, p, x: T.linalg.eigh(x + x.mT)[0], gen=_square,
   ok=lambda p, x: _distinct(np.linalg.eigvalsh(_sym(np.asarray(x))), -1))
op("svdvals", "linalg", 1, lambda p, x: np.linalg.svd(x, compute_uv=False),
   lambda T, p, x: T.linalg.svdvals(x),
   gen=lambda rng, s: {} if len(s) == 2 else None,
   ok=lambda p, x: _distinct(np.append(np.linalg.svd(np.asarray(x), compute_uv=False), 0.0)))
op("matrix_norm", "linalg", 1, lambda p, x: np.linalg.norm(x, axis=(-2, -1)),
   lambda T, p, x: T.linalg.matrix_norm(x), gen=lambda rng, s: {} if len(s) >= 2 else None,
   ok=lambda p, x: bool(np.all(np.linalg.norm(x, axis=(-2, -1)) > GAP)))

FAMILIES = sorted({o.family for o in OPS})
BY_NAME = {o.name: o for o in OPS}
