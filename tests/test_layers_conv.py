"""Conv / ConvTranspose layers: shapes, values against direct sums, padding forms, groups,
gradients, init, errors."""
import itertools

import numpy as np
import pytest

import knetpy
from autograd import Param, gcheck
from knetpy import relu
from knetpy.layers import Conv, ConvTranspose, SamePad

rs = np.random.RandomState(2)
F64 = dict(dtype=np.float64)


def ref_conv(x, w, b, stride, pads, dil, groups, flip):
    """Direct sum: y[n,o,p] = sum_{c,k} xpad[n, g*Cg + c, p*s + k*d] * w[o, c, k]."""
    D = x.ndim - 2
    if flip:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * D]
    xp = np.pad(x, [(0, 0), (0, 0)] + list(pads))
    O, Cg = w.shape[:2]
    k = w.shape[2:]
    outs = [(xp.shape[2 + i] - (k[i] - 1) * dil[i] - 1) // stride[i] + 1 for i in range(D)]
    y = np.zeros((x.shape[0], O) + tuple(outs))
    Og = O // groups
    for o in range(O):
        g = o // Og
        for pos in itertools.product(*[range(n) for n in outs]):
            for kk in itertools.product(*[range(n) for n in k]):
                idx = tuple(pos[i] * stride[i] + kk[i] * dil[i] for i in range(D))
                patch = xp[(slice(None), slice(g * Cg, (g + 1) * Cg)) + idx]
                y[(slice(None), o) + pos] += patch @ w[(o, slice(None)) + kk]
    if b is not None:
        y += b.reshape((1, -1) + (1,) * D)
    return y


def ref_deconv(x, w, b, stride, pads, outpad, dil, groups, flip):
    """Scatter: every input pixel adds w * x into the full output, then crop/extend."""
    D = x.ndim - 2
    if flip:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * D]
    C, Og = w.shape[:2]
    k = w.shape[2:]
    Cg = C // groups
    full = [(x.shape[2 + i] - 1) * stride[i] + (k[i] - 1) * dil[i] + 1 for i in range(D)]
    y = np.zeros((x.shape[0], Og * groups) + tuple(n + 8 for n in full))
    for c in range(C):
        g = c // Cg
        for pos in itertools.product(*[range(n) for n in x.shape[2:]]):
            for kk in itertools.product(*[range(n) for n in k]):
                idx = tuple(pos[i] * stride[i] + kk[i] * dil[i] for i in range(D))
                y[(slice(None), slice(g * Og, (g + 1) * Og)) + idx] += \
                    x[(slice(None), c) + pos][:, None] * w[(c, slice(None)) + kk]
    sl = tuple(slice(pads[i][0], full[i] - pads[i][1] + outpad[i]) for i in range(D))
    y = y[(slice(None), slice(None)) + sl]
    if b is not None:
        y += b.reshape((1, -1) + (1,) * D)
    return y


def W(m):
    return np.asarray(m.weight), (None if m.bias is None else np.asarray(m.bias))


@pytest.mark.parametrize("kw,pads", [
    (dict(), [(0, 0), (0, 0)]),
    (dict(pad=1, stride=2), [(1, 1), (1, 1)]),
    (dict(pad=(1, 2)), [(1, 1), (2, 2)]),
    (dict(pad=(0, 1, 2, 0)), [(0, 1), (2, 0)]),
    (dict(pad=SamePad()), [(1, 1), (1, 1)]),
    (dict(pad=SamePad(), stride=2, dilation=2), [(2, 2), (2, 2)]),
    (dict(dilation=(2, 1), cross_correlation=True), [(0, 0), (0, 0)]),
])
def test_conv2d_values(kw, pads):
    m = Conv((3, 3), 2, 3, np.tanh, **kw, **F64)
    x = rs.randn(2, 2, 7, 6)
    w, b = W(m)
    st = m.stride
    want = np.tanh(ref_conv(x, w, b, st, pads, m.dilation, 1, not m.cross_correlation))
    np.testing.assert_allclose(m(x), want, rtol=1e-10, atol=1e-12)


def test_conv_samepad_sizes():
    for n, s, k in [(7, 1, 3), (7, 2, 3), (8, 2, 4), (9, 3, 2), (5, 1, 4)]:
        m = Conv((k,), 1, 1, pad=SamePad(), stride=s)
        assert m(np.zeros((1, 1, n), np.float32)).shape == (1, 1, -(-n // s)), (n, s, k)


def test_conv_groups_and_depthwise():
    m = Conv((2, 2), 4, 6, groups=2, **F64)
    assert m.weight.shape == (6, 2, 2, 2)
    x = rs.randn(2, 4, 5, 5)
    w, b = W(m)
    np.testing.assert_allclose(m(x), ref_conv(x, w, b, (1, 1), [(0, 0)] * 2, (1, 1), 2, True),
                               rtol=1e-10, atol=1e-12)
    dw = Conv((3, 3), 4, 4, groups=4, pad=1, **F64)      # depthwise
    assert dw.weight.shape == (4, 1, 3, 3)
    w, b = W(dw)
    np.testing.assert_allclose(dw(x), ref_conv(x, w, b, (1, 1), [(1, 1)] * 2, (1, 1), 4, True),
                               rtol=1e-10, atol=1e-12)


def test_conv_1d_and_3d():
    m1 = Conv((3,), 2, 2, stride=2, **F64)
    x1 = rs.randn(2, 2, 9)
    w, b = W(m1)
    np.testing.assert_allclose(m1(x1), ref_conv(x1, w, b, (2,), [(0, 0)], (1,), 1, True),
                               rtol=1e-10, atol=1e-12)
    m3 = Conv((2, 2, 2), 1, 2, pad=(1, 0, 0, 1, 0, 0), cross_correlation=True, **F64)
    x3 = rs.randn(1, 1, 3, 3, 3)
    w, b = W(m3)
    np.testing.assert_allclose(m3(x3), ref_conv(x3, w, b, (1, 1, 1), [(1, 0), (0, 1), (0, 0)],
                                                (1, 1, 1), 1, False), rtol=1e-10, atol=1e-12)


def test_conv_gradients():
    m = Conv((3, 3), 2, 2, np.tanh, pad=(0, 1, 1, 0), stride=2, **F64)
    assert gcheck(lambda x: m(x), Param(rs.randn(2, 2, 6, 5)))
    g = Conv((2, 2), 4, 2, groups=2, dilation=2, pad=SamePad(), **F64)
    assert gcheck(lambda x: g(x), Param(rs.randn(1, 4, 5, 5)))


def test_conv_init_and_repr():
    knetpy.seed(1)
    m = Conv((3, 3), 16, 8)
    fan_in = 16 * 9
    w = np.abs(np.asarray(m.weight)).max()
    assert w <= 1 / np.sqrt(fan_in) and w > 0.9 / np.sqrt(fan_in)
    assert np.abs(np.asarray(m.bias)).max() <= 1 / np.sqrt(fan_in)
    r = Conv((3, 3), 16, 8, relu)
    assert np.abs(np.asarray(r.weight)).max() <= np.sqrt(6 / fan_in)
    assert np.abs(np.asarray(r.weight)).max() > 0.9 * np.sqrt(6 / fan_in)
    assert repr(Conv((3, 3), 3, 8, relu, pad=1, stride=2, groups=1)) == \
        "Conv((3, 3), 3 => 8, relu, stride=2, pad=1)"
    assert repr(Conv((3,), 4, 4, groups=4, use_bias=False)) == \
        "Conv((3,), 4 => 4, groups=4, use_bias=False)"


def test_conv_errors():
    with pytest.raises(ValueError, match="divisible by groups"):
        Conv((3, 3), 3, 6, groups=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        ConvTranspose((3, 3), 4, 6, groups=4)
    m = Conv((3, 3), 3, 4)
    with pytest.raises(ValueError, match="x has 2 channels"):
        m(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="2 spatial axes"):
        m(np.zeros((1, 3, 5), np.float32))
    with pytest.raises(ValueError, match="pad must have 2 or 4 entries"):
        Conv((3, 3), 3, 4, pad=(1, 1, 1))
    with pytest.raises(TypeError, match="pad must be"):
        Conv((3, 3), 3, 4, pad="same")
    with pytest.raises(ValueError, match="stride must be >= 1"):
        Conv((3, 3), 3, 4, stride=0)


@pytest.mark.parametrize("kw,pads,outpad", [
    (dict(), [(0, 0), (0, 0)], (0, 0)),
    (dict(stride=2, pad=1), [(1, 1), (1, 1)], (0, 0)),
    (dict(stride=2, pad=1, outpad=1), [(1, 1), (1, 1)], (1, 1)),
    (dict(stride=(2, 3), pad=(0, 1, 2, 0), outpad=(1, 2)), [(0, 1), (2, 0)], (1, 2)),
    (dict(dilation=2, pad=1, cross_correlation=True), [(1, 1), (1, 1)], (0, 0)),
])
def test_conv_transpose_values(kw, pads, outpad):
    m = ConvTranspose((3, 2), 2, 3, **kw, **F64)
    assert m.weight.shape == (2, 3, 3, 2)
    x = rs.randn(2, 2, 3, 4)
    w, b = W(m)
    want = ref_deconv(x, w, b, m.stride, pads, outpad, m.dilation, 1, not m.cross_correlation)
    np.testing.assert_allclose(m(x), want, rtol=1e-10, atol=1e-12)


def test_conv_transpose_samepad_groups_and_gradients():
    for s, k in [(1, 3), (2, 3), (2, 4), (3, 2), (4, 2)]:
        m = ConvTranspose((k,), 2, 2, stride=s, pad=SamePad())
        assert m(np.zeros((1, 2, 5), np.float32)).shape == (1, 2, 5 * s), (s, k)
    g = ConvTranspose((2, 2), 4, 6, groups=2, stride=2, **F64)
    assert g.weight.shape == (4, 3, 2, 2)
    x = rs.randn(1, 4, 3, 3)
    w, b = W(g)
    np.testing.assert_allclose(g(x), ref_deconv(x, w, b, (2, 2), [(0, 0)] * 2, (0, 0), (1, 1), 2,
                                                True), rtol=1e-10, atol=1e-12)
    t = ConvTranspose((3, 3), 2, 2, np.tanh, stride=2, pad=(1, 0, 0, 1), outpad=1, **F64)
    assert gcheck(lambda u: t(u), Param(rs.randn(2, 2, 3, 3)))
    assert gcheck(lambda u: g(u), Param(x))
    assert repr(ConvTranspose((3, 3), 8, 4, stride=2, pad=1, outpad=1)) == \
        "ConvTranspose((3, 3), 8 => 4, stride=2, pad=1, outpad=(1, 1))"
    with pytest.raises(ValueError, match="outpad"):
        ConvTranspose((3, 3), 2, 2, stride=2, outpad=2)


def test_conv_transpose_inverts_strided_conv_shape():
    c = Conv((3, 3), 3, 8, stride=2, pad=1)
    t = ConvTranspose((3, 3), 8, 3, stride=2, pad=1, outpad=1)
    x = np.zeros((1, 3, 10, 10), np.float32)
    assert t(c(x)).shape == x.shape
