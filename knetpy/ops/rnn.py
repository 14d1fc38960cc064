"""The recurrence of an RNN layer: one primitive with its backward through time.

``recur(xw, R, bW, bR, h0, c0, mode, batch_sizes, reverse)`` runs one layer in
one direction over packed time steps: the input projection ``xw`` (one GEMM
over every step, done by the caller) plus, at each step, one GEMM with the
hidden weights ``R`` and one cell call: ``lstm``/``gru`` (``lstmback``/
``gruback`` backwards) or the ``relu``/``tanh`` activation.  The forward and
the backward pass through time are written once, against the backend
contract (``knetpy.backends.base.Backend``): the backend of the arrays
(``Place``: the first KnetArray's ``.backend``, numpy otherwise) computes the
GEMMs (``matmul``), the cells, the activations and the sums; its array module
``xp`` holds the buffers.  An LSTM step sums its gate pre-activations in the
GEMM's output and the cell writes h, c and the activated gates straight into
the layer's buffers (the cells' ``out=``); backwards, the cell writes the
step's rows of the gate gradient and updates the cell gradient in place, and
the bias gradient is summed step by step.  The gradient of ``R`` is one GEMM
over all steps at the end.  The backward is not itself
recorded, so second derivatives through an RNN are not supported (a clear
error says so).
"""
import numpy as np

from autograd.core import Primitive, Value, raw
from autograd.sparse import Sparse

from .. import backends
from ..knetarray import KnetArray

__all__ = ["recur", "Recurrence", "Place"]


# ------------------------------------------------------------------ where it runs

class Place:
    """Place(*arrays): the backend that runs a recurrence and how its results
    are returned: the backend of the first KnetArray among ``arrays``
    (recorded values are unwrapped), whose results come back as KnetArrays;
    the numpy backend and plain arrays when there is none.

    >>> Place(np.ones(2)).be.name, Place(np.ones(2)).knet
    ('numpy', False)
    """

    def __init__(self, *arrays):
        self.be, self.knet = backends.numpy_backend, False
        for a in arrays:
            r = raw(a)
            if isinstance(r, KnetArray):
                self.be, self.knet = r.backend, True
                break
        self.xp = self.be.xp

    def put(self, a):
        """``a`` (a KnetArray of any backend, a host array, None) as a
        C-contiguous array of this backend; None stays None."""
        if a is None:
            return None
        a = raw(a)
        if isinstance(a, KnetArray):
            a = a.data if a.backend is self.be else self.be.asarray(a.to_numpy())
        elif not self.be.owns(a):
            a = self.be.asarray(np.asarray(a))
        return self.xp.ascontiguousarray(a)

    def wrap(self, a):
        """A result of this backend as the caller gets it."""
        return KnetArray._of(a, self.be) if self.knet else a

    def zeros(self, shape, dt):
        """A zero-filled array of this backend."""
        return self.xp.zeros(shape, dt)


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
    P = Place(xw, R, bW, bR, h0, c0)
    be, xp = P.be, P.xp
    xw, R, bW, bR, h0, c0 = (P.put(a) for a in (xw, R, bW, bR, h0, c0))
    mode, bs = ws.mode, ws.bs
    N, GH = xw.shape
    H = R.shape[1]
    B0, dt = bs[0], xw.dtype
    lstm, gru = mode == "lstm", mode == "gru"
    out = xp.empty(((N + B0 * (2 if lstm else 1)) * H,), dt)
    s = _Saved(P, R, out[:N * H].reshape(N, H), P.zeros((B0, H), dt) if h0 is None else h0)
    Y, Rt, tmph = s.Y, xp.ascontiguousarray(R.T), xp.empty((B0, H), dt)
    if lstm:      # A: the activated gates of every step, C: the cells
        s.A, bsum = xp.empty((N, GH), dt), be.binary("add", bW, bR)
        s.C = xp.empty((N, H), dt)
        s.cz = P.zeros((B0, H), dt) if c0 is None else c0
        tmpc = xp.empty((B0, H), dt)
    elif gru:     # the cell adds the hidden part itself
        xb = be.binary("add", xw, bW)
        s.A, s.GH = xp.empty((N, GH), dt), xp.empty((N, GH), dt)
    else:
        xb = be.binary("add", xw, be.binary("add", bW, bR))
    for t, p in ws.steps():
        rows, n = ws.rows(t), bs[t]
        hp = ws.prev(Y, s.hz, t, p, tmph, 0, n)
        hr = be.matmul(hp, Rt)                  # (n, G*H)
        if lstm:
            hr += xw[rows]                      # the gates, summed where the GEMM left them
            hr += bsum
            be.lstm(hr, ws.prev(s.C, s.cz, t, p, tmpc, 0, n), out=(Y[rows], s.C[rows], s.A[rows]))
        elif gru:
            gh = be.binary("add", hr, bR)
            h, act = be.gru(xb[rows], gh, hp)
            s.GH[rows], s.A[rows], Y[rows] = gh, act, h
        else:
            Y[rows] = be.unary(mode, be.binary("add", hr, xb[rows]))
    ws.final_rows(out[N * H:(N + B0) * H].reshape(B0, H), Y)
    if lstm:
        ws.final_rows(out[(N + B0) * H:].reshape(B0, H), s.C)
    ws.saved = s          # s never points back at ws: no cycle keeping the buffers alive
    return P.wrap(out)


class _Saved:
    """What the forward pass keeps for the backward one: the place, R, the
    outputs Y (N, H), the initial state hz and, by cell type, the activated
    gates A, the cells C and initial cell cz (LSTM) or the hidden parts GH (GRU)."""

    def __init__(self, P, R, Y, hz):
        self.P, self.R, self.Y, self.hz = P, R, Y, hz
        self.A = self.C = self.cz = self.GH = None


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
    s = ws.saved
    P, bs, Y, R = s.P, ws.bs, s.Y, s.R
    be, xp = P.be, P.xp
    N, H, GH = Y.shape[0], Y.shape[1], R.shape[0]
    B0, dt = bs[0], Y.dtype
    lstm, gru = ws.mode == "lstm", ws.mode == "gru"
    dY, dhN, dcN = (P.put(a) for a in _split_out_grad(raw(dy), N, B0, H, lstm))
    dhs = P.zeros((B0, H), dt) if dhN is None else dhN.astype(dt, copy=True)
    if lstm:
        dcs = P.zeros((B0, H), dt) if dcN is None else dcN.astype(dt, copy=True)
    tmp, tmpd = xp.empty((B0, H), dt), xp.empty((B0, H), dt)
    dG = xp.empty((N, GH), dt)
    dGx = xp.empty((N, GH), dt) if gru else dG
    dbs = P.zeros((GH,), dt) if lstm else None       # bias gradient, summed step by step
    for t, p in reversed(list(ws.steps())):
        n, rows = bs[t], ws.rows(t)
        dh = dhs[:n] if dY is None else xp.add(dY[rows], dhs[:n], out=tmpd[:n])
        if lstm:
            d = dG[rows]
            be.lstmback(s.A[rows], ws.prev(s.C, s.cz, t, p, tmp, 0, n), s.C[rows], dh,
                        dcs[:n], out=(d, dcs[:n]))
            dbs += be.reduce("sum", d, 0, False)
            dhs[:n] = be.matmul(d, R)
        elif gru:
            dgx, d, dhp = be.gruback(s.A[rows], s.GH[rows], ws.prev(Y, s.hz, t, p, tmp, 0, n),
                                     dh)
            dGx[rows], dG[rows] = dgx, d
            dhs[:n] = be.binary("add", be.matmul(d, R), dhp)
        else:
            d = be.activation_back(ws.mode, dh, Y[rows])
            dG[rows] = d
            dhs[:n] = be.matmul(d, R)
    dR = _state_product(be, xp, dG, s, h0 is not None, ws)
    dbW = be.reduce("sum", dGx, 0, False) if dbs is None else dbs
    dbR = be.reduce("sum", dG, 0, False) if gru else dbW.copy()
    grads = (dGx, dR, dbW, dbR, dhs if h0 is not None else None,
             dcs if lstm and c0 is not None else None)
    return tuple(None if a is None else P.wrap(a) for a in grads)


def _state_product(be, xp, dG, s, has_h0, ws):
    """dR = sum over steps of dG[rows].T @ (state the step started from), as
    one or two GEMMs over all steps."""
    bs, Y, hz = ws.bs, s.Y, s.hz
    N, B = Y.shape[0], bs[0]
    if all(n == B for n in bs):      # uniform batch: previous states are Y shifted
        if ws.reverse:
            dR, last = be.matmul(dG[:N - B].T, Y[B:]), dG[N - B:]
        else:
            dR, last = be.matmul(dG[B:].T, Y[:N - B]), dG[:B]
        if has_h0:
            dR = be.binary("add", dR, be.matmul(last.T, hz))
        return dR
    hprev = xp.empty(Y.shape, Y.dtype)
    tmp = xp.empty((B, Y.shape[1]), Y.dtype)
    for t, p in ws.steps():
        hprev[ws.rows(t)] = ws.prev(Y, hz, t, p, tmp, 0, bs[t])
    return be.matmul(dG.T, hprev)


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
