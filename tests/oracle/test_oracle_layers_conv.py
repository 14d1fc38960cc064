"""Conv / ConvTranspose layers against PyTorch (float64, values and gradients at 1e-5):
cross-correlation and true convolution, groups, depthwise, SamePad, asymmetric pad, outpad;
then the pooling, PixelShuffle and Upsample layers against torch's functional forms."""
import numpy as np
import pytest

from autograd import Param, diff, grad
from knetpy.layers import Conv, ConvTranspose, SamePad

torch = pytest.importorskip("torch")
F = torch.nn.functional
TOL = dict(rtol=1e-5, atol=1e-5)
rs = np.random.RandomState(7)


def ours(m, x, wout):
    xp = Param(x.copy())
    out = {}

    def loss():
        y = m(xp)
        out["y"] = np.asarray(y.value)
        return np.sum(y * wout)
    r = diff(loss)
    return out["y"], grad(r, xp), grad(r, m.weight), grad(r, m.bias)


def theirs(fn, x, w, b, wout):
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = fn(tx, tw, tb)
    (y * torch.tensor(wout)).sum().backward()
    return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def torch_pad(x, pads):
    """pads [(lo, hi)] per spatial axis in NCHW order -> F.pad (last axis first)."""
    flat = [v for lo_hi in reversed(pads) for v in lo_hi]
    return F.pad(x, flat)


def compare(m, x, fn):
    w, b = np.asarray(m.weight), np.asarray(m.bias)
    y = m(x)
    wout = rs.randn(*y.shape)
    got = ours(m, x, wout)
    want = theirs(fn, x, w, b, wout)
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t, **TOL)


def flip(w):
    return torch.flip(w, dims=tuple(range(2, w.dim())))


@pytest.mark.parametrize("kw,pads", [
    (dict(stride=2, pad=1), [(1, 1), (1, 1)]),
    (dict(pad=(0, 2, 1, 0), dilation=(1, 2)), [(0, 2), (1, 0)]),
    (dict(pad=SamePad(), stride=2), [(1, 1), (1, 1)]),
    (dict(pad=SamePad(), dilation=2), [(2, 2), (2, 2)]),
    (dict(groups=2, pad=1), [(1, 1), (1, 1)]),
])
@pytest.mark.parametrize("cc", [True, False])
def test_conv2d_vs_torch(kw, pads, cc):
    m = Conv((3, 3), 4, 6, cross_correlation=cc, dtype=np.float64, **kw)
    x = rs.randn(2, 4, 8, 7)
    g = m.groups

    def fn(tx, tw, tb):
        return F.conv2d(torch_pad(tx, pads), tw if cc else flip(tw), tb, stride=m.stride,
                        dilation=m.dilation, groups=g)
    compare(m, x, fn)


def test_depthwise_and_3d_vs_torch():
    m = Conv((3, 3), 4, 8, groups=4, pad=SamePad(), cross_correlation=True, dtype=np.float64)
    compare(m, rs.randn(2, 4, 6, 6),
            lambda tx, tw, tb: F.conv2d(tx, tw, tb, padding=1, groups=4))
    m3 = Conv((2, 3, 2), 2, 3, stride=(1, 2, 1), pad=1, cross_correlation=True,
              dtype=np.float64)
    compare(m3, rs.randn(1, 2, 4, 5, 4),
            lambda tx, tw, tb: F.conv3d(tx, tw, tb, stride=(1, 2, 1), padding=1))
    m1 = Conv((3,), 2, 3, stride=2, pad=(1, 0), dtype=np.float64)
    compare(m1, rs.randn(2, 2, 9),
            lambda tx, tw, tb: F.conv1d(F.pad(tx, [1, 0]), flip(tw), tb, stride=2))


@pytest.mark.parametrize("kw,tkw", [
    (dict(stride=2, pad=1), dict(stride=2, padding=1)),
    (dict(stride=2, pad=1, outpad=1), dict(stride=2, padding=1, output_padding=1)),
    (dict(stride=(2, 3), pad=(0, 1), outpad=(1, 2)),
     dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2))),
    (dict(groups=2, stride=2), dict(groups=2, stride=2)),
    (dict(dilation=2, pad=2, stride=3, outpad=1),
     dict(dilation=2, padding=2, stride=3, output_padding=1)),
])
@pytest.mark.parametrize("cc", [True, False])
def test_conv_transpose_vs_torch(kw, tkw, cc):
    m = ConvTranspose((3, 3), 4, 6, cross_correlation=cc, dtype=np.float64, **kw)
    x = rs.randn(2, 4, 4, 5)
    compare(m, x, lambda tx, tw, tb: F.conv_transpose2d(tx, tw if cc else flip(tw), tb, **tkw))


def test_conv_transpose_samepad_vs_torch():
    # k=4, stride=2: total padding k - stride = 2 -> torch padding=1
    m = ConvTranspose((4, 4), 3, 2, stride=2, pad=SamePad(), cross_correlation=True,
                      dtype=np.float64)
    x = rs.randn(2, 3, 5, 5)
    assert m(x).shape == (2, 2, 10, 10)
    compare(m, x, lambda tx, tw, tb: F.conv_transpose2d(tx, tw, tb, stride=2, padding=1))


# ---- the other spatial layers against their torch counterparts (values and input gradients)
from knetpy.layers import (AdaptiveMaxPool, AdaptiveMeanPool, LPPool, MaxPool,  # noqa: E402
                           MeanPool, PixelShuffle, Upsample)


def compare_x(m, x, fn):
    y = m(x)
    wout = rs.randn(*np.shape(y))
    xp = Param(x.copy())
    r = diff(lambda: np.sum(m(xp) * wout))
    tx = torch.tensor(x, requires_grad=True)
    ty = fn(tx)
    (ty * torch.tensor(wout)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    np.testing.assert_allclose(grad(r, xp), tx.grad.numpy(), **TOL)


@pytest.mark.parametrize("m,fn", [
    (MaxPool((3, 3), stride=2, pad=1), lambda t: F.max_pool2d(t, 3, 2, 1)),
    (MaxPool((2, 2), stride=1, dilation=2), lambda t: F.max_pool2d(t, 2, 1, dilation=2)),
    (MeanPool((3, 3), stride=2, pad=1), lambda t: F.avg_pool2d(t, 3, 2, 1)),
    (LPPool((2, 2), p=2), lambda t: F.lp_pool2d(t.abs(), 2, 2)),
    (AdaptiveMeanPool((4, 3)), lambda t: F.adaptive_avg_pool2d(t, (4, 3))),
    (AdaptiveMaxPool((2, 3)), lambda t: F.adaptive_max_pool2d(t, (2, 3))),
    (PixelShuffle(2), lambda t: F.pixel_shuffle(t, 2)),
    (Upsample(2), lambda t: F.interpolate(t, scale_factor=2, mode="nearest")),
    (Upsample("bilinear", scale=2), lambda t: F.interpolate(t, scale_factor=2, mode="bilinear")),
    (Upsample("bilinear", size=(5, 9), align_corners=True),
     lambda t: F.interpolate(t, size=(5, 9), mode="bilinear", align_corners=True)),
    (Upsample("bilinear", size=(11, 7)),
     lambda t: F.interpolate(t, size=(11, 7), mode="bilinear")),
])
def test_spatial_layers_vs_torch(m, fn):
    compare_x(m, rs.randn(2, 4, 8, 6), fn)


def test_linear_trilinear_vs_torch():
    compare_x(Upsample("linear", scale=3), rs.randn(2, 3, 5),
              lambda t: F.interpolate(t, scale_factor=3, mode="linear"))
    compare_x(Upsample("trilinear", size=(3, 5, 4), align_corners=True), rs.randn(1, 2, 2, 3, 4),
              lambda t: F.interpolate(t, size=(3, 5, 4), mode="trilinear", align_corners=True))
