"""batchnorm, bnmoments, bnparams: values vs a numpy formula, running statistics, gradients, errors."""
import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad
from knetpy import KnetArray, batchnorm, bnmoments, bnparams

rs = np.random.RandomState(3)
SHAPES = [(8, 3), (4, 3, 2, 5), (3, 2, 2, 3, 2)]


def ref_bn(x, gamma=None, beta=None, mean=None, var=None, eps=1e-5):
    """Per-channel normalization written with a loop over channels (axis 1)."""
    y = np.empty_like(x, dtype=np.float64)
    for c in range(x.shape[1]):
        xc = x[:, c].astype(np.float64)
        m = xc.mean() if mean is None else mean[c]
        v = ((xc - xc.mean()) ** 2).mean() if var is None else var[c]
        y[:, c] = (xc - m) / np.sqrt(v + eps)
        if gamma is not None:
            y[:, c] = y[:, c] * gamma[c] + beta[c]
    return y


@pytest.mark.parametrize("shape", SHAPES)
def test_training_values(shape):
    C = shape[1]
    x = rs.randn(*shape) * 3 + 1
    p = rs.randn(2 * C)
    np.testing.assert_allclose(batchnorm(x, None, p, training=True),
                               ref_bn(x, p[:C], p[C:]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(batchnorm(x, training=True), ref_bn(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(batchnorm(x, eps=0.5, training=True), ref_bn(x, eps=0.5),
                               rtol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_running_statistics(shape):
    C = shape[1]
    n = int(np.prod(shape)) // C
    m = bnmoments(momentum=0.3)
    xs = [rs.randn(*shape) * 2 + 5 for _ in range(3)]
    mean, var = np.zeros(C), np.ones(C)
    for x in xs:
        batchnorm(x, m, training=True)
        axes = (0,) + tuple(range(2, len(shape)))
        mean = 0.7 * mean + 0.3 * x.mean(axis=axes)
        var = 0.7 * var + 0.3 * x.var(axis=axes) * n / (n - 1)
    np.testing.assert_allclose(m.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(m.var, var, rtol=1e-12)
    # test mode uses them and leaves them alone
    x = rs.randn(*shape)
    p = rs.randn(2 * C)
    y = batchnorm(x, m, p, training=False)
    np.testing.assert_allclose(y, ref_bn(x, p[:C], p[C:], mean, var), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.mean, mean, rtol=1e-12)


def test_training_default_follows_knet():
    x = rs.randn(6, 2)
    m = bnmoments()
    batchnorm(x, m)                     # plain arrays outside diff: test mode
    np.testing.assert_array_equal(m.mean, [0, 0])
    np.testing.assert_array_equal(m.var, [1, 1])
    p = Param(bnparams(2, dtype=np.float64))
    batchnorm(x, m, p)                  # a Param among the inputs: training mode
    np.testing.assert_allclose(m.mean, 0.1 * x.mean(0))
    m2 = bnmoments()
    diff(lambda: np.sum(batchnorm(x, m2, p)))     # inside diff: training mode
    np.testing.assert_allclose(m2.mean, 0.1 * x.mean(0))
    m3 = bnmoments()
    batchnorm(Param(x), m3, training=False)
    np.testing.assert_array_equal(m3.mean, [0, 0])


def test_moments_given_and_inits():
    x = rs.randn(5, 3)
    m = bnmoments(mean=np.array([1.0, 2.0, 3.0]), var=np.array([4.0, 4.0, 4.0]))
    y = batchnorm(x, m, training=False)
    np.testing.assert_allclose(y, (x - [1, 2, 3]) / np.sqrt(4 + 1e-5))
    m = bnmoments(meaninit=lambda shape, dtype: np.full(shape, 2.0, dtype),
                  varinit=lambda shape, dtype: np.full(shape, 9.0, dtype))
    np.testing.assert_allclose(batchnorm(x, m, training=False), (x - 2) / np.sqrt(9 + 1e-5))


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients(shape):
    C = shape[1]
    x = Param(rs.randn(*shape))
    p = Param(rs.randn(2 * C))
    w = rs.randn(*shape)
    assert gcheck(lambda: np.sum(w * batchnorm(x, None, p)))
    assert gcheck(lambda: np.sum(w * batchnorm(x)))
    m = bnmoments(mean=rs.randn(C), var=rs.rand(C) + 0.5)
    assert gcheck(lambda: np.sum(w * batchnorm(x, m, p, training=False)))


def test_gradient_values_vs_formula():
    x = rs.randn(7, 3)
    p = rs.randn(6)
    dy = rs.randn(7, 3)
    gx, gp = grad(lambda a, b: np.sum(dy * batchnorm(a, None, b, training=True)), (0, 1))(x, p)
    mu, var = x.mean(0), x.var(0)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    dg, db = (dy * xhat).sum(0), dy.sum(0)
    want = p[:3] / np.sqrt(var + 1e-5) * (dy - db / 7 - xhat * dg / 7)
    np.testing.assert_allclose(gx, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gp, np.concatenate([dg, db]), rtol=1e-10)


def test_second_order():
    x = Param(rs.randn(5, 2, 3))
    p = Param(rs.randn(4))
    w = rs.randn(5, 2, 3)
    g = grad(lambda z: np.sum(w * batchnorm(z, None, p)) ** 2)
    assert gcheck(lambda: np.sum(g(x * 1.0) ** 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_low_precision(dtype):
    x = (rs.randn(6, 3, 2, 2) * 2).astype(dtype)
    p = bnparams(3, dtype=dtype)
    m = bnmoments()
    y = batchnorm(x, m, p, training=True)
    assert y.dtype == dtype and m.mean.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 5e-3
    np.testing.assert_allclose(y.astype(np.float64), ref_bn(x.astype(np.float64)),
                               rtol=tol, atol=tol)
    g = grad(lambda z: np.sum(batchnorm(z, None, Param(p), training=True) ** 3))(x)
    assert g.dtype == dtype


def test_knetarray_input():
    x = rs.randn(4, 3, 2, 2)
    m1, m2 = bnmoments(), bnmoments()
    y = batchnorm(KnetArray(x), m1, training=True)
    assert isinstance(y, KnetArray) and isinstance(m1.mean, KnetArray)
    np.testing.assert_allclose(np.asarray(y), batchnorm(x, m2, training=True))
    np.testing.assert_allclose(np.asarray(m1.var), m2.var)
    y = batchnorm(KnetArray(x), m1, training=False)
    np.testing.assert_allclose(np.asarray(y), batchnorm(x, m2, training=False))


def test_bnparams():
    p = bnparams(3)
    assert p.dtype == np.float32 and p.tolist() == [1, 1, 1, 0, 0, 0]
    assert bnparams(np.float64, 2).dtype == np.float64
    assert bnparams(2, dtype=np.float64).tolist() == [1, 1, 0, 0]
    with pytest.raises(ValueError, match="channels must be a positive int"):
        bnparams(0)
    with pytest.raises(TypeError, match="dtype must be a float"):
        bnparams(2, dtype=np.int32)


def test_errors():
    x = rs.randn(4, 3)
    with pytest.raises(ValueError, match=r"params must be a vector of 2\*C = 6"):
        batchnorm(x, None, np.ones(4), training=True)
    with pytest.raises(ValueError, match="at least 2 dims"):
        batchnorm(np.ones(3), training=True)
    with pytest.raises(TypeError, match="x must hold floats"):
        batchnorm(np.ones((2, 3), int), training=True)
    with pytest.raises(ValueError, match="needs moments"):
        batchnorm(x, training=False)
    with pytest.raises(ValueError, match="more than one value per channel"):
        batchnorm(rs.randn(1, 3), training=True)
    with pytest.raises(ValueError, match="momentum must be in"):
        bnmoments(momentum=1.5)
    with pytest.raises(TypeError, match="moments must come from bnmoments"):
        batchnorm(x, {"mean": 0}, training=True)
    with pytest.raises(ValueError, match="moments.mean has 2 values"):
        batchnorm(x, bnmoments(mean=np.zeros(2)), training=False)
    with pytest.raises(ValueError, match="eps must be a positive"):
        batchnorm(x, eps=0, training=True)
