"""Network kernels (dropout.cu, conv.cu, pool.cu, batchnorm.cu, rnn.cu,
optim.cu) through the kernel backend on the CPU emulator, against numpy
formulas written here and the numpy backend."""
import numpy as np
import pytest

from knetpy.backends import numpy_backend as nb
from knetpy.backends.emulator import emulated_backend
from numeric_refs import DTYPES, kernel_close, rnd, uniform_reference


@pytest.fixture(scope="module")
def be():
    return emulated_backend(block=64, max_blocks=4)


def close(dt):
    return kernel_close(dt, 2e-5)


# ----------------------------------------------------------------- dropout
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout_mask_and_scale(be, p, dt):
    x = rnd((50, 61), dt)
    seed = 12345
    y = be.dropout(x, p, seed)
    u = uniform_reference(seed, x.size).reshape(x.shape)
    want = np.where(u < p, dt(0), x * dt(1 / (1 - p)) if p < 1 else dt(0))
    np.testing.assert_array_equal(y, want)
    assert y.dtype == dt
    dy = rnd(x.shape, dt, 1)
    np.testing.assert_array_equal(be.dropback(dy, p, seed),
                                  np.where(y == 0, 0, dy * dt(1 / (1 - p)) if p < 1 else 0))
    if p == 0.3:
        assert abs((y == 0).mean() - 0.3) < 0.02
        assert not np.array_equal(be.dropout(x, p, seed + 1), y)


def test_dropout_errors_and_empty(be):
    assert be.dropout(np.zeros((0, 3)), 0.5, 1).shape == (0, 3)
    with pytest.raises(ValueError, match="p must be a probability"):
        be.dropout(np.ones(3), 1.5, 1)
    with pytest.raises(ValueError, match="seed"):
        be.dropout(np.ones(3), 0.5, -1)
    with pytest.raises(TypeError, match="float32 or float64"):
        be.dropout(np.ones(3, int), 0.5, 1)


# ----------------------------------------------------------------- im2col / col2im
def geometry(x_shape, kh, kw, pad, stride, dil):
    _, _, H, W = x_shape
    OH = (H + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    OW = (W + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    return OH, OW


def im2col_reference(x, kh, kw, pad, stride, dil):
    N, C, H, W = x.shape
    OH, OW = geometry(x.shape, kh, kw, pad, stride, dil)
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    col = np.empty((N, C, kh, kw, OH, OW), x.dtype)
    for i in range(kh):
        for j in range(kw):
            col[:, :, i, j] = xp[:, :, i * dil[0]:i * dil[0] + stride[0] * (OH - 1) + 1:stride[0],
                                 j * dil[1]:j * dil[1] + stride[1] * (OW - 1) + 1:stride[1]]
    return col.reshape(N, C * kh * kw, OH * OW)


def col2im_reference(col, x_shape, kh, kw, pad, stride, dil):
    N, C, H, W = x_shape
    OH, OW = geometry(x_shape, kh, kw, pad, stride, dil)
    c6 = col.reshape(N, C, kh, kw, OH, OW)
    xp = np.zeros((N, C, H + 2 * pad[0], W + 2 * pad[1]), col.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i * dil[0]:i * dil[0] + stride[0] * (OH - 1) + 1:stride[0],
               j * dil[1]:j * dil[1] + stride[1] * (OW - 1) + 1:stride[1]] += c6[:, :, i, j]
    return xp[:, :, pad[0]:pad[0] + H, pad[1]:pad[1] + W]


CONV_CASES = [  # x shape, kh, kw, padding, stride, dilation
    ((2, 3, 7, 9), 3, 3, (0, 0), (1, 1), (1, 1)),
    ((1, 2, 8, 8), 3, 2, (1, 2), (2, 1), (1, 1)),
    ((2, 1, 9, 10), 2, 3, (1, 0), (2, 3), (2, 2)),
    ((1, 4, 5, 5), 5, 5, (2, 2), (1, 1), (1, 1)),
    ((1, 1, 1, 1), 1, 1, (0, 0), (1, 1), (1, 1)),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_im2col_col2im(be, case, dt):
    shape, kh, kw, pad, stride, dil = case
    x = rnd(shape, dt)
    col = be.im2col(x, (kh, kw), pad, stride, dil)
    np.testing.assert_array_equal(col, im2col_reference(x, kh, kw, pad, stride, dil))
    c = rnd(col.shape, dt, 1)
    back = be.col2im(c, shape, (kh, kw), pad, stride, dil)
    np.testing.assert_allclose(back, col2im_reference(c, shape, kh, kw, pad, stride, dil),
                               **close(dt))
    # adjoint: <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose((col * c).sum(dtype=np.float64), (x * back).sum(dtype=np.float64),
                               rtol=1e-10 if dt == np.float64 else 1e-4)


def test_im2col_makes_convolution_a_matrix_product(be):
    x, w = rnd((2, 3, 6, 7)), rnd((4, 3, 3, 3), seed=1)
    y = (w.reshape(4, -1) @ be.im2col(x, (3, 3), 1, 1, 1)).reshape(2, 4, 6, 7)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros((2, 4, 6, 7))
    for i in range(3):
        for j in range(3):
            want += np.einsum("oc,nchw->nohw", w[:, :, i, j], xp[:, :, i:i + 6, j:j + 7])
    np.testing.assert_allclose(y, want, rtol=1e-12)


def test_conv_geometry_errors(be):
    with pytest.raises(ValueError, match="4-D"):
        be.im2col(np.ones((3, 3)), (2, 2))
    with pytest.raises(ValueError, match="does not fit"):
        be.im2col(np.ones((1, 1, 2, 2)), (3, 3))
    with pytest.raises(ValueError, match="col must have shape"):
        be.col2im(np.ones((1, 4, 2)), (1, 1, 3, 3), (2, 2))


# ----------------------------------------------------------------- pooling
def windows(shape, k, pad, stride):
    N, C, H, W = shape
    OH = (H + 2 * pad[0] - k[0]) // stride[0] + 1
    OW = (W + 2 * pad[1] - k[1]) // stride[1] + 1
    for oh in range(OH):
        for ow in range(OW):
            h0, w0 = oh * stride[0] - pad[0], ow * stride[1] - pad[1]
            hs = range(max(h0, 0), min(h0 + k[0], H))
            ws = range(max(w0, 0), min(w0 + k[1], W))
            yield oh, ow, hs, ws


def pool_reference(x, k, pad, stride, mode):
    N, C, H, W = x.shape
    OH = (H + 2 * pad[0] - k[0]) // stride[0] + 1
    OW = (W + 2 * pad[1] - k[1]) // stride[1] + 1
    y = np.empty((N, C, OH, OW), x.dtype)
    for oh, ow, hs, ws in windows(x.shape, k, pad, stride):
        win = x[:, :, hs.start:hs.stop, ws.start:ws.stop]
        if mode == 0:
            y[:, :, oh, ow] = win.max(axis=(2, 3))
        else:
            count = k[0] * k[1] if mode == 1 else len(hs) * len(ws)
            y[:, :, oh, ow] = win.sum(axis=(2, 3)) / count
    return y


def poolback_reference(x, dy, k, pad, stride, mode):
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for oh, ow, hs, ws in windows(x.shape, k, pad, stride):
        win = x[:, :, hs.start:hs.stop, ws.start:ws.stop]
        if mode == 0:
            flat = win.reshape(N, C, -1).argmax(axis=2)        # first max, row-major
            for n in range(N):
                for c in range(C):
                    i, j = divmod(flat[n, c], len(ws))
                    dx[n, c, hs.start + i, ws.start + j] += dy[n, c, oh, ow]
        else:
            count = k[0] * k[1] if mode == 1 else len(hs) * len(ws)
            dx[:, :, hs.start:hs.stop, ws.start:ws.stop] += (dy[:, :, oh, ow] / count)[:, :, None,
                                                                                         None]
    return dx


POOL_CASES = [((2, 3, 6, 8), (2, 2), (0, 0), None), ((1, 2, 7, 7), (3, 3), (1, 1), (2, 2)),
              ((2, 1, 5, 9), (2, 3), (1, 2), (1, 2)), ((1, 1, 4, 4), (4, 4), (0, 0), None),
              ((1, 2, 9, 10), (2, 2), (1, 0), (3, 4))]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_forward_and_backward(be, case, mode, dt):
    shape, k, pad, stride = case
    x = np.round(rnd(shape, dt) * 2) / 2            # ties inside windows
    y = be.pool(x, k, pad, stride, mode)
    st = k if stride is None else stride
    np.testing.assert_allclose(y, pool_reference(x, k, pad, st, mode), **close(dt))
    dy = rnd(y.shape, dt, 1)
    dx = be.poolback(x, y, dy, k, pad, stride, mode)
    np.testing.assert_allclose(dx, poolback_reference(x, dy, k, pad, st, mode), **close(dt))


def test_pool_errors(be):
    with pytest.raises(ValueError, match="mode must be"):
        be.pool(np.ones((1, 1, 4, 4)), 2, mode=3)
    with pytest.raises(ValueError, match="padding must be smaller"):
        be.pool(np.ones((1, 1, 4, 4)), 2, padding=2)
    with pytest.raises(ValueError, match="y and dy must have shape"):
        be.poolback(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)))


# ----------------------------------------------------------------- batchnorm
BN_SHAPES = [(7, 5), (4, 3, 5, 6), (2, 70, 3), (300, 2), (3, 2, 2, 2, 2)]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batchnorm_matches_numpy_backend(be, shape, dt):
    x = (rnd(shape, dt) * 3 + 1).astype(dt)
    C = shape[1]
    gamma, beta = rnd(C, dt, 1), rnd(C, dt, 2)
    tol = dict(rtol=1e-10, atol=1e-10) if dt == np.float64 else dict(rtol=1e-4, atol=1e-4)
    mean, var = be.bn_stats(x)
    for got, want in zip((mean, var), nb.bn_stats(x)):
        np.testing.assert_allclose(got, want, **tol)
    for g, b in ((gamma, beta), (None, None)):
        y = be.bn_forward(x, mean, var, g, b, 1e-5)
        assert y.dtype == dt
        np.testing.assert_allclose(y, nb.bn_forward(x, mean, var, g, b, 1e-5), **tol)
    dy = rnd(shape, dt, 3)
    for g in (gamma, None):
        got = be.bn_backward(dy, x, mean, var, g, 1e-5)
        want = nb.bn_backward(dy, x, mean, var, g, 1e-5)
        for a, w in zip(got, want):
            assert a.dtype == dt
            np.testing.assert_allclose(a, w, **tol)
    dx, dg, db = be.bn_backward(dy, x, mean, var, gamma, 1e-5, need_dx=False)
    assert dx is None and dg.shape == db.shape == (C,)


def test_batchnorm_backward_is_the_gradient():
    """dx, dgamma, dbeta against central differences of the training-mode forward."""
    be = emulated_backend(block=32, max_blocks=2)
    x, gamma, beta, dy = rnd((3, 2, 4)), rnd(2, seed=1), rnd(2, seed=2), rnd((3, 2, 4), seed=3)

    def loss(x, gamma, beta):
        m, v = nb.bn_stats(x)
        return (nb.bn_forward(x, m, v, gamma, beta, 1e-5) * dy).sum()

    m, v = be.bn_stats(x)
    dx, dg, db = be.bn_backward(dy, x, m, v, gamma, 1e-5)
    for arr, got in ((x, dx), (gamma, dg), (beta, db)):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            e = np.zeros_like(arr)
            e[i] = 1e-6
            args = [x, gamma, beta]
            k = [a is arr for a in args].index(True)
            hi, lo = list(args), list(args)
            hi[k], lo[k] = arr + e, arr - e
            num[i] = (loss(*hi) - loss(*lo)) / 2e-6
        np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-7)


def test_batchnorm_float16_and_errors(be):
    h = rnd((6, 3), np.float16)
    m, v = be.bn_stats(h)
    assert m.dtype == np.float32
    y = be.bn_forward(h, m, v, None, None, 1e-5)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y, nb.bn_forward(h, *nb.bn_stats(h), None, None, 1e-5), atol=2e-3)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        be.bn_stats(np.ones(3))
    with pytest.raises(TypeError, match="floats"):
        be.bn_stats(np.ones((2, 2), int))


# ----------------------------------------------------------------- LSTM / GRU cells
def sig(v):
    return 1 / (1 + np.exp(-v))


def lstm_reference(g, c0):
    i, f, n, o = np.split(g, 4, axis=1)
    c = sig(f) * c0 + sig(i) * np.tanh(n)
    return sig(o) * np.tanh(c), c


def gru_reference(gx, gh, h0):
    (xr, xz, xn), (hr, hz, hn) = np.split(gx, 3, axis=1), np.split(gh, 3, axis=1)
    r, z = sig(xr + hr), sig(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h0


def numeric_grad(f, arrays, k):
    a = arrays[k]
    out = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[i] = 1e-6
        hi, lo = list(arrays), list(arrays)
        hi[k], lo[k] = a + e, a - e
        out[i] = (f(*hi) - f(*lo)) / 2e-6
    return out


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("B, H", [(3, 5), (1, 70), (0, 4)])
def test_lstm_cell_forward(be, B, H, dt):
    g, c0 = rnd((B, 4 * H), dt) * 2, rnd((B, H), dt, 1)
    h, c, act = be.lstm(g, c0)
    hw, cw = lstm_reference(g.astype(np.float64), c0.astype(np.float64))
    np.testing.assert_allclose(h, hw, **close(dt))
    np.testing.assert_allclose(c, cw, **close(dt))
    assert h.dtype == c.dtype == act.dtype == dt


def test_lstm_cell_backward_is_the_gradient(be):
    g, c0, dh, dc = rnd((2, 12)) * 2, rnd((2, 3), seed=1), rnd((2, 3), seed=2), rnd((2, 3), seed=3)
    h, c, act = be.lstm(g, c0)
    dg, dc0 = be.lstmback(act, c0, c, dh, dc)

    def loss(g, c0):
        h, c = lstm_reference(g, c0)
        return (h * dh + c * dc).sum()
    np.testing.assert_allclose(dg, numeric_grad(loss, [g, c0], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dc0, numeric_grad(loss, [g, c0], 1), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("B, H", [(3, 5), (2, 90)])
def test_gru_cell_forward(be, B, H, dt):
    gx, gh, h0 = rnd((B, 3 * H), dt), rnd((B, 3 * H), dt, 1), rnd((B, H), dt, 2)
    h, act = be.gru(gx, gh, h0)
    np.testing.assert_allclose(h, gru_reference(*(a.astype(np.float64) for a in (gx, gh, h0))),
                               **close(dt))


def test_gru_cell_backward_is_the_gradient(be):
    gx, gh, h0, dh = rnd((2, 9)), rnd((2, 9), seed=1), rnd((2, 3), seed=2), rnd((2, 3), seed=3)
    h, act = be.gru(gx, gh, h0)
    dgx, dgh, dh0 = be.gruback(act, gh, h0, dh)

    def loss(gx, gh, h0):
        return (gru_reference(gx, gh, h0) * dh).sum()
    for k, got in enumerate((dgx, dgh, dh0)):
        np.testing.assert_allclose(got, numeric_grad(loss, [gx, gh, h0], k), rtol=1e-6,
                                   atol=1e-8)


def test_cell_shape_errors(be):
    with pytest.raises(ValueError, match=r"g must have shape \(2, 12\)"):
        be.lstm(np.ones((2, 8)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="dtype"):
        be.gru(np.ones((2, 9)), np.ones((2, 9), np.float32), np.ones((2, 3)))


# ----------------------------------------------------------------- optimizers
def optim_reference(kind, w, g, state, hp, t):
    if kind == "sgd":
        return w - hp["lr"] * g, state
    if kind in ("momentum", "nesterov"):
        v = hp["gamma"] * state[0] + hp["lr"] * g
        step = v if kind == "momentum" else hp["gamma"] * v + hp["lr"] * g
        return w - step, [v]
    if kind == "adagrad":
        G = state[0] + g * g
        return w - hp["lr"] * g / np.sqrt(G + hp["eps"]), [G]
    if kind == "rmsprop":
        G = hp["rho"] * state[0] + (1 - hp["rho"]) * g * g
        return w - hp["lr"] * g / np.sqrt(G + hp["eps"]), [G]
    if kind == "adadelta":
        G = hp["rho"] * state[0] + (1 - hp["rho"]) * g * g
        u = g * np.sqrt(state[1] + hp["eps"]) / np.sqrt(G + hp["eps"])
        D = hp["rho"] * state[1] + (1 - hp["rho"]) * u * u
        return w - hp["lr"] * u, [G, D]
    m = hp["beta1"] * state[0] + (1 - hp["beta1"]) * g
    v = hp["beta2"] * state[1] + (1 - hp["beta2"]) * g * g
    mh, vh = m / (1 - hp["beta1"] ** t), v / (1 - hp["beta2"] ** t)
    return w - hp["lr"] * mh / (np.sqrt(vh) + hp["eps"]), [m, v]


OPTIMS = {
    "sgd": (0, dict(lr=0.1)),
    "momentum": (1, dict(lr=0.1, gamma=0.9)),
    "nesterov": (1, dict(lr=0.1, gamma=0.9)),
    "adagrad": (1, dict(lr=0.1, eps=1e-6)),
    "rmsprop": (1, dict(lr=0.01, rho=0.9, eps=1e-6)),
    "adadelta": (2, dict(lr=1.0, rho=0.9, eps=1e-6)),
    "adam": (2, dict(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8)),
}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("kind", sorted(OPTIMS))
def test_optimizer_updates(be, kind, dt):
    nstate, hp = OPTIMS[kind]
    for n in (0, 1, 333):
        w = rnd(n, dt)
        state = [np.abs(rnd(n, dt, 5 + i)) for i in range(nstate)]
        ws, ss = w.astype(np.float64), [s.astype(np.float64) for s in state]
        for t in (1, 2, 3):
            g = rnd(n, dt, t)
            extra = {"t": t} if kind == "adam" else {}
            out = getattr(be, f"{kind}_")(w, g, *state, **hp, **extra)
            assert out is w
            ws, ss = optim_reference(kind, ws, g.astype(np.float64), ss, hp, t)
        tol = dict(rtol=1e-12, atol=1e-14) if dt == np.float64 else dict(rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w, ws, **tol)
        for s, r in zip(state, ss):
            np.testing.assert_allclose(s, r, **tol)


def test_optimizer_errors(be):
    w = np.ones(4)
    with pytest.raises(ValueError, match="g must be float32/float64 with w's shape"):
        be.sgd_(w, np.ones(5), 0.1)
    with pytest.raises(ValueError, match="C-contiguous"):
        be.momentum_(w, np.ones(4), np.ones(8)[::2], 0.1, 0.9)
    with pytest.raises(ValueError, match="1-based step"):
        be.adam_(w, w, w.copy(), w.copy(), 0.1, 0.9, 0.999, 1e-8, 0)
