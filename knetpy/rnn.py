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
whole recurrence of a layer and direction is one primitive
(``knetpy.ops.rnn.recur``) with a hand-written backward through time (one GEMM
per step each way and one cell call).  Its backward is not itself recorded, so
second derivatives through an RNN are not supported (a clear error says so).

On a GPU (weights or input are KnetArrays of a kernel backend) the same
recurrence runs on the device: cuBLAS GEMMs, the fused cell kernels
``lstm``/``gru`` (``lstmback``/``gruback`` backwards) of ``kernels/rnn.cu``,
the ``relu``/``tanh`` kernels for the plain RNNs, and the ``dropout`` kernel
for input dropout.
"""
import numpy as np

from autograd.core import Param, Primitive, Value, raw, training

from .ops.dropout import dropout as _dropout_op
from .device import gpu
from .init import xavier_uniform
from .knetarray import KnetArray
from .ops.rnn import recur

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
        xr = raw(x)
        if not hasattr(xr, "ndim") or xr.ndim == 0:
            raise ValueError(f"RNN: x must be an array (X,), (B, X) or (T, B, X), got {xr!r}")
        wdt = raw(self.w).dtype
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
        out = recur(xw, wh, bi, bh, h0, c0, self.rnn_type, bs, reverse)
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
    sr = raw(s)
    if not hasattr(sr, "shape") or not _same_size(sr.shape, hsize):
        raise ValueError(f"RNN: {name} must be None, 0 or an array of shape {hsize} "
                         f"(layers*dirs, batch, hidden), got {getattr(sr, 'shape', sr)!r}")
    if sr.dtype != dtype:
        raise TypeError(f"RNN: {name} has dtype {sr.dtype}, expected {dtype}")
    return np.reshape(s, hsize) if sr.shape != hsize else s


def _layer_state_grad(dy, y, s, k):
    # dense on purpose: a Sparse gradient would reach np.stack's gradient
    # (a stacked final state fed back as rnn.h), which slices its input
    zeros = np.zeros_like(raw(dy))
    return np.stack([dy if j == k else zeros for j in range(np.shape(raw(s))[0])])


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
