"""Gradient rules added for HIPS autograd 1.9.1's own test suite (``make hips``).

Each entry is short and flat and names the HIPS test it serves; the rules are
also checked by tests/test_hips_extra.py.  Entries marked REPLACES take the
place of a rule registered in numpy_grads / linalg_grads / complex_grads (the
registration here runs after those modules).  Entries marked FRONT put a
function in front of the registered implementation that only normalizes the
call (keyword arguments, list arguments, ...) and then calls it.

>>> import numpy as np
>>> from autograd import grad
>>> float(grad(lambda x: np.sum(np.linspace(x, 2 * x, 3)))(1.0))
4.5
"""
import numpy as np

from . import complex_grads as _complex_grads  # noqa: F401  (the rules replaced here come first)
from . import linalg_grads as _linalg_grads  # noqa: F401
from .core import FUNCTIONS, UFUNCS, Primitive, Value, _raw
from .numpy_grads import defgrad

LA = np.linalg


def _shape(x):
    return np.shape(_raw(x))


def _cplx(x):
    return np.iscomplexobj(_raw(x))


def _H(a):
    return np.conj(np.swapaxes(a, -1, -2))


def _T(a):
    return np.swapaxes(a, -1, -2)


def _named(kind, *parts):
    cls = getattr(getattr(np.linalg, "_linalg", None), kind, None)
    return cls(*parts) if cls is not None else tuple(parts)


def _front(fn, wrapper):
    """FRONT: ``wrapper(prev, *args, **kw)`` is called in place of the registered ``prev``."""
    prev = FUNCTIONS[fn]

    def front(*args, **kw):
        return wrapper(prev, *args, **kw)
    front.__name__, front.__doc__ = getattr(prev, "__name__", fn.__name__), prev.__doc__
    FUNCTIONS[fn] = front


# ---------------------------------------------------------------- missing gradients
def _linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    # test_numpy.py::test_linspace: start + (stop - start) * t, linear in both ends
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    nd = np.ndim(np.broadcast(_raw(start), _raw(stop)))
    t = np.reshape(t, (-1,) + (1,) * nd)
    y = start * (1 - t) + stop * t
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    if dtype is not None:
        y = y.astype(dtype)
    if not retstep:
        return y
    div = (num - 1) if endpoint else num
    return y, (stop - start) / div if div > 0 else np.nan


def _gradient(f, *varargs, axis=None, edge_order=1):
    # test_numpy.py::test_gradient, test_systematic.py::test_gradient: central differences
    nd = np.ndim(_raw(f))
    axes = tuple(range(nd)) if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(a % nd for a in axes)
    spacing = list(varargs) if len(varargs) == len(axes) else list(varargs) * len(axes) \
        if len(varargs) == 1 else [1.0] * len(axes)
    outs = []
    for ax, h in zip(axes, spacing):
        if np.ndim(h) != 0:
            raise NotImplementedError("np.gradient: only scalar spacings are differentiable")
        g = np.moveaxis(f, ax, 0)
        mid = (g[2:] - g[:-2]) / 2.0
        if edge_order == 1:
            first, last = g[1:2] - g[:1], g[-1:] - g[-2:-1]
        else:
            first = (-3.0 * g[:1] + 4.0 * g[1:2] - g[2:3]) / 2.0
            last = (3.0 * g[-1:] - 4.0 * g[-2:-1] + g[-3:-2]) / 2.0
        outs.append(np.moveaxis(np.concatenate([first, mid, last], 0) / h, 0, ax))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _partition(a, kth, axis=-1, kind="introselect", order=None):
    # test_systematic.py::test_partition: a permutation, so take_along_axis carries dy back
    if axis is None:
        a, axis = np.ravel(a), 0
    idx = np.argpartition(_raw(a), kth, axis=axis, kind=kind, order=order)
    return np.take_along_axis(a, idx, axis=axis)


def _rollaxis(a, axis, start=0):
    # test_systematic.py::test_rollaxis: numpy's rule, as a transpose
    n = np.ndim(_raw(a))
    axis, start = axis % n, start + n if start < 0 else start
    if axis < start:
        start -= 1
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return np.transpose(a, order)


def _split_along(axis_of):
    # test_systematic.py::test_vsplit_*/hsplit_*/dsplit_3d: np.split along a fixed axis
    return lambda ary, indices_or_sections: np.split(ary, indices_or_sections,
                                                     axis_of(np.ndim(_raw(ary))))


FUNCTIONS.update({np.linspace: _linspace, np.gradient: _gradient, np.partition: _partition,
                  np.rollaxis: _rollaxis,
                  np.vsplit: _split_along(lambda nd: 0),
                  np.hsplit: _split_along(lambda nd: 1 if nd > 1 else 0),
                  np.dsplit: _split_along(lambda nd: 2)})
# test_numpy.py::test_nan_to_num: gradient passes where x is finite
defgrad(np.nan_to_num, lambda dy, y, x, *a, **k: np.where(np.isfinite(_raw(x)), dy, 0.0))


# np.linalg.eig (test_linalg.py::test_eig_real/complex/batched), HIPS's rule split per output
def _eig_w(a):
    return LA.eig(a)[0]


def _eig_v(a):
    return LA.eig(a)[1]


def _eig_back(a, inner):
    """inv(U^T) inner U^T, real for a real ``a``."""
    ut = _T(_eig_v_prim(a))
    r = np.matmul(np.matmul(LA.inv(ut), inner), ut)
    return r if _cplx(a) else np.real(r)


def _eig_w_grad(dy, w, a):
    return _eig_back(a, np.expand_dims(dy, -2) * np.eye(_shape(a)[-1]))


def _eig_v_grad(dy, u, a):
    w = _eig_w_prim(a)
    eye = np.eye(_shape(a)[-1])
    f = (1 - eye) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye)
    ut = _T(u)
    utg = np.matmul(ut, dy)
    r2 = -f * np.matmul(np.matmul(ut, np.conj(u)), np.real(utg) * eye)
    return _eig_back(a, f * utg + r2)


_eig_w_prim = Primitive(_eig_w, (_eig_w_grad,))
_eig_v_prim = Primitive(_eig_v, (_eig_v_grad,))
FUNCTIONS[LA.eig] = lambda a: _named("EigResult", _eig_w_prim(a), _eig_v_prim(a))
FUNCTIONS[LA.eigvals] = lambda a: _eig_w_prim(a)


# ---------------------------------------------------------------- eigh: one triangle
# REPLACES rules for np.linalg.eigh / eigvalsh in linalg_grads.py and complex_grads.py
# (test_linalg.py::test_eigvalh_{lower,upper}[_complex]): eigh reads only the UPLO
# triangle, so for an input that is not exactly symmetric (Hermitian) the gradient lives
# on that triangle (diagonal: real part), as in HIPS.  An exactly symmetric input keeps
# this package's symmetrized gradient (v v^T for an eigenvalue; tests/test_linalg.py).
def _eigh_w(a, UPLO="L"):
    return LA.eigh(a, UPLO)[0]


def _eigh_v(a, UPLO="L"):
    return LA.eigh(a, UPLO)[1]


def _one_triangle(g, a, UPLO):
    if np.array_equal(_raw(a), np.conj(np.swapaxes(_raw(a), -1, -2))):
        return g                                  # already the symmetrized gradient
    n = _shape(g)[-1]
    tri = np.tril(np.ones((n, n)), -1) if UPLO == "L" else np.triu(np.ones((n, n)), 1)
    return np.real(g) * np.eye(n) + (g + _H(g)) * tri


def _eigh_w_grad(dy, w, a, UPLO="L"):
    v = _eigh_v_prim(a, UPLO)
    return _one_triangle(np.conj(np.matmul(v * np.expand_dims(dy, -2), _H(v))), a, UPLO)


def _eigh_v_grad(dy, v, a, UPLO="L"):
    w = _eigh_w_prim(a, UPLO)
    eye = np.eye(_shape(a)[-1])
    vhg = np.matmul(_H(v), np.conj(dy))
    inner = 0.5 * (vhg - _H(vhg)) * (1 - eye) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye)
    return _one_triangle(np.conj(np.matmul(v, np.matmul(inner, _H(v)))), a, UPLO)


_eigh_w_prim = Primitive(_eigh_w, (_eigh_w_grad,))
_eigh_v_prim = Primitive(_eigh_v, (_eigh_v_grad,))
FUNCTIONS[LA.eigh] = lambda a, UPLO="L": _named("EighResult", _eigh_w_prim(a, UPLO),
                                                _eigh_v_prim(a, UPLO))
FUNCTIONS[LA.eigvalsh] = lambda a, UPLO="L": _eigh_w_prim(a, UPLO)


# ---------------------------------------------------------------- complex svd
# REPLACES the complex svd rules of complex_grads.py (which refuse singular vectors):
# HIPS's grad_svd for the thin factorization (test_linalg.py::test_svd_*_complex,
# test_norm_nuclear_complex, test_norm_nuclear_axis_complex).
def _csvd_part(which):
    return lambda a: LA.svd(a, full_matrices=False)[which]


def _csvd_grad(a, gu=None, gs=None, gvh=None):
    u, s, vh = _csvd_u(a), _csvd_s(a), _csvd_vh(a)
    v = _H(vh)
    m, n = _shape(a)[-2:]
    k = min(m, n)
    i = np.eye(k)
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


_csvd_u = Primitive(_csvd_part(0), (lambda dy, y, a: _csvd_grad(a, gu=dy),))
_csvd_s = Primitive(lambda a: LA.svd(a, compute_uv=False),
                    (lambda dy, y, a: _csvd_grad(a, gs=np.real(dy)),))
_csvd_vh = Primitive(_csvd_part(2), (lambda dy, y, a: _csvd_grad(a, gvh=dy),))


def _svd(prev, a, full_matrices=True, compute_uv=True, hermitian=False):
    if not _cplx(a):
        return prev(a, full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian)
    if not compute_uv:
        return _csvd_s(a)
    if full_matrices and _shape(a)[-1] != _shape(a)[-2]:
        raise NotImplementedError("svd: the gradient of the full factorization of a "
                                  "non-square matrix is not defined; use full_matrices=False")
    return _named("SVDResult", _csvd_u(a), _csvd_s(a), _csvd_vh(a))


def _norm(prev, x, ord=None, axis=None, keepdims=False):
    nd = np.ndim(_raw(x))
    matrix = (axis is None and nd == 2) or (isinstance(axis, (tuple, list)) and len(axis) == 2)
    if not (_cplx(x) and matrix and ord in (2, -2, "nuc")):
        return prev(x, ord=ord, axis=axis, keepdims=keepdims)
    r, c = (nd - 2, nd - 1) if axis is None else (axis[0] % nd, axis[1] % nd)
    s = _csvd_s(np.moveaxis(x, (r, c), (-2, -1)))
    out = np.max(s, axis=-1) if ord == 2 else np.min(s, axis=-1) if ord == -2 else np.sum(s, -1)
    if keepdims:
        out = np.moveaxis(np.expand_dims(np.expand_dims(out, -1), -1), (-2, -1), (r, c))
    return out


_front(LA.svd, _svd)
_front(LA.norm, _norm)


# ---------------------------------------------------------------- einsum
# FRONT for np.einsum (test_systematic.py::test_einsum_ellipses_*, test_einsum2_*): the
# sublist form and ellipses become an explicit subscript string without ellipses.
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _sublist(sub):
    return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sub)


def _einsum(prev, *operands, **kw):
    if not isinstance(operands[0], str):           # einsum(a, [0, 1], b, [1, 2], [0, 2])
        n = len(operands) // 2
        ops, subs = operands[0:2 * n:2], operands[1:2 * n:2]
        out = _sublist(operands[-1]) if len(operands) % 2 else None
        spec = ",".join(_sublist(s) for s in subs) + ("" if out is None else "->" + out)
        operands = (spec,) + tuple(ops)
    spec, ops = operands[0].replace(" ", ""), operands[1:]
    ins, out = spec.split("->") if "->" in spec else (spec, None)
    ins = ins.split(",")
    if out is None:
        letters = "".join(ins).replace("...", "")
        out = ("..." if "..." in spec else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    if "..." in spec:
        counts = [np.ndim(_raw(o)) - len(s.replace("...", "")) for s, o in zip(ins, ops)]
        nell = max([c for s, c in zip(ins, counts) if "..." in s] + [0])
        fresh = "".join(c for c in _LETTERS if c not in spec)[:nell]
        ins = [s.replace("...", fresh[nell - c:]) for s, c in zip(ins, counts)]
        out = out.replace("...", fresh)
    return prev(",".join(ins) + "->" + out, *ops, **kw)


_front(np.einsum, _einsum)


# ---------------------------------------------------------------- keyword forms
# FRONT: swapaxes(a, axis1=, axis2=), moveaxis(a, source=, destination=), clip(a, a_min=,
# a_max=) reach the registered rules positionally (test_systematic.py::test_swapaxes,
# test_moveaxis; test_numpy.py::test_clip, whose keyword bounds the rules missed).
_swapaxes, _moveaxis, _clip = FUNCTIONS[np.swapaxes], FUNCTIONS[np.moveaxis], FUNCTIONS[np.clip]
FUNCTIONS[np.swapaxes] = lambda a, axis1, axis2: _swapaxes(a, axis1, axis2)
FUNCTIONS[np.moveaxis] = lambda a, source, destination: _moveaxis(a, source, destination)


def _clip_front(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kw):
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    if out is not None:
        kw["out"] = out
    return _clip(a, lo, hi, **kw)


FUNCTIONS[np.clip] = _clip_front


# FRONT for np.std (test_systematic.py::test_std): over a single element std is 0 with
# gradient 0 (HIPS's rule), where sqrt(var) would give 0 * inf = nan.
def _std(prev, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    shape = _shape(x)
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    if int(np.prod([shape[a] for a in axes])) <= 1:
        return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)
    return prev(x, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)


_front(np.std, _std)


# REPLACES the base rule for np.power / np.float_power of numpy_grads.py
# (test_scalar_ops.py::test_power_arg0): x ** 0 has gradient 0 also at x = 0 (HIPS's rule);
# the exponent rule stays the registered one.
def _power_base(dy, y, a, b):
    return dy * b * np.power(a, np.where(_raw(b), b - 1, 1.0))


for _f in (np.power, np.float_power):
    UFUNCS[_f] = Primitive(_f, (_power_base, UFUNCS[_f].grad_of(1)))


# ---------------------------------------------------------------- in-place writes
class RecordedWriteError(ValueError, TypeError):
    """A write into a recorded array (``x[i] = v``): both the ValueError this
    package raised and the TypeError HIPS autograd raises
    (test_graphs.py::test_assignment_raises_error)."""


def _setitem(self, index, v, _prev=Value.__setitem__):
    try:
        _prev(self, index, v)
    except ValueError as e:
        if isinstance(e, RecordedWriteError) or "in place" not in str(e):
            raise
        raise RecordedWriteError(str(e)) from None


Value.__setitem__ = _setitem


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    """make_diagonal(D, offset=0, axis1=-1, axis2=-2): HIPS autograd's inverse of
    np.diagonal: an array of shape D.shape + (n,) whose last two axes hold the
    diagonal matrices with D's last axis on their diagonal (differentiable).

    >>> make_diagonal(np.array([1., 2.]), axis1=-1, axis2=-2)
    array([[1., 0.],
           [0., 2.]])
    """
    if not (offset == 0 and axis1 == -1 and axis2 == -2):
        raise NotImplementedError("make_diagonal: only offset=0, axis1=-1, axis2=-2 is supported")
    n = _shape(D)[-1]
    return np.expand_dims(D, -1) * np.eye(n)
