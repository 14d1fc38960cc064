"""dropout and RNN on the kernel backend (the CUDA backend's code on the CPU
emulator): values and gradients against the numpy backend and numpy
formulas, and a spy on the device proving the kernels and cuBLAS products
were the ones that ran."""
import numpy as np
import pytest

import knetpy
from autograd import Param, diff, grad
from autograd.core import _raw
from knetpy import KnetArray, dropout
from knetpy.backends.emulator import emulated_backend
from knetpy.rnn import RNN
from numeric_refs import uniform_reference

DTYPES = (np.float32, np.float64)
TYPES = ("relu", "tanh", "lstm", "gru")
BITS = {np.float32: "32", np.float64: "64"}


@pytest.fixture(scope="module")
def be():
    return emulated_backend(block=64, max_blocks=4)


@pytest.fixture
def spy(be, monkeypatch):
    """Names of the kernels launched and the number of device matmuls."""
    seen = {"kernels": [], "matmul": 0}
    function, matmul = be.dev.function, be.dev.matmul

    def count_matmul(a, b):
        seen["matmul"] += 1
        return matmul(a, b)
    monkeypatch.setattr(be.dev, "function",
                        lambda fam, name: seen["kernels"].append(name) or function(fam, name))
    monkeypatch.setattr(be.dev, "matmul", count_matmul)
    return seen


def dev(be, a):
    return KnetArray._of(np.array(a), be)


def host(a):
    a = _raw(a)
    if hasattr(a, "dense"):
        a = a.dense()
    return np.asarray(_raw(a))


def close(dt):
    return dict(rtol=1e-10, atol=1e-12) if dt == np.float64 else dict(rtol=2e-4, atol=2e-5)


def check_grad_on_device(be, f, a, flat_indices, atol):
    """grad(f) at dev(a) matches central differences of f on the device at a few entries."""
    g = host(grad(f)(Param(dev(be, a))))
    for i in flat_indices:
        e = np.zeros(a.size)
        e[i] = 1e-6
        e = e.reshape(a.shape)
        num = (float(f(dev(be, a + e))) - float(f(dev(be, a - e)))) / 2e-6
        np.testing.assert_allclose(g.flat[i], num, rtol=1e-6, atol=atol)


# ----------------------------------------------------------------- dropout
def mask_reference(shape, p, seed, dt):
    keep = uniform_reference(seed, int(np.prod(shape))).reshape(shape) >= p
    return keep * dt(1 / (1 - p))


@pytest.mark.parametrize("dt", DTYPES)
def test_dropout_runs_the_kernels_values_and_gradient(be, spy, dt):
    a = np.random.default_rng(0).standard_normal((7, 13)).astype(dt) + 3   # 91 elements
    proj = np.random.default_rng(1).standard_normal(a.shape).astype(dt)
    x = Param(dev(be, a))
    out = {}

    def loss():
        y = dropout(x, 0.3, seed=5)
        out["y"] = y
        return np.sum(y * proj)
    g = grad(diff(loss), x)
    m = mask_reference(a.shape, 0.3, 5, dt)
    y = _raw(out["y"])
    assert isinstance(y, KnetArray) and y.backend is be and y.dtype == dt
    np.testing.assert_allclose(y.to_numpy(), a * m, **close(dt))
    assert isinstance(_raw(g), KnetArray) and _raw(g).backend is be
    np.testing.assert_allclose(host(g), proj * m, **close(dt))
    assert 0.5 < np.mean(m > 0) < 0.9
    assert {f"dropout_{BITS[dt]}", f"dropback_{BITS[dt]}"} <= set(spy["kernels"])


def test_dropout_gradient_by_finite_differences_on_device(be):
    a = np.random.default_rng(2).standard_normal((4, 9)) + 2
    w = np.random.default_rng(3).standard_normal(a.shape)

    def f(v):
        return np.sum(np.sin(dropout(v, 0.4, drop=True, seed=9)) * w)
    check_grad_on_device(be, f, a, (0, 5, 17, 35), atol=1e-8)


def test_dropout_second_order_stays_on_device(be, spy):
    a = np.random.default_rng(4).standard_normal((3, 11)) + 2
    x = Param(dev(be, a))
    m = mask_reference(a.shape, 0.25, 2, np.float64)

    def f(v):                        # sum((m*v)^3): gradient 3 m (m v)^2
        return np.sum(dropout(v, 0.25, drop=True, seed=2) ** 3)
    g1 = grad(f)
    h = grad(lambda v: np.sum(g1(v)))(x)        # 6 m^2 (m v)
    np.testing.assert_allclose(host(h), 6 * m * m * (m * a), rtol=1e-12)
    assert spy["kernels"].count("dropback_64") >= 1 and spy["kernels"].count("dropout_64") >= 2


def test_dropout_options_on_device(be, spy):
    a = np.random.default_rng(5).standard_normal(200)
    x = dev(be, a)
    assert dropout(x, 0.5) is x and dropout(x, 0.0, drop=True) is x      # not training / p=0
    assert not spy["kernels"]
    np.testing.assert_array_equal(dropout(x, 1.0, drop=True).to_numpy(), np.zeros(200))
    knetpy.seed(7)
    y1 = dropout(x, 0.5, drop=True).to_numpy()
    knetpy.seed(7)
    y2 = dropout(x, 0.5, drop=True).to_numpy()
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(y1, dropout(x, 0.5, drop=True).to_numpy())
    h = dropout(dev(be, a.astype(np.float16)), 0.5, drop=True, seed=3)
    assert h.dtype == np.float16
    np.testing.assert_allclose(h.to_numpy(), a.astype(np.float16) * mask_reference(
        a.shape, 0.5, 3, np.float16), rtol=1e-3)
    with pytest.raises(ValueError, match="p must be"):
        dropout(x, 1.5, drop=True)


# ----------------------------------------------------------------- RNN
CELL_KERNELS = {"relu": ("relu", "relu_back"), "tanh": ("tanh", "tanh_back"),
                "lstm": ("lstm", "lstmback"), "gru": ("gru", "gruback")}


def make(rnn_type, dt, X=3, H=5, seed=0, **kw):
    r = RNN(X, H, rnn_type, dtype=dt, **kw)
    r.w.value[:] = np.random.default_rng(seed).standard_normal(r.w.size) * 0.5
    return r


def run(r, x, h0, c0, proj, batch_sizes=None, to=None):
    """Loss, outputs and gradients (w, x, h0, c0) of r on x; with ``to`` every
    array is first placed on that backend."""
    put = (lambda a: a) if to is None else (lambda a: dev(to, a))
    w = Param(put(np.array(r.w.value if to is None else _raw(r.w.value))))
    r.w = w
    xp, hp, cp = Param(put(x)), Param(put(h0)), Param(put(c0))
    out = {}

    def loss():
        r.h, r.c = hp, cp
        y = r(xp, batch_sizes=batch_sizes)
        out["y"] = _raw(y)
        total = np.sum(y * proj) + np.sum(r.h * r.h)
        return total + np.sum(np.sin(r.c)) if r.rnn_type == "lstm" else total
    t = diff(loss)
    return (float(t.value), out["y"], _raw(r.h), _raw(r.c),
            [grad(t, p) for p in (w, xp, hp, cp)])


def compare(be, spy, rnn_type, dt, x, batch_sizes=None, **kw):
    r = make(rnn_type, dt, **kw)
    L = r.nlayers
    B = batch_sizes[0] if batch_sizes is not None else x.shape[-2] if x.ndim > 1 else 1
    rng = np.random.default_rng(1)
    h0 = rng.standard_normal((L, B, r.hidden_size)).astype(dt)
    c0 = rng.standard_normal((L, B, r.hidden_size)).astype(dt)
    nout = r.hidden_size * (1 + r.bidirectional)
    proj = rng.standard_normal(x.shape[:-1] + (nout,)).astype(dt)
    want = run(r, x, h0, c0, proj, batch_sizes)
    assert not spy["kernels"] and spy["matmul"] == 0        # the host path stays on the host
    got = run(r, x, h0, c0, proj, batch_sizes, to=be)
    np.testing.assert_allclose(got[0], want[0], **close(dt))
    for g, w in zip(got[1:4], want[1:4]):
        if rnn_type != "lstm" and w is c0:
            continue
        assert isinstance(g, KnetArray) and g.backend is be and g.dtype == dt
        np.testing.assert_allclose(g.to_numpy(), w, **close(dt))
    for g, w in zip(got[4], want[4]):
        if w is None:
            assert g is None
            continue
        parts = [v for _, v in g.pairs] if hasattr(g, "pairs") else [g]   # Sparse: slices of w
        assert all(isinstance(_raw(v), KnetArray) and _raw(v).backend is be for v in parts)
        np.testing.assert_allclose(host(g), host(w), **close(dt))
    fwd, back = CELL_KERNELS[rnn_type]
    assert {f"{fwd}_{BITS[dt]}", f"{back}_{BITS[dt]}"} <= set(spy["kernels"])
    steps = len(batch_sizes) if batch_sizes is not None else x.shape[0] if x.ndim == 3 else 1
    assert spy["matmul"] >= 2 * steps * r.nlayers            # a GEMM per step each way
    return r


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("rnn_type", TYPES)
def test_rnn_matches_numpy_backend(be, spy, rnn_type, bidirectional, dt):
    x = np.random.default_rng(2).standard_normal((4, 3, 3)).astype(dt)
    compare(be, spy, rnn_type, dt, x, bidirectional=bidirectional,
            num_layers=2 if bidirectional else 1)


@pytest.mark.parametrize("rnn_type", TYPES)
def test_rnn_batch_sizes_match_numpy_backend(be, spy, rnn_type):
    bs = [4, 3, 1, 1]                                  # sequences of lengths 4, 2, 2, 1
    x = np.random.default_rng(3).standard_normal((sum(bs), 3))
    compare(be, spy, rnn_type, np.float64, x, batch_sizes=bs, bidirectional=True, num_layers=2)


def test_rnn_skip_input_and_one_step_input(be, spy):
    x = np.random.default_rng(4).standard_normal((2, 5))          # (B, X): one time step
    compare(be, spy, "gru", np.float64, x, X=5, skip_input=True)


def test_rnn_states_none_and_zero_on_device(be, spy):
    r = make("lstm", np.float64, atype=lambda a: dev(be, a))
    assert isinstance(r.w.value, KnetArray) and r.w.value.backend is be
    x = np.random.default_rng(5).standard_normal((3, 2, 3))
    y = r(x)                                          # host input, device weights
    assert isinstance(y, KnetArray) and y.backend is be and r.h is None
    ref = make("lstm", np.float64)
    np.testing.assert_allclose(y.to_numpy(), ref(x), rtol=1e-12, atol=1e-12)
    r.h = r.c = ref.h = ref.c = 0
    r(dev(be, x))
    ref(x)
    assert isinstance(r.h, KnetArray) and isinstance(r.c, KnetArray)
    np.testing.assert_allclose(r.h.to_numpy(), ref.h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.c.to_numpy(), ref.c, rtol=1e-12, atol=1e-12)
    assert "lstm_64" in spy["kernels"]


def test_rnn_gradient_by_finite_differences_on_device(be):
    r = make("gru", np.float64, H=3, atype=lambda a: dev(be, a))
    a = np.random.default_rng(6).standard_normal((3, 2, 3))
    proj = np.random.default_rng(7).standard_normal((3, 2, 3))

    def f(v):
        return np.sum(r(v) * proj)
    check_grad_on_device(be, f, a, (0, 7, 17), atol=1e-9)


def test_rnn_dropout_uses_the_kernel(be, spy):
    r = make("tanh", np.float64, num_layers=2, dropout=0.5, atype=lambda a: dev(be, a))
    x = dev(be, np.random.default_rng(8).standard_normal((3, 2, 3)))
    plain = r(x).to_numpy()                          # not training: no dropout
    assert "dropout_64" not in spy["kernels"]
    knetpy.seed(1)
    t1 = diff(lambda: np.sum(r(x)))
    knetpy.seed(1)
    t2 = diff(lambda: np.sum(r(x)))
    assert spy["kernels"].count("dropout_64") == 4      # input and layer 2, twice
    assert float(t1.value) == float(t2.value) != pytest.approx(float(plain.sum()))
    np.testing.assert_allclose(host(grad(t1, r.w)), host(grad(t2, r.w)))
    assert "dropback_64" in spy["kernels"]


def test_rnn_second_order_is_a_clear_error_on_device(be):
    r = make("lstm", np.float64, atype=lambda a: dev(be, a))
    x = dev(be, np.random.default_rng(9).standard_normal((2, 2, 3)))
    g = grad(lambda w: np.sum(r(x)))
    with pytest.raises(NotImplementedError, match="second-order"):
        grad(lambda w: np.sum(g(w) ** 2))(r.w)


@pytest.mark.parametrize("cell_type", ["LSTMCell", "GRUCell"])
def test_recurrent_layers_use_the_device_recurrence(be, spy, cell_type):
    from knetpy import layers
    cell = getattr(layers, cell_type)(3, 4, dtype=np.float64)
    rec = layers.Recurrence(cell, return_sequence=True)
    x = np.random.default_rng(10).standard_normal((2, 5, 3))
    t0 = diff(lambda: np.sum(rec(x) ** 2))
    t1 = diff(lambda: np.sum(rec(dev(be, x)) ** 2))
    np.testing.assert_allclose(float(t1.value), float(t0.value), rtol=1e-12)
    for p in (cell.weight_ih, cell.weight_hh):
        assert isinstance(_raw(grad(t1, p)), KnetArray)
        np.testing.assert_allclose(host(grad(t1, p)), host(grad(t0, p)), rtol=1e-10, atol=1e-12)
    name = "lstm" if cell_type == "LSTMCell" else "gru"
    assert {f"{name}_64", f"{name}back_64"} <= set(spy["kernels"])


def test_rnn_weights_default_to_the_active_device(be, monkeypatch):
    from knetpy import backends
    assert not isinstance(RNN(3, 4).w.value, KnetArray)           # host: numpy weights
    monkeypatch.setattr("knetpy.rnn.gpu", lambda: 0)               # as if gpu(0) were active
    monkeypatch.setattr(backends, "_current", be)
    r = RNN(3, 4, "gru")
    assert isinstance(r.w.value, KnetArray) and r.w.value.backend is be
    assert isinstance(r(np.zeros((2, 1, 3), np.float32)), KnetArray)
