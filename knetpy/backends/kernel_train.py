"""Optimizer updates and the sparse-gradient scatter-add on the CUDA kernels.

``KernelTrain`` is a part of ``knetpy.backends.kernel_backend.KernelBackend``:
each update is one pass of ``kernels/optim.cu`` over w and its state, in
place; ``scatter_add`` adds sparse gradient rows with ``kernels/scatter.cu``.
The formulas are those of ``knetpy.backends.host_train`` (the numpy bodies).
"""
import math
import numbers

import numpy as np

from .base import Backend
from .kernel_table import BITS as _BITS

__all__ = ["KernelTrain"]


class KernelTrain:
    """Fused optimizer updates (``optim.cu``) and ``scatter_add`` (``scatter.cu``)."""

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


    def scatter_add(self, a, rows, vals):
        """scatter_add(a, rows, vals) -> a: ``a[rows[k]] += vals[k]`` in place by
        the ``scatter_add`` kernel (float32/64 C-contiguous ``a``; other arrays
        use the numpy body).  Contract: ``host_train.TrainKernels.scatter_add``."""
        if not (self.owns(a) and a.dtype in _BITS and a.flags.c_contiguous):
            return Backend.scatter_add(self, a, rows, vals)
        rows = self.contiguous(self._scatter_args(a, rows, vals))
        vals = self.contiguous(self.asarray(vals).astype(a.dtype, copy=False))
        width = math.prod(a.shape[1:])
        if rows.size and width:
            self._run("scatter", f"scatter_add_{_BITS[a.dtype]}", self._grid(rows.size * width),
                      (np.int64(rows.size), np.int64(width), rows, vals, a))
        return a
