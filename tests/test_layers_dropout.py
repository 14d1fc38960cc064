"""Dropout layers and LuxLib's functional dropout / alpha_dropout."""
import numpy as np
import pytest

import knetpy
import knetpy.layers as L
from autograd import Param, diff, gcheck, grad
from knetpy.layers import (AlphaDropout, Chain, Dense, Dropout, VariationalHiddenDropout,
                           automode, testmode, trainmode)

rs = np.random.RandomState(4)


def test_functional_dropout_rate_scaling_dims():
    x = np.ones((400, 500))
    y, m = L.dropout(x, 0.3, training=True)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_array_equal(y, x * m)
    # dims: the mask varies along axis 0 only (whole rows dropped)
    y, m = L.dropout(x, 0.5, training=True, dims=0)
    assert m.shape == (400, 1)
    assert all(len(set(r.tolist())) == 1 for r in y)
    # NCHW channel dropout
    y, m = L.dropout(np.ones((4, 6, 3, 3)), 0.5, training=True, dims=(0, 1))
    assert m.shape == (4, 6, 1, 1)
    # invp overrides the scale
    y, _ = L.dropout(x, 0.5, training=True, invp=1.0)
    assert set(np.unique(y).tolist()) <= {0.0, 1.0}


def test_functional_dropout_mask_reuse_and_training_flag():
    x = rs.randn(5, 7)
    y1, m1 = L.dropout(x, 0.5, training=True)
    y2, m2 = L.dropout(x * 2, 0.5, training=True, mask=m1, update_mask=False)
    assert m2 is m1
    np.testing.assert_allclose(y2, 2 * y1)
    y, m = L.dropout(x, 0.5, training=False, mask=m1)
    assert y is x and m is m1
    y, _ = L.dropout(x, 0.5)                 # follows training(): off outside diff
    assert y is x
    with pytest.raises(ValueError, match="update_mask=False needs a mask"):
        L.dropout(x, 0.5, training=True, update_mask=False)
    with pytest.raises(ValueError, match=r"p must be a probability"):
        L.dropout(x, 1.5, training=True)
    with pytest.raises(ValueError, match="dims must be axes"):
        L.dropout(x, 0.5, training=True, dims=2)
    y, _ = L.dropout(x, 1.0, training=True)
    assert np.all(y == 0)
    # seeded generator reproducible
    a, _ = L.dropout(x, 0.5, training=True, rng=np.random.default_rng(3))
    b, _ = L.dropout(x, 0.5, training=True, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_functional_dropout_gradient():
    x = Param(rs.randn(4, 6))
    _, m = L.dropout(x.value, 0.4, training=True)
    assert gcheck(lambda u: L.dropout(u, 0.4, training=True, mask=m, update_mask=False)[0], x)
    r = diff(lambda: np.sum(L.dropout(x, 0.4, mask=m, update_mask=False)[0] * 3))
    np.testing.assert_allclose(grad(r, x), 3 * m * np.ones((4, 6)))


def test_alpha_dropout_constants_and_moments():
    p = 0.2
    x = rs.randn(400_000)
    y = L.alpha_dropout(x, p, training=True, rng=np.random.default_rng(0))
    alpha = -1.7580993408473766
    A = 1 / np.sqrt((1 - p) * (1 + p * alpha ** 2))
    B = -A * alpha * p
    dropped = np.isclose(y, A * alpha + B)
    assert abs(dropped.mean() - p) < 0.005
    np.testing.assert_allclose(y[~dropped], A * x[~dropped] + B)
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01       # SELU fixed point kept
    assert L.alpha_dropout(x, p, training=False) is x
    assert np.all(L.alpha_dropout(x[:5], 1.0, training=True) == 0)
    u = Param(rs.randn(3, 4))
    assert gcheck(lambda v: L.alpha_dropout(v, 0.3, training=True,
                                            rng=np.random.default_rng(1)), u)


def test_dropout_layer_modes():
    d = Dropout(0.5)
    x = np.ones((50, 40))
    assert d(x) is x                          # not training
    seen = {}

    def loss():
        y = d(x)
        seen["zeros"] = float(np.mean(y.value == 0) if hasattr(y, "value") else np.mean(y == 0))
        return np.sum(y)
    diff(loss)
    assert 0.35 < seen["zeros"] < 0.65        # drops inside diff
    trainmode(d)
    assert set(np.unique(d(x)).tolist()) == {0.0, 2.0}
    testmode(d)
    px = Param(x)
    r = diff(lambda: np.sum(d(px)))          # forced off even inside diff
    np.testing.assert_array_equal(grad(r, px), np.ones_like(x))
    automode(d)
    c = Dropout(0.5, dims=1)
    y = trainmode(c)(np.ones((3, 100)))
    assert np.all(y == y[0])                  # one mask value per column
    assert repr(c) == "Dropout(0.5, dims=1)"
    with pytest.raises(ValueError, match="p must be a probability"):
        Dropout(-0.1)


def test_alpha_dropout_layer():
    a = AlphaDropout(0.1)
    x = rs.randn(10)
    assert a(x) is x
    y = trainmode(a)(np.zeros(100_000))
    assert len(np.unique(np.round(y, 6))) == 2
    assert repr(a) == "AlphaDropout(0.1)"


def test_variational_hidden_dropout_keeps_mask():
    knetpy.seed(5)
    v = trainmode(VariationalHiddenDropout(0.5))
    x = np.ones((4, 10))
    y1, y2 = v(x), v(x)
    np.testing.assert_array_equal(y1, y2)
    m = v.mask.copy()
    v.new_mask()
    y3 = v(x)
    assert not np.array_equal(m, v.mask)
    np.testing.assert_array_equal(y3, v(x))
    v(np.ones((2, 10)))                      # another shape: a fresh mask
    assert v.mask.shape == (2, 10)
    testmode(v)
    assert v(x) is x
    # inside a model, gradients flow through the kept mask
    w = VariationalHiddenDropout(0.3, dims=1)
    m = Chain(Dense(3, 5, np.tanh, dtype=np.float64), trainmode(w))
    u = Param(rs.randn(2, 3))
    m(u.value)
    assert w.mask.shape == (1, 5)
    assert gcheck(lambda z: m(z), u)


def test_functional_forms_draw_the_same_mask_on_every_backend():
    """One mask path: LuxLib's dropout/alpha_dropout ask x's backend for the
    mask (the kernel backend on the CPU emulator here), which keeps it on the
    device and draws the same one as the host for the same generator state."""
    from knetpy import KnetArray
    from knetpy.backends.emulator import emulated_backend
    be = emulated_backend(block=64, max_blocks=4)
    x = rs.randn(6, 5, 3)
    k = KnetArray._of(x.copy(), be)
    yh, mh = L.dropout(x, 0.4, training=True, dims=(0, 1), rng=np.random.default_rng(8))
    yk, mk = L.dropout(k, 0.4, training=True, dims=(0, 1), rng=np.random.default_rng(8))
    assert isinstance(mk, KnetArray) and mk.backend is be and mk.shape == (6, 5, 1)
    assert isinstance(yk, KnetArray) and yk.backend is be
    np.testing.assert_array_equal(mk.to_numpy(), mh)
    np.testing.assert_array_equal(yk.to_numpy(), yh)
    assert 0 < np.mean(mh == 0) < 1
    # a host mask handed back to a device input is moved to the device, and back
    y2, _ = L.dropout(k, 0.4, training=True, mask=mh, update_mask=False)
    np.testing.assert_array_equal(y2.to_numpy(), yh)
    y3, _ = L.dropout(x, 0.4, training=True, mask=mk, update_mask=False)
    assert isinstance(y3, np.ndarray)
    np.testing.assert_array_equal(y3, yh)
    ah = L.alpha_dropout(x, 0.3, training=True, rng=np.random.default_rng(9))
    ak = L.alpha_dropout(k, 0.3, training=True, rng=np.random.default_rng(9))
    assert isinstance(ak, KnetArray)
    np.testing.assert_allclose(ak.to_numpy(), ah, rtol=1e-12)
    d = trainmode(VariationalHiddenDropout(0.5))
    np.testing.assert_array_equal(d(k).to_numpy(), d(k).to_numpy())
    assert isinstance(d.mask, KnetArray)
