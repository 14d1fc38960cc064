"""Pooling layers: values by explicit windows, padding forms, global/adaptive, gradients, errors."""
import itertools

import numpy as np
import pytest

from autograd import Param, gcheck
from knetpy.layers import (AdaptiveLPPool, AdaptiveMaxPool, AdaptiveMeanPool, GlobalLPPool,
                           GlobalMaxPool, GlobalMeanPool, LPPool, MaxPool, MeanPool, SamePad)

rs = np.random.RandomState(3)


def ref_pool(x, window, stride, pads, dil, red, fill):
    D = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + list(pads), constant_values=fill)
    outs = [(xp.shape[2 + i] - (window[i] - 1) * dil[i] - 1) // stride[i] + 1 for i in range(D)]
    y = np.zeros(x.shape[:2] + tuple(outs))
    for pos in itertools.product(*[range(n) for n in outs]):
        vals = []
        for kk in itertools.product(*[range(n) for n in window]):
            idx = tuple(pos[i] * stride[i] + kk[i] * dil[i] for i in range(D))
            vals.append(xp[(slice(None), slice(None)) + idx])
        y[(slice(None), slice(None)) + pos] = red(np.stack(vals, -1))
    return y


MAX = lambda v: v.max(-1)          # noqa: E731
MEAN = lambda v: v.mean(-1)        # noqa: E731
LP3 = lambda v: (np.abs(v) ** 3).sum(-1) ** (1 / 3)      # noqa: E731


@pytest.mark.parametrize("cls,red,fill,extra", [
    (MaxPool, MAX, -np.inf, {}), (MeanPool, MEAN, 0.0, {}), (LPPool, LP3, 0.0, {"p": 3})])
@pytest.mark.parametrize("kw,pads", [
    (dict(), [(0, 0), (0, 0)]),
    (dict(stride=1), [(0, 0), (0, 0)]),
    (dict(pad=1, stride=(2, 1)), [(1, 1), (1, 1)]),
    (dict(pad=(0, 1, 1, 0)), [(0, 1), (1, 0)]),
    (dict(pad=SamePad(), stride=2), [(1, 0), (1, 0)]),
    (dict(dilation=2, stride=1), [(0, 0), (0, 0)]),
])
def test_pool_values(cls, red, fill, extra, kw, pads):
    m = cls((2, 2), **kw, **extra)
    x = rs.randn(2, 3, 6, 5)
    want = ref_pool(x, (2, 2), m.stride, pads, m.dilation, red, fill)
    np.testing.assert_allclose(m(x), want, rtol=1e-12)


def test_pool_shapes_1d_3d_and_seed_example():
    assert MaxPool((2, 2))(np.zeros((1, 3, 4, 4))).shape == (1, 3, 2, 2)
    assert MeanPool((3,), stride=2)(np.zeros((2, 1, 9))).shape == (2, 1, 4)
    assert MaxPool((2, 2, 2))(np.zeros((1, 2, 4, 4, 4))).shape == (1, 2, 2, 2, 2)
    assert MaxPool((3, 3), pad=SamePad(), stride=2)(np.zeros((1, 1, 7, 8))).shape == (1, 1, 4, 4)
    x = rs.randn(1, 1, 9)
    np.testing.assert_allclose(MeanPool(3)(x), x.reshape(1, 1, 3, 3).mean(-1))


def test_pool_gradients():
    x = Param(rs.randn(2, 2, 5, 4))
    assert gcheck(lambda u: MaxPool((2, 2), pad=1, stride=1)(u), x)
    assert gcheck(lambda u: MeanPool((3, 2), pad=(1, 0, 0, 1))(u), x)
    assert gcheck(lambda u: LPPool((2, 2), p=2)(u), x)
    assert gcheck(lambda u: AdaptiveMaxPool((2, 3))(u), x)
    assert gcheck(lambda u: GlobalLPPool(p=3)(u), x)


def test_global_pools():
    x = rs.randn(2, 3, 4, 5)
    np.testing.assert_allclose(GlobalMaxPool()(x), x.max(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(GlobalMeanPool()(x), x.mean(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(GlobalLPPool()(x),
                               np.sqrt((x ** 2).sum(axis=(2, 3), keepdims=True)))
    assert GlobalMeanPool()(rs.randn(2, 3, 4, 4, 4)).shape == (2, 3, 1, 1, 1)
    assert gcheck(lambda u: GlobalMeanPool()(u), Param(x))
    with pytest.raises(ValueError, match=r"\(N, C, spatial...\)"):
        GlobalMaxPool()(np.zeros((2, 3)))


def test_adaptive_pools():
    x = rs.randn(2, 3, 10, 4)
    y = AdaptiveMaxPool((5, 2))(x)
    assert y.shape == (2, 3, 5, 2)
    np.testing.assert_allclose(y, x.reshape(2, 3, 5, 2, 2, 2).max(axis=(3, 5)))
    np.testing.assert_allclose(AdaptiveMeanPool((1, 1))(x), x.mean(axis=(2, 3), keepdims=True))
    # not divisible: Lux's rule stride = 7 // 3 = 2, window = 7 - 2*2 = 3
    z = rs.randn(1, 1, 7)
    want = np.array([z[0, 0, 0:3].mean(), z[0, 0, 2:5].mean(), z[0, 0, 4:7].mean()])
    np.testing.assert_allclose(AdaptiveMeanPool((3,))(z)[0, 0], want)
    lp = AdaptiveLPPool((2,), p=2)(np.ones((1, 1, 8)))
    np.testing.assert_allclose(lp, np.full((1, 1, 2), 2.0))
    with pytest.raises(ValueError, match="larger than the input"):
        AdaptiveMaxPool((11, 2))(x)
    with pytest.raises(ValueError, match="2 spatial axes"):
        AdaptiveMaxPool((2, 2))(rs.randn(1, 1, 4))


def test_pool_errors_and_repr():
    with pytest.raises(ValueError, match="larger than the padded input"):
        MaxPool((5, 5))(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="p must be a positive number"):
        LPPool((2, 2), p=0)
    with pytest.raises(TypeError, match="must hold floats"):
        MaxPool((2, 2))(np.zeros((1, 1, 4, 4), int))
    with pytest.raises(ValueError, match="2 spatial axes"):
        MaxPool((2, 2))(np.zeros((1, 4, 4)))
    assert repr(MaxPool((2, 2))) == "MaxPool((2, 2))"
    assert repr(MeanPool((3, 3), stride=1, pad=1)) == "MeanPool((3, 3), stride=(1, 1), pad=1)"
    assert repr(GlobalLPPool(p=3)) == "GlobalLPPool(p=3)"
