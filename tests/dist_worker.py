"""Run by tests/test_distributed.py under `mpiexec -n K`: trains on shards and,
on rank 0, the same global batches in one process; writes out/<scenario>-<rank>.npz
(or .txt for errors) for the test to compare."""
import os
import sys

import numpy as np

from autograd import Param
from knetpy import adam, distributed as dist, grad, diff, momentum, nll, update_, Adam
from mpi_run import record_failure

OUT = sys.argv[1]
comm = dist.init()
R, K = comm.rank, comm.size
SIZES = [5, 7, 1, 2, 0, 10, 3]            # global batch sizes: uneven, empty shards, empty batch


def batches(seed, ids=False):
    r = np.random.default_rng(seed)
    out = []
    for n in SIZES:
        if n == 0:
            continue
        x = r.integers(0, 10, n) if ids else r.standard_normal((n, 4))
        out.append((x, r.integers(0, 3, n)))
    return out


class MLP:
    def __init__(self, seed, shape=(3, 4)):
        r = np.random.default_rng(seed)
        self.w = Param(r.standard_normal(shape))
        self.b = Param(r.standard_normal(shape[0]))

    def __call__(self, x, y):
        return nll(x @ self.w.T + self.b, y)


class Embed:
    def __init__(self, seed):
        r = np.random.default_rng(seed)
        self.e = Param(r.standard_normal((10, 4)))
        self.w = Param(r.standard_normal((3, 4)))

    def __call__(self, ids, y):
        return nll(self.e[ids] @ self.w.T, y)


def save(name, model, losses, **extra):
    np.savez(os.path.join(OUT, f"{name}-{R}.npz"), losses=np.array(losses),
             **{k: np.asarray(v.value) for k, v in vars(model).items()}, **extra)


def train(name, make, data, opt, **kw):
    model = make(R)                      # different values on every rank: the broadcast fixes that
    losses = [float(v) for v in opt(model, comm.shard(data), comm=comm, **kw)]
    save(name, model, losses)
    if R == 0:                           # the reference: one process on the global batches
        ref = make(0)
        save(name + "-ref", ref, [float(v) for v in opt(ref, data, **kw)])


train("mlp", MLP, batches(1), adam, lr=0.05)
train("mlp-momentum", MLP, batches(2), momentum, lr=0.1)

# sparse: the embedding's gradient stays rows on the wire
sent = []
timed = comm._timed
comm._timed = lambda fn, *a: (sent.append(sum(x.size for x in a if isinstance(x, np.ndarray))
                                           if getattr(fn, "__name__", "") == "Allreduce" else 0),
                              timed(fn, *a))[1]
kinds = []
exchange = comm.exchange_grads
comm.exchange_grads = lambda *a: (lambda out: (kinds.append(
    [type(x).__name__ for x in out[0]]), out)[1])(exchange(*a))
train("sparse", Embed, batches(3, ids=True), adam, lr=0.05)
comm._timed, comm.exchange_grads = timed, exchange
np.save(os.path.join(OUT, f"sparse-wire-{R}.npy"), np.array([max(sent), len(kinds),
                                                              all(k[0] == "Sparse" for k in kinds)]))

# update_ with comm= in a hand-written loop, count-weighted
model = MLP(R)
comm.broadcast_([model.w, model.b])
losses = []
for x, y in batches(4):
    xs, ys = comm.shard([(x, y)]).__iter__().__next__()
    n = len(xs)
    if n:
        l = diff(model, xs, ys)
        gs = [grad(l, model.w), grad(l, model.b)]
    else:
        gs = [np.zeros((3, 4)), np.zeros(3)]
    update_([model.w, model.b], gs, [Adam(lr=0.05), Adam(lr=0.05)] if not losses else None,
            comm=comm, count=n)
    losses.append(0.0)
save("update", model, losses)
if R == 0:
    ref = MLP(0)
    first = True
    for x, y in batches(4):
        l = diff(ref, x, y)
        update_([ref.w, ref.b], [grad(l, ref.w), grad(l, ref.b)],
                [Adam(lr=0.05), Adam(lr=0.05)] if first else None)
        first = False
    save("update-ref", ref, losses)


def failing():
    model = MLP(0)

    def f(x, y):
        if R == 1 and it.steps == 1:
            raise RuntimeError("disk on fire")
        return model(x, y)
    it = adam(f, comm.shard(batches(5)), comm=comm)
    for _ in it:
        pass


def mismatched():
    model = MLP(0, shape=(3, 4) if R != 1 else (3, 5))
    data = [(np.ones((4, 4 if R != 1 else 5)), np.zeros(4, int))]
    for _ in adam(model, comm.shard(data), comm=comm):
        pass


record_failure(OUT, "fail", R, failing, dist.DistributedError)
record_failure(OUT, "shape", R, mismatched, dist.DistributedError)
print(f"rank {R} of {K}: done")
