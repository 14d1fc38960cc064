"""The recurrent cells on the host: numpy bodies of the backend cell kernels.

Each function has the signature and the result of the kernel backend's method
of the same name (``kernels/rnn.cu`` run through CuPy or the emulator), so the
recurrence (``knetpy.ops.rnn``) calls one or the other without caring which.
Gate order is cuDNN's / PyTorch's: LSTM ``i, f, n, o``, GRU ``r, z, n``.

- ``lstm(g, c0) -> (h, c, act)`` and ``lstmback(act, c0, c, dh, dc) -> (dg, dc0)``;
- ``gru(gx, gh, h0) -> (h, act)`` and ``gruback(act, gh, h0, dh) -> (dgx, dgh, dh0)``;
- ``unary(mode, x)`` and ``activation_back(mode, dy, y)`` for the plain
  ``relu``/``tanh`` RNNs.
"""
import numpy as np

__all__ = ["lstm", "lstmback", "gru", "gruback", "unary", "activation_back"]


def _sigm(a):
    """Logistic sigmoid 1/(1+exp(-a)); exp(-a) overflowing to inf correctly gives 0."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-a))


def lstm(g, c0):
    """lstm(g, c0) -> (h, c, act): one LSTM step.  ``g`` (B, 4H) holds the gate
    pre-activations (x@Wi + h@Wh + biases, order i, f, n, o) and ``c0`` (B, H)
    the previous cell; ``c = f*c0 + i*n``, ``h = o*tanh(c)``; ``act`` (B, 4H)
    keeps the activated gates for ``lstmback``.

    >>> h, c, act = lstm(np.zeros((1, 4)), np.ones((1, 1)))
    >>> c.tolist(), act.tolist()
    ([[0.5]], [[0.5, 0.5, 0.0, 0.5]])
    """
    H = np.shape(c0)[1]
    act = _sigm(g)
    act[:, 2 * H:3 * H] = np.tanh(g[:, 2 * H:3 * H])
    i, f, n, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
    c = f * c0 + i * n
    return o * np.tanh(c), c, act


def lstmback(act, c0, c, dh, dc):
    """lstmback(act, c0, c, dh, dc) -> (dg, dc0): gradients of ``lstm`` from its
    saved ``act``, the cells ``c0`` (before) and ``c`` (after), and the
    gradients ``dh``, ``dc`` of its outputs: ``dg`` (B, 4H) for the gate
    pre-activations and ``dc0`` for the previous cell.

    >>> dg, dc0 = lstmback(np.full((1, 4), 0.5), np.ones((1, 1)), np.ones((1, 1)),
    ...                    np.zeros((1, 1)), np.ones((1, 1)))
    >>> dg.tolist(), dc0.tolist()
    ([[0.125, 0.25, 0.375, 0.0]], [[0.5]])
    """
    H = np.shape(c0)[1]
    i, f, n, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
    tc = np.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    dg = np.concatenate([dct * n * i * (1 - i), dct * c0 * f * (1 - f), dct * i * (1 - n * n),
                         dh * tc * o * (1 - o)], axis=1)
    return dg, dct * f


def gru(gx, gh, h0):
    """gru(gx, gh, h0) -> (h, act): one GRU step.  ``gx`` = x@Wi + bi and
    ``gh`` = h0@Wh + bh, each (B, 3H) in gate order r, z, n; ``r, z =
    sigm(gx + gh)``, ``n = tanh(gx_n + r*gh_n)``, ``h = (1-z)*n + z*h0``;
    ``act`` (B, 3H) keeps r, z, n for ``gruback``.

    >>> h, act = gru(np.zeros((1, 3)), np.zeros((1, 3)), np.ones((1, 1)))
    >>> h.tolist(), act.tolist()
    ([[0.5]], [[0.5, 0.5, 0.0]])
    """
    H = np.shape(h0)[1]
    rz = _sigm(gx[:, :2 * H] + gh[:, :2 * H])
    r, z = rz[:, :H], rz[:, H:]
    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h0, np.concatenate([rz, n], axis=1)


def gruback(act, gh, h0, dh):
    """gruback(act, gh, h0, dh) -> (dgx, dgh, dh0): gradients of ``gru`` for its
    ``gx``, its ``gh`` and the direct part ``z*dh`` of ``h0``'s (the part
    through ``gh`` comes from ``dgh @ Wh``).

    >>> dgx, dgh, dh0 = gruback(np.array([[0.5, 0.5, 0.0]]), np.ones((1, 3)),
    ...                         np.ones((1, 1)), np.ones((1, 1)))
    >>> dgx.tolist(), dgh.tolist(), dh0.tolist()
    ([[0.125, 0.25, 0.5]], [[0.125, 0.25, 0.25]], [[0.5]])
    """
    H = np.shape(h0)[1]
    r, z, n = act[:, :H], act[:, H:2 * H], act[:, 2 * H:]
    dn = dh * (1 - z) * (1 - n * n)
    dz = dh * (h0 - n) * z * (1 - z)
    dr = dn * gh[:, 2 * H:] * r * (1 - r)
    return (np.concatenate([dr, dz, dn], axis=1), np.concatenate([dr, dz, dn * r], axis=1),
            dh * z)


def unary(mode, x):
    """unary(mode, x): the plain RNN activation ``relu`` or ``tanh`` of ``x``.

    >>> unary("relu", np.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    if mode == "tanh":
        return np.tanh(x)
    if mode == "relu":
        return np.maximum(x, 0)
    raise ValueError(f"unary: mode must be 'relu' or 'tanh', got {mode!r}")


def activation_back(mode, dy, y):
    """activation_back(mode, dy, y): gradient of ``unary(mode, x)`` from its
    output ``y``: ``dy*(1-y²)`` for tanh, ``dy*(y>0)`` for relu.

    >>> activation_back("tanh", np.ones(2), np.array([0.0, 0.5])).tolist()
    [1.0, 0.75]
    """
    if mode == "tanh":
        return dy * (1 - y * y)
    if mode == "relu":
        return dy * (y > 0)
    raise ValueError(f"activation_back: mode must be 'relu' or 'tanh', got {mode!r}")
