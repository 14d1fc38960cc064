"""Cross-replica batch normalization: statistics and gradient sums across ranks.

``knetpy.ops.batchnorm`` calls these when given a communicator ``comm``
(``size``, ``rank`` and ``allreduce_(arrays, op="sum")``, e.g.
``knetpy.distributed.init()``):

- ``global_stats``: one collective; each rank writes its count, instances,
  mean and centered sum of squares (M2) into its own row of a table, the
  allreduce sums it (an all-gather, as PyTorch's SyncBatchNorm gathers mean,
  invstd and count) and every rank merges the rows in rank order with
  ``merge_moments`` (Chan et al.: ``M2 = sum M2_i + sum n_i (mean_i - mean)^2``),
  so all ranks hold the same global mean and variance bit for bit, accurate
  also when the mean is large against the spread;
- ``SyncGrads``: the backward, one collective of the packed per-channel sums
  of ``dy`` and ``dy * xhat``;
- ``Moments``/``merge_across_ranks``: the exact sums of ``update_averages``.

A rank with no instances takes part with count 0 and gets an empty output.
Gradients follow SPEC §10's count-weighted averaging: each rank's gradients
are those of its own mean loss, and ``sum_i (N_i/N) g_i`` (what the training
iterators with ``comm=`` compute, N_i the instances of rank i) is the
gradient of the global mean loss.  The statistics cross the ranks through
host memory (a few numbers per channel); the arrays stay on their device.
"""
import numbers

import numpy as np

from autograd.core import raw

from ..knetarray import run
from .device import chan_shape, host, like
from .normalization import cast, compute_dtype

__all__ = ["sync_comm", "merge_moments", "global_stats", "SyncGrads", "SyncInfo", "Moments",
           "merge_across_ranks"]


def sync_comm(comm, fname="batchnorm"):
    """sync_comm(comm, fname) -> ``comm`` when statistics must be gathered
    across ranks (a communicator of size > 1), None for None or a size-1
    communicator; TypeError naming ``fname`` for anything that is not a
    communicator (``size``, ``rank``, ``allreduce_``).

    >>> sync_comm(None) is None
    True
    """
    if comm is None:
        return None
    size, rank = getattr(comm, "size", None), getattr(comm, "rank", None)
    if not (isinstance(size, numbers.Integral) and isinstance(rank, numbers.Integral)
            and callable(getattr(comm, "allreduce_", None)) and 0 <= rank < size):
        raise TypeError(f"{fname}: comm must be a communicator with size, rank and "
                        f"allreduce_ (e.g. knetpy.distributed.init()), got "
                        f"{type(comm).__name__}")
    return comm if size > 1 else None


class SyncInfo:
    """The cross-replica facts of one batchnorm call: the communicator, this
    rank's instances, and the global instances and values per channel."""
    __slots__ = ("comm", "inst", "ninst", "n")

    def __init__(self, comm, inst, ninst, n):
        self.comm, self.inst, self.ninst, self.n = comm, inst, ninst, n


def merge_moments(counts, means, m2s):
    """merge_moments(counts, means, m2s) -> (n, mean, M2): the count, mean and
    centered sum of squares of the union of groups with ``counts`` (K,),
    ``means`` and ``m2s`` (K, C) (Chan et al.; groups of count 0 add nothing).

    >>> merge_moments(np.array([2.0, 2.0]), np.array([[1.0], [3.0]]), np.array([[2.0], [2.0]]))
    (4.0, array([2.]), array([8.]))
    """
    n = float(np.sum(counts))
    mean = counts @ means / n
    return n, mean, np.sum(m2s, axis=0) + counts @ (means - mean) ** 2


def global_stats(comm, xr, C, fname):
    """global_stats(comm, xr, C, fname) -> (mean, var, n, SyncInfo).

    One collective: every rank's (values, instances, mean, M2) in its own
    row of a table summed across ranks, merged in rank order on every rank.
    Returns (mean, biased variance) as float64 host arrays, the global values
    per channel and the _Sync of this call."""
    table = np.zeros((comm.size, 2 * C + 2))
    row = table[comm.rank]
    nloc = np.size(xr) // C if C else 0
    row[0], row[1] = nloc, np.shape(xr)[0]
    if nloc:
        mean, var = run("bn_stats", xr)
        row[2:C + 2] = host(mean)
        row[C + 2:] = host(var).astype(np.float64) * nloc
    comm.allreduce_([table])
    n, mean, m2 = merge_moments(table[:, 0], table[:, 2:C + 2], table[:, C + 2:])
    if n < 2:
        raise ValueError(f"{fname}: batch statistics (training) need more than one value per "
                         f"channel over all {comm.size} ranks, they hold {int(n)}")
    return mean, m2 / n, int(n), SyncInfo(comm, float(row[1]), float(table[:, 1].sum()), n)


class SyncGrads:
    """(dx, dgamma, dbeta) of a cross-replica batchnorm, indexable like the
    kernel's tuple.  The packed per-channel sums of ``dy`` and ``dy*xhat``,
    each weighted by its rank's instances, cross the ranks in one collective;
    dgamma and dbeta are this rank's own sums; dx is computed on demand:
    ``G * (dy - a - xhat * b)`` per channel with ``G = gamma/std`` and
    ``a, b`` the global weighted sums over (this rank's instances * values)."""

    def __init__(self, dy, x, gamma, mean, var, sync, eps):
        xr = raw(x)
        C = np.shape(xr)[1]
        dt = np.result_type(xr)
        sums = np.zeros((2, C))
        if np.size(xr):
            _, dgamma, dbeta = run("bn_backward", dy, x, mean, var, gamma, eps, need_dx=False)
            sums[0], sums[1] = host(dbeta), host(dgamma)
        else:
            dgamma = dbeta = like(np.zeros(C, dt), xr)
        packed = sums * sync.inst
        sync.comm.allreduce_([packed])
        self.parts = (dy, x, gamma, mean, var, eps)
        self.ab = packed / (sync.inst * sync.n) if sync.inst else None
        self.dgamma, self.dbeta, self._dx = dgamma, dbeta, None

    def _grad_x(self):
        dy, x, gamma, mean, var, eps = self.parts
        xr = raw(x)
        dt = np.result_type(xr)
        if self.ab is None:
            return like(np.empty(np.shape(xr), dt), xr)
        cd = compute_dtype(dt)
        shape = chan_shape(xr)
        inv = 1 / np.sqrt(host(var).astype(np.float64) + eps)
        G = inv if gamma is None else inv * host(gamma).astype(np.float64)
        a, b = self.ab
        dev = [like(np.reshape(v, shape).astype(cd), xr) for v in (G, -a * G, -b * G * inv)]
        m = like(np.reshape(host(mean), shape).astype(cd), xr)
        dx = cast(dy, cd) * dev[0] + dev[1] + (cast(x, cd) - m) * dev[2]
        return cast(dx, dt)

    def __getitem__(self, i):
        if i == 0:
            if self._dx is None:
                self._dx = self._grad_x()
            return self._dx
        return self.dgamma if i == 1 else self.dbeta


class Moments:
    """Moments(C): exact per-channel count, mean and M2 (sum of squared
    deviations) merged batch by batch (Chan et al.), in float64.

    >>> m = Moments(1); m.add(np.array([[1.0], [3.0]])); m.n, m.mean, m.m2
    (2, array([2.]), array([2.]))
    """

    def __init__(self, C):
        self.n = 0
        self.mean = np.zeros(C)
        self.m2 = np.zeros(C)

    def add(self, xr):
        """add(xr): merge the values of ``xr`` (channels on axis 1) in."""
        x = host(xr).astype(np.float64)
        nb = x.size // xr.shape[1]
        if nb == 0:              # a rank without instances (cross-replica)
            return
        x3 = x.reshape(xr.shape[0], xr.shape[1], -1)
        mb = x3.mean(axis=(0, 2))
        m2b = ((x3 - mb[:, None]) ** 2).sum(axis=(0, 2))
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2b + delta ** 2 * (self.n * nb / n)
        self.n = n


def merge_across_ranks(pairs):
    """merge_across_ranks(pairs): for each ``(comm, Moments)`` of ``pairs`` with
    a communicator of size > 1, replace the Moments by the merge of every
    rank's; one collective per communicator (each Moments' (n, mean, M2) in
    this rank's row of a table, then the same rank-order merge on every rank).
    Every rank must pass the same communicators in the same order.

    >>> m = Moments(1); merge_across_ranks([(None, m)]); m.n
    0
    """
    groups = {}
    for comm, m in pairs:
        comm = sync_comm(comm, "update_averages")
        if comm is not None:
            groups.setdefault(id(comm), (comm, []))[1].append(m)
    for comm, moments in groups.values():
        _merge_group(comm, moments)


def _merge_group(comm, moments):
    width = sum(2 * m.mean.size + 1 for m in moments)
    table = np.zeros((comm.size, width))
    at = 0
    for m in moments:
        C = m.mean.size
        table[comm.rank, at:at + 2 * C + 1] = np.concatenate([[m.n], m.mean, m.m2])
        at += 2 * C + 1
    comm.allreduce_([table])
    at = 0
    for m in moments:
        C = m.mean.size
        counts = table[:, at]
        if counts.sum() > 0:
            m.n, m.mean, m.m2 = merge_moments(counts, table[:, at + 1:at + C + 1],
                                              table[:, at + C + 1:at + 2 * C + 1])
        else:
            m.n = 0
        at += 2 * C + 1
