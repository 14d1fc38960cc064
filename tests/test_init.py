"""Initializers, param/param0 and seed."""
import numpy as np
import pytest

import knetpy
from autograd import Param
from knetpy import (bilinear, gaussian, kaiming_normal, kaiming_uniform, param, param0, seed,
                    xavier, xavier_normal, xavier_uniform)
from knetpy.init import fans


def test_fans_batch_first():
    assert fans((7,)) == (7, 1)
    assert fans((10, 20)) == (20, 10)                # Dense (out, in)
    assert fans((16, 3, 5, 5)) == (75, 16)           # conv (O, I, kH, kW)
    assert fans((8, 2, 3, 3, 3)) == (54, 8)


@pytest.mark.parametrize("shape", [(200, 300), (64, 8, 3, 3)])
def test_xavier_uniform_range(shape):
    fi, fo = fans(shape)
    bound = np.sqrt(6 / (fi + fo))
    w = xavier_uniform(*shape)
    assert w.shape == shape and w.dtype == np.float32
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.98 * bound            # fills the range
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    assert xavier is xavier_uniform
    assert np.abs(xavier(50, 50, gain=2.0)).max() <= 2 * np.sqrt(6 / 100) * (1 + 1e-6)


def test_normal_initializers_std():
    w = xavier_normal(300, 200, dtype=np.float64)
    assert w.dtype == np.float64
    assert abs(w.std() - np.sqrt(2 / 500)) < 0.03 * np.sqrt(2 / 500)
    g = gaussian(400, 300, mean=1.0, std=0.5)
    assert abs(g.mean() - 1.0) < 0.01 and abs(g.std() - 0.5) < 0.01
    assert abs(gaussian(500, 400).std() - 0.01) < 0.0002
    k = kaiming_normal(256, 64, 3, 3)
    assert abs(k.std() - np.sqrt(2 / (64 * 9))) < 0.03 * np.sqrt(2 / (64 * 9))
    u = kaiming_uniform(256, 100, mode="fan_out")
    bound = np.sqrt(2) * np.sqrt(3 / 256)
    assert np.abs(u).max() <= bound * (1 + 1e-6) and np.abs(u).max() > 0.98 * bound


def test_seed_makes_draws_reproducible():
    seed(42)
    a = (xavier(3, 4), gaussian(5), kaiming_normal(2, 2), param(2, 3).value)
    seed(42)
    b = (xavier(3, 4), gaussian(5), kaiming_normal(2, 2), param(2, 3).value)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    seed(43)
    assert not np.array_equal(a[0], xavier(3, 4))
    with pytest.raises(ValueError, match="non-negative integer"):
        seed(-1)
    with pytest.raises(ValueError, match="non-negative integer"):
        seed(1.5)


def test_param_forms():
    a = np.ones((2, 2))
    p = param(a)
    assert isinstance(p, Param) and p.value is a
    k = param(a, atype=knetpy.KnetArray)
    assert isinstance(k.value, knetpy.KnetArray)
    w = param(3, 4)
    assert isinstance(w, Param) and w.shape == (3, 4) and w.dtype == np.float32
    assert param((3, 4)).shape == (3, 4)
    assert param(5, init=gaussian, dtype=np.float64).dtype == np.float64
    assert np.all(param(2, 2, init=np.ones).value == 1)
    z = param0(2, 3)
    assert z.dtype == np.float32 and np.all(z.value == 0)
    with pytest.raises(ValueError, match="dims must be non-negative integers"):
        param(3, -1)
    with pytest.raises(TypeError, match="init must be callable"):
        param(3, init=0.5)
    with pytest.raises(ValueError, match="init returned shape"):
        param(3, init=lambda *d, dtype: np.zeros(2, dtype))
    with pytest.raises(TypeError, match="expected an array"):
        param("w")
    with pytest.raises(TypeError, match="dtype must be a float"):
        xavier(2, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="mode must be"):
        kaiming_uniform(2, 2, mode="fan_avg")


def upsample_filt(size):
    """fcn.berkeleyvision.org's bilinear kernel, written independently."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = np.ogrid[:size, :size]
    return (1 - abs(og[0] - center) / factor) * (1 - abs(og[1] - center) / factor)


@pytest.mark.parametrize("f", [1, 2, 3, 4])
def test_bilinear(f):
    w = bilinear(np.float64, f, f, 3, 3)
    k = 2 * f - f % 2
    assert w.shape == (3, 3, k, k) and w.dtype == np.float64
    for i in range(3):
        for j in range(3):
            want = upsample_filt(k) if i == j else np.zeros((k, k))
            np.testing.assert_allclose(w[i, j], want)


def test_bilinear_rectangular_and_errors():
    w = bilinear(np.float32, 2, 3, 1, 1)
    assert w.shape == (1, 1, 5, 4) and w.dtype == np.float32
    with pytest.raises(ValueError, match="IN and ON must be equal"):
        bilinear(np.float32, 2, 2, 3, 4)
    with pytest.raises(ValueError, match="fw must be a positive integer"):
        bilinear(np.float32, 0, 2, 1, 1)
