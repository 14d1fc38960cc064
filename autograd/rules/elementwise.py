"""Elementwise rules: ufuncs of numpy (arithmetic, exp/log, trigonometric,
comparisons and other piecewise-constant functions, where, clip, nan_to_num).

Every gradient is written with numpy calls, so it is recorded again when
differentiated a second time."""
import numpy as np

from ..boxes import raw as _raw
from ..core import Primitive
from ..registry import defgrad, register, register_each, zerograd
from ..sparse import Sparse
from .common import _fit, _shape


# ------------------------------------------------------------ elementwise
LN2, LN10 = np.log(2.0), np.log(10.0)



def _through(dy, x):
    """dy passed straight through to input ``x`` (add and subtract, the most
    frequent gradients).  A numpy dy that broadcasting gave extra leading
    axes (a bias added to a batch) is summed over them here, the same sum the
    sweep's unbroadcast would make, without its general bookkeeping."""
    c = dy.__class__
    if c is np.ndarray:
        if x.__class__ is np.ndarray and dy.ndim > x.ndim > 0 and dy.dtype == x.dtype:
            lead = dy.ndim - x.ndim
            if dy.shape[lead:] == x.shape:
                return np.add.reduce(dy, 0 if lead == 1 else tuple(range(lead)))
        return dy
    return _fit(dy, x) if c is Sparse else dy


defgrad(np.add, lambda dy, y, a, b: _through(dy, a), lambda dy, y, a, b: _through(dy, b))
defgrad(np.subtract, lambda dy, y, a, b: _through(dy, a), lambda dy, y, a, b: -_through(dy, b))
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
    # b a^(b-1), and 0 where b = 0 also at a = 0 (HIPS's rule; 0 * 0^-1 would give nan)
    return dy * b * np.power(a, np.where(_raw(b), b - 1, 1.0))


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


_clip_prim = Primitive(np.clip, (_clip_grad, _clip_lo_grad, _clip_hi_grad))


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kw):
    """np.clip(a, a_min, a_max) on recorded values; the bounds may also be given
    as keywords (a_min=/a_max= or min=/max=) and are differentiable.

    >>> np.clip(np.array([-1., 0.5, 2.]), a_min=0.0, a_max=1.0)
    array([0. , 0.5, 1. ])"""
    if out is not None:
        kw["out"] = out
    return _clip_prim(a, a_min if min is None else min, a_max if max is None else max, **kw)


register(np.clip, clip)
# nan_to_num: the gradient passes where x is finite
defgrad(np.nan_to_num, lambda dy, y, x, *a, **k: np.where(np.isfinite(_raw(x)), dy, 0.0))


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
