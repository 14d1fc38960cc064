"""Data-parallel throughput: the MLP and LeNet on 1 rank vs 2 ranks (MPI).

Each configuration runs as ``mpiexec -n K python bench/distributed.py --worker``
with one BLAS thread per rank (OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1), on
the same global batches (random Fashion-MNIST-shaped data, batch 100 for the
MLP and 64 for LeNet, float32, Adam).  Reported: global steps per second
(after 3 warm-up steps), the speed-up of 2 ranks over 1, the share of a
step that rank 0 spends inside MPI calls (``comm.comm_seconds``: the wire and
the wait for the slower rank) and in the whole gradient exchange (packing
included), the MPI calls per step and the elements of the largest
Allreduce, and that Allreduce timed alone after a barrier (the wire cost
without the wait).  The load average is printed first: the machine is shared.

    .venv/bin/python bench/distributed.py                  # needs pip install 'knetpy[mpi]'
    .venv/bin/python bench/distributed.py --steps 40 --ranks 1 2 3
    .venv/bin/python bench/distributed.py --yield          # MPICH yields instead of spinning
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def model_and_data(name, steps):
    sys.path.insert(0, str(ROOT / "examples"))
    from knetpy import seed
    seed(0)
    r = np.random.default_rng(0)
    if name == "mlp":
        from mnist_mlp import Chain, Dense, identity
        model, bs = Chain(Dense(784, 256), Dense(256, 10, identity)), 100
    else:
        from lenet import lenet
        model, bs = lenet(pdrop=0.0), 64
    data = [(r.random((bs, 1, 28, 28), dtype=np.float32), r.integers(0, 10, bs))
            for _ in range(steps + 3)]
    return model, data


def worker(name, steps):
    from mpi4py import MPI
    from knetpy import adam, distributed as dist
    comm = dist.init()
    model, data = model_and_data(name, steps)
    it = iter(adam(model, comm.shard(data), comm=comm, lr=1e-3))
    for _ in range(3):
        next(it)
    calls = []                                  # (MPI call, elements) of the timed steps
    timed = comm._timed

    def counting(fn, *a):
        calls.append((getattr(fn, "__name__", "?"),
                      sum(x.size for x in a if isinstance(x, np.ndarray))))
        return timed(fn, *a)
    comm._timed = counting
    exchange = comm.exchange_grads
    ex = [0.0]

    def timed_exchange(*a, **kw):
        t = time.perf_counter()
        try:
            return exchange(*a, **kw)
        finally:
            ex[0] += time.perf_counter() - t
    comm.exchange_grads = timed_exchange
    if comm.size > 1:
        comm.mpi.Barrier()
    comm.comm_seconds = 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        next(it)
    wall = time.perf_counter() - t0
    comm._timed = timed
    # the same Allreduce alone (ranks lined up by a barrier first): the wire cost
    biggest = max((n for f, n in calls if f == "Allreduce"), default=0)
    alone = 0.0
    if comm.size > 1 and biggest:
        buf = np.zeros(biggest, np.float32)
        for _ in range(3):
            comm.mpi.Allreduce(MPI.IN_PLACE, buf)
        reps = 20
        for _ in range(reps):
            comm.mpi.Barrier()
            t = time.perf_counter()
            comm.mpi.Allreduce(MPI.IN_PLACE, buf)
            alone += (time.perf_counter() - t) / reps
    if comm.rank == 0:
        per = {f: sum(1 for g, _ in calls if g == f) / steps for f, _ in calls}
        print(json.dumps({"steps_per_s": steps / wall, "comm_share": comm.comm_seconds / wall,
                          "exchange_share": ex[0] / wall, "calls_per_step": per,
                          "allreduce_elems": biggest, "allreduce_alone_ms": alone * 1e3,
                          "step_ms": wall / steps * 1e3}))


YIELD = False


def run(name, k, steps):
    exe = Path(sys.executable).parent / "mpiexec"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if YIELD:                    # MPICH: a waiting rank yields its core instead of spinning
        env.update(MPIR_CVAR_ENABLE_HEAVY_YIELD="1", MPIR_CVAR_POLLS_BEFORE_YIELD="100")
    out = subprocess.run([str(exe), "-n", str(k), sys.executable, __file__, "--worker", name,
                          "--steps", str(steps)], capture_output=True, text=True, env=env,
                         timeout=1800)
    if out.returncode:
        raise RuntimeError(out.stdout + out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--worker")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--models", nargs="+", default=["mlp", "lenet"])
    p.add_argument("--yield", dest="yield_", action="store_true",
                   help="MPICH: waiting ranks yield the core (for oversubscribed machines)")
    o = p.parse_args()
    global YIELD
    YIELD = o.yield_
    if o.worker:
        return worker(o.worker, o.steps)
    print(f"load average {os.getloadavg()[0]:.2f} (this machine has {os.cpu_count()} cores)")
    print(f"{'model':6} {'ranks':>5} {'steps/s':>8} {'speed-up':>8} {'in MPI':>7} "
          f"{'exchange':>8} {'step ms':>8} {'Allreduce':>9} {'alone ms':>8}  calls/step")
    for name in o.models:
        base = None
        for k in o.ranks:
            r = run(name, k, o.steps)
            base = base or r["steps_per_s"]
            calls = ", ".join(f"{f} {n:g}" for f, n in r["calls_per_step"].items())
            print(f"{name:6} {k:5d} {r['steps_per_s']:8.2f} {r['steps_per_s'] / base:8.2f} "
                  f"{r['comm_share']:7.1%} {r['exchange_share']:8.1%} {r['step_ms']:8.2f} "
                  f"{r['allreduce_elems']:9d} {r['allreduce_alone_ms']:8.3f}  {calls or '-'}")


if __name__ == "__main__":
    main()
