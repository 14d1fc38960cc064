"""Numpy bodies of the batchnorm, dropout and recurrent-cell kernels.

``NNKernels`` is a part of ``knetpy.backends.base.Backend`` (see there for
the whole contract); the kernel backend overrides each method with its CUDA
kernel (``batchnorm.cu``, ``dropout.cu``, ``rnn.cu``) and these bodies are
the reference the emulator tests compare against.

>>> from knetpy.backends import numpy_backend as nb
>>> nb.dropout(np.ones(4), 0.0, 7).tolist()
[1.0, 1.0, 1.0, 1.0]
"""
import numbers

import numpy as np

__all__ = ["NNKernels", "uniform"]

_M1, _M2, _M3 = np.uint64(0x9e3779b97f4a7c15), np.uint64(0xbf58476d1ce4e5b9), \
    np.uint64(0x94d049bb133111eb)


def _mix64(z):
    """splitmix64's finalizer on a uint64 array (knet_mix64 of knet_common.cuh)."""
    z = z + _M1
    z = (z ^ (z >> np.uint64(30))) * _M2
    z = (z ^ (z >> np.uint64(27))) * _M3
    return z ^ (z >> np.uint64(31))


def uniform(seed, n):
    """uniform(seed, n) -> float64 array of n numbers in [0, 1): the counter-based
    hash ``knet_uniform(seed, i)`` of ``kernels/knet_common.cuh`` for i < n, so
    the host and the device draw the same dropout masks.

    >>> float(uniform(1, 3)[0]) == float(uniform(1, 3)[0])
    True
    """
    with np.errstate(over="ignore"):
        i = np.arange(int(n), dtype=np.uint64)
        z = _mix64(np.uint64(seed) ^ _mix64(i))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _compute_dtype(x):
    dt = np.result_type(x)
    return np.dtype(np.float32) if dt == np.float16 else dt


def _ncl(x, cd):
    """x viewed as (N, C, L) in the compute dtype (L = 1 for 2-D x)."""
    s = np.shape(x)
    return x.reshape(s[0], s[1], -1).astype(cd, copy=False)


def _check_drop(fn, p, seed):
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"{fn}: p must be a probability in [0, 1], got {p!r}")
    if not isinstance(seed, numbers.Integral) or not 0 <= seed < 2 ** 64:
        raise ValueError(f"{fn}: seed must be an int in [0, 2**64), got {seed!r}")


def _sigm_into(x, out):
    """out = 1/(1+exp(-x)) in four in-place passes (out may be x); exp(-x)
    overflowing to inf correctly gives 0."""
    np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)


_LSTM_ROWS = {}


def _lstm_rows(H, dt):
    """(scale, shift) rows of 4H for one tanh pass over the LSTM gates: 1/2 and
    1/2 on the sigmoid gates i, f, o, 1 and 0 on the tanh gate n (cached)."""
    key = (int(H), np.dtype(dt))
    rows = _LSTM_ROWS.get(key)
    if rows is None:
        scale, shift = np.full(4 * H, 0.5, dt), np.full(4 * H, 0.5, dt)
        scale[2 * H:3 * H], shift[2 * H:3 * H] = 1, 0
        rows = _LSTM_ROWS[key] = (scale, shift)
    return rows


def _split(a, k, H):
    return [a[:, j * H:(j + 1) * H] for j in range(k)]


class NNKernels:
    """Batchnorm, dropout and RNN cell kernels with numpy bodies (a part of
    ``Backend``)."""

    # ------------------------------------------------------------ batchnorm
    def bn_stats(self, x):
        """bn_stats(x) -> (mean, biased variance) of x over every axis but 1, each
        of shape (C,)."""
        x3 = _ncl(x, _compute_dtype(x))
        n = x3.shape[0] * x3.shape[2]
        mean = x3.sum(axis=(0, 2)) / n
        xc = x3 - mean[:, None]
        return mean, np.einsum("ncl,ncl->c", xc, xc) / n

    def bn_forward(self, x, mean, var, gamma, beta, eps):
        """bn_forward(x, mean, var, gamma, beta, eps) -> (x - mean) / sqrt(var + eps)
        * gamma + beta per channel (axis 1); gamma/beta may be None (1 and 0)."""
        dt, cd = np.result_type(x), _compute_dtype(x)
        scale = 1 / np.sqrt(var.astype(cd) + eps)
        if gamma is not None:
            scale = scale * gamma.astype(cd)
        shift = -mean.astype(cd) * scale
        if beta is not None:
            shift = shift + beta.astype(cd)
        y = _ncl(x, cd) * scale[:, None]
        y += shift[:, None]
        return y.reshape(np.shape(x)).astype(dt, copy=False)

    def bn_backward(self, dy, x, mean, var, gamma, eps, need_dx=True):
        """bn_backward(dy, x, mean, var, gamma, eps, need_dx=True) -> (dx, dgamma,
        dbeta) of bn_forward in training mode (mean and var are the batch
        statistics of x); dx is None when not ``need_dx``.

        dx = G*dy + B*(x - mean) + c per channel, with G = gamma/std,
        B = -G*dgamma/(n*std), c = -G*dbeta/n."""
        dt, cd = np.result_type(x), _compute_dtype(x)
        x3, d3 = _ncl(x, cd), _ncl(dy, cd)
        n = x3.shape[0] * x3.shape[2]
        mean, inv = mean.astype(cd), 1 / np.sqrt(var.astype(cd) + eps)
        xc = x3 - mean[:, None]
        dbeta = d3.sum(axis=(0, 2))
        dgamma = inv * np.einsum("ncl,ncl->c", d3, xc)
        dx = None
        if need_dx:
            G = inv if gamma is None else inv * gamma.astype(cd)
            dx = d3 * G[:, None]
            xc *= (-G * inv * dgamma / n)[:, None]
            dx += xc
            dx += (-G * dbeta / n)[:, None]
            dx = dx.reshape(np.shape(x)).astype(dt, copy=False)
        return dx, dgamma.astype(dt, copy=False), dbeta.astype(dt, copy=False)

    # ------------------------------------------------------------ dropout
    def dropout_mask(self, shape, p, seed):
        """dropout_mask(shape, p, seed) -> bool array of ``shape``, True where an
        element is dropped: element i (row-major) is dropped when
        ``uniform(seed, i) < p`` (the counter-based hash shared with the device
        kernels, so every backend draws the same mask)."""
        _check_drop("dropout_mask", p, seed)
        shape = tuple(int(s) for s in shape)
        return self.asarray(uniform(seed, int(np.prod(shape))).reshape(shape) < p)

    def dropout(self, x, p, seed):
        """dropout(x, p, seed) -> inverted dropout of float ``x``: the elements
        of ``dropout_mask(x.shape, p, seed)`` are zeroed, the rest scaled by
        1/(1-p); float16 is computed in float32."""
        return self._drop("dropout", x, p, seed)

    def dropback(self, dy, p, seed):
        """dropback(dy, p, seed) -> gradient of ``dropout(x, p, seed)``: ``dy``
        masked and scaled by the same (regenerated) mask."""
        return self._drop("dropback", dy, p, seed)

    def _drop(self, fn, x, p, seed):
        _check_drop(fn, p, seed)
        x = self.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(f"{fn}: x must hold floats, got {x.dtype}")
        dt = x.dtype
        xc = x.astype(_compute_dtype(x), copy=False)
        mask = self.dropout_mask(x.shape, p, seed)
        with np.errstate(over="ignore", invalid="ignore"):
            y = np.where(mask, xc.dtype.type(0), xc * xc.dtype.type(1.0 / (1.0 - p))
                         if p < 1 else xc.dtype.type(0))
        return y.astype(dt, copy=False)

    # ------------------------------------------------------------ recurrent cells
    #
    # Gate order is cuDNN's / PyTorch's: LSTM i, f, n, o; GRU r, z, n.  The
    # LSTM bodies work column block by column block with ``out=`` buffers (a
    # few numpy passes, no concatenation); ``out`` may name the inputs
    # themselves (act = g, c = c0, dc0 = dc), as the recurrence does.
    @staticmethod
    def _cell_shapes(fn, B, H, **arrays):
        for k, (a, cols) in arrays.items():
            if np.shape(a) != (B, cols * H):
                raise ValueError(f"{fn}: {k} must have shape {(B, cols * H)}, got {np.shape(a)}")

    @staticmethod
    def _cell_out(fn, out, B, H, dt, cols):
        """The output arrays: fresh ones, or ``out`` checked for shape and dtype."""
        if out is None:
            return [np.empty((B, k * H), dt) for k in cols]
        if len(out) != len(cols):
            raise ValueError(f"{fn}: out must hold {len(cols)} arrays, got {len(out)}")
        for a, k in zip(out, cols):
            if np.shape(a) != (B, k * H) or a.dtype != dt:
                raise ValueError(f"{fn}: out arrays must have shapes "
                                 f"{[(B, k * H) for k in cols]} and dtype {dt}, got "
                                 f"{np.shape(a)} {a.dtype}")
        return list(out)

    def lstm(self, g, c0, out=None):
        """lstm(g, c0, out=None) -> (h, c, act): one LSTM step from the gate
        pre-activations ``g`` (B, 4H; order i, f, n, o) and the cell ``c0``
        (B, H): i, f, o = sigm, n = tanh, c = f*c0 + i*n, h = o*tanh(c); ``act``
        (B, 4H) keeps i, f, n, o for ``lstmback``.  ``out``: the arrays (h, c,
        act) to write (act may be g, c may be c0).

        >>> from knetpy.backends import numpy_backend as nb
        >>> h, c, act = nb.lstm(np.zeros((1, 4)), np.ones((1, 1)))
        >>> c.tolist(), act.tolist()
        ([[0.5]], [[0.5, 0.5, 0.0, 0.5]])
        """
        B, H = np.shape(c0)
        self._cell_shapes("lstm", B, H, g=(g, 4), c0=(c0, 1))
        h, c, act = self._cell_out("lstm", out, B, H, np.result_type(g, c0), (1, 1, 4))
        scale, shift = _lstm_rows(H, act.dtype)     # i, f, o: sigm(x) = tanh(x/2)/2 + 1/2
        np.multiply(g, scale, out=act)
        np.tanh(act, out=act)
        act *= scale
        act += shift
        i, f, n, o = _split(act, 4, H)
        np.multiply(i, n, out=h)                          # h: scratch for i*n
        np.multiply(f, c0, out=c)
        c += h
        np.tanh(c, out=h)
        h *= o
        return h, c, act

    def lstmback(self, act, c0, c, dh, dc, out=None):
        """lstmback(act, c0, c, dh, dc, out=None) -> (dg, dc0): gradients of
        ``lstm`` with respect to the pre-activations and the previous cell, from
        the saved ``act``, the cells ``c0``, ``c`` and the output gradients
        ``dh``, ``dc``.  ``out``: the arrays (dg, dc0) to write (dc0 may be dc).

        >>> from knetpy.backends import numpy_backend as nb
        >>> dg, dc0 = nb.lstmback(np.full((1, 4), 0.5), np.ones((1, 1)), np.ones((1, 1)),
        ...                        np.zeros((1, 1)), np.ones((1, 1)))
        >>> dg.tolist(), dc0.tolist()
        ([[0.125, 0.25, 0.375, 0.0]], [[0.5]])
        """
        B, H = np.shape(c0)
        self._cell_shapes("lstmback", B, H, act=(act, 4), c0=(c0, 1), c=(c, 1), dh=(dh, 1),
                          dc=(dc, 1))
        dt = np.result_type(act, c0, c, dh, dc)
        dg, dc0 = self._cell_out("lstmback", out, B, H, dt, (4, 1))
        i, f, n, o = _split(act, 4, H)
        di, df, dn, do = _split(dg, 4, H)
        np.subtract(1, act, out=dg)
        dg *= act                                         # s*(1-s) of every gate (n: unused)
        t = np.tanh(c).astype(dt, copy=False)
        do *= t
        do *= dh                                          # dh*tanh(c)*o*(1-o)
        t *= t
        np.subtract(1, t, out=t)
        t *= o
        t *= dh
        t += dc                                           # t: dct, the gradient of c
        di *= n
        di *= t
        df *= c0
        df *= t
        np.multiply(n, n, out=dn)
        np.subtract(1, dn, out=dn)
        dn *= i
        dn *= t
        np.multiply(t, f, out=dc0)
        return dg, dc0

    def gru(self, gx, gh, h0):
        """gru(gx, gh, h0) -> (h, act): one GRU step from the input part ``gx``
        and hidden part ``gh`` (B, 3H; order r, z, n) of the pre-activations and
        ``h0`` (B, H): r, z = sigm(gx + gh), n = tanh(gx_n + r*gh_n),
        h = (1-z)*n + z*h0; ``act`` keeps r, z, n.

        >>> from knetpy.backends import numpy_backend as nb
        >>> h, act = nb.gru(np.zeros((1, 3)), np.zeros((1, 3)), np.ones((1, 1)))
        >>> h.tolist(), act.tolist()
        ([[0.5]], [[0.5, 0.5, 0.0]])
        """
        B, H = np.shape(h0)
        self._cell_shapes("gru", B, H, gx=(gx, 3), gh=(gh, 3), h0=(h0, 1))
        act = np.add(gx, gh)
        _sigm_into(act[:, :2 * H], act[:, :2 * H])
        r, z, n = _split(act, 3, H)
        np.multiply(r, gh[:, 2 * H:], out=n)
        n += gx[:, 2 * H:]
        np.tanh(n, out=n)
        h = h0 - n
        h *= z
        h += n                                            # (1-z)*n + z*h0
        return h, act

    def gruback(self, act, gh, h0, dh):
        """gruback(act, gh, h0, dh) -> (dgx, dgh, dh0): gradients of ``gru``; dh0
        is the direct part z*dh (the part through gh comes from dgh @ Wh).

        >>> from knetpy.backends import numpy_backend as nb
        >>> dgx, dgh, dh0 = nb.gruback(np.array([[0.5, 0.5, 0.0]]), np.ones((1, 3)),
        ...                            np.ones((1, 1)), np.ones((1, 1)))
        >>> dgx.tolist(), dgh.tolist(), dh0.tolist()
        ([[0.125, 0.25, 0.5]], [[0.125, 0.25, 0.25]], [[0.5]])
        """
        B, H = np.shape(h0)
        self._cell_shapes("gruback", B, H, act=(act, 3), gh=(gh, 3), h0=(h0, 1), dh=(dh, 1))
        r, z, n = _split(act, 3, H)
        dn = dh * (1 - z) * (1 - n * n)
        dz = dh * (h0 - n) * z * (1 - z)
        dr = dn * gh[:, 2 * H:] * r * (1 - r)
        return (np.concatenate([dr, dz, dn], axis=1), np.concatenate([dr, dz, dn * r], axis=1),
                dh * z)
