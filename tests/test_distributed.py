"""knetpy.distributed: the size-1 communicator here, and K = 2, 3 MPI ranks
(mpiexec from the venv, run as subprocesses) against one process, float64."""
import numpy as np
import pytest

from autograd import Param
from knetpy import adam, distributed as dist, minibatch, nll, update_
from knetpy.train import minimize
from mpi_run import (assert_every_rank_failed, assert_ranks_match_one_process, failures,
                     run_workers)


# ---------------------------------------------------------------- one process
def test_init_without_mpiexec_is_a_size_one_comm(monkeypatch):
    for v in dist._LAUNCH_VARS:
        monkeypatch.delenv(v, raising=False)
    c = dist.init()
    assert (c.rank, c.size, c.mpi) == (0, 1, None) and "single process" in repr(c)
    with pytest.raises(TypeError, match="mpi must be"):
        dist.init(mpi="yes")
    with pytest.raises(TypeError):
        dist.init(mpii=False)


def test_parts_are_contiguous_and_differ_by_at_most_one():
    for size in (1, 2, 3, 4):
        for n in (0, 1, 2, 5, 7, 12):
            parts = []
            for rank in range(size):
                c = dist.Comm(None)
                c.rank, c.size = rank, size
                parts.append(c.part(n))
            got = np.concatenate([np.arange(n)[s] for s in parts])
            assert got.tolist() == list(range(n))
            lens = [s.stop - s.start for s in parts]
            assert max(lens) - min(lens) <= 1 and lens == sorted(lens, reverse=True)


def test_shard_cuts_each_batch_and_keeps_the_epoch():
    c = dist.Comm(None)
    c.rank, c.size = 1, 3
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    d = c.shard(minibatch(x, y, 5))
    got = list(d)
    assert len(d) == 2 and [b[1].tolist() for b in got] == [[2, 3], [7, 8]]
    assert d.epoch == (1, None)
    with pytest.raises(ValueError, match="different numbers of instances"):
        list(c.shard([(np.ones(3), np.ones(4))]))
    with pytest.raises(TypeError, match="shard: data must be iterable"):
        c.shard(3)


def test_size_one_collectives_and_training_equal_no_comm():
    c = dist.init(mpi=False)
    a = np.arange(3.0)
    c.allreduce_([a, np.ones(2, np.float32)], op="mean")
    assert a.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="op must be"):
        c.allreduce_(a, op="prod")
    with pytest.raises(TypeError, match="expected a numpy array"):
        c.allreduce_(["x"])
    r = np.random.default_rng(0)
    x, y = r.standard_normal((20, 4)), r.integers(0, 3, 20)
    w0 = r.standard_normal((3, 4))
    runs = []
    for comm in (None, c):
        w = Param(w0.copy())
        runs.append(([float(v) for v in adam(lambda a, b: nll(a @ w.T, b),
                                              minibatch(x, y, 6), comm=comm)], w.value))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])
    w = np.ones(2)
    update_(w, np.ones(2), lr=0.5, comm=c, count=3)
    assert w.tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="count must be"):
        update_(w, np.ones(2), lr=0.5, comm=c, count=-1)
    with pytest.raises(TypeError, match="comm must be a communicator"):
        minimize(lambda: 0, [()], comm="world")


def test_a_failing_step_raises_distributed_error_naming_the_rank():
    c = dist.init(mpi=False)
    p = Param(np.ones(2))

    def f():
        raise RuntimeError("boom")
    with pytest.raises(dist.DistributedError, match="rank 0: RuntimeError: boom"):
        next(adam(lambda: f() + np.sum(p * p), [()], comm=c))
    assert p.value.tolist() == [1, 1] and p.opt is None


# ---------------------------------------------------------------- MPI ranks
@pytest.fixture(scope="module", params=[2, 3])
def ranks(request, tmp_path_factory):
    k = request.param
    out = tmp_path_factory.mktemp(f"mpi{k}")
    return k, out, run_workers("dist_worker.py", k, out, timeout=120)


@pytest.mark.parametrize("name", ["mlp", "mlp-momentum", "sparse", "update"])
def test_k_ranks_end_where_one_process_does(ranks, name):
    k, out, _ = ranks
    assert_ranks_match_one_process(out, name, k)


def test_sparse_gradients_travel_as_rows(ranks):
    k, out, _ = ranks
    for r in range(k):
        biggest_allreduce, steps, all_sparse = np.load(out / f"sparse-wire-{r}.npy")
        assert steps == 6 and all_sparse
        # only the dense (3, 4) weight and the step's 4 header slots; never the 10x4 table
        assert biggest_allreduce == 12 + 4


def test_a_failing_rank_fails_every_rank_in_that_step(ranks):
    k, out, took = ranks
    assert_every_rank_failed(out, "fail", k, "RuntimeError: disk on fire")
    assert took < 60


def test_a_shape_mismatch_is_found_at_the_first_broadcast_naming_the_param(ranks):
    k, out, _ = ranks
    for _, msg in failures(out, "shape", k):
        assert "the parameters differ across ranks" in msg and \
            "Param #0 (shape (3, 5)) at step 1 has shape (3, 5)" in msg and \
            "but shape (3, 4) dtype float64 on rank 0" in msg, msg
