"""RNN: values against a step-by-step numpy reference, gradients by gcheck,
h/c semantics, rnnparam layout, batch_sizes, and bad input."""
import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad, value
from knetpy.rnn import RNN, rnnparam, rnnparams

TYPES = ["relu", "tanh", "lstm", "gru"]


def sig(x):
    return 1 / (1 + np.exp(-x))


def reference(r, x, h0=None, c0=None):
    """(y, hN, cN) of r on x (T, B, X), one gate matrix at a time, written
    from the equations in the Knet documentation."""
    T, B, _ = x.shape
    H, G, dirs = r.hidden_size, r.ngates, 1 + r.bidirectional
    L = r.nlayers
    h0 = np.zeros((L, B, H)) if h0 is None else h0
    c0 = np.zeros((L, B, H)) if c0 is None else c0
    hN, cN = [None] * L, [None] * L
    inp = x
    for layer in range(r.num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            W = [rnnparam(r, k + 1, j, 1) for j in range(1, G + 1)]
            R = [rnnparam(r, k + 1, j, 1) for j in range(G + 1, 2 * G + 1)]
            bW = [rnnparam(r, k + 1, j, 2) for j in range(1, G + 1)]
            bR = [rnnparam(r, k + 1, j, 2) for j in range(G + 1, 2 * G + 1)]
            h, c = h0[k], c0[k]
            ys = [None] * T
            for t in (range(T) if d == 0 else range(T - 1, -1, -1)):
                wx = [inp[t] if W[j] is None else inp[t] @ W[j].T for j in range(G)]

                def pre(j):
                    return wx[j] + bW[j] + h @ R[j].T + bR[j]
                if r.rnn_type == "relu":
                    h = np.maximum(pre(0), 0)
                elif r.rnn_type == "tanh":
                    h = np.tanh(pre(0))
                elif r.rnn_type == "lstm":
                    i, f, n, o = sig(pre(0)), sig(pre(1)), np.tanh(pre(2)), sig(pre(3))
                    c = f * c + i * n
                    h = o * np.tanh(c)
                else:
                    rr, z = sig(pre(0)), sig(pre(1))
                    n = np.tanh(wx[2] + bW[2] + rr * (h @ R[2].T + bR[2]))
                    h = (1 - z) * n + z * h
                ys[t] = h
            outs.append(np.stack(ys))
            hN[k], cN[k] = h, c
        inp = np.concatenate(outs, axis=-1)
    return inp, np.stack(hN), np.stack(cN)


def make(rnn_type, X=3, H=4, seed=0, **kw):
    np.random.seed(seed)
    r = RNN(X, H, rnn_type, dtype=np.float64, **kw)
    r.w.value[:] = np.random.randn(r.w.size) * 0.5   # bigger than xavier: exercise saturation
    return r


@pytest.mark.parametrize("rnn_type", TYPES)
@pytest.mark.parametrize("opts", [{}, {"bidirectional": True, "num_layers": 2}])
def test_values_match_reference(rnn_type, opts):
    r = make(rnn_type, **opts)
    L = r.nlayers
    x = np.random.randn(5, 2, 3)
    h0, c0 = np.random.randn(L, 2, 4), np.random.randn(L, 2, 4)
    r.h, r.c = h0, c0
    y = r(x)
    ey, eh, ec = reference(r, x, h0, c0)
    np.testing.assert_allclose(y, ey, atol=1e-12)
    np.testing.assert_allclose(r.h, eh, atol=1e-12)
    if rnn_type == "lstm":
        np.testing.assert_allclose(r.c, ec, atol=1e-12)
    else:
        assert r.c is c0         # only LSTMs use c


def test_skip_input_values():
    for rnn_type in TYPES:
        r = make(rnn_type, X=4, H=4, skip_input=True, bidirectional=True, num_layers=2)
        assert rnnparam(r, 1, 1, 1) is None and rnnparam(r, 2, 1, 1) is None
        assert rnnparam(r, 3, 1, 1).shape == (4, 8)
        x = np.random.randn(3, 2, 4)
        np.testing.assert_allclose(r(x), reference(r, x)[0], atol=1e-12)


@pytest.mark.parametrize("rnn_type", TYPES)
def test_gradients(rnn_type):
    r = make(rnn_type, H=3)
    x = Param(np.random.randn(4, 2, 3))
    proj = np.random.randn(4, 2, 3)
    assert gcheck(lambda: np.sum(r(x) * proj), nsample=20, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("rnn_type", TYPES)
def test_gradients_bidirectional_two_layers_with_state_params(rnn_type):
    r = make(rnn_type, H=3, bidirectional=True, num_layers=2)
    x = Param(np.random.randn(3, 2, 3))
    h0, c0 = Param(np.random.randn(4, 2, 3)), Param(np.random.randn(4, 2, 3))
    proj = np.random.randn(3, 2, 6)

    def loss():
        r.h, r.c = h0, c0
        y = r(x)
        # the final states feed the loss too
        return np.sum(y * proj) + np.sum(r.h ** 2) + (np.sum(r.c) if rnn_type == "lstm" else 0)
    assert gcheck(loss, nsample=15, atol=1e-7, rtol=1e-6)
    y = diff(loss)
    if rnn_type != "lstm":
        assert grad(y, c0) is None


def test_gradients_skip_input_and_one_step_inputs():
    r = make("gru", X=3, H=3, skip_input=True)
    for shape in [(3,), (2, 3), (2, 1, 3)]:
        x = Param(np.random.randn(*shape))
        assert gcheck(lambda: np.sum(np.sin(r(x))), atol=1e-7, rtol=1e-6)


def test_state_used_twice_in_one_diff():
    """Knet semantics: with rnn.h = 0 a second call continues from the first
    one's final state, and the gradient flows back through it."""
    r = make("lstm", H=3, h=0, c=0)
    x1, x2 = np.random.randn(2, 2, 3), np.random.randn(3, 2, 3)

    def loss():
        r.h, r.c = 0, 0
        r(x1)
        return np.sum(r(x2) ** 2)
    assert gcheck(loss, nsample=20, atol=1e-7, rtol=1e-6)
    r.h, r.c = 0, 0
    y2 = (r(x1), r(x2))[1]
    np.testing.assert_allclose(y2, reference(r, np.concatenate([x1, x2]))[0][2:], atol=1e-12)


def test_input_dims_and_state_shapes():
    r = make("lstm", X=3, H=4, bidirectional=True, num_layers=2, h=0, c=0)
    assert r(np.random.randn(3)).shape == (8,)
    assert r.h.shape == (4, 1, 4) and r.c.shape == (4, 1, 4)
    r.h = r.c = 0
    assert r(np.random.randn(5, 3)).shape == (5, 8)
    assert r.h.shape == (4, 5, 4)
    y = r(np.random.randn(6, 5, 3))       # continues from the (4, 5, 4) state
    assert y.shape == (6, 5, 8)
    # a one-instance state may drop its leading ones
    r1 = make("tanh", X=3, H=4, h=np.random.randn(4))
    x = np.random.randn(3)
    expect = reference(r1, x.reshape(1, 1, 3), r1.h.reshape(1, 1, 4))[0].ravel()
    np.testing.assert_allclose(r1(x), expect, atol=1e-12)


def test_state_none_zero_array():
    x = np.random.randn(4, 2, 3)
    r = make("gru")
    y = r(x)
    assert r.h is None and r.c is None
    r.h = 0
    np.testing.assert_allclose(r(x), y)
    np.testing.assert_allclose(r.h[0], y[-1])     # final step = final state (1 layer)
    h1 = r.h
    r(x)                                            # continues from h1
    np.testing.assert_allclose(r.h, reference(r, x, h1)[1], atol=1e-12)


def test_final_state_is_a_result_inside_diff():
    r = make("lstm", h=0, c=0)
    diff(lambda: np.sum(r(np.random.randn(2, 2, 3))))
    assert type(r.h).__name__ == "Result" and type(r.c).__name__ == "Result"
    r.h, r.c = value(r.h), value(r.c)
    assert isinstance(r.h, np.ndarray) and r.h.shape == (1, 2, 4)


@pytest.mark.parametrize("rnn_type", TYPES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_batch_sizes_match_separate_sequences(rnn_type, bidirectional):
    r = make(rnn_type, H=3, bidirectional=bidirectional, num_layers=2)
    lengths = [4, 2, 2, 1]
    bs = [sum(n > t for n in lengths) for t in range(max(lengths))]    # [4, 3, 1, 1]
    seqs = [np.random.randn(n, 3) for n in lengths]
    packed = np.concatenate([np.stack([s[t] for s in seqs if len(s) > t]) for t in range(len(bs))])
    h0 = np.random.randn(r.nlayers, 4, 3)
    c0 = np.random.randn(r.nlayers, 4, 3)
    r.h, r.c = h0, c0
    y = r(packed, batch_sizes=bs)
    assert y.shape == (sum(bs), 3 * (1 + bidirectional))
    rows = iter(range(sum(bs)))
    where = {(t, j): next(rows) for t in range(len(bs)) for j in range(bs[t])}
    for j, s in enumerate(seqs):
        ey, eh, ec = reference(r, s[:, None, :], h0[:, j:j + 1], c0[:, j:j + 1])
        for t in range(len(s)):
            np.testing.assert_allclose(y[where[t, j]], ey[t, 0], atol=1e-12)
        np.testing.assert_allclose(r.h[:, j], eh[:, 0], atol=1e-12)
        if rnn_type == "lstm":
            np.testing.assert_allclose(r.c[:, j], ec[:, 0], atol=1e-12)
    # gradients through the packed run, the initial states included
    x, hp, cp = Param(packed), Param(h0), Param(c0)
    proj = np.random.randn(*y.shape)

    def loss():
        r.h, r.c = hp, cp
        return np.sum(r(x, batch_sizes=bs) * proj) + np.sum(r.h * r.h) + \
            (np.sum(np.sin(r.c)) if rnn_type == "lstm" else 0)
    assert gcheck(loss, nsample=15, atol=1e-7, rtol=1e-6)


def test_rnnparam_layout_covers_w_once():
    for kw in [{}, {"bidirectional": True, "num_layers": 3}, {"skip_input": True, "num_layers": 2}]:
        for rnn_type in TYPES:
            r = RNN(4, 4, rnn_type, **kw)
            ps = rnnparams(r)
            G = r.ngates
            assert len(ps) == 2 * r.nlayers * 2 * G
            mats, biases = ps[:len(ps) // 2], ps[len(ps) // 2:]
            assert all(b.shape == (4,) for b in biases)
            assert all(m is None or m.ndim == 2 for m in mats)
            # views in w: writing through them must touch every entry exactly once
            w = r.w.value
            w[:] = 0
            for p in ps:
                if p is not None:
                    p += 1
            assert np.all(w == 1)


def test_rnnparam_shapes_and_init():
    r = RNN(3, 5, "lstm", num_layers=2, bidirectional=True, winit=lambda *d: np.ones(d),
            binit=np.zeros,
            finit=lambda n: np.full(n, 7.0))
    assert r.w.dtype == np.float32 and isinstance(r.w, Param)
    assert rnnparam(r, 1, 1, 1).shape == (5, 3)        # (hidden, input): x @ W.T
    assert rnnparam(r, 2, 4, 1).shape == (5, 3)        # first backward layer sees x too
    assert rnnparam(r, 3, 1, 1).shape == (5, 10)       # upper layers see both directions
    assert rnnparam(r, 4, 8, 1).shape == (5, 5)
    for layer in range(1, 5):
        for id_ in range(1, 9):
            expect = 7.0 if id_ in (2, 6) else 0.0
            assert np.all(rnnparam(r, layer, id_, 2) == expect)
            assert np.all(rnnparam(r, layer, id_, 1) == 1)
    assert repr(r) == "LSTM(input=3,hidden=5,bidirectional,layers=2)"
    # default init: Xavier uniform matrices, zero biases, forget biases one
    r = RNN(3, 5, "lstm")
    s = np.sqrt(6 / 8)
    assert np.all(np.abs(rnnparam(r, 1, 1, 1)) <= s) and np.std(r.w.value[:60]) > 0.1
    assert np.all(rnnparam(r, 1, 2, 2) == 1) and np.all(rnnparam(r, 1, 6, 2) == 1)
    assert np.all(rnnparam(r, 1, 1, 2) == 0)


def test_rnnparam_is_differentiable():
    r = make("tanh")
    x = np.random.randn(2, 1, 3)
    y = diff(lambda: np.sum(r(x)) + np.sum(rnnparam(r, 1, 2, 1) ** 2))
    g = grad(y, r.w)
    g = g.dense() if hasattr(g, "dense") else g
    r2 = make("tanh")
    g2 = grad(diff(lambda: np.sum(r2(x))), r2.w)
    g2 = g2.dense() if hasattr(g2, "dense") else g2
    start = 4 * 3
    np.testing.assert_allclose((g - g2)[start:start + 16], 2 * r.w.value[start:start + 16])


def test_float32_close_to_float64():
    r64 = make("lstm", bidirectional=True)
    r32 = RNN(3, 4, "lstm", bidirectional=True)
    r32.w.value[:] = r64.w.value
    x = np.random.randn(6, 3, 3)
    y32 = r32(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, r64(x), atol=1e-5)
    g = grad(diff(lambda: np.sum(r32(x.astype(np.float32)))), r32.w)
    assert (g.dense() if hasattr(g, "dense") else g).dtype == np.float32


def test_dropout_only_while_training():
    r = make("gru", dropout=0.5, num_layers=2)
    x = np.random.randn(4, 3, 3)
    np.testing.assert_array_equal(r(x), r(x))
    r0 = make("gru", num_layers=2)
    np.testing.assert_allclose(r(x), r0(x))
    y1 = value(diff(lambda: np.sum(r(x))))
    assert not np.isclose(y1, np.sum(r0(x)))


def test_second_order_is_a_clear_error():
    r = make("tanh")

    def grad_norm(v):
        g = grad(lambda u: np.sum(r(u) ** 2))(v)
        return np.sum(g * g)
    with pytest.raises(NotImplementedError, match="second-order"):
        grad(grad_norm)(np.random.randn(2, 1, 3))


def test_bad_input():
    r = make("lstm")
    with pytest.raises(ValueError, match="input_size=3"):
        r(np.random.randn(2, 2, 5))
    with pytest.raises(ValueError, match="rnn_type"):
        RNN(3, 4, "rnn")
    with pytest.raises(ValueError, match="h must be"):
        r.h = np.zeros((1, 3, 4))
        r(np.random.randn(2, 2, 3))
    r.h = None
    with pytest.raises(ValueError, match="c must be"):
        r.c = np.zeros((2, 2, 4))
        r(np.random.randn(2, 2, 3))
    r.c = None
    with pytest.raises(TypeError, match="dtype"):
        r(np.random.randn(2, 2, 3).astype(np.float32))
    with pytest.raises(ValueError, match="1, 2 or 3 dims"):
        r(np.random.randn(1, 2, 2, 3))
    with pytest.raises(ValueError, match="batch_sizes"):
        r(np.random.randn(4, 3), batch_sizes=[1, 3])
    with pytest.raises(ValueError, match="sum"):
        r(np.random.randn(4, 3), batch_sizes=[2, 1])
    with pytest.raises(ValueError, match="skip_input"):
        RNN(3, 4, skip_input=True)
    with pytest.raises(ValueError, match="dropout"):
        RNN(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size"):
        RNN(3, 0)
    with pytest.raises(ValueError, match="dtype"):
        RNN(3, 4, dtype=np.int32)
    with pytest.raises(ValueError, match="layer"):
        rnnparam(r, 2, 1, 1)
    with pytest.raises(ValueError, match="id"):
        rnnparam(r, 1, 9, 1)
    with pytest.raises(ValueError, match="param"):
        rnnparam(r, 1, 1, 0)


def test_buffers_are_freed_without_the_cycle_collector():
    """The forward buffers (gates, cell states) must not sit in a reference cycle:
    a training loop would otherwise hold many steps of them until gc runs."""
    import gc
    from knetpy.ops.rnn import Recurrence as _Recurrence
    r = make("lstm")
    x = Param(np.random.randn(5, 2, 3))
    gc.collect()
    gc.disable()
    try:
        grad(diff(lambda: np.sum(r(x))), x)
        alive = [o for o in gc.get_objects() if isinstance(o, _Recurrence)]
    finally:
        gc.enable()
    assert alive == []


@pytest.mark.parametrize("rnn_type", ["lstm", "gru", "tanh"])
def test_recurrence_runs_on_the_backend_of_its_knetarrays(rnn_type):
    """KnetArray weights of the numpy backend: the recurrence runs there and
    hands back KnetArrays holding the values (and gradients) of plain numpy."""
    from autograd import diff, grad
    from autograd.core import _raw
    from knetpy import KnetArray
    from knetpy.rnn import RNN
    x = np.random.default_rng(11).standard_normal((4, 3, 2))
    ref = RNN(2, 3, rnn_type, dtype=np.float64)
    r = RNN(2, 3, rnn_type, dtype=np.float64, atype=KnetArray)
    r.w.value.data[:] = ref.w.value
    assert isinstance(r.w.value, KnetArray) and r.w.value.backend.name == "numpy"
    t, t0 = diff(lambda: np.sum(r(x) ** 2)), diff(lambda: np.sum(ref(x) ** 2))
    y = r(x)
    assert isinstance(y, KnetArray)
    np.testing.assert_allclose(y.to_numpy(), ref(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(float(t.value), float(t0.value), rtol=1e-12)
    g, g0 = _raw(grad(t, r.w)), _raw(grad(t0, ref.w))
    g, g0 = (np.asarray(_raw(a.dense() if hasattr(a, "dense") else a)) for a in (g, g0))
    np.testing.assert_allclose(g, g0, rtol=1e-10, atol=1e-12)
