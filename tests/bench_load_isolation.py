"""Cost of parsing a checkpoint in an isolated child (issue 13).

    .venv/bin/python tests/bench_load_isolation.py

Loads a small and a 100 MB checkpoint as this user's own file (keyed header:
parsed in-process) and as a foreign file (same bytes, header without the
key's hmac: parsed in a forked child, or a fresh interpreter with
KNETPY_ISOLATION=spawn); prints the median of 5 loads each.
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def median_time(fn, n=5):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    d = tempfile.mkdtemp()
    os.environ["KNETPY_KEY_DIR"] = os.path.join(d, "key")
    import knetpy
    import knetpy.layers as L
    from checkpoint_attacks import reseal
    knetpy.seed(0)
    small = L.Chain(L.Dense(784, 64, knetpy.relu), L.Dense(64, 10))
    big = [np.random.default_rng(k).standard_normal(2_500_000).astype(np.float32)
           for k in range(10)]                              # 10 x 10 MB
    rows = []
    for label, value in (("small (Dense 784-64-10)", small), ("100 MB (10 arrays)", big)):
        own = os.path.join(d, "own.h5")
        knetpy.save(own, model=value)
        foreign = os.path.join(d, "foreign.h5")
        shutil.copy(own, foreign)
        reseal(foreign)
        size = os.path.getsize(own)
        t_own = median_time(lambda: knetpy.load(own))
        t_fork = median_time(lambda: knetpy.load(foreign))
        os.environ["KNETPY_ISOLATION"] = "spawn"
        t_spawn = median_time(lambda: knetpy.load(foreign))
        del os.environ["KNETPY_ISOLATION"]
        rows.append((label, size, t_own, t_fork, t_spawn))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'checkpoint':26s} {'bytes':>11s} {'own':>8s} {'foreign/fork':>13s} "
          f"{'foreign/spawn':>14s}")
    for label, size, a, b, c in rows:
        print(f"{label:26s} {size:11,d} {a * 1e3:6.0f}ms {b * 1e3:11.0f}ms {c * 1e3:12.0f}ms")
    shutil.rmtree(d)


if __name__ == "__main__":
    main()
