"""An in-process communicator for K ranks: threads and a barrier.

``run_ranks(K, fn)`` runs ``fn(comm)`` once per rank, each in its own thread,
and returns the K results in rank order.  ``comm`` has the interface the
cross-replica ops rely on (that of ``knetpy.distributed``'s communicator):
``size``, ``rank`` and ``allreduce_(arrays, op="sum")``, which sums a list of
numpy arrays in place across the ranks (``op="mean"`` divides by ``size``).
Every rank adds the contributions in rank order, so all ranks get the same
bits, as an MPI allreduce gives.

Tapes are per thread, so each rank records on its own; the ranks still run
one at a time (a rank runs while it holds the world's *baton* and hands it
on while it waits at the barrier inside a collective), which keeps every
run deterministic.  A rank that
raises breaks the barrier, so the others fail at their next collective
instead of waiting; ``run_ranks`` then raises the first rank's error.

``comm.calls`` counts the collectives this rank took part in and
``comm.sizes`` records the number of elements each one carried.

>>> import numpy as np
>>> run_ranks(2, lambda c: (lambda a: (c.allreduce_([a]), a[0])[1])(np.ones(1) * (c.rank + 1)))
[3.0, 3.0]
"""
import threading

import numpy as np

__all__ = ["FakeComm", "run_ranks"]


class _World:
    def __init__(self, size, timeout):
        self.size = size
        self.barrier = threading.Barrier(size, timeout=timeout)
        self.baton = threading.Lock()
        self.slots = [None] * size


class FakeComm:
    """FakeComm(world, rank): rank ``rank`` of a ``_World`` (made by ``run_ranks``)."""

    def __init__(self, world, rank):
        self.world, self.rank, self.size = world, rank, world.size
        self.calls, self.sizes = 0, []

    def _wait(self):
        self.world.baton.release()
        try:
            self.world.barrier.wait()
        finally:
            self.world.baton.acquire()

    def allreduce_(self, arrays, op="sum"):
        """allreduce_(arrays, op="sum"): sum (or average, ``op="mean"``) each
        numpy array of the list ``arrays`` across the ranks, in place."""
        if op not in ("sum", "mean"):
            raise ValueError(f"allreduce_: op must be 'sum' or 'mean', got {op!r}")
        arrays = list(arrays)
        for a in arrays:
            if not isinstance(a, np.ndarray):
                raise TypeError(f"allreduce_: arrays must be numpy arrays, got {type(a)}")
        self.calls += 1
        self.sizes.append(sum(a.size for a in arrays))
        self.world.slots[self.rank] = [a.copy() for a in arrays]
        self._wait()                     # every rank's contribution is in
        parts = self.world.slots
        for i, a in enumerate(arrays):
            shapes = [p[i].shape for p in parts]
            if len(set(shapes)) != 1 or any(len(p) != len(arrays) for p in parts):
                raise ValueError(f"allreduce_: ranks passed different arrays: {shapes}")
            total = parts[0][i].copy()
            for p in parts[1:]:
                total += p[i]
            a[...] = total / self.size if op == "mean" else total
        self._wait()                     # every rank has read before slots are reused


def run_ranks(size, fn, timeout=60):
    """run_ranks(size, fn, timeout=60) -> [fn(comm_0), ..., fn(comm_{size-1})]:
    ``fn`` run by ``size`` ranks at once (threads taking turns, see above)."""
    world = _World(size, timeout)
    results, errors = [None] * size, [None] * size

    def target(r):
        with world.baton:
            try:
                results[r] = fn(FakeComm(world, r))
            except BaseException as e:      # noqa: BLE001 - reported below
                errors[r] = e
                world.barrier.abort()

    threads = [threading.Thread(target=target, args=(r,), daemon=True) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if any(t.is_alive() for t in threads):
        raise TimeoutError(f"run_ranks: a rank did not finish within {timeout} s")
    real = [e for e in errors if e is not None and not isinstance(e, threading.BrokenBarrierError)]
    if real or any(errors):
        raise (real or [e for e in errors if e is not None])[0]
    return results
