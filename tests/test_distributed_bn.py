"""Cross-replica BatchNorm and the device path of knetpy.distributed under
real MPI (mpiexec -n 2 and -n 3 from the venv, as subprocesses; see
tests/dist_bn_worker.py): K ranks on uneven shards, some empty, end with the
parameters, running statistics and losses of one process on the global
batches (float64, within 1e-10); KnetArrays of the kernel backend (CPU
emulator) cross the ranks as device buffers or staged through the host; a
rank failing between two BatchNorms of a step fails every rank within
seconds."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mpi_run import (assert_every_rank_failed, assert_ranks_match_one_process, mpiexec_or_skip,
                     run_workers, worker_env)

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module", params=[2, 3])
def ranks(request, tmp_path_factory):
    k = request.param
    out = tmp_path_factory.mktemp(f"mpibn{k}")
    took = run_workers("dist_bn_worker.py", k, out, timeout=180, drop_env=("KNETPY_MPI_CUDA_AWARE",))
    return k, out, took


@pytest.mark.parametrize("name", ["bn-nll", "bn-mean", "emu-direct", "emu-staged"])
def test_k_ranks_with_batchnorm_end_where_one_process_does(ranks, name):
    k, out, _ = ranks
    ref = np.load(out / f"{name}-ref-0.npz")
    if name.startswith("bn"):
        assert sum(key.startswith("bn") for key in ref.files) == 4    # both running stats
        assert len(ref["losses"]) == 6
    assert_ranks_match_one_process(out, name, k)


def test_device_arrays_go_direct_or_staged(ranks):
    k, out, _ = ranks
    for r in range(k):
        direct, staged, kind, data = (out / f"emu-direct-wire-{r}.txt").read_text().split()
        assert int(direct) > 0 and int(staged) == 0 and (kind, data) == ("KnetArray", "ndarray")
        direct, staged, *_ = (out / f"emu-staged-wire-{r}.txt").read_text().split()
        assert int(direct) == 0 and int(staged) > 0


def test_a_rank_failing_inside_a_batchnorm_step_fails_every_rank(ranks):
    k, out, took = ranks
    assert_every_rank_failed(out, "bnfail", k, "RuntimeError: GPU melted")
    assert took < 120


def test_mnist_mlp_distributed_example_trains_with_batchnorm_across_ranks(tmp_path):
    exe = mpiexec_or_skip()
    from test_examples import write_fake_mnist
    data = write_fake_mnist(tmp_path / "data")
    res = subprocess.run([exe, "-n", "2", sys.executable,
                          str(HERE.parent / "examples" / "mnist_mlp.py"), "--distributed",
                          "--data", str(data), "--epochs", "3", "--batchsize", "20",
                          "--hidden", "32", "--lr", "0.01", "--plot", ""],
                         capture_output=True, text=True, timeout=180, env=worker_env(), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("before training") == 1 and "2 rank(s)" in res.stdout  # rank 0 only
    acc = float(re.search(r"after 3 epochs: test accuracy ([0-9.]+)", res.stdout).group(1))
    assert acc >= 0.9, res.stdout
