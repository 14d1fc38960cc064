"""dropout: training-only, inverse scaling, reproducibility, gradient, errors."""
import numpy as np
import pytest

import knetpy
from autograd import Param, diff, gcheck, grad
from knetpy import KnetArray, dropout

rs = np.random.RandomState(4)


def test_identity_outside_training():
    x = rs.randn(10, 10)
    assert dropout(x, 0.5) is x
    assert dropout(x, 0.5, drop=False) is x
    assert dropout(x, 0.0, drop=True) is x


def test_inverse_scaling_and_rate():
    x = np.ones(200_000)
    y = dropout(x, 0.3, drop=True, seed=5)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.01        # 0.01 is > 4 standard deviations
    assert abs(y.mean() - 1.0) < 0.015


def test_p_one_drops_everything():
    y = dropout(rs.randn(3, 4), 1.0, drop=True)
    assert np.all(y == 0) and np.all(np.isfinite(y))


def test_seed_reproducible():
    x = rs.randn(50)
    a = dropout(x, 0.5, drop=True, seed=11)
    b = dropout(x, 0.5, drop=True, seed=11)
    c = dropout(x, 0.5, drop=True, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    knetpy.seed(3)
    d = dropout(x, 0.5, drop=True)
    knetpy.seed(3)
    np.testing.assert_array_equal(d, dropout(x, 0.5, drop=True))


def test_drops_inside_diff_and_gradient_is_the_mask():
    x = Param(rs.randn(6, 5) + 3)          # never exactly 0
    seen = {}

    def f():
        y = dropout(x, 0.4, seed=7)
        seen["y"] = y.value
        return np.sum(y * 2)
    g = grad(diff(f), x)
    y = seen["y"]
    assert np.any(y == 0) and not np.array_equal(y, x.value)
    np.testing.assert_allclose(g, 2 * y / x.value, rtol=1e-12)
    assert gcheck(lambda: np.sum(dropout(x, 0.4, drop=True, seed=7) ** 2))


def test_dtypes_and_knetarrays():
    x32 = rs.randn(4, 4).astype(np.float32)
    y = dropout(x32, 0.5, drop=True, seed=1)
    assert y.dtype == np.float32
    k = dropout(KnetArray(x32), 0.5, drop=True, seed=1)
    assert isinstance(k, KnetArray)
    np.testing.assert_array_equal(np.asarray(k), y)


def test_errors():
    x = rs.randn(3)
    for p in (-0.1, 1.5, "0.5", None):
        with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]"):
            dropout(x, p)
    with pytest.raises(TypeError, match="x must hold floats"):
        dropout(np.ones(3, int), 0.5)
    with pytest.raises(ValueError, match="seed must be"):
        dropout(x, 0.5, seed=-1)


def test_one_mask_on_every_backend():
    """dropout asks the backend of its array: a seed gives the same mask on
    the host and on the kernel backend (emulated), that of the counter hash."""
    from knetpy.backends import numpy_backend
    from knetpy.backends.emulator import emulated_backend
    be = emulated_backend(block=64, max_blocks=4)
    x = rs.randn(9, 11) + 3
    y = dropout(x, 0.35, drop=True, seed=123)
    yk = dropout(KnetArray._of(x.copy(), be), 0.35, drop=True, seed=123)
    assert yk.backend is be
    np.testing.assert_array_equal(yk.to_numpy(), y)
    dropped = numpy_backend.dropout_mask(x.shape, 0.35, 123)
    np.testing.assert_array_equal(y == 0, dropped)
    np.testing.assert_allclose(y[~dropped], x[~dropped] / 0.65, rtol=1e-15)
    h = dropout(x.astype(np.float16), 0.35, drop=True, seed=123)
    assert h.dtype == np.float16 and np.array_equal(h == 0, dropped)
