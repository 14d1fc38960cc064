"""Recurrent neural networks: Knet's ``RNN`` (relu, tanh, lstm, gru).

Layout (Knet's, dims reversed for row-major Python):

- input ``x`` is time-major ``(T, B, X)``, or ``(B, X)`` for one time step, or
  ``(X,)`` for one instance; the output ``y`` has the same number of dims with
  ``X`` replaced by ``H`` (``2H`` when bidirectional, forward half first);
- hidden and cell states ``rnn.h`` / ``rnn.c`` are ``(L, B, H)`` with ``L`` the
  number of layers times the number of directions (forward and backward
  layers alternate);
- all weights live in ONE vector ``rnn.w`` (a Param): every weight matrix first,
  ordered by (layer, id), then every bias vector, ordered the same way.  The
  gate matrices of one layer are therefore adjacent, so one slice of ``w``
  gives the fused ``(G*H, in)`` matrix of all gates (PyTorch's
  ``weight_ih_l*`` / ``weight_hh_l*`` layout, gate order lstm ``i,f,n,o``, gru
  ``r,z,n``).

Speed: the input projection of a layer is one GEMM over all time steps; the
whole recurrence of a layer and direction is one primitive (``_recur``) with a
hand-written backward through time (one GEMM per step each way, in-place
numpy for the cells).  Its backward is not itself recorded, so second
derivatives through an RNN are not supported (a clear error says so).

On a GPU (weights or input are KnetArrays of a kernel backend) the same
primitive runs on the device: one cuBLAS GEMM per step for the hidden
projection, the fused cell kernels ``lstm``/``gru`` (``lstmback``/``gruback``
backwards) of ``kernels/rnn.cu`` for LSTM and GRU, and the ``relu``/``tanh``
unary and activation-gradient kernels for the plain RNNs; input dropout uses
the ``dropout`` kernel.  The host path is unchanged.
"""
from types import SimpleNamespace

import numpy as np

from autograd.core import Param, Primitive, Value, _raw, training

from .ops.dropout import dropout as _dropout_op
from .device import gpu
from .init import rng, xavier_uniform
from .knetarray import KnetArray

__all__ = ["RNN", "rnnparam", "rnnparams"]

_TYPES = ("relu", "tanh", "lstm", "gru")
_NGATES = {"relu": 1, "tanh": 1, "lstm": 4, "gru": 3}
_NAMES = {"relu": "RNNRELU", "tanh": "RNNTANH", "lstm": "LSTM", "gru": "GRU"}


# ------------------------------------------------------------------ the RNN object

class RNN:
    """RNN(input_size, hidden_size, rnn_type='lstm', num_layers=1, bidirectional=False,
    dropout=0.0, skip_input=False, h=None, c=None, dtype=float32,
    winit=xavier_uniform, binit=zeros, finit=ones, atype=None)

    A callable multi-layer recurrent network (Knet's ``RNN``).  ``rnn(x,
    batch_sizes=None)`` returns the hidden states of the last layer at every
    time step.

    Args:
        input_size, hidden_size: ``X`` and ``H``.
        rnn_type: ``'relu'`` or ``'tanh'`` (h = f(W x + R h + bW + bR)),
            ``'lstm'`` (gates i, f, n, o; c = f*c + i*n; h = o*tanh(c)) or
            ``'gru'`` (gates r, z, n; n = tanh(Wn x + bWn + r*(Rn h + bRn));
            h = (1-z)*n + z*h).
        num_layers: stacked layers ``L``.
        bidirectional: add a backward layer per layer; outputs are ``2H`` wide.
        dropout: probability of dropping the input and the input of every
            upper layer, applied only while ``training()``.
        skip_input: the first layer uses ``x`` itself instead of ``W x`` for
            every gate (needs ``input_size == hidden_size``).
        h, c: initial hidden / cell state.  ``None``: zero and the final state
            is not kept.  ``0``: zero, and ``rnn.h`` (``rnn.c``) becomes the final
            state.  An array ``(L*dirs, B, H)`` (possibly a Param): used as the
            initial state and replaced by the final state (a Result inside
            ``diff``; unbox it with ``value`` between iterations).
            ``rnn.c`` is only used by LSTMs.
        dtype: ``np.float32`` (default) or ``np.float64``.
        winit, binit, finit: ``f(*shape) -> array`` for weight matrices, biases
            and the LSTM forget-gate biases.
        atype: array type of ``rnn.w`` (e.g. ``KnetArray``); None: KnetArray
            when a GPU is active (``knetpy.gpu``), numpy otherwise.  With
            device weights (or device input) the recurrence runs on the
            GPU's kernels; host inputs and states are copied to the device.

    Example:
        >>> rnn = RNN(3, 5, 'gru')
        >>> rnn(np.zeros((7, 2, 3), np.float32)).shape
        (7, 2, 5)
    """

    def __init__(self, input_size, hidden_size, rnn_type="lstm", num_layers=1,
                 bidirectional=False, dropout=0.0, skip_input=False, h=None, c=None,
                 dtype=np.float32, winit=xavier_uniform, binit=np.zeros, finit=np.ones,
                 atype=None):
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"RNN: {name} must be a positive integer, got {v!r}")
        if rnn_type not in _TYPES:
            raise ValueError(f"RNN: rnn_type must be one of {_TYPES}, got {rnn_type!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"RNN: dropout must be in [0, 1), got {dropout!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"RNN: dtype must be float32 or float64, got {dtype}")
        if skip_input and input_size != hidden_size:
            raise ValueError(f"RNN: skip_input=True needs input_size == hidden_size, "
                             f"got {input_size} and {hidden_size}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.rnn_type, self.num_layers = rnn_type, int(num_layers)
        self.bidirectional, self.dropout = bool(bidirectional), float(dropout)
        self.skip_input, self.dtype = bool(skip_input), dtype
        self.h, self.c = h, c
        self._layout, size = _layout(self)
        w = np.zeros(size, dtype)
        for (layer, id_, par), entry in self._layout.items():
            if entry is None:
                continue
            start, shape = entry
            init = winit if par == 1 else finit if self._forget(id_) else binit
            w[start:start + int(np.prod(shape))] = np.asarray(init(*shape), dtype).ravel()
        if atype is None and gpu() >= 0:      # Knet's default: device arrays on a GPU
            atype = KnetArray
        self.w = Param(w if atype is None else atype(w))

    def _forget(self, id_):
        return self.rnn_type == "lstm" and id_ in (2, 6)

    @property
    def ngates(self):
        """Gates per layer: 1 (relu/tanh), 3 (gru) or 4 (lstm)."""
        return _NGATES[self.rnn_type]

    @property
    def nlayers(self):
        """Pseudo-layers: num_layers times the number of directions."""
        return self.num_layers * (2 if self.bidirectional else 1)

    def __repr__(self):
        s = f"{_NAMES[self.rnn_type]}(input={self.input_size},hidden={self.hidden_size}"
        s += ",bidirectional" * self.bidirectional
        s += f",layers={self.num_layers}" if self.num_layers > 1 else ""
        s += f",dropout={self.dropout}" if self.dropout > 0 else ""
        s += ",skipinput" * self.skip_input
        s += f",{self.dtype.name}" if self.dtype != np.float32 else ""
        return s + ")"

    # -------------------------------------------------------------- forward

    def __call__(self, x, batch_sizes=None):
        """rnn(x, batch_sizes=None) -> y; see the class docstring."""
        xr = _raw(x)
        if not hasattr(xr, "ndim") or xr.ndim == 0:
            raise ValueError(f"RNN: x must be an array (X,), (B, X) or (T, B, X), got {xr!r}")
        wdt = _raw(self.w).dtype
        if xr.dtype != wdt:
            raise TypeError(f"RNN: x has dtype {xr.dtype} but the weights are {wdt}; "
                            f"convert x with x.astype(np.{wdt.name})")
        if xr.shape[-1] != self.input_size:
            raise ValueError(f"RNN: the last dim of x must be input_size={self.input_size}, "
                             f"got x of shape {xr.shape}")
        if xr.size == 0:
            raise ValueError(f"RNN: x is empty (shape {xr.shape})")
        if batch_sizes is None:
            if xr.ndim > 3:
                raise ValueError(f"RNN: x must have 1, 2 or 3 dims, got shape {xr.shape}")
            T, B = (1, 1) if xr.ndim == 1 else (1, xr.shape[0]) if xr.ndim == 2 else xr.shape[:2]
            bs = (int(B),) * int(T)
        else:
            bs = _check_batch_sizes(batch_sizes, xr.size // self.input_size)
        H, L, dirs = self.hidden_size, self.nlayers, 1 + self.bidirectional
        hsize = (L, bs[0], H)
        lstm = self.rnn_type == "lstm"
        h0 = _initial_state(self.h, hsize, wdt, "h")
        c0 = _initial_state(self.c, hsize, wdt, "c") if lstm else None

        xin = np.reshape(x, (sum(bs), self.input_size))
        xin = _dropout(xin, self.dropout)
        hs, cs = [], []
        for layer in range(self.num_layers):
            ys = []
            for d in range(dirs):
                k = layer * dirs + d
                y, hN, cN = self._layer(k, xin, None if h0 is None else _layer_state(h0, k),
                                        None if c0 is None else _layer_state(c0, k), bs, d == 1)
                ys.append(y)
                hs.append(hN)
                cs.append(cN)
            xin = ys[0] if dirs == 1 else np.concatenate(ys, axis=1)
            if layer < self.num_layers - 1:
                xin = _dropout(xin, self.dropout)
        if self.h is not None:
            self.h = np.stack(hs)
        if lstm and self.c is not None:
            self.c = np.stack(cs)
        return np.reshape(xin, xr.shape[:-1] + (H * dirs,))

    def _layer(self, k, xin, h0, c0, bs, reverse):
        """Run pseudo-layer k (0-based) over the packed input; (y, hN, cN)."""
        G, H = self.ngates, self.hidden_size
        wi, wh, bi, bh = (self._slice(k, part) for part in ("W", "R", "bW", "bR"))
        if wi is None:     # skip_input: every gate sees x itself
            xw = xin if G == 1 else np.concatenate([xin] * G, axis=1)
        else:
            xw = xin @ wi.T
        ws = _Recurrence(self.rnn_type, bs, reverse)
        out = _recur(xw, wh, bi, bh, h0, c0, ws)
        N, B0 = sum(bs), bs[0]
        y = np.reshape(out[:N * H], (N, H))
        hN = np.reshape(out[N * H:(N + B0) * H], (B0, H))
        cN = np.reshape(out[(N + B0) * H:], (B0, H)) if self.rnn_type == "lstm" else None
        return y, hN, cN

    def _slice(self, k, part):
        """The fused matrix/bias of all gates of pseudo-layer k (0-based):
        'W' (G*H, in) or None, 'R' (G*H, H), 'bW' / 'bR' (G*H,)."""
        G = self.ngates
        first = {"W": (1, 1), "R": (G + 1, 1), "bW": (1, 2), "bR": (G + 1, 2)}[part]
        entry = self._layout[(k + 1, first[0], first[1])]
        if entry is None:
            return None
        start, shape = entry
        shape = (G * shape[0],) + shape[1:]
        return np.reshape(self.w[start:start + int(np.prod(shape))], shape)


def _check_batch_sizes(batch_sizes, nrows):
    bs = tuple(int(b) for b in np.ravel(batch_sizes))
    if not bs or any(b < 1 for b in bs) or any(a < b for a, b in zip(bs, bs[1:])):
        raise ValueError(f"RNN: batch_sizes must be non-increasing positive integers, "
                         f"got {list(bs)}")
    if sum(bs) != nrows:
        raise ValueError(f"RNN: sum(batch_sizes)={sum(bs)} must equal the number of "
                         f"input rows x.size // input_size = {nrows}")
    return bs


def _initial_state(s, hsize, dtype, name):
    """rnn.h / rnn.c as a (L, B, H) value, or None for a zero state."""
    if s is None or (not hasattr(s, "shape") and not isinstance(s, Value) and s == 0):
        return None
    sr = _raw(s)
    if not hasattr(sr, "shape") or not _same_size(sr.shape, hsize):
        raise ValueError(f"RNN: {name} must be None, 0 or an array of shape {hsize} "
                         f"(layers*dirs, batch, hidden), got {getattr(sr, 'shape', sr)!r}")
    if sr.dtype != dtype:
        raise TypeError(f"RNN: {name} has dtype {sr.dtype}, expected {dtype}")
    return np.reshape(s, hsize) if sr.shape != hsize else s


def _layer_state_grad(dy, y, s, k):
    # dense on purpose: a Sparse gradient would reach np.stack's gradient
    # (a stacked final state fed back as rnn.h), which slices its input
    zeros = np.zeros_like(_raw(dy))
    return np.stack([dy if j == k else zeros for j in range(np.shape(_raw(s))[0])])


_layer_state = Primitive(lambda s, k: s[k], (_layer_state_grad,))


def _same_size(a, b):
    """Shapes equal up to leading ones (Knet compares ignoring trailing ones)."""
    n = max(len(a), len(b))
    return (1,) * (n - len(a)) + tuple(a) == (1,) * (n - len(b)) + tuple(b)


def _dropout(x, p):
    """Inverted dropout while training() (Knet's RNN drops its input and the
    input of every upper layer), by the one dropout op."""
    return _dropout_op(x, p, drop=p > 0 and training())


# ------------------------------------------------------------------ weight layout

def _layout(r):
    """{(layer, id, param): (start, shape) or None} with Knet's 1-based
    numbering, and the length of w.  Matrices have Python shape (H, in)."""
    G, H, X, L = r.ngates, r.hidden_size, r.input_size, r.nlayers
    table, pos = {}, 0
    for layer in range(1, L + 1):
        first = layer == 1 or (r.bidirectional and layer == 2)
        for id_ in range(1, 2 * G + 1):
            if id_ > G:
                shape = (H, H)
            elif first:
                shape = None if r.skip_input else (H, X)
            else:
                shape = (H, 2 * H if r.bidirectional else H)
            table[(layer, id_, 1)] = None if shape is None else (pos, shape)
            pos += 0 if shape is None else shape[0] * shape[1]
    for layer in range(1, L + 1):
        for id_ in range(1, 2 * G + 1):
            table[(layer, id_, 2)] = (pos, (H,))
            pos += H
    return table, pos


def rnnparam(r, layer, id, param):
    """rnnparam(r, layer, id, param) -> one weight matrix or bias vector of ``r``.

    Numbering is Knet's, 1-based:

    - ``layer``: ``1..num_layers`` (``1..2*num_layers`` when bidirectional,
      forward and backward layers alternating: 1 = first forward, 2 = first
      backward, ...);
    - ``id``: relu/tanh: 1 input, 2 hidden; gru: reset 1/4, update 2/5, new
      3/6; lstm: input gate 1/5, forget 2/6, new 3/7, output 4/8 (the first
      number multiplies the layer input, the second the hidden state);
    - ``param``: 1 for the matrix, 2 for the bias.

    A matrix has Python shape ``(hidden_size, in)`` (Knet's ``(in, hidden)`` with
    dims reversed) and multiplies as ``x @ W.T``.  It is ``None`` for the input
    matrices of the first layer(s) when ``skip_input``.  The result is a view
    of ``r.w`` (writable outside ``diff``, a recorded read of it inside).

    >>> r = RNN(3, 4, 'gru')
    >>> rnnparam(r, 1, 2, 1).shape, rnnparam(r, 1, 6, 2).shape
    ((4, 3), (4,))
    """
    ids = 2 * r.ngates
    if param not in (1, 2) or not 1 <= layer <= r.nlayers or not 1 <= id <= ids:
        raise ValueError(f"rnnparam: expected 1 <= layer <= {r.nlayers}, 1 <= id <= {ids}, "
                         f"param in (1, 2); got layer={layer}, id={id}, param={param}")
    entry = r._layout[(layer, id, param)]
    if entry is None:
        return None
    start, shape = entry
    return np.reshape(r.w[start:start + int(np.prod(shape))], shape)


def rnnparams(r):
    """rnnparams(r) -> list of every weight matrix then every bias vector of
    ``r``, each sorted by (layer, id); ``None`` for skipped input matrices.

    >>> len(rnnparams(RNN(2, 3, 'lstm')))
    16
    """
    return [rnnparam(r, layer, id_, par) for par in (1, 2)
            for layer in range(1, r.nlayers + 1) for id_ in range(1, 2 * r.ngates + 1)]


# ------------------------------------------------------------------ the recurrence
#
# Packed rows: time step t owns rows off[t] : off[t] + bs[t] of every (N, .)
# buffer, and its active sequences are the first bs[t] of the batch
# (batch sizes never grow with t).  A step's previous state is the output
# of the step processed before it, or the initial state for rows that start
# there (the backward direction picks up new sequences as it goes).

class _Recurrence:
    """What one call of ``_recur`` needs besides its arrays: the cell type, the
    batch size of every time step, the direction, and (after the forward
    pass) the activations kept for the backward pass."""

    def __init__(self, mode, bs, reverse):
        self.mode, self.bs, self.reverse = mode, bs, reverse
        self.off = np.concatenate([[0], np.cumsum(bs)]).astype(int).tolist()
        self.saved = None
        self.cache = None
        self.device = None     # the kernel backend when the forward pass ran on one

    def steps(self):
        """Time steps in processing order as (t, p), p the step processed
        before t (None for the first)."""
        T = len(self.bs)
        order = range(T - 1, -1, -1) if self.reverse else range(T)
        prev = None
        for t in order:
            yield t, prev
            prev = t

    def rows(self, t, lo=0, n=None):
        """Packed rows of sequences lo, lo+1, ... (n of them, default all
        active ones) at step t."""
        n = self.bs[t] - lo if n is None else n
        return slice(self.off[t] + lo, self.off[t] + lo + n)

    def prev(self, buf, init, t, p, tmp, lo, n):
        """The (n, H) state that sequences lo:lo+n start step t from: a view of
        buf's rows of step p when possible, else assembled in tmp with rows
        of init (sequences that start at t)."""
        if p is None:
            return init[lo:lo + n]
        m = max(0, min(n, self.bs[p] - lo))
        src = buf[self.rows(p, lo, m)]
        if m == n:
            return src
        tmp[:m] = src
        tmp[m:n] = init[lo + m:lo + n]
        return tmp[:n]

    def final_rows(self, dst, buf):
        """dst (B0, H) = each sequence's state after its last processed step."""
        if self.reverse:
            dst[...] = buf[self.rows(0)]
            return
        bs = self.bs
        for t in range(len(bs)):
            lo = bs[t + 1] if t + 1 < len(bs) else 0
            if lo < bs[t]:
                dst[lo:bs[t]] = buf[self.rows(t)][lo:]


def _sigm_(a):
    """In-place logistic sigmoid 1/(1+exp(-a)): numpy's exp is about twice as
    fast as its tanh and scipy's expit slower still.  exp(-a) overflows to
    inf for very negative a, which correctly gives 0."""
    np.negative(a, out=a)
    with np.errstate(over="ignore"):
        np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def _recur_fn(xw, R, bW, bR, h0, c0, ws):
    """Forward pass of one layer in one direction.  xw (N, G*H) is the input
    projection W x of every packed row (without bias); returns one flat array
    holding y (N, H), the final h (B0, H) and, for LSTMs, the final c (B0, H)."""
    be = _kernel_backend(xw, R, bW, bR, h0, c0)
    if be is not None:
        return KnetArray._of(_device_forward(be, ws, *_on_device(be, xw, R, bW, bR, h0, c0)), be)
    mode, bs = ws.mode, ws.bs
    N, GH = xw.shape
    H = R.shape[1]
    B0, dt = bs[0], xw.dtype
    lstm, gru = mode == "lstm", mode == "gru"
    out = np.empty((N + B0 * (2 if lstm else 1)) * H, dt)
    c = SimpleNamespace(xw=xw, bW=bW, bR=bR, H=H, Y=out[:N * H].reshape(N, H),
                        Rt=np.ascontiguousarray(R.T),
                        hz=np.zeros((B0, H), dt) if h0 is None else np.ascontiguousarray(h0))
    if lstm:
        c.b = bW + bR
        c.cz = np.zeros((B0, H), dt) if c0 is None else np.ascontiguousarray(c0)
        c.gates, c.cbuf = np.empty((N, GH), dt), np.empty((N, H), dt)
    elif gru:
        c.gates, c.ghn = np.empty((N, GH), dt), np.empty((N, H), dt)
    else:
        c.b = bW + bR
    _forward_rows(ws, c, 0, B0)
    ws.final_rows(out[N * H:(N + B0) * H].reshape(B0, H), c.Y)
    if lstm:
        ws.final_rows(out[(N + B0) * H:].reshape(B0, H), c.cbuf)
    ws.saved = c      # c never points back at ws: no cycle keeping the buffers alive
    return out


def _forward_rows(ws, c, lo, hi):
    """The forward recurrence of sequences lo:hi."""
    H, Y, Rt, xw = c.H, c.Y, c.Rt, c.xw
    mode, dt = ws.mode, xw.dtype
    tmph, tmpc, tmp = (np.empty((hi - lo, H), dt) for _ in range(3))
    if mode == "gru":
        ght = np.empty((hi - lo, 3 * H), dt)
    for t, p in ws.steps():
        n = min(ws.bs[t], hi) - lo
        if n <= 0:
            continue
        rows = ws.rows(t, lo, n)
        hp = ws.prev(Y, c.hz, t, p, tmph, lo, n)
        if mode == "lstm":
            g = c.gates[rows]
            np.matmul(hp, Rt, out=g)
            g += xw[rows]
            g += c.b
            _sigm_(g[:, :2 * H])                      # gates i, f
            np.tanh(g[:, 2 * H:3 * H], out=g[:, 2 * H:3 * H])   # new memory n
            _sigm_(g[:, 3 * H:])                      # gate o
            i, f, nn, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
            cp = ws.prev(c.cbuf, c.cz, t, p, tmpc, lo, n)
            ct, tm = c.cbuf[rows], tmp[:n]
            np.multiply(f, cp, out=ct)
            np.multiply(i, nn, out=tm)
            ct += tm
            np.tanh(ct, out=tm)
            np.multiply(o, tm, out=Y[rows])
        elif mode == "gru":
            g, gh, xt = c.gates[rows], ght[:n], xw[rows]
            np.matmul(hp, Rt, out=gh)
            gh += c.bR
            rz = g[:, :2 * H]
            np.add(xt[:, :2 * H], gh[:, :2 * H], out=rz)
            rz += c.bW[:2 * H]
            _sigm_(rz)
            r, z, nn = g[:, :H], g[:, H:2 * H], g[:, 2 * H:]
            c.ghn[rows] = gh[:, 2 * H:]
            np.multiply(r, gh[:, 2 * H:], out=nn)
            nn += xt[:, 2 * H:]
            nn += c.bW[2 * H:]
            np.tanh(nn, out=nn)
            yt = Y[rows]
            np.subtract(hp, nn, out=yt)
            yt *= z
            yt += nn
        else:
            yt = Y[rows]
            np.matmul(hp, Rt, out=yt)
            yt += xw[rows]
            yt += c.b
            if mode == "tanh":
                np.tanh(yt, out=yt)
            else:
                np.maximum(yt, 0, out=yt)


def _recur_grad(i, dy, y, xw, R, bW, bR, h0, c0, ws):
    """Gradient of argument i of _recur; the backward pass through time runs
    once per output gradient and serves every argument."""
    if any(isinstance(a, Value) for a in (dy, xw, R, bW, bR, h0, c0)):
        raise NotImplementedError(
            "RNN: second-order derivatives through an RNN are not supported (its "
            "backward pass through time is hand-written and not recorded)")
    if ws.cache is None or ws.cache[0] is not dy:
        back = _backward if ws.device is None else _device_backward
        ws.cache = (dy, back(dy, y, xw, h0, c0, ws))
    return ws.cache[1][i]


def _split_out_grad(dy, N, B0, H, lstm):
    """The output gradient as (dY (N, H), dhN (B0, H), dcN (B0, H)), each None
    when zero.  Reads the slices of a Sparse gradient without densifying."""
    bounds = [0, N * H, (N + B0) * H] + ([(N + 2 * B0) * H] if lstm else [])
    shapes = [(N, H), (B0, H), (B0, H)]
    parts = [None] * (len(bounds) - 1)
    if hasattr(dy, "pairs"):
        for index, vals in dy.pairs:
            k = next((k for k in range(len(parts)) if isinstance(index, slice)
                      and index.step in (None, 1) and index.indices(bounds[-1])[:2]
                      == (bounds[k], bounds[k + 1])), None)
            if k is None:
                return _split_out_grad(dy.dense(), N, B0, H, lstm)
            v = np.reshape(vals, shapes[k])
            parts[k] = v if parts[k] is None else parts[k] + v
    else:
        dy = np.broadcast_to(dy, (bounds[-1],))
        parts = [dy[bounds[k]:bounds[k + 1]].reshape(shapes[k]) for k in range(len(parts))]
    return parts + [None] * (3 - len(parts))


def _backward(dy, y, xw, h0, c0, ws):
    """Backward pass through time: (dxw, dR, dbW, dbR, dh0, dc0)."""
    c = ws.saved
    N, GH = xw.shape
    H, bs = c.H, ws.bs
    B0, dt = bs[0], xw.dtype
    lstm, gru = ws.mode == "lstm", ws.mode == "gru"
    c.Y = y[:N * H].reshape(N, H)
    c.dY, dhN, dcN = _split_out_grad(dy, N, B0, H, lstm)
    # gradients w.r.t. each sequence's running state, starting at the final one
    c.dhs = np.zeros((B0, H), dt) if dhN is None else np.array(dhN, dt)
    c.dG = np.empty((N, GH), dt)
    if lstm:
        c.dcs = np.zeros((B0, H), dt) if dcN is None else np.array(dcN, dt)
    elif gru:
        c.dXn = np.empty((N, H), dt)
    _backward_rows(ws, c, 0, B0)
    dG = c.dG
    dR = _state_product(dG, c.Y, c.hz, h0 is not None, ws)
    if gru:
        dxw = dG.copy()
        dxw[:, 2 * H:] = c.dXn
        dbW, dbR = dxw.sum(axis=0), dG.sum(axis=0)
    else:
        dxw, dbW = dG, dG.sum(axis=0)
        dbR = dbW.copy()
    return (dxw, dR, dbW, dbR, c.dhs if h0 is not None else None,
            c.dcs if lstm and c0 is not None else None)


def _backward_rows(ws, c, lo, hi):
    """The backward recurrence of sequences lo:hi (steps in reverse order)."""
    H, Y, dY, Rt, dhs = c.H, c.Y, c.dY, c.Rt, c.dhs
    mode, dt = ws.mode, Y.dtype
    a, b, tmph, tmpc = (np.empty((hi - lo, H), dt) for _ in range(4))
    for t, p in reversed(list(ws.steps())):
        n = min(ws.bs[t], hi) - lo
        if n <= 0:
            continue
        rows, st = ws.rows(t, lo, n), slice(lo, lo + n)
        d, an, bn = c.dG[rows], a[:n], b[:n]
        if dY is None:
            dh = tmph[:n]
            dh[...] = dhs[st]
        else:
            dh = np.add(dY[rows], dhs[st], out=tmph[:n])
        if mode == "lstm":
            gt = c.gates[rows]
            i, f, nn, o = gt[:, :H], gt[:, H:2 * H], gt[:, 2 * H:3 * H], gt[:, 3 * H:]
            cp = ws.prev(c.cbuf, c.cz, t, p, tmpc, lo, n)
            dc, ht = c.dcs[st], Y[rows]
            tc = np.tanh(c.cbuf[rows], out=an)
            # dc += dh * o * (1 - tanh(c)^2) = dh * (o - h * tanh(c))
            np.multiply(ht, tc, out=bn)
            np.subtract(o, bn, out=bn)
            bn *= dh
            dc += bn
            # output gate: dh * tanh(c) * o(1-o) = dh * h * (1-o)
            np.subtract(1, o, out=bn)
            bn *= ht
            np.multiply(dh, bn, out=d[:, 3 * H:])
            # input gate: dc * n * i(1-i)
            np.subtract(1, i, out=bn)
            bn *= i
            bn *= nn
            np.multiply(dc, bn, out=d[:, :H])
            # forget gate: dc * cprev * f(1-f)
            np.subtract(1, f, out=bn)
            bn *= f
            bn *= cp
            np.multiply(dc, bn, out=d[:, H:2 * H])
            # new gate: dc * i * (1 - n^2)
            np.multiply(nn, nn, out=bn)
            np.subtract(1, bn, out=bn)
            bn *= i
            np.multiply(dc, bn, out=d[:, 2 * H:3 * H])
            dc *= f                                   # now the gradient of c_prev
            np.matmul(d, Rt.T, out=dhs[st])
        elif mode == "gru":
            gt = c.gates[rows]
            r, z, nn = gt[:, :H], gt[:, H:2 * H], gt[:, 2 * H:]
            hp = ws.prev(Y, c.hz, t, p, tmpc, lo, n)
            dr, dz, dghn, dnp = d[:, :H], d[:, H:2 * H], d[:, 2 * H:], c.dXn[rows]
            # update gate: dh * (hprev - n) * z(1-z)
            np.subtract(hp, nn, out=dz)
            dz *= dh
            np.subtract(1, z, out=an)
            an *= z
            dz *= an
            # new gate: dh * (1-z) * (1-n^2)
            np.subtract(1, z, out=an)
            an *= dh
            np.multiply(nn, nn, out=bn)
            np.subtract(1, bn, out=bn)
            np.multiply(an, bn, out=dnp)
            # reset gate: dn * (Rn h + bRn) * r(1-r); and d(Rn h + bRn) = dn * r
            np.subtract(1, r, out=an)
            an *= r
            an *= c.ghn[rows]
            np.multiply(dnp, an, out=dr)
            np.multiply(dnp, r, out=dghn)
            np.multiply(dh, z, out=an)                # h = ... + z * hprev
            np.matmul(d, Rt.T, out=dhs[st])
            dhs[st] += an
        else:
            yt = Y[rows]
            if mode == "tanh":
                np.multiply(yt, yt, out=d)
                np.subtract(1, d, out=d)
                d *= dh
            else:
                np.multiply(dh, yt > 0, out=d)
            np.matmul(d, Rt.T, out=dhs[st])


def _state_product(dG, Y, hz, has_h0, ws):
    """sum over steps of dG[rows].T @ (state the step started from) = dR."""
    bs, N, B = ws.bs, Y.shape[0], ws.bs[0]
    if all(n == B for n in bs):      # uniform batch: previous states are Y shifted
        if ws.reverse:
            dR = dG[:N - B].T @ Y[B:]
            last = dG[N - B:]
        else:
            dR = dG[B:].T @ Y[:N - B]
            last = dG[:B]
        if has_h0:
            dR += last.T @ hz
        return dR
    hprev = np.empty_like(Y)
    tmp = np.empty((B, Y.shape[1]), Y.dtype)
    for t, p in ws.steps():
        hprev[ws.rows(t)] = ws.prev(Y, hz, t, p, tmp, 0, bs[t])
    return dG.T @ hprev


# ------------------------------------------------------------------ the recurrence on a GPU
#
# The same packed-row bookkeeping (_Recurrence) drives the device path; every
# array below is device memory of the kernel backend ``be`` and every
# computation is a kernel launch or a cuBLAS product through ``be``.

def _kernel_backend(*arrays):
    """The backend of the first KnetArray among ``arrays`` that lives on a
    backend with the fused cell kernels; None when there is none."""
    for a in arrays:
        if isinstance(a, KnetArray) and hasattr(a.backend, "lstm"):
            return a.backend
    return None


def _device_array(be, a):
    """``a`` (KnetArray of any backend, numpy array, scalar) as a C-contiguous
    device array of ``be``; None stays None."""
    if a is None:
        return None
    if isinstance(a, KnetArray):
        a = a.data if a.backend is be else be.asarray(a.to_numpy())
    elif not be.owns(a):
        a = be.asarray(np.asarray(a))
    return be.contiguous(a)


def _on_device(be, *arrays):
    return [_device_array(be, a) for a in arrays]


def _zeros(be, shape, dt):
    a = be.dev.empty(shape, dt)
    a.fill(0)
    return a


def _device_forward(be, ws, xw, R, bW, bR, h0, c0):
    """Forward pass of ``_recur`` on kernel backend ``be``: the flat device
    array y | hN | cN, and what the backward pass needs in ``ws.saved``."""
    mode, bs = ws.mode, ws.bs
    N, GH = xw.shape
    H = R.shape[1]
    B0, dt = bs[0], xw.dtype
    lstm, gru = mode == "lstm", mode == "gru"
    empty = be.dev.empty
    out = empty(((N + B0 * (2 if lstm else 1)) * H,), dt)
    c = SimpleNamespace(R=R, H=H, Y=out[:N * H].reshape(N, H), Rt=be.contiguous(R.T),
                        hz=_zeros(be, (B0, H), dt) if h0 is None else h0)
    tmph, tmpc = empty((B0, H), dt), empty((B0, H), dt)
    if gru:
        xb = be.binary("add", xw, bW)            # the kernel adds the two halves itself
        c.A, c.GHs = empty((N, GH), dt), empty((N, GH), dt)
    else:
        xb = be.binary("add", xw, be.binary("add", bW, bR))
    if lstm:
        c.cz = _zeros(be, (B0, H), dt) if c0 is None else c0
        c.A, c.C = empty((N, GH), dt), empty((N, H), dt)
    Y = c.Y
    for t, p in ws.steps():
        rows = ws.rows(t)
        hp = ws.prev(Y, c.hz, t, p, tmph, 0, bs[t])
        hr = be.matmul(hp, c.Rt)                 # (n, G*H): cuBLAS
        if lstm:
            cp = ws.prev(c.C, c.cz, t, p, tmpc, 0, bs[t])
            h, cc, act = be.lstm(be.binary("add", hr, xb[rows]), cp)
            c.C[rows], c.A[rows] = cc, act
        elif gru:
            gh = be.binary("add", hr, bR)
            h, act = be.gru(xb[rows], gh, hp)
            c.GHs[rows], c.A[rows] = gh, act
        else:
            h = be.unary(mode, be.binary("add", hr, xb[rows]))
        Y[rows] = h
    ws.final_rows(out[N * H:(N + B0) * H].reshape(B0, H), Y)
    if lstm:
        ws.final_rows(out[(N + B0) * H:].reshape(B0, H), c.C)
    ws.saved, ws.device = c, be
    return out


def _device_backward(dy, y, xw, h0, c0, ws):
    """Backward pass through time on the kernel backend: (dxw, dR, dbW, dbR,
    dh0, dc0) as KnetArrays (None for an absent initial state)."""
    be, c = ws.device, ws.saved
    bs, H, Y, R = ws.bs, c.H, c.Y, c.R
    N, GH = Y.shape[0], R.shape[0]
    B0, dt = bs[0], Y.dtype
    lstm, gru = ws.mode == "lstm", ws.mode == "gru"
    dY, dhN, dcN = _on_device(be, *_split_out_grad(_raw(dy), N, B0, H, lstm))
    dhs = _zeros(be, (B0, H), dt) if dhN is None else dhN.astype(dt, copy=True)
    if lstm:
        dcs = _zeros(be, (B0, H), dt) if dcN is None else dcN.astype(dt, copy=True)
    tmp = be.dev.empty((B0, H), dt)
    dG = be.dev.empty((N, GH), dt)
    dGx = be.dev.empty((N, GH), dt) if gru else dG
    for t, p in reversed(list(ws.steps())):
        n, rows = bs[t], ws.rows(t)
        dh = dhs[:n] if dY is None else be.binary("add", dY[rows], dhs[:n])
        if lstm:
            cp = ws.prev(c.C, c.cz, t, p, tmp, 0, n)
            d, dc0 = be.lstmback(c.A[rows], cp, c.C[rows], dh, dcs[:n])
            dcs[:n] = dc0
            dhs[:n] = be.matmul(d, R)
        elif gru:
            hp = ws.prev(Y, c.hz, t, p, tmp, 0, n)
            dgx, d, dh0 = be.gruback(c.A[rows], c.GHs[rows], hp, dh)
            dGx[rows] = dgx
            dhs[:n] = be.binary("add", be.matmul(d, R), dh0)
        else:
            d = be.activation_back(ws.mode, dh, Y[rows])
            dhs[:n] = be.matmul(d, R)
        dG[rows] = d
    dR = _device_state_product(be, dG, c, h0 is not None, ws)
    dbW = be.reduce("sum", dGx, 0, False)
    dbR = be.reduce("sum", dG, 0, False) if gru else dbW.copy()

    def k(a):
        return None if a is None else KnetArray._of(a, be)
    return (k(dGx), k(dR), k(dbW), k(dbR), k(dhs) if h0 is not None else None,
            k(dcs) if lstm and c0 is not None else None)


def _device_state_product(be, dG, c, has_h0, ws):
    """dR = sum over steps of dG[rows].T @ (state the step started from), as
    one or two cuBLAS products."""
    bs, Y, hz = ws.bs, c.Y, c.hz
    N, B = Y.shape[0], bs[0]
    if all(n == B for n in bs):
        if ws.reverse:
            dR, last = be.matmul(dG[:N - B].T, Y[B:]), dG[N - B:]
        else:
            dR, last = be.matmul(dG[B:].T, Y[:N - B]), dG[:B]
        if has_h0:
            dR = be.binary("add", dR, be.matmul(last.T, hz))
        return dR
    hprev = be.dev.empty(Y.shape, Y.dtype)
    tmp = be.dev.empty((B, Y.shape[1]), Y.dtype)
    for t, p in ws.steps():
        hprev[ws.rows(t)] = ws.prev(Y, hz, t, p, tmp, 0, bs[t])
    return be.matmul(dG.T, hprev)


_recur = Primitive(_recur_fn, nary_grad=_recur_grad)
