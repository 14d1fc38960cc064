"""The recurrence of an RNN layer: one primitive with its backward through time.

``recur(xw, R, bW, bR, h0, c0, mode, batch_sizes, reverse)`` runs one layer in
one direction over packed time steps: the input projection ``xw`` (one GEMM
over every step, done by the caller) plus, at each step, one GEMM with the
hidden weights ``R`` and one cell call: ``lstm``/``gru`` (``lstmback``/
``gruback`` backwards) or the ``relu``/``tanh`` activation.  The forward and
the backward pass through time are written once; the arrays, GEMMs and cells
they use come from ``_engine``: the kernel backend's methods for KnetArrays of
a CuPy/emulator backend, the numpy bodies of ``knetpy.ops.rnn_cells``
otherwise.  The backward is not itself recorded, so second derivatives
through an RNN are not supported (a clear error says so).
"""
from types import SimpleNamespace

import numpy as np

from autograd.core import Primitive, Value, _raw
from autograd.sparse import Sparse

from ..knetarray import KnetArray
from . import rnn_cells
from .device import device_array, kernel_backend

__all__ = ["recur", "Recurrence"]


# ------------------------------------------------------------------ where it runs

class _HostEngine:
    """numpy arrays and the host cells (``rnn_cells``), under the kernel
    backend's method names."""
    lstm, lstmback = staticmethod(rnn_cells.lstm), staticmethod(rnn_cells.lstmback)
    gru, gruback = staticmethod(rnn_cells.gru), staticmethod(rnn_cells.gruback)
    unary = staticmethod(rnn_cells.unary)
    activation_back = staticmethod(rnn_cells.activation_back)
    matmul, add = staticmethod(np.matmul), staticmethod(np.add)
    empty = staticmethod(np.empty)

    @staticmethod
    def put(a):
        return None if a is None else np.ascontiguousarray(a)

    @staticmethod
    def wrap(a):
        return a

    @staticmethod
    def sum0(a):
        return a.sum(axis=0)


class _DeviceEngine:
    """The arrays and kernels of kernel backend ``be`` (device memory, cuBLAS
    GEMMs, the fused cell kernels of ``kernels/rnn.cu``)."""

    def __init__(self, be):
        self.be = be
        self.lstm, self.lstmback, self.gru, self.gruback = be.lstm, be.lstmback, be.gru, \
            be.gruback
        self.unary, self.activation_back, self.matmul = be.unary, be.activation_back, be.matmul
        self.empty = be.dev.empty

    def add(self, a, b):
        return self.be.binary("add", a, b)

    def sum0(self, a):
        return self.be.reduce("sum", a, 0, False)

    def put(self, a):
        return device_array(self.be, a)

    def wrap(self, a):
        return KnetArray._of(a, self.be)


def _engine(*arrays):
    """The one dispatch of the recurrence: the kernel backend of the first
    KnetArray among ``arrays`` whose backend has the cell kernels, else the
    host cells.  (When every backend has ``lstm``/``gru``/... this becomes
    the backend of ``arrays``.)"""
    be = kernel_backend("lstm", *arrays)
    return _HostEngine if be is None else _DeviceEngine(be)


def _zeros(E, shape, dt):
    a = E.empty(shape, dt)
    a.fill(0)
    return a


# ------------------------------------------------------------------ the recurrence
#
# Packed rows: time step t owns rows off[t] : off[t] + bs[t] of every (N, .)
# buffer, and its active sequences are the first bs[t] of the batch
# (batch sizes never grow with t).  A step's previous state is the output
# of the step processed before it, or the initial state for rows that start
# there (the backward direction picks up new sequences as it goes).

class Recurrence:
    """What one call of ``recur`` needs besides its arrays: the cell type, the
    batch size of every time step, the direction, and (after the forward
    pass) the activations kept for the backward pass."""

    def __init__(self, mode, bs, reverse):
        self.mode, self.bs, self.reverse = mode, bs, reverse
        self.off = np.concatenate([[0], np.cumsum(bs)]).astype(int).tolist()
        self.saved = None
        self.cache = None

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


# ------------------------------------------------------------------ forward

def _recur_fn(xw, R, bW, bR, h0, c0, ws):
    """Forward pass of one layer in one direction.  xw (N, G*H) is the input
    projection W x of every packed row (without bias); returns one flat array
    holding y (N, H), the final h (B0, H) and, for LSTMs, the final c (B0, H)."""
    E = _engine(xw, R, bW, bR, h0, c0)
    xw, R, bW, bR, h0, c0 = (E.put(a) for a in (xw, R, bW, bR, h0, c0))
    mode, bs = ws.mode, ws.bs
    N, GH = xw.shape
    H = R.shape[1]
    B0, dt = bs[0], xw.dtype
    lstm, gru = mode == "lstm", mode == "gru"
    out = E.empty(((N + B0 * (2 if lstm else 1)) * H,), dt)
    c = SimpleNamespace(R=R, H=H, Y=out[:N * H].reshape(N, H), Rt=E.put(R.T),
                        hz=_zeros(E, (B0, H), dt) if h0 is None else h0)
    tmph, tmpc = E.empty((B0, H), dt), E.empty((B0, H), dt)
    if gru:
        xb = E.add(xw, bW)                # the cell adds the hidden part itself
        c.A, c.GH = E.empty((N, GH), dt), E.empty((N, GH), dt)
    else:
        xb = E.add(xw, E.add(bW, bR))
    if lstm:
        c.cz = _zeros(E, (B0, H), dt) if c0 is None else c0
        c.A, c.C = E.empty((N, GH), dt), E.empty((N, H), dt)
    Y = c.Y
    for t, p in ws.steps():
        rows, n = ws.rows(t), bs[t]
        hp = ws.prev(Y, c.hz, t, p, tmph, 0, n)
        hr = E.matmul(hp, c.Rt)                  # (n, G*H)
        if lstm:
            cp = ws.prev(c.C, c.cz, t, p, tmpc, 0, n)
            h, cc, act = E.lstm(E.add(hr, xb[rows]), cp)
            c.C[rows], c.A[rows] = cc, act
        elif gru:
            gh = E.add(hr, bR)
            h, act = E.gru(xb[rows], gh, hp)
            c.GH[rows], c.A[rows] = gh, act
        else:
            h = E.unary(mode, E.add(hr, xb[rows]))
        Y[rows] = h
    ws.final_rows(out[N * H:(N + B0) * H].reshape(B0, H), Y)
    if lstm:
        ws.final_rows(out[(N + B0) * H:].reshape(B0, H), c.C)
    ws.saved = (E, c)     # c never points back at ws: no cycle keeping the buffers alive
    return E.wrap(out)


# ------------------------------------------------------------------ backward through time

def _recur_grad(i, dy, y, xw, R, bW, bR, h0, c0, ws):
    """Gradient of argument i of _recur; the backward pass through time runs
    once per output gradient and serves every argument."""
    if any(isinstance(a, Value) for a in (dy, xw, R, bW, bR, h0, c0)):
        raise NotImplementedError(
            "RNN: second-order derivatives through an RNN are not supported (its "
            "backward pass through time is hand-written and not recorded)")
    if ws.cache is None or ws.cache[0] is not dy:
        ws.cache = (dy, _backward(dy, h0, c0, ws))
    return ws.cache[1][i]


def _split_out_grad(dy, N, B0, H, lstm):
    """The output gradient as (dY (N, H), dhN (B0, H), dcN (B0, H)), each None
    when zero.  Reads the slices of a Sparse gradient without densifying."""
    bounds = [0, N * H, (N + B0) * H] + ([(N + 2 * B0) * H] if lstm else [])
    shapes = [(N, H), (B0, H), (B0, H)]
    parts = [None] * (len(bounds) - 1)
    if isinstance(dy, Sparse):
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


def _backward(dy, h0, c0, ws):
    """Backward pass through time: (dxw, dR, dbW, dbR, dh0, dc0), None for an
    absent initial state."""
    E, c = ws.saved
    bs, H, Y, R = ws.bs, c.H, c.Y, c.R
    N, GH = Y.shape[0], R.shape[0]
    B0, dt = bs[0], Y.dtype
    lstm, gru = ws.mode == "lstm", ws.mode == "gru"
    dY, dhN, dcN = (E.put(a) for a in _split_out_grad(_raw(dy), N, B0, H, lstm))
    dhs = _zeros(E, (B0, H), dt) if dhN is None else dhN.astype(dt, copy=True)
    if lstm:
        dcs = _zeros(E, (B0, H), dt) if dcN is None else dcN.astype(dt, copy=True)
    tmp = E.empty((B0, H), dt)
    dG = E.empty((N, GH), dt)
    dGx = E.empty((N, GH), dt) if gru else dG
    for t, p in reversed(list(ws.steps())):
        n, rows = bs[t], ws.rows(t)
        dh = dhs[:n] if dY is None else E.add(dY[rows], dhs[:n])
        if lstm:
            cp = ws.prev(c.C, c.cz, t, p, tmp, 0, n)
            d, dcp = E.lstmback(c.A[rows], cp, c.C[rows], dh, dcs[:n])
            dcs[:n] = dcp
            dhs[:n] = E.matmul(d, R)
        elif gru:
            hp = ws.prev(Y, c.hz, t, p, tmp, 0, n)
            dgx, d, dhp = E.gruback(c.A[rows], c.GH[rows], hp, dh)
            dGx[rows] = dgx
            dhs[:n] = E.add(E.matmul(d, R), dhp)
        else:
            d = E.activation_back(ws.mode, dh, Y[rows])
            dhs[:n] = E.matmul(d, R)
        dG[rows] = d
    dR = _state_product(E, dG, c, h0 is not None, ws)
    dbW = E.sum0(dGx)
    dbR = E.sum0(dG) if gru else dbW.copy()
    grads = (dGx, dR, dbW, dbR, dhs if h0 is not None else None,
             dcs if lstm and c0 is not None else None)
    return tuple(None if a is None else E.wrap(a) for a in grads)


def _state_product(E, dG, c, has_h0, ws):
    """dR = sum over steps of dG[rows].T @ (state the step started from), as
    one or two GEMMs."""
    bs, Y, hz = ws.bs, c.Y, c.hz
    N, B = Y.shape[0], bs[0]
    if all(n == B for n in bs):      # uniform batch: previous states are Y shifted
        if ws.reverse:
            dR, last = E.matmul(dG[:N - B].T, Y[B:]), dG[N - B:]
        else:
            dR, last = E.matmul(dG[B:].T, Y[:N - B]), dG[:B]
        if has_h0:
            dR = E.add(dR, E.matmul(last.T, hz))
        return dR
    hprev = E.empty(Y.shape, Y.dtype)
    tmp = E.empty((B, Y.shape[1]), Y.dtype)
    for t, p in ws.steps():
        hprev[ws.rows(t)] = ws.prev(Y, hz, t, p, tmp, 0, bs[t])
    return E.matmul(dG.T, hprev)


_recur = Primitive(_recur_fn, nary_grad=_recur_grad)


def recur(xw, R, bW, bR, h0, c0, mode, batch_sizes, reverse=False):
    """recur(xw, R, bW, bR, h0, c0, mode, batch_sizes, reverse=False) -> out:
    one RNN layer in one direction over packed time steps, differentiable
    (first order) in every array argument.

    Args:
        xw: ``(N, G*H)`` input projections W x of the N packed rows (time step t
            owns ``batch_sizes[t]`` consecutive rows), without bias.
        R: ``(G*H, H)`` hidden weights; bW, bR: ``(G*H,)`` biases.
        h0, c0: ``(B0, H)`` initial hidden / cell state, or None for zeros
            (c0 only for LSTMs).
        mode: ``'relu'``, ``'tanh'``, ``'lstm'`` (G=4) or ``'gru'`` (G=3).
        batch_sizes: non-increasing sequence of active sequences per step.
        reverse: run the steps last to first.

    Returns one flat array: y ``(N, H)``, the final h ``(B0, H)`` and, for
    LSTMs, the final c ``(B0, H)``, raveled one after the other.

    >>> out = recur(np.zeros((2, 3)), np.zeros((3, 1)), np.zeros(3), np.zeros(3),
    ...             None, None, "gru", (1, 1))
    >>> out.shape
    (3,)
    """
    return _recur(xw, R, bW, bR, h0, c0, Recurrence(mode, tuple(batch_sizes), reverse))
