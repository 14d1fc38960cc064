"""Numpy bodies of the training kernels: fused optimizer updates and the
sparse-gradient scatter-add.

``TrainKernels`` is a part of ``knetpy.backends.base.Backend``.  Every update
works in place on ``w`` and its state arrays (all of w's shape and dtype) and
returns ``w``; the kernel backend runs the same formulas as one pass of
``kernels/optim.cu``.

>>> from knetpy.backends import numpy_backend as nb
>>> nb.sgd_(np.ones(2), np.ones(2), 0.5).tolist()
[0.5, 0.5]
"""
import numbers

import numpy as np

__all__ = ["TrainKernels"]


class TrainKernels:
    """Optimizer update kernels and scatter_add with numpy bodies (a part of
    ``Backend``)."""

    def _check_update(self, fn, w, g, state):
        for k, a in (("g", g), *state):
            if np.shape(a) != np.shape(w):
                raise ValueError(f"{fn}: {k} must have w's shape {np.shape(w)}, "
                                 f"got {np.shape(a)}")
        for k, a in (("w", w), *state):
            if not self.owns(a) or a.dtype.kind != "f":
                raise ValueError(f"{fn}: {k} must be a float array of this backend, updated "
                                 f"in place")

    def sgd_(self, w, g, lr):
        """sgd_(w, g, lr) -> w: w -= lr*g, in place."""
        self._check_update("sgd_", w, g, ())
        w -= w.dtype.type(lr) * g
        return w

    def momentum_(self, w, g, v, lr, gamma):
        """momentum_(w, g, v, lr, gamma) -> w: v = gamma*v + lr*g; w -= v, in place."""
        self._check_update("momentum_", w, g, (("v", v),))
        v *= v.dtype.type(gamma)
        v += v.dtype.type(lr) * g
        w -= v
        return w

    def nesterov_(self, w, g, v, lr, gamma):
        """nesterov_(w, g, v, lr, gamma) -> w: v = gamma*v + lr*g;
        w -= gamma*v + lr*g, in place."""
        self._check_update("nesterov_", w, g, (("v", v),))
        lg = w.dtype.type(lr) * g
        v *= v.dtype.type(gamma)
        v += lg
        w -= w.dtype.type(gamma) * v + lg
        return w

    def adagrad_(self, w, g, G, lr, eps):
        """adagrad_(w, g, G, lr, eps) -> w: G += g^2; w -= lr*g/sqrt(G + eps), in place."""
        self._check_update("adagrad_", w, g, (("G", G),))
        G += g * g
        w -= w.dtype.type(lr) * g / np.sqrt(G + G.dtype.type(eps))
        return w

    def rmsprop_(self, w, g, G, lr, rho, eps):
        """rmsprop_(w, g, G, lr, rho, eps) -> w: G = rho*G + (1-rho)*g^2;
        w -= lr*g/sqrt(G + eps), in place."""
        self._check_update("rmsprop_", w, g, (("G", G),))
        G *= G.dtype.type(rho)
        G += G.dtype.type(1 - rho) * g * g
        w -= w.dtype.type(lr) * g / np.sqrt(G + G.dtype.type(eps))
        return w

    def adadelta_(self, w, g, G, D, lr, rho, eps):
        """adadelta_(w, g, G, D, lr, rho, eps) -> w: G = rho*G + (1-rho)*g^2;
        u = g*sqrt(D + eps)/sqrt(G + eps); w -= lr*u; D = rho*D + (1-rho)*u^2,
        in place."""
        self._check_update("adadelta_", w, g, (("G", G), ("D", D)))
        t = w.dtype.type
        G *= t(rho)
        G += t(1 - rho) * g * g
        u = g * np.sqrt(D + t(eps)) / np.sqrt(G + t(eps))
        w -= t(lr) * u
        D *= t(rho)
        D += t(1 - rho) * u * u
        return w

    def adam_(self, w, g, m, v, lr, beta1, beta2, eps, t):
        """adam_(w, g, m, v, lr, beta1, beta2, eps, t) -> w: Adam step ``t``
        (1-based): m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
        w -= lr*(c1*m)/(sqrt(c2*v) + eps) with c1 = 1/(1-b1^t), c2 = 1/(1-b2^t)."""
        if not isinstance(t, numbers.Integral) or t < 1:
            raise ValueError(f"adam_: t must be the 1-based step number, got {t!r}")
        self._check_update("adam_", w, g, (("m", m), ("v", v)))
        T = w.dtype.type
        c1, c2 = 1 / (1 - beta1 ** t), 1 / (1 - beta2 ** t)
        m *= T(beta1)
        m += T(1 - beta1) * g
        v *= T(beta2)
        v += T(1 - beta2) * g * g
        w -= T(lr) * (T(c1) * m) / (np.sqrt(T(c2) * v) + T(eps))
        return w

    def _scatter_args(self, a, rows, vals):
        """Check scatter_add's arguments; rows as int64 in [0, len(a))."""
        if not self.owns(a) or np.ndim(a) < 1:
            raise ValueError("scatter_add: a must be an array of this backend with at least "
                             "one axis (updated in place)")
        rows = self.asarray(rows)
        if rows.ndim != 1 or rows.dtype.kind not in "iu":
            raise ValueError(f"scatter_add: rows must be a 1-D integer array, got "
                             f"{rows.ndim}-D {rows.dtype}")
        want = (rows.shape[0],) + tuple(a.shape[1:])
        if tuple(np.shape(vals)) != want:
            raise ValueError(f"scatter_add: vals must have shape {want} (one row per index), "
                             f"got {tuple(np.shape(vals))}")
        n = a.shape[0]
        rows = rows.astype(np.int64)
        if rows.size and (int(rows.min()) < -n or int(rows.max()) >= n):
            raise IndexError(f"scatter_add: rows must lie in [-{n}, {n}), got "
                             f"[{int(rows.min())}, {int(rows.max())}]")
        return rows % n if rows.size else rows

    def scatter_add(self, a, rows, vals):
        """scatter_add(a, rows, vals) -> a: ``a[rows[k]] += vals[k]`` for every k,
        in place (repeated rows accumulate; negative rows count from the end);
        ``vals`` has shape ``(len(rows),) + a.shape[1:]``.  This is how a sparse
        gradient (rows of an embedding) is added on the device.

        >>> from knetpy.backends import numpy_backend as nb
        >>> nb.scatter_add(np.zeros(3), np.array([0, 2, 0]), np.ones(3)).tolist()
        [2.0, 0.0, 1.0]
        """
        rows = self._scatter_args(a, rows, vals)
        np.add.at(a, rows, self.asarray(vals).astype(a.dtype, copy=False))
        return a
