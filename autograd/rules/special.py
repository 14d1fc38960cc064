"""Gradients of scipy.special.

The special functions that are numpy ufuncs (erf, gamma, digamma, expit, ...)
are registered like numpy's.  A few scipy.special entries are plain Python
functions that turn their arguments into arrays first (``logsumexp``,
``softmax``, ``log_softmax``, ``polygamma``, ``zeta``, ``multigammaln``,
``softplus``); called on a recorded value they would silently drop the
gradient.  This module therefore replaces those attributes of
``scipy.special`` with thin wrappers that hand recorded values to the
differentiable versions below and call scipy's own function otherwise
(the original stays reachable as ``wrapper.__wrapped__``).  Code that imported
one of these names before ``import autograd`` keeps scipy's original.
"""
import functools

import numpy as np
import scipy.special as sp

from ..core import Primitive, Value, _raw
from ..registry import register, zerograd
from ..registry import defgrad

SQRT_PI = np.sqrt(np.pi)
SQRT_2PI = np.sqrt(2 * np.pi)

# ------------------------------------------------------------ polygamma (used below)
_sp_polygamma = sp.polygamma


def _polygamma(n, x):
    return _sp_polygamma(n, x)


_polygamma_prim = Primitive(_polygamma, (None, lambda dy, y, n, x: dy * _polygamma_prim(
    np.add(_raw(n), 1), x)))


def polygamma(n, x):
    """polygamma(n, x): the n-th derivative of digamma, differentiable in x
    (n is an integer order, not differentiated).

    >>> from autograd import grad
    >>> float(grad(lambda x: polygamma(1, x))(2.0)) == float(sp.polygamma(2, 2.0))
    True
    """
    return _polygamma_prim(_raw(n), x)


# ------------------------------------------------------------ elementwise (ufuncs)
defgrad(sp.erf, lambda dy, y, x: dy * (2 / SQRT_PI) * np.exp(-x * x))
defgrad(sp.erfc, lambda dy, y, x: -dy * (2 / SQRT_PI) * np.exp(-x * x))
defgrad(sp.erfi, lambda dy, y, x: dy * (2 / SQRT_PI) * np.exp(x * x))
defgrad(sp.erfinv, lambda dy, y, x: dy * (SQRT_PI / 2) * np.exp(y * y))
defgrad(sp.erfcinv, lambda dy, y, x: -dy * (SQRT_PI / 2) * np.exp(y * y))
defgrad(sp.erfcx, lambda dy, y, x: dy * (2 * x * y - 2 / SQRT_PI))
defgrad(sp.dawsn, lambda dy, y, x: dy * (1 - 2 * x * y))
defgrad(sp.ndtr, lambda dy, y, x: dy * np.exp(-0.5 * x * x) / SQRT_2PI)
defgrad(sp.log_ndtr, lambda dy, y, x: dy * np.exp(-0.5 * x * x - y) / SQRT_2PI)
defgrad(sp.ndtri, lambda dy, y, x: dy * SQRT_2PI * np.exp(0.5 * y * y))
defgrad(sp.gamma, lambda dy, y, x: dy * y * sp.digamma(x))
defgrad(sp.rgamma, lambda dy, y, x: -dy * y * sp.digamma(x))
defgrad(sp.gammaln, lambda dy, y, x: dy * sp.digamma(x))
defgrad(sp.loggamma, lambda dy, y, x: dy * sp.digamma(x))
defgrad(sp.digamma, lambda dy, y, x: dy * _polygamma_prim(1, x))
defgrad(sp.expit, lambda dy, y, x: dy * y * (1 - y))
defgrad(sp.logit, lambda dy, y, x: dy / (x * (1 - x)))
defgrad(sp.log_expit, lambda dy, y, x: dy * sp.expit(-x))
defgrad(sp.xlogy, lambda dy, y, a, b: dy * np.log(b), lambda dy, y, a, b: dy * a / b)
defgrad(sp.xlog1py, lambda dy, y, a, b: dy * np.log1p(b), lambda dy, y, a, b: dy * a / (1 + b))
defgrad(sp.entr, lambda dy, y, x: dy * (-np.log(x) - 1))
defgrad(sp.rel_entr, lambda dy, y, a, b: dy * (np.log(a / b) + 1), lambda dy, y, a, b: -dy * a / b)
defgrad(sp.kl_div, lambda dy, y, a, b: dy * np.log(a / b), lambda dy, y, a, b: dy * (1 - a / b))
defgrad(sp.beta, lambda dy, y, a, b: dy * y * (sp.digamma(a) - sp.digamma(a + b)),
        lambda dy, y, a, b: dy * y * (sp.digamma(b) - sp.digamma(a + b)))
defgrad(sp.betaln, lambda dy, y, a, b: dy * (sp.digamma(a) - sp.digamma(a + b)),
        lambda dy, y, a, b: dy * (sp.digamma(b) - sp.digamma(a + b)))
# regularized incomplete gamma: differentiable in x only
defgrad(sp.gammainc, None,
        lambda dy, y, a, x: dy * np.exp(-x + (a - 1) * np.log(x) - sp.gammaln(a)))
defgrad(sp.gammaincc, None,
        lambda dy, y, a, x: -dy * np.exp(-x + (a - 1) * np.log(x) - sp.gammaln(a)))

# Bessel functions (x != 0 where a 1/x appears)
defgrad(sp.i0, lambda dy, y, x: dy * sp.i1(x))
defgrad(sp.i1, lambda dy, y, x: dy * (sp.i0(x) - y / x))
defgrad(sp.i0e, lambda dy, y, x: dy * (sp.i1e(x) - np.sign(_raw(x)) * y))
defgrad(sp.i1e, lambda dy, y, x: dy * (sp.i0e(x) - y * (np.sign(_raw(x)) + 1 / x)))
defgrad(sp.j0, lambda dy, y, x: -dy * sp.j1(x))
defgrad(sp.j1, lambda dy, y, x: dy * (sp.j0(x) - y / x))
defgrad(sp.y0, lambda dy, y, x: -dy * sp.y1(x))
defgrad(sp.y1, lambda dy, y, x: dy * (sp.y0(x) - y / x))
defgrad(sp.k0, lambda dy, y, x: -dy * sp.k1(x))
defgrad(sp.k1, lambda dy, y, x: -dy * (sp.k0(x) + y / x))
defgrad(sp.k0e, lambda dy, y, x: dy * (y - sp.k1e(x)))
defgrad(sp.k1e, lambda dy, y, x: dy * (y - sp.k0e(x) - y / x))
defgrad(sp.spence, lambda dy, y, x: dy * np.log(x) / (1 - x))


def _huber_r(dy, y, delta, r):
    return dy * np.where(np.less_equal(np.abs(_raw(r)), _raw(delta)), r,
                         _raw(delta) * np.sign(_raw(r)))


defgrad(sp.huber, None, _huber_r)
defgrad(sp.pseudo_huber, None,
        lambda dy, y, delta, r: dy * r / np.sqrt(1 + (r / delta) * (r / delta)))

for _f in (sp.gammasgn,):
    zerograd(_f)


# ------------------------------------------------------------ Python-level functions
def _shift(a, axis):
    """The (constant) max of a along axis, with non-finite maxima replaced by 0."""
    m = np.max(_raw(a), axis=axis, keepdims=True) if np.size(_raw(a)) else 0.0
    return np.where(np.isfinite(m), m, 0.0)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    log(sum(b * exp(a))) computed stably, differentiable in a and b.

    >>> float(logsumexp(np.array([0.0, np.log(3.0)])))   # log(1 + 3)
    1.3862943611198906
    """
    m = _shift(a, axis)
    e = np.exp(a - m)
    if b is not None:
        e = e * b
    s = np.sum(e, axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):          # all -inf (or zero weights): log 0 = -inf
        out = np.log(np.abs(s) if return_sign else s) + m
    if return_sign:
        sign = np.sign(_raw(s))
        if not keepdims:
            out, sign = _squeeze(out, axis), _squeeze(sign, axis)
        return out, sign
    return out if keepdims else _squeeze(out, axis)


def _squeeze(x, axis):
    if axis is None:
        return np.reshape(x, ())
    return np.squeeze(x, axis=axis)


def softmax(x, axis=None):
    """softmax(x, axis=None): exp(x) normalized to sum 1 along axis (all of x
    when None).

    >>> softmax(np.array([0.0, 0.0]))
    array([0.5, 0.5])
    """
    e = np.exp(x - _shift(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=None):
    """log_softmax(x, axis=None): x minus its logsumexp along axis.

    >>> log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    return x - logsumexp(x, axis=axis, keepdims=True)


def softplus(x, **kw):
    """softplus(x): log(1 + exp(x)), computed without overflow.

    >>> bool(np.isclose(softplus(np.float64(0.0)), np.log(2.0)))
    True
    """
    return np.logaddexp(0.0, x)


_sp_zeta = sp.zeta


def _zeta(x, q):
    return _sp_zeta(x, q)


_zeta_prim = Primitive(_zeta, (
    None, lambda dy, y, x, q: -dy * x * _zeta_prim(np.add(_raw(x), 1), q)))


def zeta(x, q=None, out=None):
    """zeta(x, q=None): the Hurwitz zeta function (Riemann's when q is None),
    differentiable in q.

    >>> float(zeta(2.0)) == np.pi ** 2 / 6
    True
    """
    if out is not None:
        raise ValueError("zeta: out= is not supported on recorded values")
    if q is None:
        return _sp_zeta(_raw(x))
    return _zeta_prim(_raw(x), q)


def multigammaln(a, d):
    """multigammaln(a, d): log of the multivariate gamma function of dimension d,
    differentiable in a.

    >>> bool(np.isclose(multigammaln(3.0, 1), sp.gammaln(3.0)))
    True
    """
    d = int(d)
    if np.any(np.less_equal(_raw(a), 0.5 * (d - 1))):
        raise ValueError(f"multigammaln: a must be > (d - 1) / 2 = {0.5 * (d - 1)}")
    total = 0.25 * d * (d - 1) * np.log(np.pi)
    for j in range(d):
        total = total + sp.gammaln(a - 0.5 * j)
    return total


# ------------------------------------------------------------ install into scipy.special
def _dispatching(original, ours):
    @functools.wraps(original)
    def f(*args, **kw):
        if any(isinstance(a, Value) for a in args) or \
                any(isinstance(v, Value) for v in kw.values()):
            return ours(*args, **kw)
        return original(*args, **kw)
    f._autograd_version = ours
    return f


#: scipy.special name -> our differentiable version (installed in scipy.special)
PYTHON_FUNCTIONS = {"logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax,
                    "polygamma": polygamma, "zeta": zeta, "multigammaln": multigammaln}
if hasattr(sp, "softplus"):
    PYTHON_FUNCTIONS["softplus"] = softplus

for _name, _ours in PYTHON_FUNCTIONS.items():
    _orig = getattr(sp, _name)
    _orig = getattr(_orig, "__wrapped__", _orig) if hasattr(_orig, "_autograd_version") else _orig
    setattr(sp, _name, _dispatching(_orig, _ours))
    register(_orig, _ours)


# ---------------------------------------------------------- more of HIPS's scipy.special
# (Bessel functions of any order, betainc, the Student t CDF).  Shape parameters (the
# order of a Bessel function, a and b of betainc, df of stdtr) are constants: their
# gradient is not available.
def _betainc_x(dy, y, a, b, x):
    return dy * np.exp(sp.xlogy(a - 1, x) + sp.xlog1py(b - 1, -x) - sp.betaln(a, b))


def _stdtr_t(dy, y, df, t):
    half = (df + 1) / 2
    logpdf = (sp.gammaln(half) - sp.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
              - half * np.log1p(t * t / df))
    return dy * np.exp(logpdf)


defgrad(sp.betainc, None, None, _betainc_x)
defgrad(sp.stdtr, None, _stdtr_t)
defgrad(sp.jv, None, lambda dy, y, v, x: dy * (sp.jv(v - 1, x) - sp.jv(v + 1, x)) / 2)
defgrad(sp.yv, None, lambda dy, y, v, x: dy * (sp.yv(v - 1, x) - sp.yv(v + 1, x)) / 2)
defgrad(sp.yn, None, lambda dy, y, n, x: dy * (sp.yn(n - 1, x) - sp.yn(n + 1, x)) / 2)
defgrad(sp.iv, None, lambda dy, y, v, x: dy * (sp.iv(v - 1, x) + sp.iv(v + 1, x)) / 2)
defgrad(sp.ive, None, lambda dy, y, v, x:
          dy * ((sp.ive(v - 1, x) + sp.ive(v + 1, x)) / 2 - np.sign(x) * y))
defgrad(sp.kv, None, lambda dy, y, v, x: -dy * (sp.kv(v - 1, x) + sp.kv(v + 1, x)) / 2)
defgrad(sp.kve, None, lambda dy, y, v, x:
          dy * (y - (sp.kve(v - 1, x) + sp.kve(v + 1, x)) / 2))
