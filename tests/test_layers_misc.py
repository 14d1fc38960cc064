"""Misc layers: FlattenLayer, Maxout, NoOpLayer, ReshapeLayer, SelectDim, WrappedFunction,
ReverseSequence, PixelShuffle, Upsample."""
import numpy as np
import pytest

from autograd import Param, gcheck, params
from knetpy.layers import (Dense, FlattenLayer, Maxout, NoOpLayer, PixelShuffle, ReshapeLayer,
                           ReverseSequence, SelectDim, Upsample, WrappedFunction, pixel_shuffle,
                           upsample)

rs = np.random.RandomState(6)
F64 = dict(dtype=np.float64)


def test_flatten_reshape_noop_wrapped():
    x = rs.randn(2, 2, 2, 2)
    assert FlattenLayer()(x).shape == (2, 8)                  # seed example, batch-first
    np.testing.assert_array_equal(FlattenLayer()(x), x.reshape(2, 8))
    assert FlattenLayer(2)(rs.randn(5, 3, 4, 2)).shape == (5, 3, 8)
    with pytest.raises(ValueError, match="batch axis"):
        FlattenLayer(3)(x[0])
    assert ReshapeLayer((2, 2))(rs.randn(3, 4, 1)).shape == (3, 2, 2)   # seed: (4,1,3)->(2,2,3)
    with pytest.raises(ValueError, match="cannot reshape"):
        ReshapeLayer((3, 2))(rs.randn(3, 4))
    assert NoOpLayer()(1) == 1
    assert repr(NoOpLayer()) == "NoOpLayer()"
    w = WrappedFunction(np.tanh)
    np.testing.assert_allclose(w(x), np.tanh(x))
    assert repr(w) == "WrappedFunction(tanh)"
    assert gcheck(lambda u: FlattenLayer()(u), Param(x))
    assert gcheck(lambda u: ReshapeLayer((4,))(u), Param(rs.randn(3, 2, 2)))
    with pytest.raises(TypeError, match="callable"):
        WrappedFunction(3)


def test_select_and_reverse():
    x = rs.randn(3, 4, 5)
    np.testing.assert_array_equal(SelectDim(1, 2)(x), x[:, 2])
    np.testing.assert_array_equal(SelectDim(-1, slice(1, 3))(x), x[..., 1:3])
    with pytest.raises(ValueError, match="out of range"):
        SelectDim(3, 0)(x)
    np.testing.assert_array_equal(ReverseSequence()(np.array([1.0, 2.0, 3.0])), [3.0, 2.0, 1.0])
    np.testing.assert_array_equal(ReverseSequence()(x), x[:, ::-1])        # time axis 1
    np.testing.assert_array_equal(ReverseSequence(2)(x), x[:, :, ::-1])
    assert gcheck(lambda u: SelectDim(2, 1)(u) * ReverseSequence()(u)[..., 0], Param(x))


def test_maxout_three_forms():
    a, b = Dense(3, 2, **F64), Dense(3, 2, **F64)
    x = rs.randn(4, 3)
    ya, yb = x @ np.asarray(a.weight).T + a.bias, x @ np.asarray(b.weight).T + b.bias
    np.testing.assert_allclose(Maxout(a, b)(x), np.maximum(ya, yb))
    np.testing.assert_allclose(Maxout(first=a, second=b)(x), np.maximum(ya, yb))
    m = Maxout(lambda: Dense(3, 2, **F64), 4)
    assert len(params(m)) == 8
    assert len({id(p) for p in params(m)}) == 8               # independent branches
    assert m(x).shape == (4, 2)
    assert gcheck(lambda u: m(u), Param(x))
    assert "layer_(0-3) = Dense(3 => 2),  # 32 (8 x 4) parameters" in repr(m)
    with pytest.raises(ValueError, match="at least one"):
        Maxout()


def test_pixel_shuffle():
    x = rs.randn(2, 8, 3, 4)
    y = PixelShuffle(2)(x)
    assert y.shape == (2, 2, 6, 8)
    for c in range(2):
        for i in range(2):
            for j in range(2):
                np.testing.assert_array_equal(y[:, c, i::2, j::2], x[:, c * 4 + i * 2 + j])
    z = pixel_shuffle(rs.randn(1, 16, 2, 2, 2), 2)       # 3-D: r^3 = 8 channels per output
    assert z.shape == (1, 2, 4, 4, 4)
    assert pixel_shuffle(rs.randn(1, 3, 5), 3).shape == (1, 1, 15)
    assert gcheck(lambda u: PixelShuffle(2)(u), Param(x))
    with pytest.raises(ValueError, match="divisible by r"):
        PixelShuffle(2)(rs.randn(1, 6, 2, 2))


def lin1d(v, n_out, align, scale=None):
    """Independent linear interpolation of a 1-D array."""
    n_in = len(v)
    out = np.empty(n_out)
    for j in range(n_out):
        if align:
            s = j * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            r = 1 / scale if scale else n_in / n_out
            s = max((j + 0.5) * r - 0.5, 0.0)
        i0 = min(int(np.floor(s)), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        out[j] = v[i0] * (1 - (s - i0)) + v[i1] * (s - i0)
    return out


def test_upsample_nearest():
    x = rs.randn(2, 3, 4, 5)
    y = Upsample(2)(x)                                   # Upsample(scale, mode) form
    np.testing.assert_array_equal(y, x.repeat(2, axis=2).repeat(2, axis=3))
    y = Upsample("nearest", scale=(3, 1))(x)
    np.testing.assert_array_equal(y, x.repeat(3, axis=2))
    y = Upsample("nearest", size=(6, 5))(x)
    np.testing.assert_array_equal(y, x[:, :, [0, 0, 1, 2, 2, 3]])
    assert Upsample(2)(rs.randn(1, 1, 2, 2, 2)).shape == (1, 1, 4, 4, 4)
    assert gcheck(lambda u: Upsample(2)(u), Param(x))


@pytest.mark.parametrize("align", [False, True])
def test_upsample_bilinear_and_linear(align):
    x = rs.randn(1, 2, 3, 4)
    y = Upsample("bilinear", size=(5, 7), align_corners=align)(x)
    want = np.empty((1, 2, 5, 7))
    for c in range(2):
        rows = np.stack([lin1d(x[0, c, :, j], 5, align) for j in range(4)], 1)   # (5, 4)
        want[0, c] = np.stack([lin1d(rows[i], 7, align) for i in range(5)])
    np.testing.assert_allclose(y, want, rtol=1e-12)
    if align:                                            # corners kept exactly
        np.testing.assert_allclose(y[..., [0, -1], :][..., [0, -1]], x[..., [0, -1], :][..., [0, -1]])
    v = rs.randn(2, 1, 5)
    z = Upsample("linear", scale=2, align_corners=align)(v)
    np.testing.assert_allclose(z[1, 0], lin1d(v[1, 0], 10, align, None if align else 2))
    assert gcheck(lambda u: Upsample("bilinear", scale=2, align_corners=align)(u), Param(x))


def test_upsample_trilinear_and_errors():
    x = rs.randn(1, 1, 2, 3, 2)
    y = Upsample("trilinear", scale=2)(x)
    assert y.shape == (1, 1, 4, 6, 4)
    # separable: constant along two axes reduces to 1-D interpolation
    c = np.broadcast_to(np.arange(3.0).reshape(1, 1, 1, 3, 1), (1, 1, 2, 3, 2))
    np.testing.assert_allclose(upsample(c, "trilinear", scale=2)[0, 0, 0, :, 0],
                               lin1d(np.arange(3.0), 6, False, 2))
    assert gcheck(lambda u: Upsample("trilinear", size=(3, 4, 3), align_corners=True)(u),
                  Param(x))
    with pytest.raises(ValueError, match="needs 2 spatial axes"):
        Upsample("bilinear", scale=2)(rs.randn(1, 1, 4))
    with pytest.raises(ValueError, match="exactly one of scale and size"):
        Upsample("nearest")
    with pytest.raises(ValueError, match="mode must be one of"):
        Upsample("cubic", scale=2)
    assert repr(Upsample("bilinear", scale=2, align_corners=True)) == \
        "Upsample('bilinear', scale=2, align_corners=True)"
