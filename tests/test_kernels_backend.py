"""The Backend contract: every method exists on every backend, and the new
device paths (N-D pooling with its NaN/alpha/padding rules, 3-D
im2col/col2im and 5-D convolution, scatter_add, the dropout mask, RNN cells,
optimizer updates) computed by the kernels on the CPU emulator match the
numpy backend."""
import inspect

import numpy as np
import pytest

from knetpy import backends
from knetpy.backends import Backend, numpy_backend as nb
from knetpy.backends.emulator import emulated_backend
from knetpy.backends.kernel_backend import KernelBackend
from numeric_refs import DTYPES, kernel_close, rnd


@pytest.fixture(scope="module")
def be():
    return emulated_backend(block=64, max_blocks=4)


def close(dt):
    return kernel_close(dt, 3e-5)


CONTRACT = """owns asarray copy to_numpy unary binary reduce matmul call activation_back
softmax logsoftmax logsumexp nll_forward nll_backward bn_stats bn_forward bn_backward
dropout_mask dropout dropback lstm lstmback gru gruback im2col col2im conv_forward
conv_backward_w conv_backward_x pool poolback poolgather sgd_ momentum_ nesterov_ adagrad_
rmsprop_ adadelta_ adam_ scatter_add""".split()


def test_every_backend_has_the_whole_contract(be):
    assert isinstance(nb, Backend) and isinstance(be, Backend) and backends.of(np.ones(1)) is nb
    assert nb.device_kernels is False and be.device_kernels is True and nb.xp is np
    for name in CONTRACT:
        for b in (nb, be):
            assert callable(getattr(b, name)), (b, name)
        assert inspect.getdoc(getattr(Backend, name)), name
    # overrides keep the base signature (names and defaults of the parameters)
    for name in CONTRACT:
        if name in vars(KernelBackend) or any(name in vars(c) for c in KernelBackend.__mro__[1:4]):
            base = inspect.signature(getattr(Backend, name))
            assert inspect.signature(getattr(KernelBackend, name)) == base, name


# ----------------------------------------------------------------- pooling
POOL_CASES = [  # x shape, window, padding, stride
    ((2, 3, 6, 8), 2, 0, None), ((1, 2, 7, 7), 3, 1, 2), ((2, 1, 5, 9), (2, 3), (1, 2), (1, 2)),
    ((1, 2, 4, 5, 6), 2, 0, None), ((2, 1, 5, 4, 7), (3, 2, 3), (1, 0, 1), (2, 1, 2)),
    ((1, 1, 3, 3, 3), 3, 1, 1),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_matches_numpy_backend(be, case, mode, dt):
    shape, k, p, s = case
    x = rnd(shape, dt)
    for alpha in (1, 2.5):
        o = dict(window=k, padding=p, stride=s, mode=mode, alpha=alpha)
        y = be.pool(x, **o)
        np.testing.assert_allclose(y, nb.pool(x, **o), **close(dt))
        assert y.dtype == dt
        dy = rnd(y.shape, dt, 1)
        np.testing.assert_allclose(be.poolback(x, y, dy, **o), nb.poolback(x, y, dy, **o),
                                   **close(dt))
        if mode == 0:
            g = rnd(shape, dt, 2)
            o.pop("mode")
            np.testing.assert_allclose(be.poolgather(g, x, **o), nb.poolgather(g, x, **o),
                                       **close(dt))


def test_max_pool_ties_nans_and_float16(be):
    x = np.zeros((1, 1, 4, 4))                # ties: the first cell of each window wins
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 2:, 2:] = np.nan                  # a window of NaNs only
    dy = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    for nanprop in (False, True):
        o = dict(window=2, nan_propagate=nanprop)
        y = be.pool(x, **o)
        np.testing.assert_array_equal(y, nb.pool(x, **o))
        assert np.isnan(y[0, 0, 1, 1]) and np.isnan(y[0, 0, 0, 0]) == nanprop
        np.testing.assert_array_equal(be.poolback(x, y, dy, **o), nb.poolback(x, y, dy, **o))
        np.testing.assert_array_equal(be.poolgather(x + 1, x, **o), nb.poolgather(x + 1, x, **o))
    h = rnd((1, 2, 5, 5)).astype(np.float16)
    y = be.pool(h, 3, 1, 2, mode=2)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.astype(np.float32), nb.pool(h, 3, 1, 2, mode=2), rtol=1e-3)
    neg = np.full((1, 1, 3, 3), -np.inf)      # a window of -inf: the padding comes first
    np.testing.assert_array_equal(be.poolback(neg, None, np.ones((1, 1, 2, 2)), 2, 1, 2),
                                  nb.poolback(neg, None, np.ones((1, 1, 2, 2)), 2, 1, 2))


def test_pool_errors_name_the_argument(be):
    for b in (nb, be):
        with pytest.raises(ValueError, match="4-D .* or 5-D"):
            b.pool(np.ones((2, 3, 4)), 2)
        with pytest.raises(ValueError, match="window"):
            b.pool(np.ones((1, 1, 4, 4)), (2, 2, 2))
        with pytest.raises(ValueError, match="bigger than the padded input"):
            b.pool(np.ones((1, 1, 2, 2)), 3, padding=0)
        with pytest.raises(ValueError, match="g must have x's shape"):
            b.poolgather(np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4)))


# ----------------------------------------------------------------- 3-D convolution
CONV3_CASES = [  # x shape, window, padding, stride, dilation
    ((2, 3, 4, 5, 6), (2, 2, 2), 0, 1, 1), ((1, 2, 5, 6, 5), (3, 2, 3), (1, 0, 2), (2, 1, 2), 1),
    ((1, 1, 7, 7, 7), 3, 2, 1, (2, 1, 3)),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", CONV3_CASES)
def test_im2col_col2im_3d_match_numpy_backend(be, case, dt):
    shape, k, p, s, d = case
    x = rnd(shape, dt)
    col = be.im2col(x, k, p, s, d)
    np.testing.assert_array_equal(col, nb.im2col(x, k, p, s, d))
    c = rnd(col.shape, dt, 1)
    back = be.col2im(c, shape, k, p, s, d)
    np.testing.assert_allclose(back, nb.col2im(c, shape, k, p, s, d), **close(dt))
    # adjoint: <im2col(x), c> == <x, col2im(c)>
    assert np.vdot(col, c) == pytest.approx(np.vdot(x, back), rel=1e-4 if dt == np.float32
                                            else 1e-10)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_5d_passes_match_numpy_backend(be, groups):
    x, w = rnd((2, 4, 5, 6, 5)), rnd((6, 4 // groups, 3, 2, 3), seed=1)
    o = dict(padding=(1, 0, 1), stride=(2, 1, 1), dilation=(1, 2, 1), mode=0, alpha=1.5,
             groups=groups)
    y = be.conv_forward(w, x, **o)
    np.testing.assert_allclose(y, nb.conv_forward(w, x, **o), rtol=1e-12, atol=1e-12)
    dy = rnd(y.shape, seed=2)
    np.testing.assert_allclose(be.conv_backward_w(x, dy, w.shape, **o),
                               nb.conv_backward_w(x, dy, w.shape, **o), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(be.conv_backward_x(w, dy, x.shape, **o),
                               nb.conv_backward_x(w, dy, x.shape, **o), rtol=1e-11, atol=1e-11)
    # numpy backend's conv against a direct sum (mode 1: cross-correlation)
    xs, ws = rnd((1, 2, 4, 4, 4)), rnd((3, 2, 2, 2, 2), seed=3)
    got = nb.conv_forward(ws, xs, 0, 1, 1, 1, 1, 1)
    want = np.zeros((1, 3, 3, 3, 3))
    for a, b, c in np.ndindex(2, 2, 2):
        want += np.einsum("oc,ncdhw->nodhw", ws[:, :, a, b, c], xs[:, :, a:a + 3, b:b + 3, c:c + 3])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_5d_through_knetpy_conv4_on_the_emulator(be):
    """knetpy.conv4 on KnetArrays of the emulated backend runs on its kernels
    for 5-D input, with the host result."""
    import knetpy
    from knetpy.knetarray import KnetArray
    x, w = rnd((2, 2, 4, 5, 4)), rnd((3, 2, 2, 2, 2), seed=1)
    y = knetpy.conv4(KnetArray._of(w, be), KnetArray._of(x, be), padding=1)
    assert isinstance(y, KnetArray) and y.backend is be
    np.testing.assert_allclose(y.data, knetpy.conv4(w, x, padding=1), rtol=1e-12)


# ----------------------------------------------------------------- scatter_add
@pytest.mark.parametrize("dt", DTYPES)
def test_scatter_add_matches_numpy_backend(be, dt):
    a = rnd((7, 3, 4), dt)
    rows = np.array([0, 6, 2, 0, -1, 2, 2])
    vals = rnd((7, 3, 4), dt, 1)
    want = nb.scatter_add(a.copy(), rows, vals)
    ref = a.copy()
    np.add.at(ref, rows % 7, vals)
    np.testing.assert_allclose(want, ref, **close(dt))
    got = a.copy()
    assert be.scatter_add(got, rows, vals) is got
    np.testing.assert_allclose(got, want, **close(dt))
    assert be.scatter_add(got, np.zeros(0, np.int64), np.zeros((0, 3, 4), dt)) is got


def test_scatter_add_errors(be):
    for b in (nb, be):
        with pytest.raises(IndexError, match="rows must lie in"):
            b.scatter_add(np.zeros((3, 2)), np.array([3]), np.ones((1, 2)))
        with pytest.raises(ValueError, match="vals must have shape"):
            b.scatter_add(np.zeros((3, 2)), np.array([1]), np.ones((2, 2)))
        with pytest.raises(ValueError, match="1-D integer"):
            b.scatter_add(np.zeros((3, 2)), np.array([1.0]), np.ones((1, 2)))


# ----------------------------------------------------------------- dropout, cells, updates
@pytest.mark.parametrize("dt", DTYPES)
def test_dropout_same_mask_on_every_backend(be, dt):
    x = rnd((33, 17), dt)
    for p in (0.0, 0.4, 1.0):
        y = nb.dropout(x, p, 99)
        np.testing.assert_array_equal(y, be.dropout(x, p, 99))
        np.testing.assert_array_equal(nb.dropback(x, p, 99), be.dropback(x, p, 99))
        assert y.dtype == dt
    mask = nb.dropout_mask(x.shape, 0.4, 99)
    np.testing.assert_array_equal(mask, be.dropout_mask(x.shape, 0.4, 99))
    np.testing.assert_array_equal(nb.dropout(x, 0.4, 99) == 0, mask | (x == 0))


@pytest.mark.parametrize("dt", DTYPES)
def test_rnn_cells_match_numpy_backend(be, dt):
    B, H = 5, 7
    g, c0, dh, dc = rnd((B, 4 * H), dt), rnd((B, H), dt, 1), rnd((B, H), dt, 2), rnd((B, H), dt, 3)
    for a, b in zip(be.lstm(g, c0), nb.lstm(g, c0)):
        np.testing.assert_allclose(a, b, **close(dt))
    h, c, act = nb.lstm(g, c0)
    for a, b in zip(be.lstmback(act, c0, c, dh, dc), nb.lstmback(act, c0, c, dh, dc)):
        np.testing.assert_allclose(a, b, **close(dt))
    gx, gh = rnd((B, 3 * H), dt, 4), rnd((B, 3 * H), dt, 5)
    for a, b in zip(be.gru(gx, gh, c0), nb.gru(gx, gh, c0)):
        np.testing.assert_allclose(a, b, **close(dt))
    _, act = nb.gru(gx, gh, c0)
    for a, b in zip(be.gruback(act, gh, c0, dh), nb.gruback(act, gh, c0, dh)):
        np.testing.assert_allclose(a, b, **close(dt))
    with pytest.raises(ValueError, match="g must have shape"):
        nb.lstm(g[:, :-1], c0)


def test_lstm_cell_gradient_by_finite_differences():
    B, H = 2, 3
    g, c0 = rnd((B, 4 * H)), rnd((B, H), seed=1)
    dh, dc = rnd((B, H), seed=2), rnd((B, H), seed=3)
    h, c, act = nb.lstm(g, c0)
    dg, dc0 = nb.lstmback(act, c0, c, dh, dc)
    f = lambda g, c0: np.sum(nb.lstm(g, c0)[0] * dh) + np.sum(nb.lstm(g, c0)[1] * dc)  # noqa: E731
    e = 1e-6
    for i in np.ndindex(g.shape):
        gp, gm = g.copy(), g.copy()
        gp[i] += e
        gm[i] -= e
        assert dg[i] == pytest.approx((f(gp, c0) - f(gm, c0)) / (2 * e), abs=1e-7)


UPDATES = [("sgd_", 0, (0.1,)), ("momentum_", 1, (0.1, 0.9)), ("nesterov_", 1, (0.1, 0.9)),
           ("adagrad_", 1, (0.1, 1e-8)), ("rmsprop_", 1, (0.01, 0.9, 1e-8)),
           ("adadelta_", 2, (1.0, 0.9, 1e-6)), ("adam_", 2, (0.001, 0.9, 0.999, 1e-8, 3))]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name,nstate,scalars", UPDATES)
def test_optimizer_updates_match_numpy_backend(be, name, nstate, scalars, dt):
    w, g = rnd((6, 5), dt), rnd((6, 5), dt, 1)
    st = [np.abs(rnd((6, 5), dt, 2 + i)) for i in range(nstate)]
    w1, st1 = w.copy(), [s.copy() for s in st]
    w2, st2 = w.copy(), [s.copy() for s in st]
    for _ in range(2):
        assert getattr(nb, name)(w1, g, *st1, *scalars) is w1
        getattr(be, name)(w2, g, *st2, *scalars)
    np.testing.assert_allclose(w1, w2, **close(dt))
    for a, b in zip(st1, st2):
        np.testing.assert_allclose(a, b, **close(dt))
    with pytest.raises(ValueError, match="g must have w's shape"):
        getattr(nb, name)(w1, g[:1], *st1, *scalars)


def test_activation_back_matches_kernel(be):
    x = rnd((4, 9))
    for act in ("relu", "sigm", "tanh", "elu", "selu", "invx", "gelu"):
        v = x if act == "gelu" else (np.tanh(x) if act == "tanh" else nb.unary(act, x))
        np.testing.assert_allclose(nb.activation_back(act, x, v), be.activation_back(act, x, v),
                                   rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------- the ops on the kernels
def _spy(be, monkeypatch):
    """The kernel names ``be`` launches from now on."""
    ran = []
    real = be._run
    monkeypatch.setattr(be, "_run", lambda fam, k, *a: ran.append(k) or real(fam, k, *a))
    return ran


def _on(be, a):
    from knetpy.knetarray import KnetArray
    return KnetArray._of(be.asarray(a), be)


@pytest.mark.parametrize("shape,o", [
    ((2, 3, 6, 7), dict(padding=1, stride=(1, 2))),
    ((2, 2, 4, 5, 4), dict(padding=(1, 0, 1), dilation=(1, 2, 1)))])
def test_conv4_values_and_gradients_on_the_emulator(be, monkeypatch, shape, o):
    import knetpy
    from autograd import Param, diff, grad
    from knetpy.knetarray import KnetArray
    x, w = rnd(shape), rnd((4, shape[1]) + (2,) * (len(shape) - 2), seed=1)
    ran = _spy(be, monkeypatch)
    for op in (knetpy.conv4, knetpy.deconv4):
        ww = w if op is knetpy.conv4 else rnd((shape[1], 4) + w.shape[2:], seed=3)
        host = [Param(ww), Param(x)]
        dev = [Param(_on(be, ww)), Param(_on(be, x))]
        rh = diff(lambda: np.sum(np.sin(op(*host, **o))))
        rd = diff(lambda: np.sum(np.sin(op(*dev, **o))))
        np.testing.assert_allclose(float(np.asarray(rd.value)), float(rh.value), rtol=1e-12)
        for ph, pd in zip(host, dev):
            gd = grad(rd, pd)
            assert isinstance(gd, KnetArray) and gd.backend is be
            np.testing.assert_allclose(gd.to_numpy(), grad(rh, ph), rtol=1e-10, atol=1e-12)
    assert "im2col_64" in ran and "col2im_64" in ran


POOL_OP_CASES = [((2, 3, 6, 7), dict(window=2)),
                 ((2, 2, 7, 6), dict(window=3, stride=2, padding=1)),
                 ((1, 2, 4, 5, 6), dict(window=(2, 3, 2), stride=1, padding=(1, 1, 0)))]


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("shape,o", POOL_OP_CASES)
def test_pool_unpool_values_and_gradients_on_the_emulator(be, monkeypatch, shape, o, mode):
    import knetpy
    from autograd import Param, diff, grad
    from knetpy.knetarray import KnetArray
    x = rnd(shape)
    ran = _spy(be, monkeypatch)
    px, pd = Param(x), Param(_on(be, x))
    for f in (lambda u: knetpy.pool(u, mode=mode, alpha=1.5, **o),
              lambda u: knetpy.unpool(knetpy.pool(u, mode=mode, **o), **o)):
        yh, yd = f(x), f(_on(be, x))
        assert isinstance(yd, KnetArray) and yd.backend is be
        np.testing.assert_allclose(yd.to_numpy(), yh, rtol=1e-12, atol=1e-12)
        rh = diff(lambda: np.sum(np.sin(f(px))))
        rd = diff(lambda: np.sum(np.sin(f(pd))))
        gd = grad(rd, pd)
        assert isinstance(gd, KnetArray) and gd.backend is be
        np.testing.assert_allclose(gd.to_numpy(), grad(rh, px), rtol=1e-10, atol=1e-12)
    assert "pool_64" in ran and "poolback_64" in ran


def test_max_pool_second_order_runs_poolgather_on_the_emulator(be, monkeypatch):
    import knetpy
    from autograd import Param, grad
    x = rnd((2, 2, 6, 6))
    v = rnd(x.shape, seed=4)
    ran = _spy(be, monkeypatch)

    def hvp(u):   # d/du <grad_u sum(pool(u)^2), v>: goes through poolback and poolgather
        g = grad(lambda a: np.sum(knetpy.pool(a, window=3, stride=2, padding=1) ** 2))(u)
        return np.sum(g * v)
    gh = grad(hvp)(Param(x))
    gd = grad(hvp)(Param(_on(be, x)))
    np.testing.assert_allclose(gd.to_numpy(), gh, rtol=1e-10, atol=1e-12)
    assert "poolgather_64" in ran


def test_sequence_and_dilated_pooling_on_the_emulator(be):
    """1-D input is pooled as an image of height 1 by the kernels; dilated
    windows (which pool.cu does not take) by the numpy bodies on the device."""
    from knetpy.ops.pool import maxpool, meanpool
    x = rnd((2, 3, 9))
    for f in (lambda u: maxpool(u, (3,), 2, (1, 0)), lambda u: meanpool(u, (2,), 1, 1),
              lambda u: maxpool(rnd((2, 2, 7, 7)) + u[:, :2, None, :7], (2, 2), 1, 0, (2, 3))):
        np.testing.assert_allclose(f(_on(be, x)).to_numpy(), f(x), rtol=1e-12)
