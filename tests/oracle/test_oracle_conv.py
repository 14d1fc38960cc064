"""conv4 / deconv4 / pool / unpool against torch.nn.functional on the CPU (float64,
values and gradients at 1e-5).  PyTorch computes cross-correlation, so conv4 with
mode=0 is compared with torch on the flipped kernel."""
import numpy as np
import pytest

from autograd import Param, diff, grad
from knetpy import conv4, deconv4, pool, unpool

torch = pytest.importorskip("torch")
F = torch.nn.functional
TOL = dict(rtol=1e-5, atol=1e-5)
rs = np.random.RandomState(11)


def flip(w):
    return np.ascontiguousarray(w[(slice(None), slice(None)) + (slice(None, None, -1),) *
                                  (w.ndim - 2)])


def ours(fn, *arrays):
    """(value, [gradient of sum(value * c) for each array]) with c random."""
    ps = [Param(a.copy()) for a in arrays]
    keep = {}

    def loss():
        y = fn(*ps)
        keep["y"] = np.asarray(y.value)
        keep["c"] = np.random.RandomState(0).randn(*keep["y"].shape)
        return np.sum(y * keep["c"])
    r = diff(loss)
    return keep["y"], [np.asarray(grad(r, p)) for p in ps]


def theirs(fn, *arrays):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    c = np.random.RandomState(0).randn(*y.shape)
    (y * torch.tensor(c)).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in ts]


def compare(a, b):
    np.testing.assert_allclose(a[0], b[0], **TOL)
    for ga, gb in zip(a[1], b[1]):
        np.testing.assert_allclose(ga, gb, **TOL)


CONV = [
    ((8, 3, 3, 3), (2, 3, 9, 8), dict(padding=1)),
    ((6, 2, 3, 2), (2, 4, 10, 9), dict(padding=(2, 1), stride=(2, 3), dilation=(1, 2),
                                       groups=2)),
    ((6, 1, 3, 3), (1, 3, 11, 11), dict(stride=2, dilation=3, groups=3, padding=2)),
    ((4, 3, 5, 5), (3, 3, 12, 12), dict(stride=1)),
    ((4, 2, 2, 3, 2), (2, 4, 6, 7, 5), dict(padding=(1, 0, 1), stride=(2, 1, 2), groups=2)),
    ((3, 2, 3, 3, 3), (1, 2, 7, 7, 7), dict(dilation=2, padding=1)),
]


@pytest.mark.parametrize("mode", [0, 1])
@pytest.mark.parametrize("ws,xs,o", CONV)
def test_conv4(ws, xs, o, mode):
    w, x = rs.randn(*ws), rs.randn(*xs)
    tconv = F.conv2d if len(xs) == 4 else F.conv3d
    a = ours(lambda w, x: conv4(w, x, mode=mode, alpha=1.5, **o), w, x)
    wt = flip(w) if mode == 0 else w
    b = theirs(lambda w, x: 1.5 * tconv(x, w, **o), wt, x)
    if mode == 0:
        b = (b[0], [flip(b[1][0]), b[1][1]])
    compare(a, b)


DECONV = [
    ((4, 3, 3, 3), (2, 4, 5, 6), dict(stride=2, padding=1)),
    ((4, 2, 2, 3), (2, 4, 4, 4), dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1),
                                      groups=2)),
    ((3, 2, 3, 3), (1, 3, 3, 3), dict(stride=3)),
    ((2, 3, 2, 2, 3), (1, 2, 3, 4, 3), dict(stride=2, padding=(0, 1, 1))),
]


@pytest.mark.parametrize("mode", [0, 1])
@pytest.mark.parametrize("ws,xs,o", DECONV)
def test_deconv4(ws, xs, o, mode):
    w, x = rs.randn(*ws), rs.randn(*xs)
    tconv = F.conv_transpose2d if len(xs) == 4 else F.conv_transpose3d
    a = ours(lambda w, x: deconv4(w, x, mode=mode, **o), w, x)
    wt = flip(w) if mode == 0 else w
    b = theirs(lambda w, x: tconv(x, w, **o), wt, x)
    if mode == 0:
        b = (b[0], [flip(b[1][0]), b[1][1]])
    compare(a, b)


POOL = [
    ((2, 3, 8, 8), dict(window=2)),
    ((2, 2, 9, 7), dict(window=3, stride=2, padding=1)),
    ((1, 3, 10, 9), dict(window=(3, 2), stride=(2, 1), padding=(1, 1))),
    ((2, 2, 6, 7, 8), dict(window=2, stride=(2, 1, 2), padding=(1, 0, 1))),
]


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("xs,o", POOL)
def test_pool(xs, o, mode):
    x = rs.randn(*xs)
    nd = len(xs) - 2
    k, s, p = o["window"], o.get("stride", o["window"]), o.get("padding", 0)
    if mode == 0:
        tpool = [F.max_pool2d, F.max_pool3d][nd - 2]
        ref = lambda x: tpool(x, k, s, p)      # noqa: E731
    else:
        tpool = [F.avg_pool2d, F.avg_pool3d][nd - 2]
        ref = lambda x: tpool(x, k, s, p, count_include_pad=(mode == 1))   # noqa: E731
    compare(ours(lambda x: pool(x, mode=mode, **o), x), theirs(ref, x))


def test_unpool_is_transpose_of_average_pooling():
    # unpool spreads each value over its window: torch's avg_pool2d gradient times the window
    x = rs.randn(2, 3, 4, 5)
    a = ours(lambda x: unpool(x, window=3, stride=2, padding=1), x)
    y0 = torch.zeros(2, 3, 7, 9, dtype=torch.float64, requires_grad=True)
    F.avg_pool2d(y0, 3, 2, 1, count_include_pad=True).backward(torch.tensor(x * 9))
    np.testing.assert_allclose(a[0], y0.grad.numpy(), **TOL)
