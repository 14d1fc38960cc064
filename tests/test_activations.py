"""Activations and the softmax family: values vs numpy formulas, gcheck, stability, errors."""
import warnings

import numpy as np
import pytest

from autograd import Param, gcheck, grad
from knetpy import elu, gelu, invx, logp, logsoftmax, logsumexp, relu, selu, sigm, softmax

rs = np.random.RandomState(1)
# NOTE: second-order checks call grad(f) on x * 1.0 (a recorded value), not on the
# Param itself: autograd's grad(f)(param) inside diff currently loses the outer
# dependence (reported to the lead).
LAM, ALPHA = 1.0507009873554805, 1.6732632423543778

FORMULAS = {
    relu: lambda x: np.where(x > 0, x, 0.0),
    elu: lambda x: np.where(x > 0, x, np.exp(x) - 1),
    selu: lambda x: LAM * np.where(x > 0, x, ALPHA * (np.exp(x) - 1)),
    sigm: lambda x: 1 / (1 + np.exp(-x)),
    gelu: lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
    invx: lambda x: 1 / x,
}


def away_from_zero(*shape):
    x = rs.randn(*shape)
    return np.where(np.abs(x) < 0.2, 0.5, x)


@pytest.mark.parametrize("f", list(FORMULAS), ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_values(f, dtype):
    x = (away_from_zero(3, 5) * 3).astype(dtype)
    y = f(x)
    assert y.dtype == dtype and y.shape == x.shape
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(y, FORMULAS[f](x.astype(np.float64)), rtol=tol, atol=tol)


@pytest.mark.parametrize("f", list(FORMULAS), ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)])
def test_activation_gradients(f, shape):
    x = Param(away_from_zero(*shape))
    assert gcheck(lambda: np.sum(f(x) * np.arange(x.size).reshape(shape)))


@pytest.mark.parametrize("f", [elu, selu, sigm, gelu, invx], ids=lambda f: f.__name__)
def test_activation_second_order(f):
    x = Param(away_from_zero(3, 4))
    g = grad(lambda z: np.sum(f(z) ** 2))
    assert gcheck(lambda: np.sum(g(x * 1.0) ** 2))   # x*1: see NOTE


def test_activation_gradient_formulas():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_allclose(grad(lambda z: np.sum(relu(z)))(x), [0, 0, 1, 1])
    np.testing.assert_allclose(grad(lambda z: np.sum(sigm(z)))(x),
                               np.exp(-x) / (1 + np.exp(-x)) ** 2)
    np.testing.assert_allclose(grad(lambda z: np.sum(elu(z)))(x), np.where(x > 0, 1, np.exp(x)))


def test_activations_large_inputs_are_finite_and_silent():
    x = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(sigm(x), [0, 0, 0.5, 1, 1])
        np.testing.assert_allclose(elu(x), [-1, -1, 0, 800, 1e4])
        np.testing.assert_allclose(selu(x), LAM * np.array([-ALPHA, -ALPHA, 0, 800, 1e4]))
        np.testing.assert_allclose(sigm(np.float32(-100) * np.ones(2, np.float32)), [0, 0], atol=1e-40)
    assert sigm(np.array([-30.0]))[0] == pytest.approx(1 / (1 + np.exp(30.0)), rel=1e-12)


def test_activations_accept_params_outside_diff():
    x = Param(np.array([-1.0, 2.0]))
    y = relu(x)
    assert type(y) is np.ndarray and y.tolist() == [0.0, 2.0]


def test_activation_errors():
    with pytest.raises(TypeError, match="relu: x must hold floats"):
        relu(np.array([1, 2]))
    with pytest.raises(TypeError, match="sigm: x must hold floats"):
        sigm(np.array([True]))


# ------------------------------------------------------------- softmax family
def np_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


AXES = [(-1, (4, 5)), (0, (4, 5)), (1, (2, 3, 4)), ((0, 2), (2, 3, 4)), (None, (3, 4))]


@pytest.mark.parametrize("axis,shape", AXES)
@pytest.mark.parametrize("algo", [0, 1, 2])
def test_softmax_values(axis, shape, algo):
    x = rs.randn(*shape)
    y = softmax(x, axis=axis, algo=algo)
    want = np_softmax(x, axis)
    np.testing.assert_allclose(y, np.log(want) if algo == 2 else want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("axis,shape", AXES)
def test_logsoftmax_and_logsumexp_values(axis, shape):
    x = rs.randn(*shape) * 3
    np.testing.assert_allclose(logsoftmax(x, axis=axis), np.log(np_softmax(x, axis)), rtol=1e-12)
    want = np.log(np.sum(np.exp(x), axis=axis))
    np.testing.assert_allclose(logsumexp(x, axis=axis), want, rtol=1e-12)
    np.testing.assert_allclose(logsumexp(x, axis=axis, keepdims=True),
                               np.log(np.sum(np.exp(x), axis=axis, keepdims=True)), rtol=1e-12)
    assert logp is logsoftmax


def test_defaults():
    x = rs.randn(3, 4)
    np.testing.assert_allclose(softmax(x), np_softmax(x, -1))          # axis=-1
    np.testing.assert_allclose(logsoftmax(x), np.log(np_softmax(x, None)))   # axis=None
    assert np.ndim(logsumexp(x)) == 0
    assert float(logsumexp(x)) == pytest.approx(np.log(np.exp(x).sum()))


@pytest.mark.parametrize("axis,shape", AXES)
@pytest.mark.parametrize("op", ["softmax1", "softmax2", "logsoftmax", "logsumexp", "lse_keep"])
def test_softmax_family_gradients(axis, shape, op):
    f = {"softmax1": lambda x: softmax(x, axis=axis),
         "softmax2": lambda x: softmax(x, axis=axis, algo=2),
         "logsoftmax": lambda x: logsoftmax(x, axis=axis),
         "logsumexp": lambda x: logsumexp(x, axis=axis),
         "lse_keep": lambda x: logsumexp(x, axis=axis, keepdims=True)}[op]
    x = Param(rs.randn(*shape))
    w = rs.randn(*np.shape(f(x.value)))
    assert gcheck(lambda: np.sum(f(x) * w))


@pytest.mark.parametrize("f", [lambda z: softmax(z, axis=0), lambda z: logsoftmax(z, axis=1),
                               lambda z: logsumexp(z, axis=1)])
def test_softmax_family_second_order(f):
    x = Param(rs.randn(3, 4))
    w = rs.randn(*np.shape(f(x.value)))
    g = grad(lambda z: np.sum(f(z) * w) ** 2)
    assert gcheck(lambda: np.sum(g(x * 1.0) ** 2))   # x*1: see NOTE


def test_stable_for_large_inputs():
    x = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(softmax(x), [[1, 0, 0], [1 / 3] * 3], atol=1e-15)
        np.testing.assert_allclose(logsoftmax(x, axis=1)[1], -np.log(3) * np.ones(3))
        np.testing.assert_allclose(logsumexp(x, axis=1), [1e4, 1e4 + np.log(3)])
        assert np.isfinite(logsumexp(np.float32(1e4) * np.ones(3, np.float32)))
        g = grad(lambda z: logsumexp(z))(x)
        assert np.all(np.isfinite(g)) and g.sum() == pytest.approx(1)
    np.testing.assert_allclose(logsumexp(np.array([-np.inf, -np.inf])), -np.inf)


def test_algo0_is_the_unshifted_formula():
    x = rs.randn(2, 3)
    np.testing.assert_allclose(softmax(x, algo=0), np.exp(x) / np.exp(x).sum(-1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_low_precision_dtypes(dtype):
    x = (rs.randn(3, 5) * 4).astype(dtype)
    for f, ref in [(softmax, lambda v: np_softmax(v, -1)),
                   (lambda v: logsoftmax(v, axis=-1), lambda v: np.log(np_softmax(v, -1))),
                   (lambda v: logsumexp(v, axis=-1), lambda v: np.log(np.exp(v).sum(-1)))]:
        y = f(x)
        assert y.dtype == dtype
        tol = 2e-3 if dtype == np.float16 else 1e-5
        np.testing.assert_allclose(y.astype(np.float64), ref(x.astype(np.float64)),
                                   rtol=tol, atol=tol)
    big = np.array([60000.0, 60000.0], dtype)
    assert float(logsumexp(big)) == pytest.approx(60000 + np.log(2), rel=1e-3)


def test_softmax_errors():
    x = rs.randn(2, 3)
    with pytest.raises(ValueError, match="algo must be 0"):
        softmax(x, algo=3)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        softmax(x, axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        logsumexp(x, axis=(1, -1))
    with pytest.raises(TypeError, match="axis must be an int"):
        logsoftmax(x, axis=1.0)
    with pytest.raises(TypeError, match="logsumexp: x must hold floats"):
        logsumexp(np.array([1, 2]))
