"""Data-parallel throughput: the MLP and LeNet on 1 rank vs 2 ranks (MPI).

Each configuration runs as ``mpiexec -n K python bench/distributed.py --worker``
with one BLAS thread per rank (OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1), on
the same global batches (random Fashion-MNIST-shaped data, batch 100 for the
MLP and 64 for LeNet, float32, Adam).  Reported: global steps per second
(after 3 warm-up steps), the speed-up of 2 ranks over 1, and the share of a
step that rank 0 spends in collectives (``comm.comm_seconds``).

    .venv/bin/python bench/distributed.py                  # needs pip install 'knetpy[mpi]'
    .venv/bin/python bench/distributed.py --steps 40 --ranks 1 2 3
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
    from knetpy import adam, distributed as dist
    comm = dist.init()
    model, data = model_and_data(name, steps)
    it = iter(adam(model, comm.shard(data), comm=comm, lr=1e-3))
    for _ in range(3):
        next(it)
    comm.comm_seconds = 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        next(it)
    wall = time.perf_counter() - t0
    if comm.rank == 0:
        print(json.dumps({"steps_per_s": steps / wall, "comm_share": comm.comm_seconds / wall}))


def run(name, k, steps):
    exe = Path(sys.executable).parent / "mpiexec"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
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
    o = p.parse_args()
    if o.worker:
        return worker(o.worker, o.steps)
    print(f"{'model':6} {'ranks':>5} {'steps/s':>8} {'speed-up':>8} {'comm share':>10}")
    for name in o.models:
        base = None
        for k in o.ranks:
            r = run(name, k, o.steps)
            base = base or r["steps_per_s"]
            print(f"{name:6} {k:5d} {r['steps_per_s']:8.2f} {r['steps_per_s'] / base:8.2f} "
                  f"{r['comm_share']:10.1%}")


if __name__ == "__main__":
    main()
