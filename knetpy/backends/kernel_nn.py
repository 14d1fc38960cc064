"""Softmax family, nll, batchnorm, dropout and RNN cells on the CUDA kernels.

``KernelNN`` is a part of ``knetpy.backends.kernel_backend.KernelBackend``
(it uses that class's launching helpers); the numpy bodies of
``knetpy.backends.base.Backend`` state the contract and serve as the
fallback for dtypes the kernels do not cover.
"""
import math
import numbers

import numpy as np

from .base import Backend
from .kernel_table import BITS as _BITS

__all__ = ["KernelNN"]


class KernelNN:
    """The softmax-family (``softmax.cu``), batchnorm (``batchnorm.cu``),
    dropout (``dropout.cu``) and RNN cell (``rnn.cu``) kernels."""

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
            return (Backend.logsoftmax(self, x, axis) if algo == 2 else
                    Backend.softmax(self, x, axis, algo))
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
            return Backend.logsumexp(self, x, axis, keepdims)
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
            return Backend.nll_forward(self, self.asarray(x), self.asarray(answers), axis)
        loss = self._empty((x2.shape[0],), x2.dtype)
        self._run("softmax", f"nll_rows_{_BITS[x2.dtype]}", min(x2.shape[0], self.dev.max_blocks),
                  (np.int64(x2.shape[0]), np.int64(x2.shape[1]), x2, ans, loss))
        return self._reduce_kernel("sum", loss, (0,)).astype(dt, copy=False)

    def nll_backward(self, x, answers, axis):
        """softmax(x) - onehot(answers) along ``axis``, zero where answers < 0."""
        xf, dt, x2, perm, ans = self._nll_rows(x, answers, axis)
        if x2.size == 0:
            return Backend.nll_backward(self, self.asarray(x), self.asarray(answers), axis)
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

    def _cell_outs(self, fn, out, B, H, dt, cols):
        """Fresh device arrays, or ``out`` checked: C-contiguous device arrays of
        the right shapes and dtype (the kernels write them in place)."""
        if out is None:
            return [self._empty((B, k * H), dt) for k in cols]
        if len(out) != len(cols):
            raise ValueError(f"{fn}: out must hold {len(cols)} arrays, got {len(out)}")
        for a, k in zip(out, cols):
            if not (self.owns(a) and a.shape == (B, k * H) and a.dtype == dt
                    and a.flags.c_contiguous):
                raise ValueError(f"{fn}: out arrays must be C-contiguous device arrays of "
                                 f"shapes {[(B, k * H) for k in cols]} and dtype {dt}")
        return list(out)

    def lstm(self, g, c0, out=None):
        """One fused LSTM step: ``g`` (B, 4H) gate pre-activations (order i, f, n, o),
        ``c0`` (B, H) -> (h, c, act) with ``act`` the gate activations for ``lstmback``;
        ``out``: the arrays (h, c, act) to write (act may be g, c may be c0: each
        thread reads its elements before writing them)."""
        B, H = np.shape(c0)
        (g, c0), dt = self._cell_args("lstm", B, H, g=(g, 4), c0=(c0, 1))
        h, c, act = self._cell_outs("lstm", out, B, H, dt, (1, 1, 4))
        if h.size:
            self._run("rnn", f"lstm_{_BITS[dt]}", self._grid(h.size),
                      (np.int64(B), np.int64(H), g, c0, h, c, act))
        return h, c, act

    def lstmback(self, act, c0, c, dh, dc, out=None):
        """Gradients of ``lstm``: (dg, dc0) from the saved ``act``, the cells ``c0``,
        ``c`` and the output gradients ``dh``, ``dc``; ``out``: the arrays (dg,
        dc0) to write (dc0 may be dc)."""
        B, H = np.shape(c0)
        (act, c0, c, dh, dc), dt = self._cell_args("lstmback", B, H, act=(act, 4), c0=(c0, 1),
                                                   c=(c, 1), dh=(dh, 1), dc=(dc, 1))
        dg, dc0 = self._cell_outs("lstmback", out, B, H, dt, (4, 1))
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

