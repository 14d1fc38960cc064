"""Gradients with complex numbers (HIPS autograd's convention).

For a real-valued loss L of a complex z = x + iy the gradient is

    dL/dz = dL/dx - i dL/dy

and a complex-valued output carries such a gradient too (of the real part
of whatever it feeds).  With this convention the gradient of a holomorphic
function f is its complex derivative f'(z), and its backward rule is
``dy * f'(z)`` with no conjugation: the rules written for real numbers
(multiply, exp, sin, matmul, ...) already hold.  The functions that are not
holomorphic need their own rules, which this module registers:

    abs(z)    dy * conj(z) / |z|        (0 at z = 0)
    real(z)   dy                         imag(z)   -i dy
    conj(z)   conj(dy)                   angle(z)  dy * conj(i z) / |z|^2
    power(a, b) with complex a: log of a negative base is complex, not 0
    arccosh(z) 1 / (sqrt(z - 1) sqrt(z + 1)) (numpy's branch)
    var/std   mean of |z - mean|^2 (numpy's definition)
    vdot(a, b) conjugates a
    linalg.norm / vector_norm / matrix_norm of complex x: the same norm of |x|
    (the spectral matrix norms 2, -2, 'nuc': from the singular values)
    linalg.cholesky of complex Hermitian matrices
    linalg.svd of complex matrices (thin factorization; HIPS's rule)

(linalg.eigh / eigvalsh serve real and complex input alike: rules/linalg.py.)

Each rule keeps the existing real-number rule for real inputs.  When the
gradient of a real input comes out complex only its real part is kept.

>>> import numpy as np
>>> from autograd import grad
>>> complex(grad(lambda z: np.abs(z) ** 2)(1 + 2j))      # 2 conj(z)
(2-4j)
"""
import numpy as np

from ..core import Primitive, _raw
from ..registry import lookup, register, register_each
from ..registry import defgrad
from .common import is_complex, match  # noqa: F401  (complex helpers, also used by scipy.linalg)
from .linalg import _H, named_result
from .statistics import std_of_var


def _previous(fn):
    prev = lookup(fn)
    return prev if isinstance(prev, Primitive) else None


def complex_aware(fn, *rules):
    """Register ``rules`` (one per argument, None for none) for ``fn`` when any
    argument is complex, keeping the rule already registered otherwise."""
    prev = _previous(fn)

    def pick(i, rule):
        old = prev.grad_of(i) if prev is not None else None
        if rule is None:
            return old

        def g(dy, y, *args, **kw):
            if old is not None and not any(is_complex(a) for a in args):
                return old(dy, y, *args, **kw)
            return rule(dy, y, *args, **kw)
        return g
    # replaces the real rule on purpose: the new rule calls it for real arguments
    return defgrad(fn, *[pick(i, r) for i, r in enumerate(rules)], override=True)


# ---------------------------------------------------------- non-holomorphic
def _abs_grad(dy, y, x):
    return dy * np.conj(x) / np.where(np.equal(_raw(y), 0), 1, y)


complex_aware(np.absolute, _abs_grad)
defgrad(np.conjugate, lambda dy, y, x: match(x, np.conj(dy)))


def _imag_grad(dy, y, x):
    if not is_complex(x):
        return None                      # imag of a real array is constant zero
    return -1j * np.real(dy)


defgrad(np.imag, _imag_grad)


def _angle_grad(dy, y, z, deg=False):
    if not is_complex(z):
        return None                      # 0 or pi: piecewise constant
    r2 = np.real(z * np.conj(z))
    g = np.real(dy) * np.conj(1j * z) / np.where(np.equal(_raw(r2), 0), 1, r2)
    return g * (180 / np.pi) if deg else g


defgrad(np.angle, _angle_grad)
defgrad(np.real_if_close, lambda dy, y, a, tol=100: match(a, dy))


def _power_exponent(dy, y, a, b):
    return dy * y * np.log(np.where(np.equal(_raw(a), 0), 1, a))


complex_aware(np.power, None, _power_exponent)
complex_aware(np.float_power, None, _power_exponent)


# numpy's principal branch: arccosh'(z) = 1 / (sqrt(z - 1) sqrt(z + 1)), which
# differs in sign from 1 / sqrt(z^2 - 1) on part of the complex plane
complex_aware(np.arccosh, lambda dy, y, x: dy / (np.sqrt(x - 1) * np.sqrt(x + 1)))


# ---------------------------------------------------------- composites
_var_real, _std_real = lookup(np.var), lookup(np.std)


def _var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    if not is_complex(x) and _var_real is not None:
        return _var_real(x, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)
    if kw.get("where") is not None:
        raise NotImplementedError("np.var/np.std: where= is not supported for complex input")
    shape = np.shape(_raw(x))
    axes = range(len(shape)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    n = int(np.prod([shape[a] for a in axes]))
    d = x - np.mean(x, axis=axis, keepdims=True)
    return np.sum(np.real(d * np.conj(d)), axis=axis, keepdims=keepdims) / (n - ddof)


def _std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    if not is_complex(x) and _std_real is not None:
        return _std_real(x, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)
    return std_of_var(_var(x, axis=axis, ddof=ddof, keepdims=keepdims), x, axis)


def _vdot(a, b):
    return np.sum(np.conj(np.ravel(a)) * np.ravel(b))


# these replace the real versions on purpose (each calls the real one for real input)
register_each({np.var: _var, np.std: _std}, override=True)
register(np.vdot, _vdot, override=True)    # conjugates a; the real one is the same for real a


def _norm_of_abs(registered, spectral):
    """A norm of complex entries that only depends on their moduli is the same
    norm of abs(x); that gives numpy's value and the conj(x)/|x| gradient.  The
    spectral norms come from the singular values."""
    def norm(x, *args, **kw):
        if is_complex(x):
            if spectral(np.ndim(_raw(x)), *args, **kw):
                return _spectral_value(x, *args, **kw)
            x = np.abs(x)
        return registered(x, *args, **kw)
    norm.__doc__ = getattr(registered, "__doc__", None)
    return norm


def _spectral_value(x, ord=None, axis=None, keepdims=False):
    nd = np.ndim(_raw(x))
    r, c = (nd - 2, nd - 1) if axis is None else (axis[0] % nd, axis[1] % nd)
    s = _svd_s(np.moveaxis(x, (r, c), (-2, -1)))
    out = np.max(s, axis=-1) if ord == 2 else np.min(s, axis=-1) if ord == -2 \
        else np.sum(s, axis=-1)
    if keepdims:
        out = np.moveaxis(np.expand_dims(np.expand_dims(out, -1), -1), (-2, -1), (r, c))
    return out


def _spectral_norm(ndim, ord=None, axis=None, *a, **k):
    matrix = (axis is None and ndim == 2) or (isinstance(axis, (tuple, list)) and len(axis) == 2)
    return matrix and ord in (2, -2, "nuc")


for _fn, _is_spectral in [(np.linalg.norm, _spectral_norm),
                       (getattr(np.linalg, "vector_norm", None), lambda *a, **k: False),
                       (getattr(np.linalg, "matrix_norm", None),
                        lambda ndim, ord="fro", **k: ord in (2, -2, "nuc"))]:
    if _fn is not None and lookup(_fn) is not None:
        register(_fn, _norm_of_abs(lookup(_fn), _is_spectral), override=True)  # wraps it


# ---------------------------------------------------------- cholesky, svd
# Rules for complex input (Murray 2016; Giles 2008), written for the conjugate
# ("pair of reals") gradient gbar = conj(g) and conjugated back:
#   cholesky      gA = conj(L^-H Phi L^-1),  Phi from tril(L^H gbar_L)
def _cholesky_grad(dy, L, a, upper=False):
    if upper:
        dy, L = _H(dy), _H(L)
    t = np.tril(np.matmul(_H(L), np.conj(dy)))
    phi = 0.5 * (t + _H(np.tril(t, -1)))
    linv = np.linalg.inv(L)
    return np.conj(np.matmul(_H(linv), np.matmul(phi, linv)))


complex_aware(np.linalg.cholesky, _cholesky_grad)


# the thin SVD of a complex matrix, one Primitive per factor (HIPS's grad_svd); the
# singular values alone: gA = conj(U diag(gs) V^H)
def _T(a):
    return np.swapaxes(a, -1, -2)


def _svd_factor(which):
    return lambda a: np.linalg.svd(a, full_matrices=False)[which]


def _svd_grad(a, gu=None, gs=None, gvh=None):
    u, s, vh = _svd_u(a), _svd_s(a), _svd_vh(a)
    v = _H(vh)
    m, n = np.shape(_raw(a))[-2:]
    i = np.eye(min(m, n))
    sr, sc = np.expand_dims(s, -2), np.expand_dims(s, -1)     # s along rows / columns
    f = 1 / (sr ** 2 - sc ** 2 + i)
    t1 = i * np.expand_dims(gs, -1) if gs is not None else 0.0
    if gu is not None:
        utgu = np.matmul(_T(u), gu)
        t1 = t1 + (f * (utgu - _H(utgu))) * sr + 1j * np.imag(i * utgu) / sr
    if gvh is not None:
        gv = _H(gvh)
        vtgv = np.matmul(_T(v), gv)
        t1 = t1 + sc * (f * (vtgv - _H(vtgv)))
    t1 = np.matmul(np.matmul(np.conj(u), t1), _T(v))
    if gvh is not None and m < n:
        t1 = t1 + np.conj(np.matmul(np.matmul(u / sr, _T(gv)), np.eye(n) - np.matmul(v, _H(v))))
    if gu is not None and m > n:
        t1 = t1 + _T(np.matmul(np.matmul(v / sr, _T(gu)), np.eye(m) - np.matmul(u, _H(u))))
    return t1


_svd_u = Primitive(_svd_factor(0), (lambda dy, y, a: _svd_grad(a, gu=dy),))
_svd_s = Primitive(lambda a: np.linalg.svd(a, compute_uv=False),
                   (lambda dy, y, a: _svd_grad(a, gs=np.real(dy)),))
_svd_vh = Primitive(_svd_factor(2), (lambda dy, y, a: _svd_grad(a, gvh=dy),))
_svd_real = lookup(np.linalg.svd)


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if not is_complex(a) and _svd_real is not None:
        return _svd_real(a, full_matrices=full_matrices, compute_uv=compute_uv,
                         hermitian=hermitian)
    if not compute_uv:
        return _svd_s(a)
    if full_matrices and np.shape(_raw(a))[-1] != np.shape(_raw(a))[-2]:
        raise NotImplementedError("svd: the gradient of the full factorization of a "
                                  "non-square matrix is not defined; use full_matrices=False")
    return named_result("SVDResult", _svd_u(a), _svd_s(a), _svd_vh(a))


register(np.linalg.svd, _svd, override=True)    # calls the real version for real input
