"""knetpy.ops: the docstring examples of every op module, and the host RNN cells
(the numpy backend's lstm/gru bodies, the one host copy the recurrence calls)
against finite differences and against the kernel backend's cells (the CUDA
source run by the CPU emulator), with and without ``out=`` buffers."""
import doctest
import importlib

import numpy as np
import pytest

from knetpy.backends.emulator import emulated_backend
from knetpy.backends import numpy_backend as cells

MODULES = ["knetpy.ops.activations", "knetpy.ops.softmax", "knetpy.ops.losses",
           "knetpy.ops.linear", "knetpy.ops.dropout", "knetpy.ops.normalization",
           "knetpy.ops.batchnorm", "knetpy.ops.rnn", "knetpy.backends.host_nn",
           "knetpy.ops.device", "knetpy.ops.bn_sync", "knetpy.layers.norm_functional",
           "knetpy.layers.misc"]

rs = np.random.RandomState(3)
B, H = 3, 4


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    res = doctest.testmod(importlib.import_module(name), extraglobs={"np": np},
                          optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def _numgrad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        hi = f()
        x[i] = old - eps
        lo = f()
        x[i] = old
        g[i] = (hi - lo) / (2 * eps)
    return g


def test_lstmback_is_the_gradient_of_lstm():
    g, c0 = rs.randn(B, 4 * H), rs.randn(B, H)
    wh, wc = rs.randn(B, H), rs.randn(B, H)       # loss = sum(wh*h + wc*c)

    def loss():
        h, c, _ = cells.lstm(g, c0)
        return np.sum(wh * h + wc * c)
    _, c, act = cells.lstm(g, c0)
    dg, dc0 = cells.lstmback(act, c0, c, wh, wc)
    np.testing.assert_allclose(dg, _numgrad(loss, g), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dc0, _numgrad(loss, c0), rtol=1e-6, atol=1e-8)


def test_gruback_is_the_gradient_of_gru():
    gx, gh, h0 = rs.randn(B, 3 * H), rs.randn(B, 3 * H), rs.randn(B, H)
    w = rs.randn(B, H)

    def loss():
        return np.sum(w * cells.gru(gx, gh, h0)[0])
    _, act = cells.gru(gx, gh, h0)
    dgx, dgh, dh0 = cells.gruback(act, gh, h0, w)
    np.testing.assert_allclose(dgx, _numgrad(loss, gx), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dgh, _numgrad(loss, gh), rtol=1e-6, atol=1e-8)
    # h0 reaches h directly (z*h0, which gruback returns) and through gh (dgh @ Wh)
    direct = _numgrad(loss, h0)
    np.testing.assert_allclose(dh0, direct, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["relu", "tanh"])
def test_activation_back_is_the_gradient_of_unary(mode):
    x, w = rs.randn(B, H), rs.randn(B, H)
    y = cells.unary(mode, x)
    np.testing.assert_allclose(cells.activation_back(mode, w, y),
                               _numgrad(lambda: np.sum(w * cells.unary(mode, x)), x),
                               rtol=1e-6, atol=1e-8)


def test_host_cells_match_the_kernel_backend():
    be = emulated_backend(block=64, max_blocks=4)
    g, c0, dh, dc = rs.randn(B, 4 * H), rs.randn(B, H), rs.randn(B, H), rs.randn(B, H)
    for a, b in zip(cells.lstm(g, c0), be.lstm(g, c0)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    _, c, act = cells.lstm(g, c0)
    for a, b in zip(cells.lstmback(act, c0, c, dh, dc), be.lstmback(act, c0, c, dh, dc)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    gx, gh = rs.randn(B, 3 * H), rs.randn(B, 3 * H)
    for a, b in zip(cells.gru(gx, gh, c0), be.gru(gx, gh, c0)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    _, act = cells.gru(gx, gh, c0)
    for a, b in zip(cells.gruback(act, gh, c0, dh), be.gruback(act, gh, c0, dh)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    for mode in ("relu", "tanh"):
        y = cells.unary(mode, g)
        np.testing.assert_allclose(y, be.unary(mode, g), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(cells.activation_back(mode, g, y),
                                   be.activation_back(mode, g, y), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_lstm_cells_write_out_buffers_in_place(dt):
    """out= may alias the inputs the way the recurrence uses it (act = g,
    dc0 = dc) and gives the values of the allocating call, on both backends."""
    kb = emulated_backend(block=64, max_blocks=4)
    g, c0, dh, dc = (rs.randn(B, k * H).astype(dt) for k in (4, 1, 1, 1))
    for be in (cells, kb):
        h, c, act = be.lstm(g, c0)
        g2, hb, cb = g.copy(), np.empty_like(c0), np.empty_like(c0)
        res = be.lstm(g2, c0, out=(hb, cb, g2))
        assert res[0] is hb and res[1] is cb and res[2] is g2
        for a, b in zip((h, c, act), (hb, cb, g2)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        dg, dc0 = be.lstmback(act, c0, c, dh, dc)
        dgb, dcb = np.empty_like(g), dc.copy()
        res = be.lstmback(act, c0, c, dh, dcb, out=(dgb, dcb))
        assert res[0] is dgb and res[1] is dcb
        np.testing.assert_allclose(dgb, dg, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(dcb, dc0, rtol=1e-6, atol=1e-7)
        with pytest.raises(ValueError, match="out"):
            be.lstm(g, c0, out=(hb, cb))
        with pytest.raises(ValueError, match="out"):
            be.lstmback(act, c0, c, dh, dc, out=(dgb, dcb[:, :1]))
