"""MPI test workers, run for real: ``mpiexec`` from the venv starts K ranks of a
worker script as a subprocess (``run_workers``); a worker records how one of
its steps failed (``record_failure``) and the test reads every rank's record
(``failures``)."""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent


def mpiexec():
    """The venv's mpiexec (``pip install 'knetpy[mpi]'`` puts it beside python),
    else the one on PATH, else None."""
    exe = Path(sys.executable).parent / "mpiexec"
    return str(exe) if exe.exists() else shutil.which("mpiexec")


def mpiexec_or_skip():
    """mpiexec's path; skips the test without mpi4py or an mpiexec."""
    pytest.importorskip("mpi4py")
    exe = mpiexec()
    if exe is None:
        pytest.skip("no mpiexec (pip install 'knetpy[mpi]')")
    return exe


def worker_env():
    """The environment of an MPI run: one BLAS thread per rank, the project importable."""
    return dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))


def run_workers(worker, k, out, timeout, drop_env=()):
    """run_workers(worker, k, out, timeout): run ``tests/<worker>`` on k ranks,
    one BLAS thread each, writing into folder ``out``; skip without mpi4py or
    mpiexec; assert that every rank printed ``rank R of K: done``. Returns the
    wall seconds taken."""
    exe = mpiexec_or_skip()
    env = worker_env()
    for name in drop_env:
        env.pop(name, None)
    t0 = time.monotonic()
    res = subprocess.run([exe, "-n", str(k), sys.executable, str(HERE / worker), str(out)],
                         capture_output=True, text=True, timeout=timeout, env=env)
    took = time.monotonic() - t0
    assert res.returncode == 0, res.stdout + res.stderr
    done = re.findall(r"rank (\d+) of (\d+): done", res.stdout)   # lines of ranks may interleave
    assert sorted(done) == [(str(r), str(k)) for r in range(k)], res.stdout
    return took


def record_failure(out, name, rank, fn, error):
    """In a worker: run ``fn()`` and write ``<name>-<rank>.txt`` holding the
    seconds it took and ``error``'s message (``no error`` when none came)."""
    t0 = time.monotonic()
    try:
        fn()
        msg = "no error"
    except error as e:
        msg = f"{error.__name__}: {e}"
    with open(os.path.join(out, f"{name}-{rank}.txt"), "w") as f:
        f.write(f"{time.monotonic() - t0:.3f}\n{msg}\n")


def failures(out, name, k):
    """In a test: the (seconds, message) that ``record_failure`` wrote on each of k ranks."""
    records = [(Path(out) / f"{name}-{r}.txt").read_text().split("\n", 1) for r in range(k)]
    return [(float(seconds), msg) for seconds, msg in records]


def assert_ranks_match_one_process(out, name, k):
    """Each rank's ``<name>-<r>.npz`` holds the arrays of rank 0's one-process
    reference ``<name>-ref-0.npz`` within 1e-10, and the ranks agree exactly."""
    ref = np.load(Path(out) / f"{name}-ref-0.npz")
    first = np.load(Path(out) / f"{name}-0.npz")
    for r in range(k):
        got = np.load(Path(out) / f"{name}-{r}.npz")
        assert sorted(got.files) == sorted(ref.files)
        for key in ref.files:
            np.testing.assert_allclose(got[key], ref[key], rtol=0, atol=1e-10,
                                       err_msg=f"{name}: {key} on rank {r} of {k}")
            assert np.array_equal(got[key], first[key]), (name, key, r)   # ranks agree exactly


def assert_every_rank_failed(out, name, k, cause):
    """Every rank recorded (``record_failure``) that step 2 failed on rank 1 with
    ``cause``, within 5 seconds."""
    for seconds, msg in failures(out, name, k):
        assert msg.startswith(f"DistributedError: minimize: step 2 failed on 1 of {k} rank(s): "
                              f"rank 1: {cause}"), msg
        assert seconds < 5
