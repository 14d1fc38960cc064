"""Recurrent layers (Lux's): RNNCell, LSTMCell, GRUCell and the wrappers that run
them over sequences, Recurrence, StatefulRecurrentCell and BidirectionalRNN.

Shapes are batch-first: a cell takes ``x`` of shape ``(B, in_dims)`` and
returns ``(y, carry)`` with ``y`` of shape ``(B, out_dims)`` and ``carry`` the
tuple ``(h,)`` (``(h, c)`` for an LSTM).  A sequence is ``(B, T, in_dims)``
(``ordering="batch_first"``, the default) or ``(T, B, in_dims)``
(``"time_first"``), or a list/tuple of ``T`` arrays ``(B, in_dims)``.

Weights use PyTorch's fused layout, so the gates of a cell are row blocks of
one matrix: ``weight_ih`` ``(G*H, in)``, ``weight_hh`` ``(G*H, H)``, ``bias_ih``
and ``bias_hh`` ``(G*H,)``; gate order LSTM ``i, f, g, o``, GRU ``r, z, n``.

Speed: ``Recurrence`` over one of these cells (RNNCell with tanh or relu)
does the input projection of every time step in one GEMM and runs the whole
recurrence as one primitive with a hand-written backward through time (the
one knetpy's ``RNN`` uses).  Any other cell, and ``fused=False``, steps
through the cell call by call on the tape (needed for second derivatives).
"""
import numbers

import numpy as np

from autograd import Param
from autograd.core import raw

from ..ops.activations import relu, sigm
from ..init import rng
from ..ops.rnn import recur
from .base import Layer

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "Recurrence", "StatefulRecurrentCell",
           "BidirectionalRNN"]

_ORDERINGS = {"batch_first": "batch_first", "time_first": "time_first",
              "BatchLastIndex": "batch_first", "TimeLastIndex": "time_first"}


def _zeros(*shape, dtype=np.float32):
    """zeros(*shape, dtype): the default initial state."""
    return np.zeros(shape, dtype)


def _dim(v, fname, name):
    if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{fname}: {name} must be a positive integer, got {v!r}")
    return int(v)


def _call_init(f, shape, dtype, fname, name):
    if not callable(f):
        raise TypeError(f"{fname}: {name} must be callable f(*shape, dtype=...), got {f!r}")
    v = np.asarray(f(*shape, dtype=dtype), dtype=dtype)
    if v.shape != tuple(shape):
        raise ValueError(f"{fname}: {name} returned shape {v.shape}, expected {tuple(shape)}")
    return v


def _per_gate(init, G, fname, name):
    """init as a tuple of G initializers (None: uniform in ±1/sqrt(H))."""
    if init is None or callable(init):
        return (init,) * G
    if isinstance(init, (tuple, list)) and len(init) == G:
        return tuple(init)
    raise ValueError(f"{fname}: {name} must be None, a function or a tuple of {G} functions, "
                     f"got {init!r}")


def _blocks(inits, shape, H, dtype, fname, name):
    """Gate blocks stacked along axis 0 (each of ``shape``)."""
    bound = 1 / np.sqrt(H)
    out = []
    for f in inits:
        if f is None:
            out.append(((2 * rng().random(shape) - 1) * bound).astype(dtype))
        else:
            out.append(_call_init(f, shape, dtype, fname, name))
    return np.concatenate(out, axis=0)


def _check_input(x, n, fname):
    xr = raw(x)
    if not hasattr(xr, "shape") or np.ndim(xr) != 2 or xr.shape[1] != n:
        raise ValueError(f"{fname}: x must be an array (batch, {n}), got "
                         f"{getattr(xr, 'shape', type(xr).__name__)}")
    if np.dtype(xr.dtype).kind != "f":
        raise TypeError(f"{fname}: x must hold floats, got dtype {xr.dtype}")
    return xr


class _Cell(Layer):
    """Shared machinery of the three cells.  Subclasses set _NGATES, _NAME,
    ``_nstate`` (1 or 2 carried arrays) and define ``_step(x, carry)``."""

    _NGATES = 1

    def _setup(self, fname, in_dims, out_dims, use_bias, train_state, init_weight,
               init_recurrent_weight, init_bias, init_state, dtype):
        self.in_dims = _dim(in_dims, fname, "in_dims")
        self.out_dims = H = _dim(out_dims, fname, "out_dims")
        self.dtype = dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"{fname}: dtype must be a float type, got {dt}")
        self.use_bias, self.train_state = bool(use_bias), bool(train_state)
        G = self._NGATES
        if init_recurrent_weight is None:
            init_recurrent_weight = init_weight
        self._config = dict(init_weight=init_weight, init_recurrent_weight=init_recurrent_weight,
                            init_bias=init_bias, init_state=init_state)
        wi = _per_gate(init_weight, G, fname, "init_weight")
        wh = _per_gate(init_recurrent_weight, G, fname, "init_recurrent_weight")
        self.weight_ih = Param(_blocks(wi, (H, self.in_dims), H, dt, fname, "init_weight"))
        self.weight_hh = Param(_blocks(wh, (H, H), H, dt, fname, "init_recurrent_weight"))
        if self.use_bias:
            bi = _per_gate(init_bias, G, fname, "init_bias")
            self.bias_ih = Param(_blocks(bi, (H,), H, dt, fname, "init_bias"))
            self.bias_hh = Param(_blocks(bi, (H,), H, dt, fname, "init_bias"))
        else:
            self.bias_ih = self.bias_hh = None
        if not callable(init_state):
            raise TypeError(f"{fname}: init_state must be callable, got {init_state!r}")
        self.init_state = init_state
        self.hidden_state = Param(_call_init(init_state, (H,), dt, fname, "init_state")) \
            if self.train_state else None

    def fresh_copy(self):
        """fresh_copy() -> a cell of the same configuration with newly drawn weights."""
        new = type(self)(*self._args(), **self._kwargs())
        new.mode = self.mode
        return new

    def _kwargs(self):
        kw = dict(use_bias=self.use_bias, train_state=self.train_state, dtype=self.dtype,
                  **self._config)
        return kw

    def _args(self):
        return (self.in_dims, self.out_dims)

    def initial_carry(self, B):
        """initial_carry(B) -> the carry a cell starts from for a batch of B."""
        H, dt = self.out_dims, self.dtype
        if self.train_state:
            h = np.broadcast_to(self.hidden_state, (B, H))
        else:
            h = _call_init(self.init_state, (B, H), dt, type(self).__name__, "init_state")
        return (h,)

    def _split(self, inp):
        """(x, carry) from ``x`` or ``(x, carry)``."""
        fname = type(self).__name__
        n = 2 if isinstance(self, LSTMCell) else 1
        if isinstance(inp, tuple):
            if len(inp) != 2 or not isinstance(inp[1], tuple) or len(inp[1]) != n:
                want = "(x, (h, c))" if n == 2 else "(x, (h,))"
                raise ValueError(f"{fname}: input must be x or {want}, got a tuple of "
                                 f"{len(inp)}")
            x, carry = inp
            xr = _check_input(x, self.in_dims, fname)
            for name, s in zip(("h", "c"), carry):
                if np.shape(raw(s)) != (xr.shape[0], self.out_dims):
                    raise ValueError(f"{fname}: {name} must have shape ({xr.shape[0]}, "
                                     f"{self.out_dims}), got {np.shape(raw(s))}")
            return x, carry
        xr = _check_input(inp, self.in_dims, fname)
        return inp, self.initial_carry(xr.shape[0])

    def _gates_x(self, x):
        g = x @ self.weight_ih.T
        return g if self.bias_ih is None else g + self.bias_ih

    def _gates_h(self, h):
        g = h @ self.weight_hh.T
        return g if self.bias_hh is None else g + self.bias_hh

    def __call__(self, inp):
        x, carry = self._split(inp)
        return self._step(x, carry)

    def _common_repr(self):
        s = f"{self.in_dims} => {self.out_dims}"
        if not self.use_bias:
            s += ", use_bias=false"
        if self.train_state:
            s += ", train_state=true"
        return s

    def extra_repr(self):
        return self._common_repr()


class RNNCell(_Cell):
    """RNNCell(in_dims, out_dims, activation=np.tanh, *, use_bias=True, train_state=False,
    init_bias=None, init_weight=None, init_recurrent_weight=None, init_state=zeros,
    dtype=np.float32)

    Elman cell: ``h' = activation(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)``.

    Call with ``x`` (``(B, in_dims)``; the state starts from ``init_state`` or
    the trained ``hidden_state``) or ``(x, (h,))``; returns ``(h', (h',))``.
    Initializers are ``f(*shape, dtype=...)``; None draws uniformly in
    ``±1/sqrt(out_dims)``.  ``train_state`` adds a Param ``hidden_state``
    ``(out_dims,)`` used as the initial state of every sequence.

    >>> y, (h,) = RNNCell(3, 5)(np.ones((2, 3), np.float32))
    >>> y.shape, h is y
    ((2, 5), True)
    """
    _NGATES = 1

    def __init__(self, in_dims, out_dims, activation=np.tanh, *, use_bias=True,
                 train_state=False, init_bias=None, init_weight=None,
                 init_recurrent_weight=None, init_state=_zeros, dtype=np.float32):
        if not callable(activation):
            raise TypeError(f"RNNCell: activation must be callable, got {activation!r}")
        self.activation = activation
        self._setup("RNNCell", in_dims, out_dims, use_bias, train_state, init_weight,
                    init_recurrent_weight, init_bias, init_state, dtype)

    def _args(self):
        return (self.in_dims, self.out_dims, self.activation)

    def _step(self, x, carry):
        h = self.activation(self._gates_x(x) + self._gates_h(carry[0]))
        return h, (h,)

    def extra_repr(self):
        s = f"{self.in_dims} => {self.out_dims}"
        if self.activation is not np.tanh:
            s += f", {getattr(self.activation, '__name__', self.activation)}"
        return s + self._common_repr()[len(f"{self.in_dims} => {self.out_dims}"):]


class LSTMCell(_Cell):
    """LSTMCell(in_dims, out_dims, *, use_bias=True, train_state=False, train_memory=False,
    init_weight=None, init_recurrent_weight=None, init_bias=None, init_state=zeros,
    init_memory=zeros, dtype=np.float32)

    Long short-term memory cell.  With ``g = x @ weight_ih.T + bias_ih + h @
    weight_hh.T + bias_hh`` split into ``i, f, n, o``:
    ``c' = sigm(f)*c + sigm(i)*tanh(n)`` and ``h' = sigm(o)*tanh(c')``.

    Call with ``x`` or ``(x, (h, c))``; returns ``(h', (h', c'))``.
    ``train_state``/``train_memory`` add Params ``hidden_state``/``memory``
    ``(out_dims,)`` as the initial h and c.  ``init_weight``,
    ``init_recurrent_weight`` and ``init_bias`` may be one function or a tuple
    of 4 (one per gate, in the order i, f, n, o).

    >>> y, (h, c) = LSTMCell(3, 5)(np.ones((2, 3), np.float32))
    >>> y.shape, c.shape
    ((2, 5), (2, 5))
    """
    _NGATES = 4

    def __init__(self, in_dims, out_dims, *, use_bias=True, train_state=False,
                 train_memory=False, init_weight=None, init_recurrent_weight=None,
                 init_bias=None, init_state=_zeros, init_memory=_zeros, dtype=np.float32):
        self._setup("LSTMCell", in_dims, out_dims, use_bias, train_state, init_weight,
                    init_recurrent_weight, init_bias, init_state, dtype)
        self.train_memory = bool(train_memory)
        if not callable(init_memory):
            raise TypeError(f"LSTMCell: init_memory must be callable, got {init_memory!r}")
        self.init_memory = init_memory
        self._config["init_memory"] = init_memory
        self.memory = Param(_call_init(init_memory, (self.out_dims,), self.dtype, "LSTMCell",
                                       "init_memory")) if self.train_memory else None

    def _kwargs(self):
        kw = super()._kwargs()
        kw["train_memory"] = self.train_memory
        return kw

    def initial_carry(self, B):
        (h,) = super().initial_carry(B)
        H = self.out_dims
        if self.train_memory:
            c = np.broadcast_to(self.memory, (B, H))
        else:
            c = _call_init(self.init_memory, (B, H), self.dtype, "LSTMCell", "init_memory")
        return (h, c)

    def _step(self, x, carry):
        h, c = carry
        H = self.out_dims
        g = self._gates_x(x) + self._gates_h(h)
        i, f = sigm(g[:, :H]), sigm(g[:, H:2 * H])
        n, o = np.tanh(g[:, 2 * H:3 * H]), sigm(g[:, 3 * H:])
        c2 = f * c + i * n
        h2 = o * np.tanh(c2)
        return h2, (h2, c2)

    def extra_repr(self):
        s = self._common_repr()
        return s + (", train_memory=true" if self.train_memory else "")


class GRUCell(_Cell):
    """GRUCell(in_dims, out_dims, *, use_bias=True, train_state=False, init_weight=None,
    init_recurrent_weight=None, init_bias=None, init_state=zeros, dtype=np.float32)

    Gated recurrent unit.  With ``gx = x @ weight_ih.T + bias_ih`` and
    ``gh = h @ weight_hh.T + bias_hh`` split into ``r, z, n`` blocks:
    ``r = sigm(gx_r + gh_r)``, ``z = sigm(gx_z + gh_z)``,
    ``n = tanh(gx_n + r*gh_n)`` and ``h' = (1-z)*n + z*h``.

    Call with ``x`` or ``(x, (h,))``; returns ``(h', (h',))``.  Initializers may
    be one function or a tuple of 3 (r, z, n).

    >>> y, (h,) = GRUCell(3, 5)(np.ones((2, 3), np.float32))
    >>> y.shape
    (2, 5)
    """
    _NGATES = 3

    def __init__(self, in_dims, out_dims, *, use_bias=True, train_state=False,
                 init_weight=None, init_recurrent_weight=None, init_bias=None,
                 init_state=_zeros, dtype=np.float32):
        self._setup("GRUCell", in_dims, out_dims, use_bias, train_state, init_weight,
                    init_recurrent_weight, init_bias, init_state, dtype)

    def _step(self, x, carry):
        (h,) = carry
        H = self.out_dims
        gx, gh = self._gates_x(x), self._gates_h(h)
        r = sigm(gx[:, :H] + gh[:, :H])
        z = sigm(gx[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
        h2 = (1 - z) * n + z * h
        return h2, (h2,)


# ------------------------------------------------------------------ sequences

def _ordering(o, fname):
    if o not in _ORDERINGS:
        raise ValueError(f"{fname}: ordering must be 'batch_first' or 'time_first', got {o!r}")
    return _ORDERINGS[o]


def _check_cell(cell, fname):
    if not isinstance(cell, _Cell):
        raise TypeError(f"{fname}: cell must be an RNNCell, LSTMCell or GRUCell, got "
                        f"{type(cell).__name__}")
    return cell


def _fusable(cell, dt):
    t = type(cell)
    if t not in (RNNCell, LSTMCell, GRUCell) or dt != cell.dtype:
        return False
    if dt not in (np.float32, np.float64):
        return False
    return t is not RNNCell or cell.activation is np.tanh or cell.activation is relu


def _time_major(x, ordering, fname, in_dims):
    """The input sequence as (x (T, B, X), was_list)."""
    if isinstance(x, (list, tuple)):
        if not x:
            raise ValueError(f"{fname}: the input sequence is empty")
        for s in x:
            _check_input(s, in_dims, fname)
        return np.stack(list(x)), True
    xr = raw(x)
    if not hasattr(xr, "shape") or np.ndim(xr) != 3:
        form = "(B, T, X)" if ordering == "batch_first" else "(T, B, X)"
        raise ValueError(f"{fname}: x must be a 3-dim array {form} or a list of (B, X) arrays, "
                         f"got {getattr(xr, 'shape', type(xr).__name__)}")
    if xr.shape[2] != in_dims:
        raise ValueError(f"{fname}: x must have {in_dims} features in its last axis, got shape "
                         f"{xr.shape}")
    if 0 in xr.shape[:2]:
        raise ValueError(f"{fname}: the input sequence is empty (shape {xr.shape})")
    if np.dtype(xr.dtype).kind != "f":
        raise TypeError(f"{fname}: x must hold floats, got dtype {xr.dtype}")
    return (x if ordering == "time_first" else np.transpose(x, (1, 0, 2))), False


def _run_fused(cell, xt, reverse=False):
    """Every output (T, B, H) of cell over the time-major xt in one primitive."""
    T, B, X = np.shape(raw(xt))
    H, G = cell.out_dims, cell._NGATES
    mode = {RNNCell: None, LSTMCell: "lstm", GRUCell: "gru"}[type(cell)]
    if mode is None:
        mode = "tanh" if cell.activation is np.tanh else "relu"
    xw = np.reshape(xt, (T * B, X)) @ cell.weight_ih.T
    zeros = np.zeros(G * H, cell.dtype)
    bW = zeros if cell.bias_ih is None else cell.bias_ih
    bR = zeros if cell.bias_hh is None else cell.bias_hh
    default_h = not cell.train_state and cell.init_state is _zeros
    default_c = not (mode == "lstm" and (cell.train_memory or cell.init_memory is not _zeros))
    carry = None if default_h and default_c else cell.initial_carry(B)
    h0 = None if carry is None else carry[0]
    c0 = None if carry is None or mode != "lstm" else carry[1]
    out = recur(xw, cell.weight_hh, bW, bR, h0, c0, mode, (B,) * T, reverse)
    return np.reshape(out[:T * B * H], (T, B, H))


def _run_steps(cell, steps):
    """Outputs of cell over a list of (B, X) steps, one call per step."""
    y, carry = cell(steps[0])
    ys = [y]
    for s in steps[1:]:
        y, carry = cell((s, carry))
        ys.append(y)
    return ys


class Recurrence(Layer):
    """Recurrence(cell, *, ordering="batch_first", return_sequence=False, fused=True)

    Runs ``cell`` over a sequence, starting from the cell's initial state
    (nothing is kept between calls; see ``StatefulRecurrentCell`` for that).

    Input: an array ``(B, T, X)`` (``ordering="batch_first"``) or ``(T, B, X)``
    (``"time_first"``), or a list/tuple of ``T`` arrays ``(B, X)``.
    Output: the last output ``(B, H)``; with ``return_sequence=True`` every
    output, as an array in the input's ordering (``(B, T, H)`` or
    ``(T, B, H)``), or as a list when the input was a list/tuple.  Stack
    Recurrences with ``return_sequence=True`` in a Chain for deeper models.

    ``fused=False`` forces one cell call per step (the fused path does not
    support second derivatives).

    >>> r = Recurrence(LSTMCell(3, 4), return_sequence=True)
    >>> r(np.ones((2, 7, 3), np.float32)).shape
    (2, 7, 4)
    """

    def __init__(self, cell, *, ordering="batch_first", return_sequence=False, fused=True):
        self.cell = _check_cell(cell, "Recurrence")
        self.ordering = _ordering(ordering, "Recurrence")
        self.return_sequence = bool(return_sequence)
        self.fused = bool(fused)

    def extra_repr(self):
        s = []
        if self.return_sequence:
            s.append("return_sequence=true")
        if self.ordering != "batch_first":
            s.append(f"ordering={self.ordering!r}")
        return ", ".join(s)

    def sequence(self, x, reverse=False):
        """sequence(x, reverse=False) -> (every output, time-major (T, B, H), was_list);
        ``reverse`` runs from the last step to the first (outputs stay in time order)."""
        xt, was_list = _time_major(x, self.ordering, "Recurrence", self.cell.in_dims)
        if self.fused and _fusable(self.cell, np.result_type(raw(xt))):
            return _run_fused(self.cell, xt, reverse), was_list
        T = np.shape(raw(xt))[0]
        order = range(T - 1, -1, -1) if reverse else range(T)
        ys = _run_steps(self.cell, [xt[t] for t in order])
        if reverse:
            ys = ys[::-1]
        return np.stack(ys), was_list

    def __call__(self, x):
        ys, was_list = self.sequence(x)
        return _format(ys, was_list, self.ordering, self.return_sequence)


def _format(ys, was_list, ordering, return_sequence):
    """Time-major outputs (T, B, H) in the form the caller gave the input."""
    if not return_sequence:
        return ys[np.shape(raw(ys))[0] - 1]
    if was_list:
        return [ys[t] for t in range(np.shape(raw(ys))[0])]
    return ys if ordering == "time_first" else np.transpose(ys, (1, 0, 2))


class StatefulRecurrentCell(Layer):
    """StatefulRecurrentCell(cell)

    Makes ``cell`` stateful: each call ``m(x)`` (``x`` of shape ``(B, X)``, one
    time step) continues from the carry the previous call left and returns
    only the output.  The carry (``m.carry``) is kept until ``m.reset()``
    (or ``m.carry = None``); reset it between sequences.  Inside one ``diff``
    the gradient flows through the carried state across calls; a carry left
    by an earlier ``diff`` is used as a constant.

    >>> m = StatefulRecurrentCell(GRUCell(3, 4))
    >>> m(np.ones((2, 3), np.float32)).shape, len(m.carry)
    ((2, 4), 1)
    """
    _state = ("carry",)

    def __init__(self, cell):
        self.cell = _check_cell(cell, "StatefulRecurrentCell")
        self.carry = None

    def reset(self):
        """reset(): forget the carry; the next call starts from the initial state."""
        self.carry = None

    def __call__(self, x):
        if self.carry is not None:
            xr = _check_input(x, self.cell.in_dims, "StatefulRecurrentCell")
            B = np.shape(raw(self.carry[0]))[0]
            if xr.shape[0] != B:
                raise ValueError(f"StatefulRecurrentCell: the carried state is for a batch of "
                                 f"{B}, got x of shape {xr.shape}; call reset() first")
            y, self.carry = self.cell((x, self.carry))
        else:
            y, self.carry = self.cell(x)
        return y


_MERGES = {
    "concat": lambda a, b: np.concatenate([a, b], axis=-1),
    "sum": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "ave": lambda a, b: (a + b) / 2,
}


class BidirectionalRNN(Layer):
    """BidirectionalRNN(cell, backward_cell=None, *, merge_mode="concat",
    ordering="batch_first", fused=True)

    Runs ``cell`` forward in time and ``backward_cell`` (a fresh copy of
    ``cell`` with its own weights when None) from the last step to the
    first, and merges the two output sequences step by step.

    ``merge_mode``: ``"concat"`` (features of both directions, forward first:
    ``2H`` wide), ``"sum"``, ``"mul"``, ``"ave"``, a function ``f(y_fwd, y_bwd)``
    applied to the two output sequences, or None to return the pair
    ``(y_fwd, y_bwd)``.  Input and output forms are those of ``Recurrence``
    with ``return_sequence=True``.

    >>> m = BidirectionalRNN(LSTMCell(3, 4))
    >>> m(np.ones((2, 5, 3), np.float32)).shape
    (2, 5, 8)
    """

    def __init__(self, cell, backward_cell=None, *, merge_mode="concat",
                 ordering="batch_first", fused=True):
        cell = _check_cell(cell, "BidirectionalRNN")
        if backward_cell is None:
            backward_cell = cell.fresh_copy()
        backward_cell = _check_cell(backward_cell, "BidirectionalRNN")
        if backward_cell.in_dims != cell.in_dims:
            raise ValueError(f"BidirectionalRNN: backward_cell takes {backward_cell.in_dims} "
                             f"input features, cell takes {cell.in_dims}")
        if merge_mode is not None and not callable(merge_mode) and merge_mode not in _MERGES:
            raise ValueError(f"BidirectionalRNN: merge_mode must be one of {sorted(_MERGES)}, a "
                             f"function or None, got {merge_mode!r}")
        self.ordering = _ordering(ordering, "BidirectionalRNN")
        self.forward_rnn = Recurrence(cell, ordering=self.ordering, return_sequence=True,
                                      fused=fused)
        self.backward_rnn = Recurrence(backward_cell, ordering=self.ordering,
                                       return_sequence=True, fused=fused)
        self.merge_mode = merge_mode

    def extra_repr(self):
        m = self.merge_mode
        return f"merge_mode={m if m is None or isinstance(m, str) else m.__name__}"

    def __call__(self, x):
        yf, was_list = self.forward_rnn.sequence(x)
        yb, _ = self.backward_rnn.sequence(x, reverse=True)
        yf = _format(yf, was_list, self.ordering, True)
        yb = _format(yb, was_list, self.ordering, True)
        if self.merge_mode is None:
            return yf, yb
        merge = _MERGES[self.merge_mode] if isinstance(self.merge_mode, str) else self.merge_mode
        if was_list:
            return [merge(a, b) for a, b in zip(yf, yb)]
        return merge(yf, yb)
