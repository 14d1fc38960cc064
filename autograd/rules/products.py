"""Products: matmul, dot, vecdot/matvec/vecmat, tensordot, inner, outer,
kron, vdot and einsum.

Every gradient is written with numpy calls, so it is recorded again when
differentiated a second time."""
import numpy as np

from ..boxes import raw as _raw
from ..core import Primitive
from ..registry import defgrad, register
from .common import _shape


# ------------------------------------------------------------ products
def _T(a):
    return np.swapaxes(a, -1, -2)


def _matmul_ga(dy, y, a, b):
    if dy.__class__ is np.ndarray and a.__class__ is np.ndarray and a.ndim == 2 \
            and dy.ndim == 2 and b.__class__ is np.ndarray and b.ndim == 2:
        # first order, matrices: the same products as below without the dispatch
        if a.flags.f_contiguous and not a.flags.c_contiguous:
            return (b @ dy.T).T
        return dy @ b.T
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
    if dy.__class__ is np.ndarray and a.__class__ is np.ndarray and a.ndim == 2 \
            and dy.ndim == 2 and b.__class__ is np.ndarray and b.ndim == 2:
        # first order, matrices: the same products as below without the dispatch
        if b.flags.f_contiguous and not b.flags.c_contiguous:
            return (dy.T @ a).T
        return a.T @ dy
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


def _sublist(sub):
    """[0, Ellipsis, 1] -> 'a...b' (numpy's sublist form of einsum)."""
    return "".join("..." if s is Ellipsis else _FRESH[s] for s in sub)


def _from_sublists(operands):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ('ab,bc->ac', a, b)."""
    n = len(operands) // 2
    ops, subs = operands[0:2 * n:2], operands[1:2 * n:2]
    spec = ",".join(_sublist(s) for s in subs)
    if len(operands) % 2:
        spec += "->" + _sublist(operands[-1])
    return (spec,) + tuple(ops)


def _without_ellipses(ins, out, ops):
    """The ellipses of ins and out replaced by fresh letters (as many as each
    operand's broadcast axes, aligned from the right)."""
    counts = [np.ndim(_raw(o)) - len(s.replace("...", "")) for s, o in zip(ins, ops)]
    nell = max([c for s, c in zip(ins, counts) if "..." in s] + [0])
    used = "".join(ins) + out
    fresh = "".join(c for c in _FRESH if c not in used)[:nell]
    return [s.replace("...", fresh[nell - c:]) for s, c in zip(ins, counts)], \
        out.replace("...", fresh)


def einsum(*operands, out=None, optimize=False, **kw):
    """np.einsum on recorded values: the subscript-string form and the sublist
    form (``np.einsum(a, [0, 1], b, [1, 2], [0, 2])``), ellipses included.

    >>> np.einsum("...ij,...jk", np.ones((2, 1, 3)), np.ones((3, 4))).shape
    (2, 1, 4)"""
    if out is not None:
        raise ValueError("einsum: out= is not supported on recorded arrays")
    if not isinstance(operands[0], str):
        operands = _from_sublists(operands)
    ops = operands[1:]
    ins, out_sub = _parse_subscripts(operands[0], ops)
    if "..." in operands[0]:
        ins, out_sub = _without_ellipses(ins, out_sub, ops)
    return _einsum_prim(",".join(ins) + "->" + out_sub, *ops)


register(np.einsum, einsum)
