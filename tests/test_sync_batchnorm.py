"""Cross-replica batch normalization (SPEC §10): K ranks (tests/fake_comm.py,
threads and a barrier) on shards of one global batch, uneven and empty ones
included, give the outputs, gradients and running statistics of one process
on the whole batch (float64, within 1e-10), through Knet's ``batchnorm``,
LuxLib's ``knetpy.layers.batchnorm``, the ``BatchNorm`` layer and
``update_averages``, on the numpy backend and on the kernel backend (CPU
emulator).  Gradients follow the count-weighted convention: rank i's
gradients times N_i/N, summed over the ranks, are the one-process gradients
of the global mean loss."""
import numpy as np
import pytest

import knetpy
import knetpy.layers as L
from autograd import Param, diff, gcheck, grad
from autograd.core import _raw
from fake_comm import run_ranks
from knetpy import KnetArray
from knetpy.backends.emulator import emulated_backend
from knetpy.layers import BatchNorm, Chain, Dense, trainmode, update_averages

N, C = 7, 3
rng = np.random.default_rng(0)
X = rng.standard_normal((N, C, 2, 2)) * 2 + 1.5
R = rng.standard_normal(X.shape)
G0, B0 = rng.standard_normal(C) + 1, rng.standard_normal(C)
RM0, RV0 = rng.standard_normal(C), rng.random(C) + 0.5

SHARDS = [[7], [4, 3], [7, 0], [0, 7], [3, 2, 2], [0, 5, 2], [1, 0, 6], [6, 1, 0]]
TOL = 1e-10


def rows(sizes, r):
    off = np.cumsum([0] + list(sizes))
    return slice(off[r], off[r + 1])


def loss_of(y, sl, n):
    """A mean over instances of a per-instance loss (n = instances here)."""
    return np.sum(np.tanh(y) * R[sl]) / max(n, 1)


def host(a):
    a = _raw(a)
    return a.to_numpy() if isinstance(a, KnetArray) else np.asarray(a)


# ------------------------------------------------------------------ the three entry points
def run_knet(x, comm, sl, n, wrap=lambda a: a):
    """Knet's batchnorm(x, moments, params, comm=): (y, dx, dparams, (rm, rv))."""
    m = knetpy.bnmoments(momentum=0.3, mean=wrap(RM0.copy()), var=wrap(RV0.copy()))
    xp, p = Param(wrap(x.copy())), Param(wrap(np.concatenate([G0, B0])))
    out = {}

    def f():
        y = knetpy.batchnorm(xp, m, p, comm=comm)
        out["y"] = host(y)
        return loss_of(y, sl, n)
    t = diff(f)
    dp = host(grad(t, p))
    return out["y"], host(grad(t, xp)), dp[:C], dp[C:], (host(m.mean), host(m.var))


def run_lux(x, comm, sl, n):
    """LuxLib's batchnorm(x, scale, bias, running_mean, running_var, comm=)."""
    xp, g, b = Param(x.copy()), Param(G0.copy()), Param(B0.copy())
    out = {}

    def f():
        y, st = L.batchnorm(xp, g, b, RM0.copy(), RV0.copy(), training=True, momentum=0.3,
                            comm=comm)
        out["y"], out["st"] = host(y), st
        return loss_of(y, sl, n)
    t = diff(f)
    st = out["st"]
    return out["y"], grad(t, xp), grad(t, g), grad(t, b), (st.running_mean, st.running_var)


def run_layer(x, comm, sl, n):
    """BatchNorm(C, comm=comm) in training."""
    bn = BatchNorm(C, momentum=0.3, dtype=np.float64, comm=comm)
    bn.scale.value[:], bn.bias.value[:] = G0, B0
    bn.running_mean[:], bn.running_var[:] = RM0, RV0
    xp = Param(x.copy())
    out = {}

    def f():
        y = bn(xp)
        out["y"] = host(y)
        return loss_of(y, sl, n)
    t = diff(f)
    return out["y"], grad(t, xp), grad(t, bn.scale), grad(t, bn.bias), \
        (bn.running_mean, bn.running_var)


ENTRIES = {"knet": run_knet, "lux": run_lux, "layer": run_layer}


def compare(sizes, entry, **kw):
    """Run ``entry`` on one process and on len(sizes) ranks; check everything."""
    y0, dx0, dg0, db0, (rm0, rv0) = entry(X, None, slice(None), N, **kw)
    K = len(sizes)

    def rank(comm):
        r = comm.rank
        sl, n = rows(sizes, r), sizes[r]
        res = entry(X[sl], comm, sl, n, **kw)
        return res, comm.calls, n / N
    got = run_ranks(K, rank)
    ys = np.concatenate([g[0][0] for g in got])
    np.testing.assert_allclose(ys, y0, rtol=0, atol=TOL)
    dx = np.concatenate([w * np.asarray(g[1]) for g, _, w in got])
    np.testing.assert_allclose(dx, dx0, rtol=0, atol=TOL)
    for i, want in ((2, dg0), (3, db0)):
        total = sum(w * np.asarray(g[i]) for g, _, w in got)
        np.testing.assert_allclose(total, want, rtol=0, atol=TOL)
    for (res, _, _) in got:                 # the same running statistics on every rank ...
        rm, rv = res[4]
        np.testing.assert_array_equal(rm, got[0][0][4][0])
        np.testing.assert_array_equal(rv, got[0][0][4][1])
        np.testing.assert_allclose(rm, rm0, rtol=0, atol=TOL)   # ... equal to one process's
        np.testing.assert_allclose(rv, rv0, rtol=0, atol=TOL)
    # one collective forward and one backward (none with a size-1 communicator)
    assert [c for _, c, _ in got] == [2 if K > 1 else 0] * K
    return got


@pytest.mark.parametrize("sizes", SHARDS, ids=[str(s) for s in SHARDS])
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_ranks_equal_one_process(entry, sizes):
    got = compare(sizes, ENTRIES[entry])
    for (res, _, _), n in zip(got, sizes):
        assert res[0].shape == (n, C, 2, 2)                     # empty rank: empty output
        assert np.asarray(res[1]).shape == (n, C, 2, 2)


def test_packed_buffers_are_small():
    """The forward collective carries one row per rank of (count, instances,
    mean, M2); the backward the 2C packed sums of dy and dy*xhat."""
    def rank(comm):
        run_lux(X[rows([4, 3], comm.rank)], comm, rows([4, 3], comm.rank), 4)
        return comm.sizes
    for sizes in run_ranks(2, rank):
        assert sizes == [2 * (2 * C + 2), 2 * C]


def test_kernel_backend_ranks_equal_one_process():
    be = emulated_backend(block=64, max_blocks=4)

    def wrap(a):
        return KnetArray._of(np.ascontiguousarray(a), be)
    got = compare([3, 0, 4], run_knet, wrap=wrap)
    assert all(g[0][0].dtype == np.float64 for g in got)


def test_float32_ranks_close_to_one_process():
    x32 = X.astype(np.float32)

    def rank(comm):
        sl = rows([2, 5], comm.rank)
        y, st = L.batchnorm(x32[sl], G0.astype(np.float32), B0.astype(np.float32),
                            RM0.astype(np.float32), RV0.astype(np.float32), training=True,
                            comm=comm)
        return y, st
    got = run_ranks(2, rank)
    y0, st0 = L.batchnorm(x32, G0.astype(np.float32), B0.astype(np.float32),
                          RM0.astype(np.float32), RV0.astype(np.float32), training=True)
    y = np.concatenate([g[0] for g in got])
    assert y.dtype == np.float32 and got[0][1].running_mean.dtype == np.float32
    np.testing.assert_allclose(y, y0, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got[0][1].running_var, got[1][1].running_var)
    np.testing.assert_allclose(got[0][1].running_var, st0.running_var, rtol=1e-5)


@pytest.mark.parametrize("sizes", [[4, 3], [3, 0, 4]])
def test_gcheck_through_the_synced_op(sizes):
    """Rank r checks its x, scale and bias with gcheck while the others hold
    still: rank r's loss is Phi/w_r with Phi = sum_j w_j f_j (the others' part
    arrives through a collective as a constant), whose derivative is what the
    count-weighted convention gives rank r."""
    K = len(sizes)

    def rank(comm, checker):
        r = comm.rank
        sl, n = rows(sizes, r), sizes[r]
        w = n / N
        x, g, b = Param(X[sl].copy()), Param(G0.copy()), Param(B0.copy())

        def loss():
            y, _ = L.batchnorm(x, g, b, training=True, comm=comm)
            f = loss_of(y, sl, n)
            phi = np.array([w * float(_raw(f))])
            comm.allreduce_([phi])
            return f + (phi[0] - w * float(_raw(f))) / w if w > 0 else f
        if r == checker:
            return gcheck(loss, nsample=10, rtol=1e-5, atol=1e-8)
        diff(loss)                            # the checker's first diff (two collectives)
        sizes_r = [sizes[checker] * C * 4, C, C]
        for _ in range(2 * sum(min(s, 10) for s in sizes_r)):
            loss()                            # the checker's central differences
        return True
    for checker in range(K):
        assert all(run_ranks(K, lambda comm: rank(comm, checker)))


def test_layer_update_averages_across_ranks():
    """update_averages with BatchNorm(comm=): every rank ends with the exact
    statistics of all ranks' data, equal to one process's."""
    data = [rng.standard_normal((7, 4)) * 3 + 2 for _ in range(3)]

    def model(comm):
        knetpy.seed(1)
        return Chain(Dense(4, 3, dtype=np.float64), BatchNorm(3, dtype=np.float64, comm=comm))
    m0 = model(None)
    update_averages(m0, data)
    want = m0[1].running_mean, m0[1].running_var
    sizes = [2, 0, 5]

    def rank(comm):
        m = model(comm)
        update_averages(m, [d[rows(sizes, comm.rank)] for d in data])
        return m[1].running_mean, m[1].running_var, comm.calls
    for rm, rv, calls in run_ranks(3, rank):
        np.testing.assert_allclose(rm, want[0], rtol=0, atol=TOL)
        np.testing.assert_allclose(rv, want[1], rtol=0, atol=TOL)
        assert calls == len(data) + 1     # one per batch forward, one to merge the sums


def test_layer_trains_on_a_one_instance_shard_and_errors():
    def rank(comm):
        bn = trainmode(BatchNorm(C, dtype=np.float64, comm=comm))
        return bn(X[rows([1, 1], comm.rank), :, 0, 0]).shape       # two instances in all
    assert run_ranks(2, rank) == [(1, C), (1, C)]

    def lonely(comm):                     # one value per channel over both ranks
        return L.batchnorm(X[rows([1, 0], comm.rank), :, 0, 0], training=True, comm=comm)
    with pytest.raises(ValueError, match="more than one value per channel over all 2 ranks"):
        run_ranks(2, lonely)
    with pytest.raises(TypeError, match="comm must be a communicator"):
        L.batchnorm(X, training=True, comm="world")
    with pytest.raises(TypeError, match="comm must be a communicator"):
        BatchNorm(3, comm=object())


def test_comm_is_not_saved_and_size_one_is_the_plain_op(tmp_path):
    def rank(comm):
        bn = BatchNorm(C, comm=comm)
        knetpy.save(str(tmp_path / "bn.h5"), model=bn)
        back = knetpy.load(str(tmp_path / "bn.h5"), "model")
        return bn.comm is comm, back.comm is None, "comm=1 ranks" in repr(bn)
    assert run_ranks(1, rank) == [(True, True, True)]
    y1 = run_ranks(1, lambda comm: L.batchnorm(X, G0, B0, training=True, comm=comm)[0])[0]
    np.testing.assert_array_equal(y1, L.batchnorm(X, G0, B0, training=True)[0])


def test_higher_order_through_synced_op_is_a_clear_error():
    def rank(comm):
        x = Param(X[rows([4, 3], comm.rank)].copy())
        g1 = grad(lambda v: np.sum(L.batchnorm(v, training=True, comm=comm)[0] ** 3))
        return grad(lambda v: np.sum(g1(v)))(x)
    with pytest.raises(NotImplementedError, match="higher-order gradients"):
        run_ranks(2, rank)
