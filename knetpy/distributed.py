"""Data-parallel training on MPI (SPEC §10): ``init()`` and the communicator.

``mpiexec -n K python script.py`` starts K processes; each calls ``init()``
and trains on its shard of every global batch::

    from knetpy import distributed as dist
    comm = dist.init()             # MPI's world under mpiexec; a size-1 comm otherwise
    for loss in adam(model, comm.shard(data), comm=comm):
        ...                        # the global mean loss, the same on every rank

With ``comm=`` a training iterator broadcasts the parameters from rank 0
before its first step (checking that every rank has the same shapes); every
later step is one Allreduce of one flat buffer per dtype holding
``n_r * gradient`` of every dense Param (``n_r`` the instances of rank r,
axis 0 of its batch) and a 4-slot header (failure flag, layout-mismatch
flag, count, summed loss), divided by ``N``, the sum of the counts; sparse
gradients (embedding rows) go as rows gathered from every rank, never
densified.  A rank that fails sets the flag, and every rank raises a clear
error in that step instead of hanging.  When the loss is a mean over the
instances of a batch, K ranks thus take the same steps as one process on
the global batches.

``allreduce_`` takes any list of arrays and packs them into one buffer per
dtype, so a layer can exchange several statistics in one call (a
cross-replica batch normalization packs its sums and counts).  Without
mpiexec, or without mpi4py (``pip install knetpy[mpi]``), ``init()`` gives a
communicator of size 1 whose collectives return at once.
"""
import os
import time
import weakref

import numpy as np

from autograd.core import Param, Value, params as _params
from autograd.sparse import Sparse

from .dist_wire import Wire, cuda_aware, placed, unwrap
from .knetarray import KnetArray

__all__ = ["init", "Comm", "DistributedError", "Shard", "WirePlan", "launched_by_mpiexec"]

# environment variables that MPI launchers (MPICH/Hydra, Open MPI, PMIx, Slurm's PMI) set
_LAUNCH_VARS = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


class DistributedError(RuntimeError):
    """A step failed on some rank; raised on every rank, naming the ranks and their errors."""


def launched_by_mpiexec():
    """launched_by_mpiexec() -> bool: True when an MPI launcher started this process
    (it set one of PMI_SIZE, PMI_RANK, OMPI_COMM_WORLD_SIZE, PMIX_RANK, MPI_LOCALNRANKS).

    >>> isinstance(launched_by_mpiexec(), bool)
    True
    """
    return any(v in os.environ for v in _LAUNCH_VARS)


def init(mpi=None):
    """init(mpi=None) -> Comm: the communicator of this process.

    ``mpi=None``: MPI's world (mpi4py's ``COMM_WORLD``) when the process was
    started by ``mpiexec`` and mpi4py is installed, else a size-1
    communicator.  ``mpi=False`` forces size 1; ``mpi=True`` requires MPI
    (ImportError naming the extra when mpi4py is missing).  An mpi4py
    communicator may also be given (e.g. a sub-communicator).

    >>> c = init(mpi=False); (c.rank, c.size)
    (0, 1)
    """
    if mpi is None:
        mpi = launched_by_mpiexec()
        if mpi:
            try:
                import mpi4py  # noqa: F401
            except ImportError:
                mpi = False
    if mpi is False:
        return Comm(None)
    if mpi is True:
        try:
            from mpi4py import MPI
        except ImportError:
            raise ImportError("distributed.init(mpi=True) needs mpi4py: "
                              "pip install 'knetpy[mpi]'") from None
        return Comm(MPI.COMM_WORLD)
    if not all(hasattr(mpi, m) for m in ("Get_rank", "Get_size", "Allreduce", "allgather")):
        raise TypeError(f"init: mpi must be None, True, False or an mpi4py communicator, "
                        f"got {type(mpi).__name__}")
    return Comm(mpi)


def _grouped(pl):
    """[(backend or None, dtype, [k, ...]), ...]: the indices of ``pl`` (a list
    of (raw, backend)) by placement and dtype, in first-seen order."""
    groups = {}
    for k, (a, be) in enumerate(pl):
        groups.setdefault((id(be), np.dtype(a.dtype).str), (be, np.dtype(a.dtype), []))[2].append(k)
    return list(groups.values())


def _packed(pl, ks, be, dt, extra=0):
    """A Wire holding the arrays ``pl[k]`` for ``k`` in ``ks`` back to back
    (plus ``extra`` zeroed slots at the end) and the offset of each."""
    offs, off = [], 0
    for k in ks:
        offs.append(off)
        off += pl[k][0].size
    w = Wire(be, dt, off + extra)
    for k, o in zip(ks, offs):
        w.put(o, pl[k][0])
    return w, offs


class Comm:
    """Comm(mpi): the communicator ``init()`` returns; ``mpi`` an mpi4py
    communicator or None for a single process.

    ``rank``, ``size``; ``shard(data)``; ``broadcast_(arrays)``;
    ``allreduce_(arrays, op)``; ``allgather(obj)``; ``agree(error)``.

    >>> c = init(mpi=False); a = np.ones(2); c.allreduce_([a], op="mean"); a
    array([1., 1.])
    """

    def __init__(self, mpi):
        self.mpi = mpi
        self.rank = 0 if mpi is None else int(mpi.Get_rank())
        self.size = 1 if mpi is None else int(mpi.Get_size())
        self.comm_seconds = 0.0        # time spent in collectives (for benchmarks)
        self._synced = {}              # id -> weakref of what update_(comm=) broadcast
        # device arrays go to MPI as they are when it is CUDA-aware, else staged on the host
        self.device_direct = mpi is not None and cuda_aware()
        self.wire_bytes = {"direct": 0, "staged": 0}   # device bytes sent each way
        self._log, self._script = None, []     # allreduce_ calls of this / the last good step

    def __repr__(self):
        kind = "single process" if self.mpi is None else "MPI"
        return f"Comm(rank={self.rank}, size={self.size}, {kind})"

    # ---------------------------------------------------------- sharding
    def part(self, n):
        """part(n) -> slice: this rank's contiguous part of ``n`` instances
        (the sizes of the ranks differ by at most one, the first ranks larger).

        >>> init(mpi=False).part(5)
        slice(0, 5, None)
        """
        base, extra = divmod(int(n), self.size)
        lo = self.rank * base + min(self.rank, extra)
        return slice(lo, lo + base + (1 if self.rank < extra else 0))

    def shard(self, data):
        """shard(data) -> re-iterable: this rank's part of each global batch of
        ``data`` (an array, or a tuple of arrays sharing axis 0), along axis 0.

        >>> list(init(mpi=False).shard([(np.arange(3), np.arange(3))]))[0][0]
        array([0, 1, 2])
        """
        if not hasattr(data, "__iter__"):
            raise TypeError(f"shard: data must be iterable (e.g. minibatch(x, y)), "
                            f"got {type(data).__name__}")
        return Shard(data, self)

    # ---------------------------------------------------------- collectives
    def _timed(self, fn, *args):
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.comm_seconds += time.perf_counter() - t0

    def allgather(self, obj):
        """allgather(obj) -> list: every rank's (picklable) ``obj``, in rank order.

        >>> init(mpi=False).allgather("x")
        ['x']
        """
        if self.mpi is None:
            return [obj]
        return self._timed(self.mpi.allgather, obj)

    def agree(self, error=None, where="step", payload=None):
        """agree(error=None, where="step", payload=None) -> list: every rank
        says whether it failed (``error`` an exception or None); when any did,
        every rank raises ``DistributedError`` naming the failed ranks and
        their errors.  Otherwise returns every rank's ``payload`` (picklable),
        in rank order: the status travels with other small data in one call.

        >>> init(mpi=False).agree(None, payload=3)
        [3]
        """
        msg = None if error is None else f"{type(error).__name__}: {error}"
        both = [(msg, payload)] if self.size == 1 else self.allgather((msg, payload))
        bad = [(r, m) for r, (m, _) in enumerate(both) if m is not None]
        if bad:
            text = "; ".join(f"rank {r}: {m}" for r, m in bad)
            exc = DistributedError(f"{where} failed on {len(bad)} of {self.size} rank(s): "
                                   f"{text}")
            raise exc from error
        return [p for _, p in both]

    def allreduce_(self, arrays, op="sum"):
        """allreduce_(arrays, op="sum"): in place on every rank, each array
        becomes the sum (``op="sum"``) or mean (``"mean"``) over the ranks;
        also ``"max"``/``"min"``.  ``arrays`` is one array or a list of arrays
        (numpy, KnetArray, Param; arrays on a device are packed there
        and sent as they are when MPI is CUDA-aware, else staged through host
        memory), packed into one buffer per dtype, so a layer can exchange
        many small statistics in one call.  Returns None.

        >>> a, b = np.ones(2), np.zeros(3); init(mpi=False).allreduce_([a, b]); a
        array([1., 1.])
        """
        if op not in ("sum", "mean", "max", "min"):
            raise ValueError(f"allreduce_: op must be 'sum', 'mean', 'max' or 'min', got {op!r}")
        items = [arrays] if not isinstance(arrays, (list, tuple)) else list(arrays)
        pl = placed(items)                    # the type check, also for size 1
        if self.size == 1:
            return
        if self._log is not None:
            self._log.append(([(tuple(a.shape), np.dtype(a.dtype)) for a, _ in pl], op))
        from mpi4py import MPI
        mop = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]
        for be, dt, ks in _grouped(pl):
            w, offs = _packed(pl, ks, be, dt)
            w.allreduce(self, mop)
            if op == "mean":
                w.buf /= self.size
            for k, o in zip(ks, offs):
                a = pl[k][0]
                a[...] = w.get(o, a.shape)

    def broadcast_(self, arrays, root=0, names=None):
        """broadcast_(arrays, root=0, names=None): rank ``root``'s values into
        the arrays (a list of Params/arrays, or a model whose ``params`` are
        taken) of every rank, in place.  First every rank checks that its
        shapes and dtypes match the root's; a mismatch raises
        ``DistributedError`` on every rank naming the Param (``names[i]`` or
        its index).  Returns None.

        >>> p = Param(np.ones(2)); init(mpi=False).broadcast_([p]); p.value
        array([1., 1.])
        """
        items = list(arrays) if isinstance(arrays, (list, tuple)) else list(_params(arrays))
        pl = placed(items)
        sig = [(tuple(h.shape), np.dtype(h.dtype).str) for h, _ in pl]
        for a in items:
            self._remember(a)
        if self.size == 1:
            return
        root_sig = self._timed(self.mpi.bcast, sig, root)
        error = None
        if len(root_sig) != len(sig):
            error = ValueError(f"rank {self.rank} has {len(sig)} Params but rank {root} has "
                               f"{len(root_sig)}")
        else:
            for i, (mine, theirs) in enumerate(zip(sig, root_sig)):
                if mine != theirs:
                    name = names[i] if names is not None else f"Param #{i}"
                    error = ValueError(f"{name} has shape {mine[0]} dtype {np.dtype(mine[1])} "
                                       f"on rank {self.rank} but shape {theirs[0]} dtype "
                                       f"{np.dtype(theirs[1])} on rank {root}")
                    break
        self.agree(error, "broadcast_: the parameters differ across ranks:")
        for be, dt, ks in _grouped(pl):
            w, offs = _packed(pl, ks, be, dt)
            w.bcast(self, root)
            for k, o in zip(ks, offs):
                a = pl[k][0]
                a[...] = w.get(o, a.shape)

    def broadcast_once_(self, arrays, names=None):
        """broadcast_once_(arrays, names=None): ``broadcast_`` of those arrays
        (Params, numpy arrays, KnetArrays) not broadcast by an earlier call;
        every rank must make the same calls.  Returns None.

        >>> c = init(mpi=False); p = Param(np.ones(1)); c.broadcast_once_([p]); c.broadcast_once_([p])
        """
        new, new_names = [], []
        for i, a in enumerate(arrays):
            r = self._synced.get(id(a))
            if r is None or r() is not a:
                new.append(a)
                new_names.append(names[i] if names is not None else f"Param #{i}")
        if new:
            self.broadcast_(new, names=new_names)

    def _remember(self, a):
        try:
            self._synced[id(a)] = weakref.ref(a, lambda _, k=id(a): self._synced.pop(k, None))
        except TypeError:               # not weak-referenceable: broadcast again next time
            pass

    # ---------------------------------------------------------- steps
    def step_begin(self):
        """step_begin(): a training step starts; the ``allreduce_`` calls made
        by cross-replica layers (e.g. ``BatchNorm(comm=)``) are recorded
        until ``step_end``, so that a rank that fails in the middle of a
        step can ``drain`` the rest.

        >>> c = init(mpi=False); c.step_begin(); c.drain(); c.step_end(True)
        """
        self._log = []

    def drain(self):
        """drain(): after a failure within a step, take part in the
        ``allreduce_`` calls the other ranks still make in it (those of the
        last completed step after the ones done here), contributing zeros,
        so that every rank reaches the gradient exchange, where all of them
        raise.  Before the first completed step nothing is known to replay."""
        if self._log is None or self.size == 1:
            return
        for shapes, op in self._script[len(self._log):]:
            self.allreduce_([np.zeros(s, d) for s, d in shapes], op)

    def step_end(self, ok):
        """step_end(ok): the step is over; when ``ok`` its collectives become
        the script that ``drain`` replays."""
        if ok and self._log is not None:
            self._script = self._log
        self._log = None

    # ---------------------------------------------------------- gradients
    def exchange_grads(self, grads, count, loss=0.0, error=None, where="step", plan=None):
        """exchange_grads(grads, count, loss=0.0, error=None, where="step", plan=None)
        -> (grads, total, mean_loss):
        the count-weighted average of every rank's gradients (a list, one per
        Param, each a dense array, ``Sparse`` or None) with weights
        ``count / total``, ``total`` the sum of the ranks' ``count``, and the
        same average of their ``loss`` (NaN when ``total`` is 0).  Every rank
        must give lists in the same Param order (or ``error``, the exception
        that stopped this rank: then every rank raises ``DistributedError``).

        ``plan`` (a ``WirePlan`` the caller keeps, the same on every rank):
        its first exchange gathers the gradients' kinds and shapes from every
        rank (a small pickled allgather) and fixes the layout; every later
        one is a single ``Allreduce`` of one contiguous buffer per dtype and
        device (usually one), whose last slots carry the failure flag, a
        layout-mismatch flag, the count and the summed loss (in that
        buffer's dtype).  Sparse gradients travel as gathered rows (the
        result is a ``Sparse`` again), never densified.

        >>> g, n, l = init(mpi=False).exchange_grads([np.ones(2), None], 3, 0.5); g[0], n, l
        (array([1., 1.]), 3, 0.5)
        """
        if self.size == 1:
            self.agree(error, where)
            return list(grads), count, (float(loss) if count else float("nan"))
        if plan is not None and plan.layout is not None:
            got = self._exchange_planned(grads, count, loss, error, where, plan.layout)
            if got is not None:
                return got
        infos = self.agree(error, where, (
            count, count * float(loss) if count else 0.0,
            [0 if g is None else (2 if g.__class__ is Sparse else 1) for g in grads],
            [None if g is None else (tuple(g.shape), np.dtype(g.dtype).str) for g in grads]))
        if len({len(k) for _, _, k, _ in infos}) != 1:
            raise DistributedError(f"exchange_grads: the ranks have different numbers of "
                                   f"Params: {[len(k) for _, _, k, _ in infos]}")
        total = sum(c for c, _, _, _ in infos)
        layout = _Layout(len(grads))
        for i in range(len(grads)):
            metas = {(m[i][0], np.dtype(m[i][1]).kind) for _, _, _, m in infos if m[i] is not None}
            if len(metas) > 1:
                raise DistributedError(f"{where}: the gradients of Param #{i} differ in shape or "
                                       f"kind across ranks: {sorted(metas)}")
            meta = next((m[i] for _, _, _, m in infos if m[i] is not None), None)
            if meta is not None:
                sparse = all(k[i] != 1 for _, _, k, _ in infos)
                (layout.sparse if sparse else layout.dense).append((i, meta[0], np.dtype(meta[1])))
        if plan is not None:
            plan.layout = layout
        if total == 0:
            return [None] * len(grads), 0, float("nan")
        mean_loss = sum(s for _, s, _, _ in infos) / total
        out = self._send_grads(grads, count, total, layout, None)[0]
        return out, total, mean_loss

    def _exchange_planned(self, grads, count, loss, error, where, layout):
        """One step on a fixed layout; None when some rank's gradients do not
        fit it (every rank then falls back to the gathering exchange)."""
        bad = error is None and len(grads) != layout.n
        head = (1.0 if error is not None else 0.0, 0.0, float(count),
                count * float(loss) if count and error is None else 0.0)
        out, total, head, bad = self._send_grads(grads if error is None and not bad else None,
                                                 count, None, layout, head, bad)
        if head[0]:
            self.agree(error, where)             # every rank raises here
        if head[1]:
            return None
        total = int(round(head[2]))
        if total == 0:
            return [None] * layout.n, 0, float("nan")
        return out, total, head[3] / total

    def _send_grads(self, grads, count, total, layout, head, bad=False):
        """Pack ``count * g`` of the dense gradients by (device, dtype), with
        the 4 header slots ``head`` in the first buffer (a float64 host
        buffer of its own when there is no dense gradient), one Allreduce
        each; then the sparse rows.  Returns (grads, total, head, bad)."""
        from mpi4py import MPI
        out = [None] * layout.n
        dense = []
        for i, shape, dt in layout.dense:
            g = None if grads is None else grads[i]
            if g is not None and g.__class__ is Sparse:
                g = g.dense()
            raw, be = (None, None) if g is None else unwrap(g)
            if raw is not None and tuple(raw.shape) != shape:
                bad, raw = True, None
            elif raw is not None and raw.dtype != dt:
                raw = raw.astype(dt)
            dense.append((i, shape, dt, raw, be, g))
        groups = {}
        place = next((be for *_, be, g in dense if g is not None), None)
        for d in dense:
            groups.setdefault(np.dtype(d[2]).str, []).append(d)
        wires = []
        for ds in groups.values():
            size = sum(int(np.prod(s, dtype=np.int64)) for _, s, *_ in ds)
            wires.append((Wire(place, ds[0][2], size), ds, size))
        if head is not None and not wires:
            wires.append((Wire(None, np.float64, 0), [], 0))
        for j, (w, ds, size) in enumerate(wires):
            if head is not None and j == 0:
                w.buf = (np if w.be is None else w.be.xp).zeros(size + 4, w.buf.dtype)
                w.buf[size:] = (w.be.asarray(np.array(head, w.buf.dtype)) if w.be is not None
                                else np.array(head, w.buf.dtype))
                w.buf[size + 1] = float(bad)
            off = 0
            for i, shape, dt, raw, be, g in ds:
                if raw is not None and count:
                    w.put(off, raw, float(count))
                off += int(np.prod(shape, dtype=np.int64))
            w.allreduce(self, MPI.SUM)
        if head is not None:
            w0, _, size0 = wires[0]
            head = w0.host(size0, 4)
            if head[0] or head[1]:
                return out, 0, head, bad
            total = int(round(head[2]))
        if not total:
            return out, 0, head, bad
        for w, ds, size in wires:
            off = 0
            part = w.buf[:size]
            part /= total
            for i, shape, dt, raw, be, g in ds:
                v = w.get(off, shape)
                out[i] = KnetArray._of(v, w.be) if w.be is not None and (
                    g is None or isinstance(g, KnetArray)) else v
                off += v.size
        if layout.sparse:
            mine = []
            for i, shape, dt in layout.sparse:
                g = None if grads is None else grads[i]
                rv = None
                if g is not None and count:
                    rv = g.rows() if g.__class__ is Sparse else (np.arange(shape[0]),
                                                                  np.asarray(unwrap(g)[0]))
                    if rv is None:
                        rv = (np.arange(shape[0]), g.dense())
                mine.append(None if rv is None else (np.asarray(rv[0]),
                                                      np.asarray(rv[1]) * float(count)))
            every = self.allgather(mine)          # rows, never a dense gradient
            for j, (i, shape, dt) in enumerate(layout.sparse):
                pairs = [(ix, v / total) for theirs in every if theirs[j] is not None
                         for ix, v in [theirs[j]] if len(ix)]
                out[i] = Sparse(shape, dt, pairs)
        return out, total, head, bad


class _Layout:
    """Which Params' gradients travel dense (in the buffers) and which as rows."""
    __slots__ = ("n", "dense", "sparse")

    def __init__(self, n):
        self.n, self.dense, self.sparse = n, [], []


class WirePlan:
    """WirePlan(): the gradient layout one training iterator keeps between
    steps (see ``Comm.exchange_grads``); fixed by its first exchange.

    >>> WirePlan().layout is None
    True
    """
    __slots__ = ("layout",)

    def __init__(self):
        self.layout = None


class Shard:
    """Shard(data, comm): the re-iterable ``comm.shard(data)`` returns: this
    rank's contiguous part (axis 0) of each global batch of ``data``."""

    def __init__(self, data, comm):
        self.data, self.comm = data, comm

    def __len__(self):
        return len(self.data)

    @property
    def epoch(self):
        """The epoch of the global data (see ``knetpy.batches.epoch_of``)."""
        e = getattr(self.data, "epoch", None)
        return e if isinstance(e, tuple) else None

    def _cut(self, b):
        if isinstance(b, tuple):
            ns = {np.shape(a)[0] for a in b if np.ndim(a) > 0}
            if len(ns) > 1:
                raise ValueError(f"shard: the arrays of a batch have different numbers of "
                                 f"instances (axis 0): {sorted(ns)}")
            if not ns:
                return b
            s = self.comm.part(ns.pop())
            return tuple(a[s] if np.ndim(a) > 0 else a for a in b)
        if np.ndim(b) == 0:
            raise ValueError("shard: a batch must have instances along axis 0, got a scalar")
        return b[self.comm.part(np.shape(b)[0])]

    def __iter__(self):
        for b in self.data:
            yield self._cut(b)

