"""The table behind the systematic coverage test: for every registered numpy /
scipy function, the calls to check and a domain where each is smooth.

``TABLE[name]`` is an ``Entry``:
  kind  "grad" (differentiable: checked with gcheck and against numpy) or
        "zero" (not differentiable: takes recorded values, returns plain ones)
  cases list of (call, arrays): ``call(*params)`` is evaluated with a Param
        for each array
  elementwise  True for elementwise functions (higher-order tests use them)
Run ``python tests/grad_table.py`` to print the README coverage table.
"""
import numpy as np
import scipy.special as sp

import autograd  # noqa: F401  (registers everything)
import autograd.numpy  # noqa: F401  (HIPS drop-in: np.select, complex-aware rules)
import autograd.special_extra_grads  # noqa: F401  (Bessel functions of any order, ...)
from autograd.registry import ASTYPE, COPY, FUNCTIONS, GETITEM, UFUNCS
from autograd.special_grads import PYTHON_FUNCTIONS

LA = np.linalg
SHAPES1 = [(), (5,), (3, 4), (2, 3, 2, 2)]
SHAPES2 = [((), ()), ((5,), (5,)), ((3, 1), (1, 4)), ((2, 3, 2, 2), (3, 1, 2)), ((4,), ())]

# functions owned by the complex-number / fft engineer: tested in their own files
EXTERNAL_PREFIXES = ("np.fft.", "scipy.stats.", "scipy.signal.", "sp.stats.", "sp.signal.")
EXTERNAL_NAMES = {"np.conj", "np.conjugate", "np.imag", "np.angle", "np.real_if_close"}


class Entry:
    def __init__(self, kind, cases, elementwise=False, domains=None, fn=None):
        self.kind, self.cases, self.elementwise = kind, cases, elementwise
        self.domains, self.fn = domains, fn


def key_name(k):
    """Display name of a registry key: np.sin, np.linalg.det, sp.erf, getitem."""
    slots = {GETITEM: "getitem", ASTYPE: "astype", COPY: "copy"}
    if k in slots:
        return slots[k]
    if isinstance(k, np.ufunc):
        return ("np." if getattr(np, k.__name__, None) is k else "sp.") + k.__name__
    mod = getattr(k, "__module__", "") or ""
    for prefix, short in (("numpy.linalg", "np.linalg."), ("numpy.fft", "np.fft."),
                          ("scipy.special", "sp."), ("scipy.stats", "scipy.stats."),
                          ("scipy.signal", "scipy.signal.")):
        if mod.startswith(prefix):
            return short + k.__name__
    return "np." + k.__name__


def registered():
    """{display name: registry key} of everything the tape handles."""
    out = {key_name(k): k for k in UFUNCS}
    out.update({key_name(k): k for k in FUNCTIONS})
    return out


def is_external(name):
    return name in EXTERNAL_NAMES or name.startswith(EXTERNAL_PREFIXES)


# ------------------------------------------------------------ array makers
def _rng(seed=0):
    return np.random.default_rng(seed)


def U(lo, hi, shape, seed=0):
    return _rng(seed).uniform(lo, hi, shape)


def S(lo, hi, shape, seed=0):
    """|values| in [lo, hi] with random signs (away from 0)."""
    r = _rng(seed)
    return r.uniform(lo, hi, shape) * r.choice([-1.0, 1.0], shape)


def SPD(n, batch=(), seed=0):
    a = _rng(seed).standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _gen(dom, shape, seed):
    kind = dom[0] if isinstance(dom[0], str) else "u"
    lo, hi = dom[-2:]
    if kind == "s":
        return S(lo, hi, shape, seed)
    if kind == "frac":       # away from integers
        r = _rng(seed)
        return r.integers(-3, 3, shape) + r.uniform(lo, hi, shape)
    return U(lo, hi, shape, seed)


TABLE = {}


def unary(fn, dom=(-2, 2), name=None, shapes=SHAPES1):
    name = name or key_name(fn)
    cases = [(lambda x, fn=fn: fn(x), [_gen(dom, s, i)]) for i, s in enumerate(shapes)]
    TABLE[name] = Entry("grad", cases, True, [dom], fn)


def binary(fn, dom1=(-2, 2), dom2=(-2, 2), name=None, shapes=SHAPES2):
    name = name or key_name(fn)
    cases = [(lambda a, b, fn=fn: fn(a, b), [_gen(dom1, s1, i), _gen(dom2, s2, i + 10)])
             for i, (s1, s2) in enumerate(shapes)]
    TABLE[name] = Entry("grad", cases, True, [dom1, dom2], fn)


def grad_cases(name, *cases):
    TABLE[name] = Entry("grad", list(cases))


def zero(name, *cases):
    TABLE[name] = Entry("zero", list(cases))


# ------------------------------------------------------------ elementwise
for f in (np.add, np.subtract, np.multiply, np.maximum, np.minimum, np.fmax, np.fmin,
          np.logaddexp, np.logaddexp2):
    binary(f)
binary(np.divide, (-2, 2), (0.5, 2))
binary(np.power, (0.5, 2), (-1.5, 1.5))
binary(np.float_power, (0.5, 2), (-1.5, 1.5))
binary(np.arctan2, (-2, 2), (0.5, 2))
binary(np.hypot, ("s", 0.5, 2), ("s", 0.5, 2))
binary(np.remainder, (2.1, 2.9), (1.0, 1.04))
binary(np.fmod, ("s", 2.1, 2.9), (1.0, 1.04))
grad_cases("np.copysign", (lambda a: np.copysign(a, S(0.2, 2, (3, 4), 1)), [S(0.2, 2, (3, 4))]),
           (lambda a: np.copysign(a, -1.0), [S(0.2, 2, 5)]))
for f in (np.negative, np.positive, np.exp, np.exp2, np.expm1, np.square, np.arctan, np.sinh,
          np.cosh, np.tanh, np.arcsinh, np.deg2rad, np.rad2deg, np.degrees, np.radians,
          np.sinc):
    unary(f)
for f in (np.log, np.log2, np.log10, np.sqrt, np.cbrt):
    unary(f, (0.2, 3))
unary(np.log1p, (-0.5, 2))
unary(np.reciprocal, ("s", 0.5, 2))
for f in (np.sin, np.cos, np.tan):
    unary(f, (-1.2, 1.2))
for f in (np.arcsin, np.arccos, np.arctanh):
    unary(f, (-0.9, 0.9))
unary(np.arccosh, (1.2, 3))
unary(np.absolute, ("s", 0.2, 2))
unary(np.fabs, ("s", 0.2, 2))
grad_cases("np.ldexp", (lambda x: np.ldexp(x, np.array([-2, 0, 3])), [U(-2, 2, (4, 3))]),
           (lambda x: np.ldexp(x, 2), [U(-2, 2, (5,))]))
grad_cases("np.modf", (lambda x: np.modf(x)[0] * 3, [_gen(("frac", 0.1, 0.9), (3, 4), 0)]))
grad_cases("np.divmod", (lambda a, b: np.divmod(a, b)[1], [U(2.1, 2.9, (3, 1)), U(1.0, 1.04, 4)]))
grad_cases("np.frexp", (lambda x: np.frexp(x)[0], [S(1.1, 1.9, (2, 3)) * 2.0 ** np.arange(3)]))
grad_cases("np.vecdot", (lambda a, b: np.vecdot(a, b), [U(-1, 1, (3, 4)), U(-1, 1, (2, 1, 4))]))
grad_cases("np.matvec", (lambda a, v: np.matvec(a, v), [U(-1, 1, (2, 3, 4)), U(-1, 1, (4,))]))
grad_cases("np.vecmat", (lambda v, a: np.vecmat(v, a), [U(-1, 1, (2, 3)), U(-1, 1, (3, 4))]))

# scipy.special ufuncs
for f, dom in [(sp.erf, (-2, 2)), (sp.erfc, (-2, 2)), (sp.erfi, (-1, 1)),
               (sp.erfinv, (-0.9, 0.9)), (sp.erfcinv, (0.1, 1.9)), (sp.erfcx, (-1, 2)),
               (sp.dawsn, (-2, 2)), (sp.ndtr, (-2, 2)), (sp.log_ndtr, (-3, 3)),
               (sp.ndtri, (0.1, 0.9)), (sp.gamma, (0.5, 3)), (sp.rgamma, (0.5, 3)),
               (sp.gammaln, (0.5, 3)), (sp.loggamma, (0.5, 3)), (sp.digamma, (0.5, 3)),
               (sp.expit, (-3, 3)), (sp.logit, (0.1, 0.9)), (sp.log_expit, (-3, 3)),
               (sp.entr, (0.2, 2)), (sp.i0, (-2, 2)), (sp.i1, ("s", 0.3, 2)),
               (sp.i0e, ("s", 0.3, 2)), (sp.i1e, ("s", 0.3, 2)), (sp.j0, (0.3, 5)),
               (sp.j1, (0.3, 5)), (sp.y0, (0.5, 5)), (sp.y1, (0.5, 5)), (sp.k0, (0.3, 3)),
               (sp.k1, (0.3, 3)), (sp.k0e, (0.3, 3)), (sp.k1e, (0.3, 3)),
               (sp.spence, (0.2, 3))]:
    unary(f, dom)
binary(sp.xlogy, (-2, 2), (0.5, 2))
binary(sp.xlog1py, (-2, 2), (-0.5, 2))
binary(sp.rel_entr, (0.2, 2), (0.2, 2))
binary(sp.kl_div, (0.2, 2), (0.2, 2))
binary(sp.beta, (0.5, 3), (0.5, 3))
binary(sp.betaln, (0.5, 3), (0.5, 3))
grad_cases("sp.gammainc", (lambda x: sp.gammainc(2.5, x), [U(0.3, 4, (3, 4))]))
grad_cases("sp.gammaincc", (lambda x: sp.gammaincc(np.array([1.5, 3.0]), x), [U(0.3, 4, (3, 2))]))
grad_cases("sp.betainc", (lambda x: sp.betainc(2.0, 3.0, x), [U(0.1, 0.9, (3, 4))]))
grad_cases("sp.stdtr", (lambda t: sp.stdtr(3.0, t), [U(-2, 2, (3, 4))]))
for f, dom in [(sp.jv, (0.5, 4)), (sp.yv, (0.5, 4)), (sp.iv, (0.3, 2)), (sp.ive, (0.3, 2)),
               (sp.kv, (0.3, 3)), (sp.kve, (0.3, 3))]:
    grad_cases(key_name(f), (lambda x, f=f: f(1.5, x), [U(*dom, (3, 4))]),
               (lambda x, f=f: f(np.array([0.0, 2.0]), x), [U(*dom, (3, 2))]))
grad_cases("sp.yn", (lambda x: sp.yn(2, x), [U(0.5, 4, (3, 4))]))
grad_cases("sp.huber", (lambda r: sp.huber(1.0, r), [S(0.1, 2, (3, 4))]))
grad_cases("sp.pseudo_huber", (lambda r: sp.pseudo_huber(0.7, r), [U(-2, 2, (3, 4))]))

# scipy.special Python functions
W34 = U(-1, 1, (3, 4), 99)
grad_cases("sp.logsumexp",
           (lambda x: sp.logsumexp(x), [U(-2, 2, (5,))]),
           (lambda x: sp.logsumexp(x, axis=1), [U(-2, 2, (3, 4))]),
           (lambda x: sp.logsumexp(x, axis=0, keepdims=True), [U(-2, 2, (3, 4))]),
           (lambda x, b: sp.logsumexp(x, axis=-1, b=b), [U(-2, 2, (2, 3, 4)), U(0.5, 2, 4)]),
           (lambda x: sp.logsumexp(x, b=np.array([1.0, -0.2, 0.5]), return_sign=True)[0],
            [U(-1, 1, 3)]))
grad_cases("sp.softmax", (lambda x: sp.softmax(x, axis=1) * W34, [U(-2, 2, (3, 4))]),
           (lambda x: sp.softmax(x) * W34, [U(-2, 2, (3, 4))]))
grad_cases("sp.log_softmax", (lambda x: sp.log_softmax(x, axis=0) * W34, [U(-2, 2, (3, 4))]))
grad_cases("sp.polygamma", (lambda x: sp.polygamma(1, x), [U(0.5, 3, (3, 4))]),
           (lambda x: sp.polygamma(0, x) + sp.polygamma(2, x), [U(0.5, 3, 5)]))
grad_cases("sp.zeta", (lambda q: sp.zeta(3.0, q), [U(0.5, 3, (2, 3))]))
grad_cases("sp.multigammaln", (lambda a: sp.multigammaln(a, 3), [U(1.5, 4, (4,))]))
if "softplus" in PYTHON_FUNCTIONS:
    grad_cases("sp.softplus", (lambda x: sp.softplus(x), [U(-3, 3, (3, 4))]))

# ------------------------------------------------------------ selection
C34 = U(-1, 1, (3, 4), 7) > 0
grad_cases("np.where", (lambda a, b: np.where(C34, a, b), [U(-1, 1, (3, 4)), U(-1, 1, (3, 1))]),
           (lambda a: np.where(a > 0, a, 0.1 * a), [S(0.1, 1, (2, 3, 2, 2))]))
grad_cases("np.clip", (lambda x: np.clip(x, -0.5, 0.5), [S(0.05, 1, (3, 4))]),
           (lambda x, lo, hi: np.clip(x, lo, hi),
            [U(-1, 1, (3, 4)), U(-0.9, -0.1, (1, 4)) + 0.013, U(0.1, 0.9, (3, 1)) + 0.017]),
           (lambda x, lo, hi: np.clip(x, lo, hi),     # lo > hi: numpy returns hi
            [U(-1, 1, (3,)), np.array(0.8), np.array(0.3)]))

# ------------------------------------------------------------ reductions
X4 = (2, 3, 2, 2)
for f in (np.sum, np.mean):
    grad_cases(key_name(f), (lambda x, f=f: f(x), [U(-1, 1, ())]),
               (lambda x, f=f: f(x), [U(-1, 1, (5,))]),
               (lambda x, f=f: f(x, axis=0), [U(-1, 1, (3, 4))]),
               (lambda x, f=f: f(x, axis=(0, 2), keepdims=True), [U(-1, 1, X4)]),
               (lambda x, f=f: f(x, axis=-1), [U(-1, 1, X4)]))
MW = U(-1, 1, (3, 4), 8) > -0.3
TABLE["np.sum"].cases += [(lambda x: np.sum(x, where=MW), [U(-1, 1, (3, 4))]),
                          (lambda x: np.sum(x, axis=1, where=MW[0]), [U(-1, 1, (3, 4))])]
TABLE["np.mean"].cases += [(lambda x: np.mean(x, axis=0, where=MW), [U(-1, 1, (3, 4))])]
grad_cases("np.prod", (lambda x: np.prod(x), [U(0.5, 1.5, (3, 4))]),
           (lambda x: np.prod(x, axis=1), [U(0.5, 1.5, (3, 4))]),
           (lambda x: np.prod(x, axis=0), [np.array([[0.0, 1.5], [2.0, 0.7], [1.2, 0.0]])]),
           (lambda x: np.prod(x, axis=(1, 3), keepdims=True), [U(0.5, 1.5, X4)]),
           (lambda x: np.prod(x), [np.array([[0.0, 1.5], [2.0, 0.7], [1.2, 0.0]])]),
           (lambda x: np.prod(x, axis=(0, 2)), [np.where(np.arange(24).reshape(2, 3, 4) % 7 == 0,
                                                         0.0, 1.1)]))
for f in (np.max, np.min, np.amax, np.amin):
    grad_cases(key_name(f), (lambda x, f=f: f(x), [U(-1, 1, (5,))]),
               (lambda x, f=f: f(x, axis=1), [U(-1, 1, (3, 4))]),
               (lambda x, f=f: f(x, axis=(0, 3), keepdims=True), [U(-1, 1, X4)]))
XN = U(-1, 1, (3, 4), 5)
XN[0, 1] = XN[2, 3] = np.nan
for f in (np.nansum, np.nanmean, np.nanmax, np.nanmin, np.nanvar, np.nanstd):
    grad_cases(key_name(f), (lambda x, f=f: f(x), [XN]),
               (lambda x, f=f: f(x, axis=1), [XN]), (lambda x, f=f: f(x, axis=0), [XN]))
for f in (np.var, np.std):
    grad_cases(key_name(f), (lambda x, f=f: f(x), [U(-1, 1, (5,))]),
               (lambda x, f=f: f(x, axis=0, ddof=1), [U(-1, 1, (3, 4))]),
               (lambda x, f=f: f(x, axis=(1, 2), keepdims=True), [U(-1, 1, X4)]))
TABLE["np.max"].cases += [(lambda x: np.max(x, axis=1, where=MW, initial=-0.5),
                           [U(-1, 1, (3, 4))])]
grad_cases("np.ptp", (lambda x: np.ptp(x), [U(-1, 1, (5,))]),
           (lambda x: np.ptp(x, axis=1), [U(-1, 1, (3, 4))]))
grad_cases("np.average", (lambda x: np.average(x), [U(-1, 1, (3, 4))]),
           (lambda x, w: np.average(x, axis=1, weights=w), [U(-1, 1, (3, 4)), U(0.5, 2, 4)]),
           (lambda x, w: np.average(x, weights=w), [U(-1, 1, (3, 4)), U(0.5, 2, (3, 4))]),
           (lambda x, w: np.average(x, axis=0, weights=w, returned=True)[0],
            [U(-1, 1, (3, 4)), U(0.5, 2, 3)]))
grad_cases("np.median", (lambda x: np.median(x), [U(-1, 1, (5,))]),
           (lambda x: np.median(x), [U(-1, 1, (3, 4))]),
           (lambda x: np.median(x, axis=1, keepdims=True), [U(-1, 1, (3, 5))]))
grad_cases("np.sort", (lambda x: np.sort(x) * np.arange(5.0), [U(-1, 1, (5,))]),
           (lambda x: np.sort(x, axis=0) * W34, [U(-1, 1, (3, 4))]),
           (lambda x: np.sort(x, axis=None) * np.arange(12.0), [U(-1, 1, (3, 4))]))
grad_cases("np.diff", (lambda x: np.diff(x) * np.arange(4.0), [U(-1, 1, (5,))]),
           (lambda x: np.diff(x, n=2, axis=0), [U(-1, 1, (4, 3))]),
           (lambda x, p: np.diff(x, prepend=p, append=0.5) ** 2, [U(-1, 1, (3, 4)), U(-1, 1, (3, 1))]))
grad_cases("np.cumsum", (lambda x: np.cumsum(x) * np.arange(5.0), [U(-1, 1, (5,))]),
           (lambda x: np.cumsum(x, axis=1) * W34, [U(-1, 1, (3, 4))]),
           (lambda x: np.cumsum(x) * np.arange(12.0), [U(-1, 1, (3, 4))]))
grad_cases("np.cumprod", (lambda x: np.cumprod(x), [U(0.5, 1.5, (5,))]),
           (lambda x: np.cumprod(x, axis=0) * W34, [U(0.5, 1.5, (3, 4))]),
           (lambda x: np.cumprod(x), [U(0.5, 1.5, (2, 3))]),
           (lambda x: np.cumprod(x, axis=1) * W34, [np.where(C34, 0.0, U(-1, 1, (3, 4)))]),
           (lambda x: np.cumprod(x), [np.array([1.5, 0.0, 2.0, 0.0, 0.7])]))

# ------------------------------------------------------------ shapes
A34, A4D = U(-1, 1, (3, 4)), U(-1, 1, X4)
grad_cases("np.reshape", (lambda x: np.reshape(x, (4, 3)) * W34.T, [A34]),
           (lambda x: x.reshape(6, -1), [A4D]))
grad_cases("np.ravel", (lambda x: np.ravel(x) * np.arange(12.0), [A34]))
grad_cases("np.transpose", (lambda x: np.transpose(x) * W34.T, [A34]),
           (lambda x: np.transpose(x, (2, 0, 3, 1)) * np.arange(24.0).reshape(2, 2, 2, 3), [A4D]),
           (lambda x: x.transpose(-1, 0, 1, 2)[0], [A4D]))
grad_cases("np.moveaxis", (lambda x: np.moveaxis(x, 0, -1)[0], [A4D]),
           (lambda x: np.moveaxis(x, [0, 1], [-1, -2])[1], [A4D]))
grad_cases("np.swapaxes", (lambda x: np.swapaxes(x, 1, 3)[0, 1], [A4D]))
grad_cases("np.squeeze", (lambda x: np.squeeze(x) * np.arange(3.0), [U(-1, 1, (1, 3, 1))]),
           (lambda x: np.squeeze(x, axis=0), [U(-1, 1, (1, 3, 1))]))
grad_cases("np.expand_dims", (lambda x: np.expand_dims(x, (0, 2)) * W34.reshape(3, 1, 4), [A34]))
grad_cases("np.broadcast_to", (lambda x: np.broadcast_to(x, (3, 4)) * W34, [U(-1, 1, (3, 1))]),
           (lambda x: np.broadcast_to(x, (2, 3, 4)) * W34, [U(-1, 1, 4)]))
for f, ax in ((np.atleast_1d, 1), (np.atleast_2d, 2), (np.atleast_3d, 3)):
    grad_cases(key_name(f), (lambda x, f=f: f(x) * 2.0, [U(-1, 1, ())]),
               (lambda x, f=f: f(x) * np.arange(3.0), [U(-1, 1, 3)]))
grad_cases("np.concatenate",
           (lambda a, b: np.concatenate([a, b]) * np.arange(5.0)[:, None], [A34[:2], A34]),
           (lambda a, b: np.concatenate([a, b, a], axis=1)[1], [A34, A34[:, :2]]),
           (lambda a, b: np.concatenate((a, b), axis=None), [A34, U(-1, 1, 3)]))
grad_cases("np.stack", (lambda a, b: np.stack([a, b], axis=1)[2], [A34, W34]),
           (lambda a, b: np.stack([a, b, a], axis=-1)[..., 0] * W34, [A34, W34]))
grad_cases("np.hstack", (lambda a, b: np.hstack([a, b]) * np.arange(7.0), [A34[:, :3], A34]),
           (lambda a, b: np.hstack([a, b]) * np.arange(4.0), [U(-1, 1, 3), U(-1, 1, ())]))
grad_cases("np.vstack", (lambda a, b: np.vstack([a, b])[1:3], [U(-1, 1, 4), A34]))
grad_cases("np.dstack", (lambda a, b: np.dstack([a, b])[..., 1], [A34, A34 * 2]),
           (lambda a, b: np.dstack([a, b]) * np.arange(2.0), [U(-1, 1, 3), U(-1, 1, 3)]))
grad_cases("np.column_stack",
           (lambda a, b: np.column_stack([a, b]) * np.arange(5.0), [U(-1, 1, 3), A34[:, :4]]))
grad_cases("np.append", (lambda a, b: np.append(a, b) * np.arange(15.0), [A34, U(-1, 1, 3)]),
           (lambda a, b: np.append(a, b, axis=0)[2:], [A34, U(-1, 1, (1, 4))]))
grad_cases("np.split", (lambda x: np.split(x, 2, axis=1)[1] * 2, [A34]),
           (lambda x: np.split(x, [1, 3])[0] - np.split(x, [1, 3])[2], [U(-1, 1, (4, 2))]))
grad_cases("np.array_split", (lambda x: np.array_split(x, 3, axis=1)[0], [U(-1, 1, (2, 7))]),
           (lambda x: np.array_split(x, 2)[1] * 3, [U(-1, 1, 5)]))
grad_cases("np.pad", (lambda x: np.pad(x, 1) * np.arange(30.0).reshape(5, 6), [A34]),
           (lambda x: np.pad(x, ((0, 1), (2, 0)), constant_values=3.0)[1], [A34]))
grad_cases("np.flip", (lambda x: np.flip(x) * np.arange(12.0).reshape(3, 4), [A34]),
           (lambda x: np.flip(x, axis=(0, 2))[0], [A4D]))
grad_cases("np.fliplr", (lambda x: np.fliplr(x) * W34, [A34]))
grad_cases("np.flipud", (lambda x: np.flipud(x) * W34, [A34]))
grad_cases("np.roll", (lambda x: np.roll(x, 2) * W34, [A34]),
           (lambda x: np.roll(x, (1, -1), axis=(0, 1))[0], [A34]))
grad_cases("np.rot90", (lambda x: np.rot90(x)[0], [A34]),
           (lambda x: np.rot90(x, 3, axes=(1, 2))[0, 1], [A4D]))
grad_cases("np.tile", (lambda x: np.tile(x, 2) * np.arange(6.0), [U(-1, 1, 3)]),
           (lambda x: np.tile(x, (2, 1, 2))[1], [U(-1, 1, (3, 1))]))
grad_cases("np.repeat", (lambda x: np.repeat(x, 2) * np.arange(24.0), [A34]),
           (lambda x: np.repeat(x, 3, axis=1)[0], [A34]),
           (lambda x: np.repeat(x, [1, 0, 3], axis=0) * np.arange(16.0).reshape(4, 4), [A34]))
grad_cases("np.diagonal", (lambda x: np.diagonal(x), [A34]),
           (lambda x: np.diagonal(x, 1, 0, 2)[1], [A4D]),
           (lambda x: x.diagonal(-1), [A34.T]))
grad_cases("np.trace", (lambda x: np.trace(x), [A34]),
           (lambda x: np.trace(x, 1, 1, 3), [A4D]))
grad_cases("np.diag", (lambda x: np.diag(x) * np.arange(9.0).reshape(3, 3), [U(-1, 1, 3)]),
           (lambda x: np.diag(x, -1) * np.arange(16.0).reshape(4, 4), [U(-1, 1, 3)]),
           (lambda x: np.diag(x, 1), [A34]))
grad_cases("np.diagflat", (lambda x: np.diagflat(x) * np.arange(16.0).reshape(4, 4),
                           [U(-1, 1, (2, 2))]))
grad_cases("np.triu", (lambda x: np.triu(x) * W34, [A34]),
           (lambda x: np.triu(x, -1)[1], [A4D]))
grad_cases("np.tril", (lambda x: np.tril(x, 1) * W34, [A34]))
grad_cases("np.take", (lambda x: np.take(x, [0, 2, 2]), [U(-1, 1, 5)]),
           (lambda x: np.take(x, np.array([[3, 0], [3, 3]]), axis=1), [A34]),
           (lambda x: np.take(x, [5, 11, 5]), [A34]))
grad_cases("np.take_along_axis",
           (lambda x: np.take_along_axis(x, np.array([[0], [3], [3]]), axis=1), [A34]),
           (lambda x: np.take_along_axis(x, np.array([[2, 1, 0, 0]]), axis=0), [A34]))
grad_cases("getitem", (lambda x: x[1, ::-2], [A34]), (lambda x: x[[0, 0, 2]], [A34]),
           (lambda x: x[..., None, 1], [A4D]), (lambda x: x[x > 0], [A34]))
grad_cases("np.select", (lambda a, b: np.select([C34, ~C34], [a, b * 2], default=0.5),
                         [U(-1, 1, (3, 4)), U(-1, 1, (3, 4))]),
           (lambda a: np.select([a > 0.5, a < -0.5], [a * a, -a]), [S(0.1, 1, (3, 4))]))
grad_cases("np.copy", (lambda x: np.copy(x) * W34, [A34]))
grad_cases("copy", (lambda x: x.copy() * W34, [A34]))
grad_cases("astype", (lambda x: x.astype(np.float64) * W34, [A34]),
           (lambda x: x.astype(np.float32) * 2, [A34]))
grad_cases("np.real", (lambda x: np.real(x) * W34, [A34]))

# ------------------------------------------------------------ products
B45, V4 = U(-1, 1, (4, 5), 3), U(-1, 1, 4, 4)
grad_cases("np.matmul", (lambda a, b: a @ b, [A34, B45]), (lambda a, b: a @ b, [V4, B45]),
           (lambda a, b: a @ b, [A34, V4]), (lambda a, b: np.matmul(a, b), [V4, V4]),
           (lambda a, b: a @ b, [U(-1, 1, (2, 1, 3, 4)), U(-1, 1, (3, 4, 2))]))
grad_cases("np.dot", (lambda a, b: np.dot(a, b), [A34, B45]),
           (lambda a, b: np.dot(a, b), [V4, V4]), (lambda a, b: a.dot(b), [A34, V4]),
           (lambda a, b: np.dot(a, b), [U(-1, 1, ()), A34]),
           (lambda a, b: np.dot(a, b), [U(-1, 1, (2, 3)), U(-1, 1, (2, 3, 4))]))
grad_cases("np.inner", (lambda a, b: np.inner(a, b), [A34, U(-1, 1, (5, 4))]),
           (lambda a, b: np.inner(a, b), [V4, V4]), (lambda a, b: np.inner(a, b), [V4, U(-1, 1, ())]))
grad_cases("np.outer", (lambda a, b: np.outer(a, b), [V4, U(-1, 1, 3)]),
           (lambda a, b: np.outer(a, b), [U(-1, 1, (2, 2)), U(-1, 1, 3)]))
grad_cases("np.kron", (lambda a, b: np.kron(a, b) * np.arange(36.0).reshape(6, 6),
                       [U(-1, 1, (2, 3)), U(-1, 1, (3, 2))]),
           (lambda a, b: np.kron(a, b)[1], [U(-1, 1, 3), U(-1, 1, (2, 2))]))
grad_cases("np.vdot", (lambda a, b: np.vdot(a, b), [A34, W34]))
grad_cases("np.tensordot", (lambda a, b: np.tensordot(a, b, 1), [A34, B45]),
           (lambda a, b: np.tensordot(a, b, ([1, 0], [0, 2])), [A34, U(-1, 1, (4, 2, 3))]),
           (lambda a, b: np.tensordot(a, b, 0)[1], [U(-1, 1, 3), U(-1, 1, 2)]))
grad_cases("np.einsum", (lambda a, b: np.einsum("ij,jk->ik", a, b), [A34, B45]),
           (lambda a, b: np.einsum("ij,jk", a, b), [A34, B45]),
           (lambda a: np.einsum("ii->i", a) * np.arange(3.0), [U(-1, 1, (3, 3))]),
           (lambda a: np.einsum("ii", a), [U(-1, 1, (3, 3))]),
           (lambda a: np.einsum("iji->j", a), [U(-1, 1, (3, 2, 3))]),
           (lambda a: np.einsum("ij->", a), [A34]),
           (lambda a, b: np.einsum("i,i", a, b), [V4, V4]),
           (lambda a, b: np.einsum("i,j->ij", a, b), [V4, U(-1, 1, 3)]),
           (lambda a, b: np.einsum("bij,bjk->bik", a, b), [U(-1, 1, (2, 3, 4)), U(-1, 1, (2, 4, 2))]),
           (lambda a, b: np.einsum("...ij,...jk->...ik", a, b),
            [U(-1, 1, (2, 1, 3, 4)), U(-1, 1, (3, 4, 2))]),
           (lambda a, b: np.einsum("...i,i", a, b), [A34, V4]),
           (lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c), [A34, B45, U(-1, 1, (5, 2))]),
           (lambda a, b: np.einsum("ij,kl->", a, b), [A34, U(-1, 1, (2, 2))]))

grad_cases("np.nanprod", (lambda x: np.nanprod(x * 0.5 + 1), [XN]),
           (lambda x: np.nanprod(x + 1.5, axis=1), [XN]))
grad_cases("np.nancumsum", (lambda x: np.nancumsum(x, axis=1) * W34, [XN]),
           (lambda x: np.nancumsum(x) * np.arange(12.0), [XN]))
grad_cases("np.nancumprod", (lambda x: np.nancumprod(x + 1.5, axis=0) * W34, [XN]))
if hasattr(np, "cumulative_sum"):
    grad_cases("np.cumulative_sum", (lambda x: np.cumulative_sum(x) * np.arange(5.0), [U(-1, 1, 5)]),
               (lambda x: np.cumulative_sum(x, axis=1, include_initial=True)[:, 1:] * W34,
                [U(-1, 1, (3, 4))]))
    grad_cases("np.cumulative_prod",
               (lambda x: np.cumulative_prod(x, axis=0, include_initial=True), [U(0.5, 1.5, (3, 4))]))
    grad_cases("np.unstack", (lambda x: np.unstack(x)[1] * 2 - np.unstack(x, axis=1)[0][0],
                              [U(-1, 1, (3, 4))]))
    grad_cases("np.matrix_transpose", (lambda x: np.matrix_transpose(x)[1], [U(-1, 1, (2, 3, 4))]))
    grad_cases("np.astype", (lambda x: np.astype(x, np.float64) * W34, [U(-1, 1, (3, 4))]))
grad_cases("np.delete", (lambda x: np.delete(x, [0, 2], axis=1) * 2, [U(-1, 1, (3, 4))]),
           (lambda x: np.delete(x, 5), [U(-1, 1, (3, 4))]))
grad_cases("np.block", (lambda a, b: np.block([[a, b], [b, a]]) * np.arange(16.0).reshape(4, 4),
                        [U(-1, 1, (2, 2)), U(-1, 1, (2, 2))]),
           (lambda a, b: np.block([a, b, a]), [U(-1, 1, 2), U(-1, 1, 3)]))

# ------------------------------------------------------------ signals, statistics
V6 = U(-1, 1, 6, 6)
grad_cases("np.convolve", *[(lambda a, v, m=m, n=n: np.convolve(a, v, m) * np.arange(n), [V4, V6])
                            for m, n in (("full", 9), ("same", 6), ("valid", 3))],
           (lambda a, v: np.convolve(a, v) ** 2, [V6, U(-1, 1, 2)]))
grad_cases("np.correlate", *[(lambda a, v, m=m: np.correlate(a, v, m) ** 2, [V6, V4])
                             for m in ("full", "same", "valid")])
grad_cases("np.cross", (lambda a, b: np.cross(a, b), [U(-1, 1, (4, 3)), U(-1, 1, 3)]),
           (lambda a, b: np.cross(a, b, axis=0), [U(-1, 1, (3, 4)), U(-1, 1, (3, 1))]),
           (lambda a, b: np.cross(a, b, axisa=0, axisc=0), [U(-1, 1, (3, 4)), U(-1, 1, (4, 3))]))
grad_cases("np.meshgrid",
           (lambda x, y: np.meshgrid(x, y)[0] * W34 + np.meshgrid(x, y)[1] ** 2,
            [V4, U(-1, 1, 3)]),
           (lambda x, y, z: np.meshgrid(x, y, z, indexing="ij")[2] * np.meshgrid(x, y, z)[0].transpose(1, 0, 2)
            + np.meshgrid(x, y, z, indexing="ij")[1] ** 2,
            [U(-1, 1, 2), U(-1, 1, 3), V4]),
           (lambda x, y: np.meshgrid(x, y, sparse=True)[1] * x, [V4, U(-1, 1, 3)]))
grad_cases("np.cov", (lambda m: np.cov(m), [U(-1, 1, (3, 5))]),
           (lambda m, y: np.cov(m, y, rowvar=False, bias=True), [U(-1, 1, (5, 2)), U(-1, 1, 5)]),
           (lambda m: np.cov(m, ddof=0), [U(-1, 1, 6)]))
grad_cases("np.corrcoef", (lambda m: np.corrcoef(m) * W34[:, :3], [U(-1, 1, (3, 5))]),
           (lambda x, y: np.corrcoef(x, y) * W34[:2, :2], [U(-1, 1, 5), U(-1, 1, 5)]))
if hasattr(np, "trapezoid"):
    grad_cases("np.trapezoid", (lambda y: np.trapezoid(y), [U(-1, 1, 5)]),
               (lambda y, x: np.trapezoid(y, x, axis=0), [U(-1, 1, (3, 4)),
                                                          np.cumsum(U(0.5, 1, 3))]),
               (lambda y, x: np.trapezoid(y, x), [U(-1, 1, (3, 4)), np.cumsum(U(0.5, 1, (3, 4)), 1)]),
               (lambda y: np.trapezoid(y, dx=0.3, axis=1), [U(-1, 1, (2, 3, 4))]))
grad_cases("np.quantile", (lambda a: np.quantile(a, 0.3), [U(-1, 1, 7)]),
           (lambda a: np.quantile(a, [0.1, 0.5, 0.95], axis=1), [U(-1, 1, (3, 6))]),
           (lambda a: np.quantile(a, 0.7, axis=(0, 2), keepdims=True), [U(-1, 1, (3, 2, 4))]))
grad_cases("np.percentile", (lambda a: np.percentile(a, [25, 80]), [U(-1, 1, (3, 4))]),
           (lambda a: np.percentile(a, 40, axis=0), [U(-1, 1, (5, 3))]))
grad_cases("np.ediff1d", (lambda a: np.ediff1d(a) ** 2, [U(-1, 1, (2, 3))]),
           (lambda a, e: np.ediff1d(a, to_end=e, to_begin=[0.5]) ** 2, [U(-1, 1, 5), U(-1, 1, 2)]))

# ------------------------------------------------------------ linalg
SYM = lambda a: a + np.swapaxes(a, -1, -2)         # noqa: E731  read both triangles
M33 = U(-1, 1, (3, 3), 1) + 3 * np.eye(3)
MB = U(-1, 1, (2, 3, 3), 2) + 3 * np.eye(3)
grad_cases("np.linalg.det", (lambda a: LA.det(a), [M33]), (lambda a: LA.det(a), [MB]))
grad_cases("np.linalg.slogdet", (lambda a: LA.slogdet(a)[1], [M33 - 6 * np.eye(3)]),
           (lambda a: LA.slogdet(a).logabsdet, [MB]))
grad_cases("np.linalg.inv", (lambda a: LA.inv(a) * W34[:, :3], [M33]),
           (lambda a: LA.inv(a)[1], [MB]))
grad_cases("np.linalg.solve", (lambda a, b: LA.solve(a, b), [M33, U(-1, 1, 3)]),
           (lambda a, b: LA.solve(a, b) * W34[:, :2], [M33, U(-1, 1, (3, 2))]),
           (lambda a, b: LA.solve(a, b), [MB, U(-1, 1, (3, 2))]))
grad_cases("np.linalg.pinv", (lambda a: LA.pinv(a) * W34.T, [A34]),
           (lambda a: LA.pinv(a) * W34, [A34.T]), (lambda a: LA.pinv(a)[0], [M33]))
grad_cases("np.linalg.matrix_power", (lambda a: LA.matrix_power(a, 3), [M33 / 3]),
           (lambda a: LA.matrix_power(a, -2), [M33]), (lambda a: LA.matrix_power(a, 0) * a, [M33]))
grad_cases("np.linalg.multi_dot", (lambda a, b, c: LA.multi_dot([a, b, c]), [A34, B45, U(-1, 1, 5)]))
grad_cases("np.linalg.cholesky", (lambda a: LA.cholesky(SYM(a)) * W34[:, :3], [SPD(3) / 2]),
           (lambda a: LA.cholesky(SYM(a))[1], [SPD(3, (2,)) / 2]),
           (lambda a: LA.cholesky(SYM(a), upper=True) * W34[:, :3], [SPD(3) / 2]))
grad_cases("np.linalg.eigh", (lambda a: LA.eigh(SYM(a))[0] * np.arange(3.0), [M33]),
           (lambda a: LA.eigh(SYM(a))[1] ** 2 * W34[:, :3], [M33]),
           (lambda a: np.abs(LA.eigh(SYM(a)).eigenvectors[..., 0]), [MB]))
grad_cases("np.linalg.eigvalsh", (lambda a: LA.eigvalsh(SYM(a)) * np.arange(3.0), [M33]))
grad_cases("np.linalg.svd", (lambda a: LA.svd(a, compute_uv=False) * np.arange(3.0), [A34]),
           (lambda a: LA.svd(a, full_matrices=False)[0] ** 2 * W34[:, :3], [A34]),
           (lambda a: LA.svd(a, full_matrices=False)[2] ** 2 * W34[:, :3].T, [A34.T]),
           (lambda a: (LA.svd(a)[0] * LA.svd(a)[2][0]) * W34[:, :3], [M33]))
grad_cases("np.linalg.svdvals", (lambda a: LA.svdvals(a) * np.arange(3.0), [A34]))
grad_cases("np.linalg.norm", (lambda x: LA.norm(x), [A34]), (lambda x: LA.norm(x), [A4D]),
           (lambda x: LA.norm(x, 1), [S(0.1, 1, 5)]), (lambda x: LA.norm(x, 2), [U(-1, 1, 5)]),
           (lambda x: LA.norm(x, np.inf), [U(-1, 1, 5)]), (lambda x: LA.norm(x, -np.inf), [U(-1, 1, 5)]),
           (lambda x: LA.norm(x, 3), [S(0.1, 1, 5)]),
           (lambda x: LA.norm(x, "fro"), [A34]), (lambda x: LA.norm(x, 1), [A34]),
           (lambda x: LA.norm(x, np.inf), [A34]), (lambda x: LA.norm(x, -1), [A34]),
           (lambda x: LA.norm(x, 2), [A34]), (lambda x: LA.norm(x, -2), [A34]),
           (lambda x: LA.norm(x, "nuc"), [A34]),
           (lambda x: LA.norm(x, axis=1), [A34]),
           (lambda x: LA.norm(x, 1, axis=0, keepdims=True), [S(0.1, 1, (3, 4))]),
           (lambda x: LA.norm(x, axis=(1, 3)), [A4D]),
           (lambda x: LA.norm(x, np.inf, axis=(2, 1)), [A4D]),
           (lambda x: LA.norm(x, keepdims=True), [A34]))
grad_cases("np.linalg.vector_norm", (lambda x: LA.vector_norm(x), [A34]),
           (lambda x: LA.vector_norm(x, axis=(0, 2), ord=1), [S(0.1, 1, X4)]),
           (lambda x: LA.vector_norm(x, axis=1, keepdims=True), [A34]))
grad_cases("np.linalg.matrix_norm", (lambda x: LA.matrix_norm(x), [A4D]),
           (lambda x: LA.matrix_norm(x, ord=1), [A4D]))
grad_cases("np.linalg.qr", (lambda a: LA.qr(a)[0] * U(-1, 1, (5, 3), 9), [U(-1, 1, (5, 3))]),
           (lambda a: LA.qr(a).R * W34[:, :3], [U(-1, 1, (5, 3))]),
           (lambda a: LA.qr(a, mode="r") * W34[:, :3], [M33]),
           (lambda a: LA.qr(a)[0][0] * LA.qr(a)[1][1], [MB]))
grad_cases("np.linalg.lstsq",
           (lambda a, b: LA.lstsq(a, b)[0], [U(-1, 1, (5, 3)), U(-1, 1, 5)]),
           (lambda a, b: LA.lstsq(a, b)[1], [U(-1, 1, (5, 3)), U(-1, 1, (5, 2))]),
           (lambda a, b: LA.lstsq(a, b)[0] * W34[:, :2], [M33, U(-1, 1, (3, 2))]))
grad_cases("np.linalg.matmul", (lambda a, b: LA.matmul(a, b), [A34, B45]))
grad_cases("np.linalg.outer", (lambda a, b: LA.outer(a, b), [V4, U(-1, 1, 3)]))
grad_cases("np.linalg.trace", (lambda a: LA.trace(a), [A4D]))
grad_cases("np.linalg.diagonal", (lambda a: LA.diagonal(a, offset=1), [A4D]))
grad_cases("np.linalg.tensordot", (lambda a, b: LA.tensordot(a, b, axes=1), [A34, B45]))
grad_cases("np.linalg.matrix_transpose", (lambda a: LA.matrix_transpose(a)[0, 1], [A4D]))
grad_cases("np.linalg.vecdot", (lambda a, b: LA.vecdot(a, b, axis=0), [A34, W34]))


# ------------------------------------------------------------ not differentiable
def _z(*arrays):
    return [np.asarray(a, dtype=float) for a in arrays]


Z34 = _z(np.array([[1.5, -0.5, 0.0, 2.5], [np.nan, 3.0, -2.5, 0.5], [1.0, 1.0, -np.inf, 0.25]]))
Z1 = _z(U(-3, 3, 6, 11))
for f in (np.sign, np.floor, np.ceil, np.rint, np.trunc, np.isnan, np.isinf, np.isfinite,
          np.signbit, np.logical_not, np.spacing, np.isneginf, np.isposinf, np.fix, np.round,
          np.around, np.iscomplex, np.isreal, np.iscomplexobj, np.isrealobj, np.shape, np.ndim,
          np.size, np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero,
          np.count_nonzero, np.all, np.any, np.zeros_like, np.ones_like, np.unique,
          np.result_type, np.min_scalar_type, np.common_type, np.nanargmax, np.nanargmin,
          np.array_str, np.array_repr, np.sort_complex):
    zero(key_name(f), (lambda x, f=f: f(x), Z34 if f not in (np.nanargmax, np.nanargmin,
                                                              np.sort_complex) else Z1))
zero("np.empty_like", (lambda x: np.empty_like(x).shape, Z34))
zero("np.full_like", (lambda x: np.full_like(x, 2.0), Z34))
for f in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
          np.logical_and, np.logical_or, np.logical_xor, np.floor_divide, np.heaviside,
          np.nextafter, np.allclose, np.isclose, np.array_equal, np.array_equiv,
          np.may_share_memory, np.shares_memory, np.isin):
    zero(key_name(f), (lambda a, b, f=f: f(a, b), _z(U(-2, 2, (3, 4), 1), U(-2, 2, (1, 4), 2))))
for f in (np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.gcd, np.lcm, np.left_shift,
          np.right_shift):
    zero(key_name(f), (lambda a, b, f=f: f(a.astype(int), b.astype(int)),
                       _z([[3, 5], [6, 1]], [1, 2])))
zero("np.invert", (lambda a: np.invert(a.astype(int)), _z([3, 5])))
zero("np.bitwise_count", (lambda a: np.bitwise_count(a.astype(int)), _z([3, 7])))
zero("np.isnat", (lambda a: np.isnat(a.astype("datetime64[s]")), _z([3, 7])))
zero("np.searchsorted", (lambda a, v: np.searchsorted(a, v), _z([0.0, 1.0, 2.0], [0.5, 1.5])))
zero("np.bincount", (lambda a: np.bincount(a.astype(int)), _z([0, 2, 2, 5])))
zero("np.digitize", (lambda a: np.digitize(a, [0.0, 1.0]), Z1))
zero("np.histogram", (lambda a: np.histogram(a, bins=3), Z1))
zero("np.lexsort", (lambda a, b: np.lexsort((a, b)), _z([1, 0, 1], [2, 2, 1])))
zero("np.ravel_multi_index", (lambda a: np.ravel_multi_index((a.astype(int), a.astype(int)),
                                                             (3, 3)), _z([0, 2])))
zero("np.unravel_index", (lambda a: np.unravel_index(a.astype(int), (3, 3)), _z([1, 7])))
zero("np.tril_indices_from", (lambda a: np.tril_indices_from(a), _z(np.ones((3, 3)))))
zero("np.triu_indices_from", (lambda a: np.triu_indices_from(a, 1), _z(np.ones((3, 3)))))
zero("np.diag_indices_from", (lambda a: np.diag_indices_from(a), _z(np.ones((3, 3)))))
zero("np.argpartition", (lambda a: np.argpartition(a, 2), Z1))
zero("np.can_cast", (lambda a: np.can_cast(a, np.float32), Z1))
zero("np.linalg.matrix_rank", (lambda a: LA.matrix_rank(a), _z(M33)))
zero("np.linalg.cond", (lambda a: LA.cond(a), _z(M33)))
zero("sp.gammasgn", (lambda a: sp.gammasgn(a), Z1))

# ------------------------------------------------------------ added for HIPS's test suite
# (in the topic tables of autograd/rules/; also checked HIPS-style in tests/test_hips_extra.py)
grad_cases("np.linspace", (lambda a, b: np.linspace(a, b, 5) * np.arange(5.0), [U(-1, 1, ()), U(1, 2, ())]),
           (lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=1), [U(-1, 1, 3), U(1, 2, 3, 1)]))
grad_cases("np.gradient", (lambda a: np.gradient(a) * np.arange(6.0), [U(-1, 1, 6)]),
           (lambda a: np.gradient(a, 0.5, axis=0, edge_order=2) * W34, [A34]))
grad_cases("np.nan_to_num", (lambda a: np.nan_to_num(a + np.array([0.0, np.inf, np.nan]), posinf=3.0), [U(1, 2, 3)]))
grad_cases("np.partition", (lambda a: np.partition(a, 2) * np.arange(5.0), [U(-1, 1, 5)]),
           (lambda a: np.partition(a, 1, axis=0) * W34, [A34]))
grad_cases("np.rollaxis", (lambda a: np.rollaxis(a, 2, 0)[1], [A4D]),
           (lambda a: np.rollaxis(a, 0, 3)[0, 1], [A4D]))
grad_cases("np.vsplit", (lambda a: np.vsplit(a, [1])[1] * W34[1:], [A34]))
grad_cases("np.hsplit", (lambda a: np.hsplit(a, 2)[0] * W34[:, :2], [A34]))
grad_cases("np.dsplit", (lambda a: np.dsplit(a, 2)[1] * np.arange(2.0), [U(-1, 1, (2, 3, 4))]))
grad_cases("np.linalg.eig", (lambda a: np.abs(LA.eig(a)[0]) * np.arange(3.0), [M33]),
           (lambda a: np.abs(LA.eig(a)[1]) * W34[:, :3], [M33]))
grad_cases("np.linalg.eigvals", (lambda a: np.abs(LA.eigvals(a)), [MB]))


def missing_entries():
    """Registered names with no table entry (external ones excepted)."""
    return sorted(n for n in registered() if n not in TABLE and not is_external(n))


SPELLING = {"getitem": "x[index]", "astype": "x.astype", "copy": "x.copy()",
            "sp.psi": "sp.digamma (psi)"}
GROUPS = ["numpy ufuncs", "numpy functions and array methods", "numpy.linalg",
          "scipy.special ufuncs", "scipy.special functions", "not differentiable (zero-grad)"]


def _group(name, key, entry):
    if entry.kind == "zero":
        return GROUPS[5]
    if name.startswith("np.linalg."):
        return GROUPS[2]
    if name.startswith("sp."):
        return GROUPS[3] if isinstance(key, np.ufunc) else GROUPS[4]
    return GROUPS[0] if isinstance(key, np.ufunc) else GROUPS[1]


def _order(entry):
    """Highest derivative order the tests check for this entry."""
    if entry.kind == "zero":
        return 0
    return 4 if entry.elementwise else 2


def markdown():
    """The README coverage table, generated from the registries and this table:
    one row per group, then (folded) one row per function."""
    reg = registered()
    groups = {g: [] for g in GROUPS}
    missing = []
    for name in sorted(reg):
        if is_external(name):
            continue
        e = TABLE.get(name)
        if e is None:
            missing.append(name)
            continue
        groups[_group(name, reg[name], e)].append((name, e))
    out = ["| group | functions | checked |", "|---|---|---|"]
    for g, rows in groups.items():
        names = ", ".join(f"`{SPELLING.get(n, n)}`" for n, _ in rows)
        orders = sorted({_order(e) for _, e in rows})
        if g == GROUPS[5]:
            how = "accept recorded values, return plain results"
        else:
            how = ("gcheck at several shapes, values vs numpy; derivatives to order "
                   + "/".join(map(str, orders)))
        out.append(f"| {g} ({len(rows)}) | {names} | {how} |")
    out += ["", "<details><summary>Per function</summary>", "",
            "| function | gradient | highest order tested |", "|---|---|---|"]
    for g, rows in groups.items():
        for n, e in rows:
            kind = "zero-grad" if e.kind == "zero" else "grad"
            order = "-" if e.kind == "zero" else str(_order(e))
            out.append(f"| `{SPELLING.get(n, n)}` | {kind} | {order} |")
    for n in missing:
        out.append(f"| `{n}` | **registered, untested** | - |")
    out += ["", "</details>"]
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown())
