"""Run by tests/test_distributed_bn.py under `mpiexec -n K`: models with
cross-replica BatchNorm (and, on the CPU emulator of the kernel backend,
KnetArrays) trained on shards and, on rank 0, the same global batches in one
process; writes out/<scenario>-<rank>.npz (or .txt) for the test to compare."""
import os
import sys

import numpy as np

from autograd import Param
from knetpy import KnetArray, adam, distributed as dist, nll
from knetpy.backends.emulator import emulated_backend
from knetpy import relu
from knetpy.layers import BatchNorm, Chain, Dense
from mpi_run import record_failure

OUT = sys.argv[1]
comm = dist.init()
R, K = comm.rank, comm.size
# global batch sizes: uneven shards; 2 leaves rank 2 empty for K = 3 (BatchNorm needs 2 values)
SIZES = [9, 7, 2, 3, 8, 5]


def batches(seed, wrap=lambda a: a):
    r = np.random.default_rng(seed)
    return [(wrap(r.standard_normal((n, 4)) * 2 + 1), r.integers(0, 3, n)) for n in SIZES]


class Net:
    """Dense -> BatchNorm(comm) -> relu -> Dense -> BatchNorm(comm) -> Dense; float64."""

    def __init__(self, comm, fail_at=None):
        self.fail_at, self.calls = fail_at, 0
        kw = dict(dtype=np.float64)
        # no bias before a BatchNorm: its true gradient is 0, and Adam would turn the
        # rounding noise of that 0 into full-size steps
        self.a = Chain(Dense(4, 6, use_bias=False, **kw),
                       BatchNorm(6, relu, comm=comm, dtype=np.float64))
        self.b = Chain(Dense(6, 5, use_bias=False, **kw), BatchNorm(5, comm=comm, momentum=0.3,
                                                    dtype=np.float64), Dense(5, 3, **kw))

    def __call__(self, x):
        h = self.a(x)
        self.calls += 1
        if self.fail_at == self.calls:           # between the two BatchNorms of a step
            raise RuntimeError("GPU melted")
        return self.b(h)


def state(net):
    bns = [net.a[1], net.b[1]]
    out = {f"p{i}": np.asarray(p.value) for i, p in enumerate(dist._params(net))}
    for j, bn in enumerate(bns):
        for k, v in vars(bn).items():
            if "running" in k or k in ("mean", "var"):
                out[f"bn{j}-{k}"] = np.asarray(v)
    return out


def run(name, loss_kind, seed):
    def train(model_comm, data, data_comm):
        from knetpy import seed as kseed
        kseed(seed + (R if data_comm is not None else 0))    # ranks start apart: broadcast
        net = Net(model_comm)
        if loss_kind == "nll":                    # raises on an empty shard: weight 0
            f = lambda x, y: nll(net(x), y)       # noqa: E731
        else:                                     # a mean that an empty shard can take
            f = lambda x, y: np.sum(np.tanh(net(x)) * (y[:, None] - 1.0)) / max(len(y), 1)  # noqa
        losses = [float(v) for v in adam(f, data, comm=data_comm, lr=0.05)]
        return net, losses
    net, losses = train(comm, comm.shard(batches(seed)), comm)
    np.savez(os.path.join(OUT, f"{name}-{R}.npz"), losses=losses, **state(net))
    if R == 0:
        ref, rl = train(None, batches(seed), None)
        np.savez(os.path.join(OUT, f"{name}-ref-0.npz"), losses=rl, **state(ref))


run("bn-nll", "nll", 1)
run("bn-mean", "mean", 2)


# the gradient exchange of KnetArrays on the emulated device, direct and staged
def emu(name, direct):
    be = emulated_backend()
    wrap = lambda a: KnetArray._of(np.ascontiguousarray(a), be)   # noqa: E731
    r = np.random.default_rng(3)
    w0, b0 = r.standard_normal((3, 4)), r.standard_normal(3)

    def train(c, data):
        w, b = Param(wrap(w0 + (R if c else 0))), Param(wrap(b0.copy()))
        losses = [float(v) for v in adam(lambda x, y: nll(x @ w.T + b, y), data, comm=c,
                                         lr=0.05)]
        return {"w": w.value.to_numpy(), "b": b.value.to_numpy(), "losses": losses,
                "kinds": [type(w.value).__name__, type(w.value.data).__name__]}
    comm.device_direct, before = direct, dict(comm.wire_bytes)
    got = train(comm, comm.shard(batches(4, wrap)))
    sent = {k: comm.wire_bytes[k] - before[k] for k in before}
    np.savez(os.path.join(OUT, f"{name}-{R}.npz"), w=got["w"], b=got["b"], losses=got["losses"])
    with open(os.path.join(OUT, f"{name}-wire-{R}.txt"), "w") as f:
        f.write(f"{sent['direct']} {sent['staged']} {' '.join(got['kinds'])}\n")
    if R == 0:
        ref = train(None, batches(4, wrap))
        np.savez(os.path.join(OUT, f"{name}-ref-0.npz"), w=ref["w"], b=ref["b"],
                 losses=ref["losses"])


emu("emu-direct", True)
emu("emu-staged", False)
comm.device_direct = False


def failing():
    from knetpy import seed as kseed
    kseed(5)
    net = Net(comm, fail_at=2 if R == 1 else None)
    for _ in adam(lambda x, y: nll(net(x), y), comm.shard(batches(5)), comm=comm):
        pass


record_failure(OUT, "bnfail", R, failing, dist.DistributedError)
print(f"rank {R} of {K}: done", flush=True)
