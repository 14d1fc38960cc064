"""The kernel backend: knetpy's own CUDA kernels, on CuPy or the CPU emulator.

``KernelBackend`` subclasses ``knetpy.backends.base.Backend`` (the whole
contract, with numpy bodies) and overrides what the CUDA kernels of
``knetpy.kernels`` compute: elementwise functions, activation gradients and
reductions here; the softmax family, nll, batchnorm, dropout and RNN cells
in ``kernel_nn``; im2col/col2im (2-D and 3-D) and pooling in
``kernel_conv``; optimizer updates and ``scatter_add`` in ``kernel_train``.
Anything else (other dtypes, other functions) runs the numpy bodies on the
device arrays through numpy's protocols.  It talks to the hardware only
through a small *device* object:

==========================  ================================================
``name``, ``xp``            ``"cupy"`` and ``cupy``; ``"emulator"`` and
                            ``numpy`` for the emulator
``block``, ``max_blocks``   threads per block, grid cap (grid-stride loops
                            cover larger arrays)
``owns, asarray, copy,      device memory
empty, to_numpy``
``matmul(a, b)``            cuBLAS through ``cupy.matmul``
``function(family, name)``  kernel ``name`` of ``kernels/<family>.cu``,
                            called as ``k(grid, block, args)``
==========================  ================================================

``cupy_backend.CupyDevice`` is the GPU; ``emulator.EmulatorDevice`` runs the
same kernels on the CPU, which is how this code is tested without a GPU.
float32 and float64 use the kernels; float16 is computed in float32 where the
numpy bodies do so.  This module never imports CuPy.
"""
import math
import numbers

import numpy as np

from .base import Backend
from .kernel_conv import KernelConv
from .kernel_nn import KernelNN
from .kernel_table import ACTIVATION_BACK, BINARY, BITS as _BITS, UNARY
from .kernel_train import KernelTrain

__all__ = ["KernelBackend", "UNARY", "BINARY", "ACTIVATION_BACK", "REDUCE_KERNELS"]

REDUCE_KERNELS = ("sum", "prod", "max", "min")


def _is_scalar(v):
    return isinstance(v, (numbers.Number, np.generic))


class KernelBackend(KernelNN, KernelConv, KernelTrain, Backend):
    """KernelBackend(device): the knetpy backend contract computed by the CUDA
    kernels of ``knetpy.kernels`` on ``device`` (a ``CupyDevice`` or an
    ``emulator.EmulatorDevice``).

    >>> from knetpy.backends.emulator import EmulatorDevice
    >>> be = KernelBackend(EmulatorDevice())
    >>> be.binary("add", np.ones(3), 1.0).tolist()
    [2.0, 2.0, 2.0]
    """

    device_kernels = True

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
            return Backend.unary(self, fname, x)
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
            return Backend.binary(self, fname, a, b)
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
            return Backend.reduce(self, fname, x, axis=axis, keepdims=keepdims)
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

