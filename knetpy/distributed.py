"""Data-parallel training on MPI (SPEC §10): ``init()`` and the communicator.

``mpiexec -n K python script.py`` starts K processes; each calls ``init()``
and trains on its shard of every global batch::

    from knetpy import distributed as dist
    comm = dist.init()             # MPI's world under mpiexec; a size-1 comm otherwise
    for loss in adam(model, comm.shard(data), comm=comm):
        ...                        # the global mean loss, the same on every rank

With ``comm=`` a training iterator broadcasts the parameters from rank 0
before its first step (checking that every rank has the same shapes), and
in every step exchanges one small status message (so a rank that fails makes
every rank fail that step with a clear error, instead of a hang) and then the
gradients: dense ones in one flat buffer per dtype, summed with weights
``n_r / N`` (``n_r`` the instances of rank r, axis 0 of its batch, ``N`` their
sum), sparse ones (embedding rows) as rows gathered from every rank, never
densified.  When the loss is a mean over the instances of a batch, K ranks
thus take the same steps as one process on the global batches.

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

from autograd.core import Param, Value, _raw, params as _params
from autograd.sparse import Sparse

from .knetarray import KnetArray

__all__ = ["init", "Comm", "DistributedError", "Shard", "launched_by_mpiexec"]

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


def _host(a):
    """(numpy array, write_back) for a numpy array, KnetArray, Param or device array."""
    if isinstance(a, Param):
        a = a.value
    if isinstance(a, Value):
        a = _raw(a)
    if isinstance(a, KnetArray):
        a = a.data
    if isinstance(a, np.ndarray):
        return a, None
    if hasattr(a, "get") and hasattr(a, "set"):          # a CuPy-like device array
        h = a.get()
        return h, (lambda h=h, a=a: a.set(h))
    raise TypeError(f"expected a numpy array, KnetArray or Param, got {type(a).__name__}")


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
        both = self.allgather((msg, payload))
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
        (numpy, KnetArray, Param; device arrays are staged through host
        memory), packed into one buffer per dtype, so a layer can exchange
        many small statistics in one call.  Returns None.

        >>> a, b = np.ones(2), np.zeros(3); init(mpi=False).allreduce_([a, b]); a
        array([1., 1.])
        """
        if op not in ("sum", "mean", "max", "min"):
            raise ValueError(f"allreduce_: op must be 'sum', 'mean', 'max' or 'min', got {op!r}")
        items = [arrays] if not isinstance(arrays, (list, tuple)) else list(arrays)
        if self.size == 1:
            for a in items:
                _host(a)                      # the type check of the MPI path
            return
        hosts = [_host(a) for a in items]
        groups = {}
        for k, (h, _) in enumerate(hosts):
            groups.setdefault(h.dtype.str, []).append(k)
        from mpi4py import MPI
        mop = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]
        for ks in groups.values():
            buf = np.concatenate([hosts[k][0].ravel() for k in ks]) if len(ks) > 1 \
                else np.ascontiguousarray(hosts[ks[0]][0]).ravel().copy()
            self._timed(self.mpi.Allreduce, MPI.IN_PLACE, buf, mop)
            if op == "mean":
                buf /= self.size
            off = 0
            for k in ks:
                h, back = hosts[k]
                h[...] = buf[off:off + h.size].reshape(h.shape)
                off += h.size
                if back is not None:
                    back()

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
        hosts = [_host(a) for a in items]
        sig = [(h.shape, h.dtype.str) for h, _ in hosts]
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
        groups = {}
        for k, (h, _) in enumerate(hosts):
            groups.setdefault(h.dtype.str, []).append(k)
        for ks in groups.values():
            buf = np.concatenate([hosts[k][0].ravel() for k in ks])
            self._timed(self.mpi.Bcast, buf, root)
            off = 0
            for k in ks:
                h, back = hosts[k]
                h[...] = buf[off:off + h.size].reshape(h.shape)
                off += h.size
                if back is not None:
                    back()

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

    # ---------------------------------------------------------- gradients
    def exchange_grads(self, grads, count, loss=0.0, error=None, where="step"):
        """exchange_grads(grads, count, loss=0.0, error=None, where="step")
        -> (grads, total, mean_loss):
        the count-weighted average of every rank's gradients (a list, one per
        Param, each a dense array, ``Sparse`` or None) with weights
        ``count / total``, ``total`` the sum of the ranks' ``count``, and the
        same average of their ``loss`` (NaN when ``total`` is 0).  Dense gradients travel in one buffer
        per dtype, sparse ones as gathered rows (the result is a ``Sparse``
        again).  Every rank must give lists of the same length in the same
        Param order; call ``agree`` first so that a failed rank is known.

        >>> g, n, l = init(mpi=False).exchange_grads([np.ones(2), None], 3, 0.5); g[0], n, l
        (array([1., 1.]), 3, 0.5)
        """
        kinds = [0 if g is None else (2 if g.__class__ is Sparse else 1) for g in grads]
        if self.size == 1:
            self.agree(error, where)
            return list(grads), count, (float(loss) if count else float("nan"))
        infos = self.agree(error, where, (
            count, count * float(loss) if count else 0.0, kinds,
            [None if g is None else (tuple(g.shape), np.dtype(g.dtype).str) for g in grads]))
        if len({len(k) for _, _, k, _ in infos}) != 1:
            raise DistributedError(f"exchange_grads: the ranks have different numbers of "
                                   f"Params: {[len(k) for _, _, k, _ in infos]}")
        total = sum(c for c, _, _, _ in infos)
        if total == 0:
            return [None] * len(grads), 0, float("nan")
        mean_loss = sum(s for _, s, _, _ in infos) / total
        infos = [(c, k, m) for c, _, k, m in infos]
        w = count / total
        out = [None] * len(grads)
        dense, sparse = [], []
        for i in range(len(grads)):
            ks = [k[i] for _, k, _ in infos]
            meta = next((m[i] for _, _, m in infos if m[i] is not None), None)
            if meta is None:
                continue
            shape, dt = meta
            if 1 in ks:
                g = grads[i]
                g = np.zeros(shape, dt) if g is None else (
                    g.dense() if g.__class__ is Sparse else _host(g)[0])
                dense.append((i, g))
            else:
                sparse.append((i, shape, dt))
        groups = {}
        for i, g in dense:
            groups.setdefault(np.dtype(g.dtype).str, []).append((i, g))
        if groups:
            from mpi4py import MPI
        for pairs in groups.values():
            buf = np.concatenate([np.asarray(g).ravel() for _, g in pairs]) * w
            self._timed(self.mpi.Allreduce, MPI.IN_PLACE, buf, MPI.SUM)
            off = 0
            for i, g in pairs:
                out[i] = buf[off:off + g.size].reshape(g.shape)
                off += g.size
        if sparse:
            mine = []
            for i, shape, dt in sparse:
                g = grads[i]
                rv = g.rows() if g is not None else (np.zeros(0, np.intp),
                                                     np.zeros((0,) + shape[1:], dt))
                if rv is None:
                    rv = (np.arange(shape[0]), g.dense())
                mine.append((np.asarray(rv[0]), np.asarray(rv[1]) * w))
            every = self.allgather(mine)          # rows, never a dense gradient
            for j, (i, shape, dt) in enumerate(sparse):
                pairs = [theirs[j] for theirs in every if len(theirs[j][0])]
                out[i] = Sparse(shape, dt, pairs)
        return out, total, mean_loss


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

