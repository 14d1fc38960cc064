"""pool / unpool: values against explicit windows, gradients by gcheck (first and
second order), NaN handling, dtypes, KnetArrays and bad input."""
import itertools

import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad
from knetpy import KnetArray, pool, unpool

rs = np.random.RandomState(4)


def _tup(v, nd):
    return (v,) * nd if np.isscalar(v) else tuple(v)


def window_pool(x, window=2, padding=0, stride=None, mode=0, nan_propagate=False, alpha=1):
    """Each output cell computed from the list of its window's cells."""
    nd = x.ndim - 2
    k, p = _tup(window, nd), _tup(padding, nd)
    s = k if stride is None else _tup(stride, nd)
    out = [(x.shape[2 + a] + 2 * p[a] - k[a]) // s[a] + 1 for a in range(nd)]
    y = np.zeros(list(x.shape[:2]) + out)
    for n, c in itertools.product(*map(range, x.shape[:2])):
        for i in itertools.product(*map(range, out)):
            cells = []
            for off in itertools.product(*map(range, k)):
                pos = tuple(i[a] * s[a] - p[a] + off[a] for a in range(nd))
                if all(0 <= pos[a] < x.shape[2 + a] for a in range(nd)):
                    cells.append(x[(n, c) + pos])
            cells = np.array(cells)
            if mode == 0:
                if nan_propagate and np.isnan(cells).any():
                    v = np.nan
                else:
                    v = np.nanmax(cells) if not np.isnan(cells).all() else np.nan
            elif mode == 1:
                v = cells.sum() / np.prod(k)
            else:
                v = cells.mean()
            y[(n, c) + i] = alpha * v
    return y


def window_unpool(x, window=2, padding=0, stride=None, alpha=1):
    """Each input value added (divided by alpha) to every cell of its window."""
    nd = x.ndim - 2
    k, p = _tup(window, nd), _tup(padding, nd)
    s = k if stride is None else _tup(stride, nd)
    out = [(x.shape[2 + a] - 1) * s[a] + k[a] - 2 * p[a] for a in range(nd)]
    y = np.zeros(list(x.shape[:2]) + out)
    for idx in np.ndindex(*x.shape):
        for off in itertools.product(*map(range, k)):
            pos = tuple(idx[2 + a] * s[a] - p[a] + off[a] for a in range(nd))
            if all(0 <= pos[a] < out[a] for a in range(nd)):
                y[idx[:2] + pos] += x[idx] / alpha
    return y


POOL_CASES = [
    ((2, 3, 4, 6), {}),
    ((2, 2, 5, 7), dict(window=3, stride=2, padding=1)),
    ((1, 2, 6, 5), dict(window=(2, 3), stride=(1, 2), padding=(1, 0))),
    ((2, 1, 5, 5), dict(window=3, stride=1, padding=2)),
    ((1, 2, 4, 5, 4), dict(window=2, stride=(2, 1, 2), padding=(1, 0, 1))),
    ((1, 2, 3, 4, 5), dict(window=(3, 2, 2), alpha=0.5)),
    ((2, 2, 6, 6), dict(window=3, alpha=2.0)),
    ((1, 2, 8, 7), dict(window=2, stride=3, padding=1)),
    ((1, 1, 9, 8), dict(window=(4, 3), stride=(2, 3), padding=(3, 1))),
]


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("xs,o", POOL_CASES)
def test_pool_values(xs, o, mode):
    x = rs.randn(*xs)
    np.testing.assert_allclose(pool(x, mode=mode, **o), window_pool(x, mode=mode, **o),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("xs,o", POOL_CASES)
def test_pool_gradients(xs, o, mode):
    x = Param(rs.randn(*xs))
    c = rs.randn(*pool(x.value, mode=mode, **o).shape)
    assert gcheck(lambda x: np.sum(pool(x, mode=mode, **o) * c), x, nsample=25)


def test_maxpool_gradient_goes_to_first_max_and_adds_up():
    x = np.array([[[[1., 3., 3.], [0., 3., 2.], [1., 1., 1.]]]])
    px = Param(x)
    r = diff(lambda: np.sum(pool(px, window=2, stride=1)))
    # windows: [[1,3],[0,3]] -> first max (0,1); [[3,3],[3,2]] -> (0,1);
    # [[0,3],[1,1]] -> (1,1); [[3,2],[1,1]] -> (1,1)
    want = np.zeros_like(x)
    want[0, 0, 0, 1] = 2
    want[0, 0, 1, 1] = 2
    np.testing.assert_array_equal(grad(r, px), want)


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_pool_second_order(mode):
    x = Param(rs.randn(2, 2, 5, 4))
    o = dict(window=2, stride=1, padding=1, mode=mode, alpha=1.5)
    c = rs.randn(2, 2, 6, 5)

    def f(x):   # gradient of a nonlinear function of pool, then a nonlinear function of it
        g = grad(lambda xx: np.sum(np.sin(pool(xx, **o) * c)))(x)
        return np.sum(np.sin(g) * x)
    assert gcheck(f, x, nsample=25)


def test_maxpool_backward_is_linear_in_dy():
    # second order through the routing: d/dc of sum(grad(sum(c * pool(x)))^2)
    x = rs.randn(1, 2, 4, 4)
    c = Param(rs.randn(1, 2, 2, 2))

    def f(c):
        g = grad(lambda xx: np.sum(pool(xx) * c))(Param(x))
        return np.sum(g * g)
    assert gcheck(f, c)


def test_nan_handling():
    x = np.arange(16.).reshape(1, 1, 4, 4)
    x[0, 0, 0, 0] = np.nan
    x[0, 0, 2:, 2:] = np.nan
    skip = pool(x)
    prop = pool(x, nan_propagate=True)
    assert skip[0, 0, 0, 0] == 5 and np.isnan(prop[0, 0, 0, 0])
    assert np.isnan(skip[0, 0, 1, 1]) and np.isnan(prop[0, 0, 1, 1])
    assert skip[0, 0, 1, 0] == prop[0, 0, 1, 0] == 13
    np.testing.assert_array_equal(skip, window_pool(x))
    np.testing.assert_array_equal(prop, window_pool(x, nan_propagate=True))
    px = Param(x)
    r = diff(lambda: np.sum(pool(px, nan_propagate=True)))
    g = grad(r, px)
    assert g[0, 0, 0, 0] == 1 and g[0, 0, 1, 1] == 0 and g.sum() == 4


def test_padding_never_wins_max():
    x = -np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(pool(x, window=2, padding=1, stride=1), -np.ones((1, 1, 3, 3)))


UNPOOL_CASES = [
    ((2, 3, 2, 3), {}),
    ((1, 2, 3, 3), dict(window=3, stride=2, padding=1)),
    ((1, 1, 2, 3), dict(window=(2, 3), stride=(1, 2), alpha=0.5)),
    ((1, 2, 2, 2, 3), dict(window=2, padding=(1, 0, 0))),
]


@pytest.mark.parametrize("xs,o", UNPOOL_CASES)
def test_unpool_values_and_gradients(xs, o):
    x = rs.randn(*xs)
    np.testing.assert_allclose(unpool(x, **o), window_unpool(x, **o), rtol=1e-12, atol=1e-12)
    px = Param(x)
    c = rs.randn(*unpool(x, **o).shape)
    assert gcheck(lambda x: np.sum(np.tanh(unpool(x, **o)) * c), px, nsample=20)


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_pool_of_unpool_gives_back_x(mode):
    for xs, o in [((2, 3, 3, 4), {}), ((1, 2, 2, 3, 2), dict(window=(2, 3, 1), alpha=3.0))]:
        x = rs.randn(*xs)
        np.testing.assert_allclose(pool(unpool(x, mode=mode, **o), mode=mode, **o), x,
                                   rtol=1e-12, atol=1e-12)


def test_unpool_second_order():
    x = Param(rs.randn(1, 2, 2, 3))

    def f(x):
        g = grad(lambda xx: np.sum(np.sin(unpool(xx, window=2, stride=1))))(x)
        return np.sum(g * g)
    assert gcheck(f, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_dtypes(dtype):
    x = rs.randn(2, 3, 6, 6)
    xd = x.astype(dtype)
    for mode in (0, 1, 2):
        y = pool(xd, window=3, padding=1, stride=2, mode=mode)
        assert y.dtype == dtype
        ref = window_pool(xd.astype(np.float64), window=3, padding=1, stride=2, mode=mode)
        np.testing.assert_allclose(y.astype(np.float64), ref, rtol=2e-3, atol=2e-3)
        px = Param(xd)
        r = diff(lambda: np.sum(pool(px, window=3, padding=1, stride=2, mode=mode)))
        assert grad(r, px).dtype == dtype
    assert unpool(xd).dtype == dtype


def test_knetarray():
    x = rs.randn(2, 2, 4, 6)
    kx = KnetArray(x)
    for mode in (0, 1, 2):
        y = pool(kx, mode=mode, padding=1)
        assert isinstance(y, KnetArray)
        np.testing.assert_allclose(y.to_numpy(), window_pool(x, mode=mode, padding=1),
                                   rtol=1e-12)
        p = Param(kx)
        g = grad(diff(lambda: np.sum(pool(p, mode=mode, padding=1) ** 2)), p)
        assert isinstance(g, KnetArray)
        q = Param(x)
        np.testing.assert_allclose(g.to_numpy(),
                                   grad(diff(lambda: np.sum(pool(q, mode=mode, padding=1) ** 2)),
                                        q), rtol=1e-12)
    assert isinstance(unpool(kx), KnetArray)


@pytest.mark.parametrize("call,msg", [
    (lambda: pool(np.ones((3, 4, 4))), "4-D"),
    (lambda: pool(np.ones((1, 1, 3, 3)), window=4), "bigger than the padded"),
    (lambda: pool(np.ones((1, 1, 3, 3)), window=2, padding=2), "smaller than the window"),
    (lambda: pool(np.ones((1, 1, 3, 3)), mode=3), "mode"),
    (lambda: pool(np.ones((1, 1, 3, 3)), window=0), "window"),
    (lambda: pool(np.ones((1, 1, 3, 3)), window=(2, 2, 2)), "window"),
    (lambda: pool(np.ones((1, 1, 3, 3)), stride=0), "stride"),
    (lambda: pool(np.ones((1, 1, 3, 3)), alpha=0), "alpha"),
    (lambda: pool(np.ones((1, 1, 3, 3), int)), "floats"),
    (lambda: pool(np.ones((1, 1, 3, 3)), nan_propagate="yes"), "nan_propagate"),
    (lambda: unpool(np.ones((1, 1, 3))), "4-D"),
    (lambda: unpool(np.ones((1, 1, 3, 3)), mode=5), "mode"),
    (lambda: unpool(np.ones((1, 1, 1, 1)), window=3, stride=1, padding=2), "no output|smaller"),
])
def test_errors(call, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        call()


# ----------------------------------------------------------------- functional forms, host kernels
def test_functional_pools_values_and_gradients():
    from knetpy.ops.pool import lppool, maxpool, meanpool
    x = rs.randn(2, 2, 6, 5)
    # asymmetric padding and dilation, by explicit windows
    xp = np.pad(x, [(0, 0), (0, 0), (1, 0), (0, 2)], constant_values=-np.inf)
    want = np.stack([np.stack([xp[:, :, i:i + 3:2, j:j + 2].max(axis=(2, 3))
                               for j in range(0, 6, 2)], -1) for i in range(0, 5)], -2)
    np.testing.assert_allclose(maxpool(x, (2, 2), (1, 2), (1, 0, 0, 2), (2, 1)), want)
    np.testing.assert_allclose(meanpool(x, (2, 2)), x[:, :, :6, :4].reshape(
        2, 2, 3, 2, 2, 2).mean(axis=(3, 5)))
    np.testing.assert_allclose(lppool(x[:, :, 0], (3,), p=3, stride=1)[0, 0],
                               [(np.abs(x[0, 0, 0, j:j + 3]) ** 3).sum() ** (1 / 3)
                                for j in range(3)])
    px = Param(x)
    assert gcheck(lambda u: np.sum(np.tanh(maxpool(u, (2, 3), 1, ((1, 0), (0, 1)), (2, 1)))), px)
    assert gcheck(lambda u: np.sum(np.tanh(meanpool(u, (3, 2), (2, 1), (1, 2, 0, 1)))), px)
    assert gcheck(lambda u: np.sum(np.sin(lppool(u, (2, 2), 2, 1, 0, (1, 2)))), px)
    x3 = Param(rs.randn(1, 2, 4, 5, 4))
    assert gcheck(lambda u: np.sum(np.tanh(maxpool(u, (2, 2, 3), 1, 1, (1, 2, 1)))), x3)
    with pytest.raises(TypeError, match="pad"):
        maxpool(x, (2, 2), pad=(1, 2, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        meanpool(x, (7, 2))


@pytest.mark.parametrize("o", [dict(window=2), dict(window=3, stride=2, padding=1),
                               dict(window=(2, 3), stride=(1, 2), padding=(1, 0))])
@pytest.mark.parametrize("mode", [0, 1, 2])
def test_host_pool_matches_kernel_backend(o, mode):
    from knetpy.backends import numpy_backend as nb
    from knetpy.backends.emulator import emulated_backend
    be = emulated_backend(block=64, max_blocks=4)
    x = rs.randn(2, 3, 7, 6)
    y = nb.pool(x, mode=mode, **o)
    np.testing.assert_allclose(y, be.pool(x, mode=mode, **o), rtol=1e-12)
    dy = rs.randn(*y.shape)
    np.testing.assert_allclose(nb.poolback(x, y, dy, mode=mode, **o),
                               be.poolback(x, y, dy, mode=mode, **o), rtol=1e-12, atol=1e-15)


def test_max_ties_go_to_the_first_cell_row_major():
    # relu outputs tie at 0: the whole window's gradient goes to its first cell
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 0, 3] = x[0, 0, 1, 2] = 1.0
    px = Param(x)
    g = grad(lambda u: np.sum(pool(u, window=2)))(px)
    want = np.zeros((4, 4))
    want[2, 0] = want[2, 2] = want[1, 1] = want[0, 3] = 1.0     # [0, 3] before [1, 2]
    np.testing.assert_array_equal(g[0, 0], want)


def test_docstring_examples_of_the_conv_and_pool_modules_run():
    import doctest
    import importlib
    for name in ("knetpy.backends.host_conv", "knetpy.backends.host_pool",
                 "knetpy.backends.host_scratch", "knetpy.ops.conv", "knetpy.ops.pool",
                 "knetpy.ops.operands", "knetpy.layers.pooling"):
        result = doctest.testmod(importlib.import_module(name), extraglobs={"np": np},
                                 optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, name
