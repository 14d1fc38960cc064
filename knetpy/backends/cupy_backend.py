"""The GPU backend: CuPy arrays, computed by knetpy's own CUDA kernels.

``KernelBackend`` implements the backend contract of ``knetpy.backends``
(``unary``, ``binary``, ``reduce``, ``matmul``, the softmax family, nll,
batchnorm) plus the kernels the other ops need (activation gradients,
dropout, im2col/col2im, pooling, LSTM/GRU cells, optimizer updates).  It
talks to the hardware only through a small *device* object:

==========================  ================================================
``xp``                      the array module (``cupy``; ``numpy`` for the
                            emulator)
``block``, ``max_blocks``   threads per block, grid cap (grid-stride loops
                            cover larger arrays)
``owns, asarray, copy,      device memory
empty, to_numpy``
``matmul(a, b)``            cuBLAS through ``cupy.matmul``
``function(family, name)``  kernel ``name`` of ``kernels/<family>.cu``,
                            called as ``k(grid, block, args)``
==========================  ================================================

``CupyDevice`` loads each family with ``cupy.RawModule`` (compiled once per
process, cached on disk by CuPy); ``knetpy.backends.emulator.EmulatorDevice``
runs the same kernels on the CPU, which is how this code is tested without a
GPU.  float32 and float64 arrays use the kernels; float16 is computed in
float32 where numpy's backend does so (softmax family, batchnorm) and any
other dtype falls back to the numpy-protocol code of ``numpy_backend``
applied to the device arrays.

This module imports CuPy only when its module-level backend is first used
(``knetpy.gpu(d)``); ``KernelBackend`` itself never imports it.
"""
import math
import numbers

import numpy as np

from knetpy import kernels
from . import numpy_backend as _nb

__all__ = ["KernelBackend", "CupyDevice", "UNARY", "BINARY", "ACTIVATION_BACK"]

name = "cupy"

# numpy / Knet name -> kernel in unary.cu
UNARY = {
    "negative": "neg", "neg": "neg", "absolute": "abs", "abs": "abs", "fabs": "abs",
    "square": "abs2", "abs2": "abs2", "arccos": "acos", "acos": "acos", "arccosh": "acosh",
    "acosh": "acosh", "arcsin": "asin", "asin": "asin", "arcsinh": "asinh", "asinh": "asinh",
    "arctan": "atan", "atan": "atan", "arctanh": "atanh", "atanh": "atanh", "cbrt": "cbrt",
    "ceil": "ceil", "cos": "cos", "cosh": "cosh", "cospi": "cospi", "digamma": "digamma",
    "psi": "digamma", "erf": "erf", "erfc": "erfc", "erfcinv": "erfcinv", "erfcx": "erfcx",
    "erfinv": "erfinv", "exp": "exp", "exp10": "exp10", "exp2": "exp2", "expm1": "expm1",
    "floor": "floor", "gamma": "gamma", "lgamma": "lgamma", "gammaln": "lgamma",
    "loggamma": "lgamma", "log": "log", "log10": "log10", "log1p": "log1p", "log2": "log2",
    "one": "one", "rint": "round", "round": "round", "sign": "sign", "sin": "sin",
    "sinh": "sinh", "sinpi": "sinpi", "sqrt": "sqrt", "tan": "tan", "tanh": "tanh",
    "trigamma": "trigamma", "trunc": "trunc", "zero": "zero", "relu": "relu", "sigm": "sigm",
    "elu": "elu", "selu": "selu", "gelu": "gelu", "invx": "invx", "reciprocal": "invx",
}
# numpy name -> (kernel in binary.cu, True when the result is bool)
BINARY = {
    "add": ("add", False), "subtract": ("sub", False), "multiply": ("mul", False),
    "divide": ("div", False), "true_divide": ("div", False), "power": ("pow", False),
    "maximum": ("max", False), "minimum": ("min", False), "arctan2": ("atan2", False),
    "hypot": ("hypot", False), "remainder": ("mod", False), "mod": ("mod", False),
    "less": ("lt", True), "less_equal": ("le", True), "greater": ("gt", True),
    "greater_equal": ("ge", True), "equal": ("eq", True), "not_equal": ("ne", True),
}
REDUCE_KERNELS = ("sum", "prod", "max", "min")
# activation -> what its gradient kernel reads besides dy ("y" output, "x" input)
ACTIVATION_BACK = {"relu": "y", "sigm": "y", "tanh": "y", "elu": "y", "selu": "y",
                   "invx": "y", "gelu": "x"}
_BITS = {np.dtype(np.float32): "32", np.dtype(np.float64): "64"}


def _is_scalar(v):
    return isinstance(v, (numbers.Number, np.generic))


def _pair(v, what, fn):
    if isinstance(v, numbers.Integral):
        v = (int(v), int(v))
    v = tuple(int(i) for i in v)
    if len(v) != 2:
        raise ValueError(f"{fn}: {what} must be an int or a pair of ints, got {v!r}")
    return v


class KernelBackend:
    """KernelBackend(device): the knetpy backend contract computed by the CUDA
    kernels of ``knetpy.kernels`` on ``device`` (a ``CupyDevice`` or an
    ``emulator.EmulatorDevice``).

    >>> from knetpy.backends.emulator import EmulatorDevice
    >>> be = KernelBackend(EmulatorDevice())
    >>> be.binary("add", np.ones(3), 1.0).tolist()
    [2.0, 2.0, 2.0]
    """

    def __init__(self, device):
        self.dev = device
        self.xp = device.xp
        self.name = "cupy" if device.name == "cupy" else f"cupy-on-{device.name}"

    # ------------------------------------------------------------ memory
    def owns(self, a):
        """True when ``a`` is an array of this backend's device."""
        return self.dev.owns(a)

    def asarray(self, a, dtype=None):
        """``a`` as a device array (no copy when it already is one of ``dtype``)."""
        return self.dev.asarray(a, dtype)

    def copy(self, a, dtype=None):
        """A fresh device array holding ``a``'s values."""
        return self.dev.copy(a, dtype)

    def to_numpy(self, a):
        """A host numpy copy of ``a``."""
        return self.dev.to_numpy(a)

    def matmul(self, a, b):
        """Batched matrix product (cuBLAS through ``cupy.matmul``)."""
        return self.dev.matmul(self.asarray(a), self.asarray(b))

    def call(self, func, args, kw):
        """Any other numpy function on device arrays (dispatched by the array
        module's numpy protocols)."""
        return func(*args, **kw)

    # ------------------------------------------------------------ launching
    def _grid(self, work):
        """Blocks for ``work`` threads: enough to cover it, at most ``max_blocks``."""
        return max(1, min(-(-int(work) // self.dev.block), self.dev.max_blocks))

    def _run(self, family, kname, grid, args):
        self.dev.function(family, kname)((grid,), (self.dev.block,), tuple(args))

    def _empty(self, shape, dtype):
        return self.dev.empty(tuple(int(s) for s in shape), np.dtype(dtype))

    def _meta(self, *rows):
        """Shape/stride table for the N-D kernels, as a device int64 array."""
        return self.asarray(np.array([v for r in rows for v in r], dtype=np.int64).reshape(-1))

    def contiguous(self, x):
        """``x`` as a C-contiguous array: ``x`` itself when it is one, else a
        gather by the strided ``copy`` kernel."""
        x = self.asarray(x)
        if x.flags.c_contiguous:
            return x
        bits = _BITS.get(x.dtype)
        if bits is None:
            return self.xp.ascontiguousarray(x)
        y = self._empty(x.shape, x.dtype)
        if x.size:
            strides = [s // x.itemsize for s in x.strides]
            self._run("binary", f"copy_{bits}", self._grid(x.size),
                      (np.int64(x.size), np.int32(x.ndim), self._meta(x.shape, strides), x, y))
        return y

    def _float_in(self, x, wide=False):
        """(x as float32/64, dtype to return): float16 is computed in float32;
        ``wide`` also accepts ints and bools (computed in float64 like numpy)."""
        dt = x.dtype
        if dt in _BITS:
            return x, dt
        if dt == np.float16:
            return x.astype(np.float32), dt
        if wide and dt.kind in "biu":
            return x.astype(np.float64), np.dtype(np.float64)
        return None, dt

    # ------------------------------------------------------------ elementwise
    def unary(self, fname, x):
        """One-argument function ``fname`` (numpy or Knet name, see ``UNARY``) of ``x``."""
        k = UNARY.get(fname)
        x = self.asarray(x)
        if k is None or x.dtype not in _BITS:
            if x.dtype == np.float16 and k is not None:
                return self.unary(fname, x.astype(np.float32)).astype(np.float16)
            return _nb.unary(fname, x)
        x = self.contiguous(x)
        y = self._empty(x.shape, x.dtype)
        if x.size:
            self._run("unary", f"{k}_{_BITS[x.dtype]}", self._grid(x.size),
                      (np.int64(x.size), x, y))
        return y

    def binary(self, fname, a, b):
        """Two-argument function ``fname`` (numpy name, see ``BINARY``) of ``a`` and
        ``b`` with numpy broadcasting and type promotion; either may be a scalar."""
        spec = BINARY.get(fname)
        sa, sb = _is_scalar(a), _is_scalar(b)
        if not sa:
            a = self.asarray(a)
        if not sb:
            b = self.asarray(b)
        rt = np.result_type(a if sa else a.dtype, b if sb else b.dtype)
        if spec is None or (sa and sb) or rt not in _BITS:
            return _nb.binary(fname, a, b)
        k, boolean = spec
        kname = f"{k}_{_BITS[rt]}"
        out_dt = np.bool_ if boolean else rt
        if sa or sb:
            arr = b if sa else a
            arr = self.contiguous(arr.astype(rt, copy=False))
            y = self._empty(arr.shape, out_dt)
            if arr.size:
                args = (rt.type(a), arr) if sa else (arr, rt.type(b))
                self._run("binary", kname + ("_01" if sa else "_10"), self._grid(arr.size),
                          (np.int64(arr.size), *args, y))
            return y
        a, b = a.astype(rt, copy=False), b.astype(rt, copy=False)
        shape = np.broadcast_shapes(a.shape, b.shape)
        y = self._empty(shape, out_dt)
        n = y.size
        if n == 0:
            return y
        if a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous:
            self._run("binary", kname + "_11", self._grid(n), (np.int64(n), a, b, y))
            return y
        self._run("binary", kname + "_bc", self._grid(n),
                  (np.int64(n), np.int32(len(shape)),
                   self._meta(shape, self._bstrides(a, shape), self._bstrides(b, shape)),
                   a, b, y))
        return y

    @staticmethod
    def _bstrides(a, shape):
        """Element strides of ``a`` broadcast to ``shape`` (0 along broadcast axes)."""
        pad = len(shape) - a.ndim
        st = [0] * pad + [s // a.itemsize for s in a.strides]
        dims = [1] * pad + list(a.shape)
        return [0 if d == 1 and n != 1 else s for d, n, s in zip(dims, shape, st)]

    def activation_back(self, act, dy, v):
        """Gradient of activation ``act`` (see ``ACTIVATION_BACK``): ``dy`` times the
        derivative, computed from the output ``v = act(x)`` (from the input ``x``
        for gelu).

        >>> from knetpy.backends.emulator import emulated_backend
        >>> emulated_backend().activation_back("relu", np.ones(2), np.array([0.0, 2.0])).tolist()
        [0.0, 1.0]
        """
        if act not in ACTIVATION_BACK:
            raise ValueError(f"activation_back: act must be one of {sorted(ACTIVATION_BACK)}, "
                             f"got {act!r}")
        dy, v = self.contiguous(dy), self.contiguous(v)
        if dy.shape != v.shape or dy.dtype != v.dtype or dy.dtype not in _BITS:
            raise ValueError(f"activation_back: dy and the {ACTIVATION_BACK[act]} array must "
                             f"have one shape and dtype float32/float64, got {dy.shape} "
                             f"{dy.dtype} and {v.shape} {v.dtype}")
        dx = self._empty(dy.shape, dy.dtype)
        if dy.size:
            self._run("actback", f"{act}_back_{_BITS[dy.dtype]}", self._grid(dy.size),
                      (np.int64(dy.size), dy, v, dx))
        return dx

    # ------------------------------------------------------------ reductions
    @staticmethod
    def _axes(axis, ndim, fn):
        if axis is None:
            return tuple(range(ndim))
        ax = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
        out = []
        for a in ax:
            if not isinstance(a, numbers.Integral) or not -ndim <= a < ndim:
                raise np.exceptions.AxisError(f"{fn}: axis {a!r} is out of bounds for an "
                                              f"array of dimension {ndim}")
            out.append(int(a) % ndim)
        if len(set(out)) != len(out):
            raise ValueError(f"{fn}: axis {axis!r} repeats an axis")
        return tuple(sorted(out))

    def _to_rows(self, x, axes):
        """x as a contiguous (rows, cols) array whose rows run over ``axes`` and the
        permutation used (None when no transpose was needed)."""
        kept = [d for d in range(x.ndim) if d not in axes]
        rows = math.prod(x.shape[d] for d in kept)
        cols = math.prod(x.shape[d] for d in axes)
        perm = kept + list(axes)
        if perm != list(range(x.ndim)):
            return self.contiguous(x.transpose(perm)).reshape(rows, cols), perm
        return self.contiguous(x).reshape(rows, cols), None

    def _from_rows(self, y2, x_shape, perm):
        """Undo ``_to_rows`` for an output of the input's size."""
        if perm is None:
            return y2.reshape(x_shape)
        y = y2.reshape([x_shape[d] for d in perm])
        return self.contiguous(y.transpose(np.argsort(perm).tolist()))

    def _reduce_kernel(self, op, x, axes):
        """Reduction ``op`` (sum/prod/max/min) of float32/64 ``x`` over sorted
        ``axes``, shaped as the kept axes."""
        bits = _BITS[x.dtype]
        kept_shape = tuple(s for d, s in enumerate(x.shape) if d not in axes)
        count = math.prod(x.shape[d] for d in axes)
        if not axes:                                  # nothing to reduce (axis=() or 0-d x)
            return self.contiguous(x).copy()
        out = self._empty(kept_shape, x.dtype)
        if out.size == 0:
            return out
        if count == 0:
            if op in ("max", "min"):
                raise ValueError(f"zero-size array to reduction operation "
                                 f"{'maximum' if op == 'max' else 'minimum'} which has no "
                                 f"identity")
            out[...] = 0 if op == "sum" else 1
            return out
        if len(axes) == x.ndim:                       # everything: blocks, then their partials
            x = self.contiguous(x)
            g = self._grid(x.size)
            part = self._empty((g,), x.dtype)
            self._run("reduce", f"{op}_{bits}_full", g, (np.int64(x.size), x, part))
            if g > 1:
                self._run("reduce", f"{op}_{bits}_rows", 1, (np.int64(1), np.int64(g), part,
                                                            out.reshape(1)))
                return out
            return part.reshape(())
        if list(axes) == list(range(axes[0], axes[-1] + 1)):   # one run of axes: (A, R, B)
            x = self.contiguous(x)
            A = math.prod(x.shape[:axes[0]])
            B = math.prod(x.shape[axes[-1] + 1:])
            if B == 1 and count >= self.dev.block:   # long rows: a block per row
                self._run("reduce", f"{op}_{bits}_rows", min(A, self.dev.max_blocks),
                          (np.int64(A), np.int64(count), x, out))
            else:                                     # a thread per output
                self._run("reduce", f"{op}_{bits}_mid", self._grid(A * B),
                          (np.int64(A), np.int64(count), np.int64(B), x, out))
            return out
        x2, _ = self._to_rows(x, axes)
        self._run("reduce", f"{op}_{bits}_rows", min(x2.shape[0], self.dev.max_blocks),
                  (np.int64(x2.shape[0]), np.int64(count), x2, out))
        return out

    def reduce(self, fname, x, axis=None, keepdims=False):
        """Reduction ``fname`` ("sum", "prod", "max", "min", "mean", "var", "std";
        others go to the numpy-protocol fallback) of ``x`` over ``axis``."""
        x = self.asarray(x)
        if fname not in REDUCE_KERNELS + ("mean", "var", "std") or x.dtype not in _BITS:
            return _nb.reduce(fname, x, axis=axis, keepdims=keepdims)
        axes = self._axes(axis, x.ndim, fname)
        if fname in REDUCE_KERNELS:
            y = self._reduce_kernel(fname, x, axes)
        else:
            y = self._mean(x, axes)
            if fname != "mean":
                d = self.binary("subtract", x, self._keep(y, x.ndim, axes))
                y = self._mean(self.unary("square", d), axes)
                if fname == "std":
                    y = self.unary("sqrt", y)
        return self._keep(y, x.ndim, axes) if keepdims else y

    def _mean(self, x, axes):
        count = math.prod(x.shape[d] for d in axes)
        s = self._reduce_kernel("sum", x, axes)
        if count == 0:
            return self.binary("multiply", s, x.dtype.type(np.nan))
        return self.binary("multiply", s, x.dtype.type(1 / count))

    @staticmethod
    def _keep(y, ndim, axes):
        shape = list(y.shape)
        for d in axes:
            shape.insert(d, 1)
        return y.reshape(shape)

    # ------------------------------------------------------------ softmax family
    def _softmax_in(self, x, axis, fn):
        """(x in float32/64, dtype to return, sorted axes); xf None when the
        numpy-protocol fallback should handle x (non-float or empty)."""
        x = self.asarray(x)
        xf, dt = self._float_in(x)
        if xf is None or x.size == 0:
            return None, dt, None
        return xf, dt, self._axes(axis, x.ndim, fn)

    def softmax(self, x, axis, algo):
        """exp(x) normalized over ``axis`` (None: all); ``algo`` 0 unshifted,
        1 max-shifted, 2 log-softmax."""
        if algo not in (0, 1, 2):
            raise ValueError(f"softmax: algo must be 0, 1 or 2, got {algo!r}")
        xf, dt, axes = self._softmax_in(x, axis, "softmax")
        if xf is None:
            return _nb.softmax(x, axis, algo)
        x2, perm = self._to_rows(xf, axes)
        y2 = self._empty(x2.shape, x2.dtype)
        self._run("softmax", f"softmax_{_BITS[x2.dtype]}", min(x2.shape[0], self.dev.max_blocks),
                  (np.int64(x2.shape[0]), np.int64(x2.shape[1]), np.int32(algo), x2, y2))
        return self._from_rows(y2, xf.shape, perm).astype(dt, copy=False)

    def logsoftmax(self, x, axis):
        """x minus logsumexp(x) over ``axis`` (None: all)."""
        return self.softmax(x, axis, 2)

    def logsumexp(self, x, axis, keepdims):
        """log(sum(exp(x))) over ``axis`` without overflow."""
        xf, dt, axes = self._softmax_in(x, axis, "logsumexp")
        if xf is None:
            return _nb.logsumexp(x, axis, keepdims)
        x2, _ = self._to_rows(xf, axes)
        y = self._empty((x2.shape[0],), x2.dtype)
        self._run("softmax", f"logsumexp_{_BITS[x2.dtype]}", min(x2.shape[0], self.dev.max_blocks),
                  (np.int64(x2.shape[0]), np.int64(x2.shape[1]), x2, y))
        y = y.reshape([s for d, s in enumerate(xf.shape) if d not in axes])
        return (self._keep(y, xf.ndim, axes) if keepdims else y).astype(dt, copy=False)

    def _nll_rows(self, x, answers, axis):
        x = self.asarray(x)
        xf, dt = self._float_in(x)
        axes = self._axes(axis, x.ndim, "nll")
        if len(axes) != 1:
            raise ValueError(f"nll: axis must be one axis, got {axis!r}")
        x2, perm = self._to_rows(xf, axes)
        ans = self.contiguous(self.asarray(answers).astype(np.int64)).reshape(-1)
        if ans.size != x2.shape[0]:
            raise ValueError(f"nll: answers must have {x2.shape[0]} elements (x's shape "
                             f"without axis {axes[0]}), got {ans.size}")
        if ans.size and int(ans.max()) >= x2.shape[1]:
            raise ValueError(f"nll: answers must be < {x2.shape[1]} (the size of axis "
                             f"{axes[0]}), got {int(ans.max())}")
        return xf, dt, x2, perm, ans

    def nll_forward(self, x, answers, axis):
        """Sum over answers >= 0 of -log softmax(x)[answer] along ``axis``; a
        0-d array of x's dtype."""
        xf, dt, x2, _, ans = self._nll_rows(x, answers, axis)
        if x2.size == 0:
            return _nb.nll_forward(self.asarray(x), self.asarray(answers), axis)
        loss = self._empty((x2.shape[0],), x2.dtype)
        self._run("softmax", f"nll_rows_{_BITS[x2.dtype]}", min(x2.shape[0], self.dev.max_blocks),
                  (np.int64(x2.shape[0]), np.int64(x2.shape[1]), x2, ans, loss))
        return self._reduce_kernel("sum", loss, (0,)).astype(dt, copy=False)

    def nll_backward(self, x, answers, axis):
        """softmax(x) - onehot(answers) along ``axis``, zero where answers < 0."""
        xf, dt, x2, perm, ans = self._nll_rows(x, answers, axis)
        if x2.size == 0:
            return _nb.nll_backward(self.asarray(x), self.asarray(answers), axis)
        d2 = self._empty(x2.shape, x2.dtype)
        self._run("softmax", f"nll_grad_{_BITS[x2.dtype]}", min(x2.shape[0], self.dev.max_blocks),
                  (np.int64(x2.shape[0]), np.int64(x2.shape[1]), x2, ans, d2))
        return self._from_rows(d2, xf.shape, perm).astype(dt, copy=False)

    # ------------------------------------------------------------ batchnorm
    def _ncl(self, x, fn):
        x = self.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"{fn}: x must have at least 2 dimensions (N, C, ...), "
                             f"got shape {x.shape}")
        xf, dt = self._float_in(x)
        if xf is None:
            raise TypeError(f"{fn}: x must hold floats, got dtype {x.dtype}")
        return self.contiguous(xf), dt, x.shape[0], x.shape[1], math.prod(x.shape[2:])

    def _vec(self, v, C, cd, default):
        if v is None:
            out = self._empty((C,), cd)
            out[...] = default
            return out
        return self.contiguous(self.asarray(v).astype(cd, copy=False).reshape(C))

    def bn_stats(self, x):
        """(mean, biased variance) of x over every axis but 1, each of shape (C,)."""
        xc, _, N, C, L = self._ncl(x, "bn_stats")
        mean, var = self._empty((C,), xc.dtype), self._empty((C,), xc.dtype)
        if C:
            self._run("batchnorm", f"bn_stats_{_BITS[xc.dtype]}", min(C, self.dev.max_blocks),
                      (np.int64(N), np.int64(C), np.int64(L), xc, mean, var))
        return mean, var

    def bn_forward(self, x, mean, var, gamma, beta, eps):
        """(x - mean) / sqrt(var + eps) * gamma + beta per channel (axis 1);
        gamma/beta may be None (1 and 0)."""
        xc, dt, N, C, L = self._ncl(x, "bn_forward")
        cd = xc.dtype
        y = self._empty(xc.shape, cd)
        if xc.size:
            self._run("batchnorm", f"bn_fwd_{_BITS[cd]}", self._grid(xc.size),
                      (np.int64(N), np.int64(C), np.int64(L), xc, self._vec(mean, C, cd, 0),
                       self._vec(var, C, cd, 1), self._vec(gamma, C, cd, 1),
                       self._vec(beta, C, cd, 0), cd.type(eps), y))
        return y.astype(dt, copy=False)

    def bn_backward(self, dy, x, mean, var, gamma, eps, need_dx=True):
        """(dx, dgamma, dbeta) of bn_forward in training mode; dx is None unless
        ``need_dx``."""
        xc, dt, N, C, L = self._ncl(x, "bn_backward")
        cd = xc.dtype
        dyc = self.contiguous(self.asarray(dy).astype(cd, copy=False))
        mean, var = self._vec(mean, C, cd, 0), self._vec(var, C, cd, 1)
        dgamma, dbeta = self._empty((C,), cd), self._empty((C,), cd)
        bits, n = _BITS[cd], (np.int64(N), np.int64(C), np.int64(L))
        if C:
            self._run("batchnorm", f"bn_bwd_sums_{bits}", min(C, self.dev.max_blocks),
                      (*n, dyc, xc, mean, var, cd.type(eps), dgamma, dbeta))
        dx = None
        if need_dx:
            dx = self._empty(xc.shape, cd)
            if xc.size:
                self._run("batchnorm", f"bn_bwd_dx_{bits}", self._grid(xc.size),
                          (*n, dyc, xc, mean, var, self._vec(gamma, C, cd, 1), dgamma, dbeta,
                           cd.type(eps), dx))
            dx = dx.astype(dt, copy=False)
        return dx, dgamma.astype(dt, copy=False), dbeta.astype(dt, copy=False)

    # ------------------------------------------------------------ dropout
    def _float_arr(self, a, what, fn):
        a = self.contiguous(self.asarray(a))
        if a.dtype not in _BITS:
            raise TypeError(f"{fn}: {what} must be float32 or float64, got {a.dtype}")
        return a

    def dropout(self, x, p, seed):
        """Inverted dropout of ``x``: element i is zeroed when
        ``uniform(seed, i) < p`` (a counter-based hash, see knet_common.cuh), the
        rest scaled by 1/(1-p).

        >>> from knetpy.backends.emulator import emulated_backend
        >>> emulated_backend().dropout(np.ones(4), 0.0, 7).tolist()
        [1.0, 1.0, 1.0, 1.0]
        """
        return self._drop("dropout", x, p, seed)

    def dropback(self, dy, p, seed):
        """Gradient of ``dropout(x, p, seed)``: ``dy`` masked and scaled by the
        same (regenerated) mask."""
        return self._drop("dropback", dy, p, seed)

    def _drop(self, kname, x, p, seed):
        if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"{kname}: p must be a probability in [0, 1], got {p!r}")
        if not isinstance(seed, numbers.Integral) or not 0 <= seed < 2 ** 64:
            raise ValueError(f"{kname}: seed must be an int in [0, 2**64), got {seed!r}")
        x = self._float_arr(x, "x", kname)
        y = self._empty(x.shape, x.dtype)
        if x.size:
            self._run("dropout", f"{kname}_{_BITS[x.dtype]}", self._grid(x.size),
                      (np.int64(x.size), x, y, np.float64(p), np.uint64(seed)))
        return y

    # ------------------------------------------------------------ convolution helpers
    def _conv_geometry(self, x_shape, kh, kw, padding, stride, dilation, fn):
        if len(x_shape) != 4:
            raise ValueError(f"{fn}: x must be 4-D (N, C, H, W), got shape {tuple(x_shape)}")
        (ph, pw), (sh, sw), (dh, dw) = (_pair(padding, "padding", fn), _pair(stride, "stride", fn),
                                        _pair(dilation, "dilation", fn))
        if min(sh, sw, dh, dw, kh, kw) < 1 or min(ph, pw) < 0:
            raise ValueError(f"{fn}: window, stride and dilation must be >= 1 and padding >= 0")
        N, C, H, W = (int(s) for s in x_shape)
        OH = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        OW = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        if OH < 1 or OW < 1:
            raise ValueError(f"{fn}: the window does not fit the padded {H}x{W} image")
        return [np.int32(v) for v in (N, C, H, W, kh, kw, OH, OW, ph, pw, sh, sw, dh, dw)]

    def im2col(self, x, kh, kw, padding=0, stride=1, dilation=1):
        """im2col(x, kh, kw, padding=0, stride=1, dilation=1) -> col of shape
        (N, C*kh*kw, OH*OW) with the image patches of NCHW ``x`` as columns."""
        x = self._float_arr(x, "x", "im2col")
        g = self._conv_geometry(x.shape, kh, kw, padding, stride, dilation, "im2col")
        N, C, OH, OW = (int(g[i]) for i in (0, 1, 6, 7))
        col = self._empty((N, C * kh * kw, OH * OW), x.dtype)
        if col.size:
            self._run("conv", f"im2col_{_BITS[x.dtype]}", self._grid(col.size), (*g, x, col))
        return col

    def col2im(self, col, x_shape, kh, kw, padding=0, stride=1, dilation=1):
        """col2im(col, x_shape, kh, kw, ...) -> NCHW array of ``x_shape``: the
        adjoint of ``im2col`` (each pixel sums the patch entries that read it)."""
        col = self._float_arr(col, "col", "col2im")
        g = self._conv_geometry(x_shape, kh, kw, padding, stride, dilation, "col2im")
        N, C, OH, OW = (int(g[i]) for i in (0, 1, 6, 7))
        if col.shape != (N, C * kh * kw, OH * OW):
            raise ValueError(f"col2im: col must have shape {(N, C * kh * kw, OH * OW)}, "
                             f"got {col.shape}")
        x = self._empty(x_shape, col.dtype)
        if x.size:
            self._run("conv", f"col2im_{_BITS[col.dtype]}", self._grid(x.size), (*g, col, x))
        return x

    # ------------------------------------------------------------ pooling
    def _pool_geometry(self, x, window, padding, stride, mode, fn):
        if mode not in (0, 1, 2):
            raise ValueError(f"{fn}: mode must be 0 (max), 1 or 2 (average), got {mode!r}")
        kh, kw = _pair(window, "window", fn)
        sh, sw = _pair(window if stride is None else stride, "stride", fn)
        g = self._conv_geometry(x.shape, kh, kw, padding, (sh, sw), 1, fn)
        N, C, H, W, kh, kw, OH, OW, ph, pw, sh, sw = g[:12]
        if ph >= kh or pw >= kw:
            raise ValueError(f"{fn}: padding must be smaller than the window")
        return (N, C, H, W, OH, OW, kh, kw, ph, pw, sh, sw, np.int32(mode))

    def pool(self, x, window=2, padding=0, stride=None, mode=0):
        """Pool NCHW ``x`` over ``window`` (stride defaults to the window):
        mode 0 max, 1 average counting padding, 2 average of the image cells."""
        x = self._float_arr(x, "x", "pool")
        g = self._pool_geometry(x, window, padding, stride, mode, "pool")
        y = self._empty((g[0], g[1], g[4], g[5]), x.dtype)
        if y.size:
            self._run("pool", f"pool_{_BITS[x.dtype]}", self._grid(y.size), (*g, x, y))
        return y

    def poolback(self, x, y, dy, window=2, padding=0, stride=None, mode=0):
        """Gradient of ``pool`` with respect to ``x`` (``y`` its output, ``dy`` the
        output gradient); max pooling routes each window's gradient to its first max."""
        x = self._float_arr(x, "x", "poolback")
        g = self._pool_geometry(x, window, padding, stride, mode, "poolback")
        y, dy = self._float_arr(y, "y", "poolback"), self._float_arr(dy, "dy", "poolback")
        want = (int(g[0]), int(g[1]), int(g[4]), int(g[5]))
        if y.shape != want or dy.shape != want or not y.dtype == dy.dtype == x.dtype:
            raise ValueError(f"poolback: y and dy must have shape {want} and dtype {x.dtype}")
        dx = self._empty(x.shape, x.dtype)
        if dx.size:
            self._run("pool", f"poolback_{_BITS[x.dtype]}", self._grid(dx.size),
                      (*g, x, y, dy, dx))
        return dx

    # ------------------------------------------------------------ recurrent cells
    def _cell_args(self, fn, B, H, **arrays):
        out = []
        dt = None
        for k, (a, cols) in arrays.items():
            a = self._float_arr(a, k, fn)
            if a.shape != (B, cols * H):
                raise ValueError(f"{fn}: {k} must have shape {(B, cols * H)}, got {a.shape}")
            if dt is not None and a.dtype != dt:
                raise ValueError(f"{fn}: {k} has dtype {a.dtype}, expected {dt}")
            dt = a.dtype
            out.append(a)
        return out, dt

    def lstm(self, g, c0):
        """One fused LSTM step: ``g`` (B, 4H) gate pre-activations (order i, f, n, o),
        ``c0`` (B, H) -> (h, c, act) with ``act`` the gate activations for ``lstmback``."""
        B, H = np.shape(c0)
        (g, c0), dt = self._cell_args("lstm", B, H, g=(g, 4), c0=(c0, 1))
        h, c, act = self._empty((B, H), dt), self._empty((B, H), dt), self._empty((B, 4 * H), dt)
        if h.size:
            self._run("rnn", f"lstm_{_BITS[dt]}", self._grid(h.size),
                      (np.int64(B), np.int64(H), g, c0, h, c, act))
        return h, c, act

    def lstmback(self, act, c0, c, dh, dc):
        """Gradients of ``lstm``: (dg, dc0) from the saved ``act``, the cells ``c0``,
        ``c`` and the output gradients ``dh``, ``dc``."""
        B, H = np.shape(c0)
        (act, c0, c, dh, dc), dt = self._cell_args("lstmback", B, H, act=(act, 4), c0=(c0, 1),
                                                   c=(c, 1), dh=(dh, 1), dc=(dc, 1))
        dg, dc0 = self._empty((B, 4 * H), dt), self._empty((B, H), dt)
        if dc0.size:
            self._run("rnn", f"lstmback_{_BITS[dt]}", self._grid(dc0.size),
                      (np.int64(B), np.int64(H), act, c0, c, dh, dc, dg, dc0))
        return dg, dc0

    def gru(self, gx, gh, h0):
        """One fused GRU step: input part ``gx`` and hidden part ``gh`` (B, 3H) of the
        gate pre-activations (order r, z, n), ``h0`` (B, H) -> (h, act)."""
        B, H = np.shape(h0)
        (gx, gh, h0), dt = self._cell_args("gru", B, H, gx=(gx, 3), gh=(gh, 3), h0=(h0, 1))
        h, act = self._empty((B, H), dt), self._empty((B, 3 * H), dt)
        if h.size:
            self._run("rnn", f"gru_{_BITS[dt]}", self._grid(h.size),
                      (np.int64(B), np.int64(H), gx, gh, h0, h, act))
        return h, act

    def gruback(self, act, gh, h0, dh):
        """Gradients of ``gru``: (dgx, dgh, dh0), with dh0 the direct part z*dh."""
        B, H = np.shape(h0)
        (act, gh, h0, dh), dt = self._cell_args("gruback", B, H, act=(act, 3), gh=(gh, 3),
                                                h0=(h0, 1), dh=(dh, 1))
        dgx, dgh, dh0 = (self._empty((B, 3 * H), dt), self._empty((B, 3 * H), dt),
                         self._empty((B, H), dt))
        if dh0.size:
            self._run("rnn", f"gruback_{_BITS[dt]}", self._grid(dh0.size),
                      (np.int64(B), np.int64(H), act, gh, h0, dh, dgx, dgh, dh0))
        return dgx, dgh, dh0

    # ------------------------------------------------------------ optimizers
    def _update(self, kname, w, g, state, scalars):
        """Launch optimizer kernel ``kname`` updating ``w`` and ``state`` in place."""
        for k, a in (("w", w), ("g", g), *state):
            if not (self.owns(a) and a.flags.c_contiguous):
                raise ValueError(f"{kname}_: {k} must be a C-contiguous device array")
            if a.dtype not in _BITS or a.dtype != w.dtype or a.shape != w.shape:
                raise ValueError(f"{kname}_: {k} must be float32/float64 with w's shape "
                                 f"{w.shape} and dtype {w.dtype}, got {a.shape} {a.dtype}")
        if w.size:
            args = (np.int64(w.size), w, g, *(a for _, a in state),
                    *(w.dtype.type(s) for s in scalars))
            self._run("optim", f"{kname}_{_BITS[w.dtype]}", self._grid(w.size), args)
        return w

    def sgd_(self, w, g, lr):
        """w -= lr*g, in place; returns w."""
        return self._update("sgd", w, g, (), (lr,))

    def momentum_(self, w, g, v, lr, gamma):
        """v = gamma*v + lr*g; w -= v, in place."""
        return self._update("momentum", w, g, (("v", v),), (lr, gamma))

    def nesterov_(self, w, g, v, lr, gamma):
        """v = gamma*v + lr*g; w -= gamma*v + lr*g, in place."""
        return self._update("nesterov", w, g, (("v", v),), (lr, gamma))

    def adagrad_(self, w, g, G, lr, eps):
        """G += g^2; w -= lr*g/sqrt(G + eps), in place."""
        return self._update("adagrad", w, g, (("G", G),), (lr, eps))

    def rmsprop_(self, w, g, G, lr, rho, eps):
        """G = rho*G + (1-rho)*g^2; w -= lr*g/sqrt(G + eps), in place."""
        return self._update("rmsprop", w, g, (("G", G),), (lr, rho, eps))

    def adadelta_(self, w, g, G, D, lr, rho, eps):
        """Adadelta step on w, G (squared gradients) and D (squared updates), in place."""
        return self._update("adadelta", w, g, (("G", G), ("D", D)), (lr, rho, eps))

    def adam_(self, w, g, m, v, lr, beta1, beta2, eps, t):
        """Adam step ``t`` (1-based) on w and the moments m, v, in place; the bias
        corrections 1/(1-beta^t) are computed here."""
        if not isinstance(t, numbers.Integral) or t < 1:
            raise ValueError(f"adam_: t must be the 1-based step number, got {t!r}")
        c1, c2 = 1 / (1 - beta1 ** t), 1 / (1 - beta2 ** t)
        return self._update("adam", w, g, (("m", m), ("v", v)), (lr, beta1, beta2, eps, c1, c2))


class CupyDevice:
    """The device API on a real GPU: CuPy arrays, kernels loaded from
    ``knetpy.kernels`` with ``cupy.RawModule`` (one module per family, compiled
    once per process and cached on disk by CuPy)."""
    name = "cupy"

    def __init__(self, block=256, max_blocks=None):
        import cupy
        self.xp = cupy
        self.block = block
        if max_blocks is None:
            try:
                sms = cupy.cuda.Device().attributes["MultiProcessorCount"]
            except Exception:      # attribute query unsupported: a safe default
                sms = 32
            max_blocks = 32 * sms
        self.max_blocks = max_blocks
        self._modules, self._kernels = {}, {}

    def owns(self, a):
        """True for CuPy arrays."""
        return isinstance(a, self.xp.ndarray)

    def asarray(self, a, dtype=None):
        """``a`` on the GPU (no copy when it already is one of ``dtype``)."""
        return self.xp.asarray(a, dtype=dtype)

    def copy(self, a, dtype=None):
        """A fresh GPU array holding ``a``'s values."""
        return self.xp.array(a, dtype=dtype, copy=True)

    def empty(self, shape, dtype):
        """Uninitialized GPU memory."""
        return self.xp.empty(shape, dtype)

    def to_numpy(self, a):
        """A host copy of ``a``."""
        return self.xp.asnumpy(a)

    def matmul(self, a, b):
        """Matrix product through cuBLAS."""
        return self.xp.matmul(a, b)

    def function(self, family, kname):
        """Kernel ``kname`` of ``kernels/<family>.cu`` as a ``cupy.RawKernel``."""
        k = self._kernels.get(kname)
        if k is None:
            mod = self._modules.get(family)
            if mod is None:
                mod = self._modules[family] = self.xp.RawModule(
                    code=kernels.source(family),
                    options=("-I" + kernels.include_dir(), "--std=c++17"))
            k = self._kernels[kname] = mod.get_function(kname)
        return k


_default = None


def _backend():
    global _default
    if _default is None:
        _default = KernelBackend(CupyDevice())
    return _default


def __getattr__(attr):
    """The module is the backend ``knetpy.backends.use("cupy")`` selects: every
    contract function is the method of one KernelBackend on a CupyDevice."""
    if attr.startswith("_") or not (hasattr(KernelBackend, attr) or attr in ("xp", "dev")):
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
    return getattr(_backend(), attr)
