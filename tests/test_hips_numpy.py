"""autograd.numpy as a drop-in for HIPS autograd: namespaces, array creation
from recorded values, joining, r_/c_, fft gradients."""
import numpy as onp
import pytest

import autograd.numpy as np
import autograd.numpy.random as npr
from autograd import Param, gcheck, grad, value_and_grad, elementwise_grad
from autograd.test_util import check_grads
from numeric_refs import complex_numeric_grad, numeric_grad

RNG = onp.random.default_rng(7)


# ------------------------------------------------------------ README programs
def test_readme_tanh_example():
    def tanh(x):
        y = np.exp(-2.0 * x)
        return (1.0 - y) / (1.0 + y)

    grad_tanh = grad(tanh)
    assert abs(grad_tanh(1.0) - (tanh(1.0001) - tanh(0.9999)) / 0.0002) < 1e-6
    x = np.linspace(-7, 7, 50)
    t = onp.tanh(x)
    onp.testing.assert_allclose(elementwise_grad(tanh)(x), 1 - t ** 2, atol=1e-10)
    onp.testing.assert_allclose(elementwise_grad(elementwise_grad(tanh))(x),
                                -2 * t * (1 - t ** 2), atol=1e-9)


def test_readme_logistic_regression():
    def sigmoid(x):
        return 0.5 * (np.tanh(x / 2.) + 1)

    def logistic_predictions(weights, inputs):
        return sigmoid(np.dot(inputs, weights))

    inputs = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15],
                       [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
    targets = np.array([True, True, False, True])

    def training_loss(weights):
        preds = logistic_predictions(weights, inputs)
        label_probabilities = preds * targets + (1 - preds) * (1 - targets)
        return -np.sum(np.log(label_probabilities))

    training_gradient_fun = grad(training_loss)
    weights = np.array([0.0, 0.0, 0.0])
    first = training_loss(weights)
    for i in range(100):
        weights -= training_gradient_fun(weights) * 0.01
    assert training_loss(weights) < first
    loss, g = value_and_grad(training_loss)(weights)
    preds = 1 / (1 + onp.exp(-inputs @ weights))
    assert abs(loss - training_loss(weights)) < 1e-12
    onp.testing.assert_allclose(g, inputs.T @ (preds - targets), rtol=1e-10)


def test_random_module_is_numpy_random():
    npr.seed(3)
    a = npr.randn(3)
    onp.random.seed(3)
    onp.testing.assert_array_equal(a, onp.random.randn(3))
    assert npr.RandomState is onp.random.RandomState and np.random is npr


def test_namespace_has_numpy_names():
    for name in ["pi", "newaxis", "float64", "ndarray", "inf", "einsum", "linspace",
                 "iscomplexobj", "finfo", "errstate"]:
        assert getattr(np, name) is getattr(onp, name)
    assert np.linalg.solve is onp.linalg.solve and np.fft.fftfreq is onp.fft.fftfreq
    with pytest.raises(AttributeError, match="no attribute"):
        np.not_a_numpy_name


# ------------------------------------------------------------ np.array / asarray
def test_array_of_recorded_scalars():
    f = lambda x: np.sum(np.array([x, 2 * x, x ** 2]) * np.array([1.0, 2.0, 3.0]))
    assert grad(f)(3.0) == pytest.approx(1 + 4 + 6 * 3.0)
    g = lambda x: np.sum(np.array([[x, 1.0], [2.0, x * x]]) ** 2)
    assert grad(g)(1.5) == pytest.approx(2 * 1.5 + 4 * 1.5 ** 3)
    assert gcheck(lambda a, b: np.array([[a, b], [b * a, a]]) @ np.ones(2),
                  Param(onp.array(0.7)), Param(onp.array(-1.3)))


def test_array_of_recorded_arrays_values_and_options():
    w = RNG.standard_normal(3)

    def f(x):
        a = np.array([x, 2 * x, onp.ones(3)])
        assert a.shape == (3, 3)
        return np.sum(a * w)

    x = RNG.standard_normal(3)
    onp.testing.assert_allclose(grad(f)(x), 3 * w)
    out = {}

    def h(x):
        a = np.array([x, x], dtype=onp.float32, ndmin=3)
        out["shape"], out["dtype"] = a.shape, a.dtype
        return np.sum(a)

    grad(h)(onp.ones(2))
    assert out["shape"] == (1, 2, 2) and out["dtype"] == onp.float32
    with pytest.raises(ValueError, match="same shape"):
        grad(lambda x: np.sum(np.array([x, onp.ones(4)])))(onp.ones(2))
    # no recorded values: exactly numpy.array
    assert np.array([1, 2]).dtype == onp.array([1, 2]).dtype
    assert np.array((1.0, 2.0), ndmin=2).shape == (1, 2)


def test_asarray_keeps_recorded_values():
    f = lambda x: np.sum(np.asarray(x) * np.asarray([x, 1.0]))
    assert grad(f)(2.0) == pytest.approx(2 * 2.0 + 1.0)
    assert np.asarray([1, 2]).dtype.kind == "i"
    assert grad(lambda x: np.sum(np.asanyarray([x, x])))(1.0) == pytest.approx(2.0)


# ------------------------------------------------------------ joining
@pytest.mark.parametrize("join, shapes, ref", [
    (lambda xs: np.concatenate(xs), [(2,), (3,)], onp.concatenate),
    (lambda xs: np.concatenate(xs, axis=1), [(2, 1), (2, 3)], lambda xs: onp.concatenate(xs, 1)),
    (lambda xs: np.stack(xs, axis=-1), [(2, 3), (2, 3)], lambda xs: onp.stack(xs, -1)),
    (lambda xs: np.hstack(xs), [(2, 2), (2, 1)], onp.hstack),
    (lambda xs: np.vstack(xs), [(3,), (1, 3)], onp.vstack),
    (lambda xs: np.column_stack(xs), [(3,), (3, 2)], onp.column_stack),
    (lambda xs: np.dstack(xs), [(2, 2), (2, 2, 1)], onp.dstack),
    (lambda xs: np.append(xs[0], xs[1]), [(2, 2), (3,)], lambda xs: onp.append(*xs)),
    (lambda xs: np.append(xs[0], xs[1], axis=0), [(1, 2), (2, 2)],
     lambda xs: onp.append(*xs, axis=0)),
    (lambda xs: np.row_stack(xs), [(2,), (2,)], onp.vstack),
])
def test_join_lists_with_recorded_items(join, shapes, ref):
    arrays = [RNG.standard_normal(s) for s in shapes]
    onp.testing.assert_allclose(join(arrays), ref(arrays))
    ps = [Param(a.copy()) for a in arrays]
    w = RNG.standard_normal(onp.shape(ref(arrays)))
    assert gcheck(lambda: np.sum(join(ps) * w))
    # a constant in the list keeps its place
    mixed = lambda x: np.sum(join([x, arrays[1]]) * w)
    onp.testing.assert_allclose(grad(mixed)(arrays[0]),
                                numeric_grad(lambda v: onp.sum(ref([v, arrays[1]]) * w),
                                             arrays[0]), atol=1e-6)


def test_plain_numpy_calls_dispatch_to_the_differentiable_versions():
    x = Param(RNG.standard_normal(3))
    assert gcheck(lambda: onp.sum(onp.column_stack([x, 2 * x]) ** 2))
    assert gcheck(lambda: onp.sum(onp.append(x, x * x)))


def test_select():
    c1, c2 = onp.array([True, False, False]), onp.array([False, True, False])
    f = lambda x: np.select([c1, c2], [x, 2 * x], -x)
    x = RNG.standard_normal(3)
    onp.testing.assert_allclose(f(x), onp.select([c1, c2], [x, 2 * x], -x))
    onp.testing.assert_allclose(grad(lambda x: np.sum(f(x)))(x), [1.0, 2.0, -1.0])
    with pytest.raises(ValueError, match="same length"):
        np.select([c1], [x, x])
    with pytest.raises(TypeError, match="boolean"):
        grad(lambda x: np.sum(np.select([onp.ones(3)], [x])))(x)


# ------------------------------------------------------------ r_ / c_
def test_r_and_c_match_numpy_and_differentiate():
    a, b = RNG.standard_normal(3), RNG.standard_normal(2)
    cases = [
        (lambda x, y: np.r_[x, y], lambda x, y: onp.r_[x, y]),
        (lambda x, y: np.r_[x, 0:2, 7.0, y], lambda x, y: onp.r_[x, 0:2, 7.0, y]),
        (lambda x, y: np.r_[x, -1:1:5j], lambda x, y: onp.r_[x, -1:1:5j]),
        (lambda x, y: np.c_[x, 2 * x], lambda x, y: onp.c_[x, 2 * x]),
        (lambda x, y: np.r_["0,2", x, 3 * x], lambda x, y: onp.r_["0,2", x, 3 * x]),
        (lambda x, y: np.r_["1,2,0", x, x], lambda x, y: onp.r_["1,2,0", x, x]),
        (lambda x, y: np.c_[np.reshape(x, (3, 1)), x], lambda x, y: onp.c_[x.reshape(3, 1), x]),
    ]
    for ours, ref in cases:
        onp.testing.assert_allclose(ours(a, b), ref(a, b))
        w = RNG.standard_normal(onp.shape(ref(a, b)))
        got = grad(lambda x: np.sum(ours(x, b) * w))(a)
        want = numeric_grad(lambda x: onp.sum(ref(x, b) * w), a)
        onp.testing.assert_allclose(got, want, atol=1e-6)
        got_y = grad(lambda y: np.sum(ours(a, y) * w))(b)
        want_y = numeric_grad(lambda y: onp.sum(ref(a, y) * w), b)
        onp.testing.assert_allclose(got_y, want_y, atol=1e-6)


def test_r_errors_and_plain_use():
    assert onp.array_equal(np.r_[1:4], onp.arange(1, 4))
    with pytest.raises(ValueError, match="matrix directive"):
        grad(lambda x: np.sum(np.r_["r", x, x]))(onp.ones(2))
    with pytest.raises(ValueError, match="first"):
        grad(lambda x: np.sum(np.r_[x, "0"]))(onp.ones(2))


# ------------------------------------------------------------ fft
FFTS = [
    ("fft", lambda x: np.fft.fft(x), lambda x: onp.fft.fft(x)),
    ("fft n=7 ortho", lambda x: np.fft.fft(x, 7, norm="ortho"), lambda x: onp.fft.fft(x, 7, norm="ortho")),
    ("fft n=3 axis0", lambda x: np.fft.fft(x, 3, axis=0), lambda x: onp.fft.fft(x, 3, axis=0)),
    ("ifft forward", lambda x: np.fft.ifft(x, norm="forward"), lambda x: onp.fft.ifft(x, norm="forward")),
    ("fft2", lambda x: np.fft.fft2(x), lambda x: onp.fft.fft2(x)),
    ("ifft2 s", lambda x: np.fft.ifft2(x, s=(3, 6)), lambda x: onp.fft.ifft2(x, s=(3, 6))),
    ("fftn axes", lambda x: np.fft.fftn(x, axes=(1,)), lambda x: onp.fft.fftn(x, axes=(1,))),
    ("fftn repeated axis", lambda x: np.fft.fftn(x, axes=(1, 1)),
     lambda x: onp.fft.fftn(x, axes=(1, 1))),
    ("ifftn", lambda x: np.fft.ifftn(x), lambda x: onp.fft.ifftn(x)),
    ("fftshift", lambda x: np.fft.fftshift(x), lambda x: onp.fft.fftshift(x)),
    ("ifftshift axis", lambda x: np.fft.ifftshift(x, axes=1), lambda x: onp.fft.ifftshift(x, axes=1)),
]
RFFTS = [
    ("rfft", lambda x: np.fft.rfft(x), lambda x: onp.fft.rfft(x)),
    ("rfft n odd", lambda x: np.fft.rfft(x, 5, norm="ortho"), lambda x: onp.fft.rfft(x, 5, norm="ortho")),
    ("rfft axis0 n=6", lambda x: np.fft.rfft(x, 6, axis=0), lambda x: onp.fft.rfft(x, 6, axis=0)),
    ("rfft2", lambda x: np.fft.rfft2(x), lambda x: onp.fft.rfft2(x)),
    ("rfftn", lambda x: np.fft.rfftn(x, norm="forward"), lambda x: onp.fft.rfftn(x, norm="forward")),
    ("ihfft", lambda x: np.fft.ihfft(x), lambda x: onp.fft.ihfft(x)),
]
IRFFTS = [
    ("irfft", lambda c: np.fft.irfft(c), lambda c: onp.fft.irfft(c)),
    ("irfft odd n", lambda c: np.fft.irfft(c, 7), lambda c: onp.fft.irfft(c, 7)),
    ("irfft n short", lambda c: np.fft.irfft(c, 4, norm="ortho"), lambda c: onp.fft.irfft(c, 4, norm="ortho")),
    ("irfft forward axis0", lambda c: np.fft.irfft(c, axis=0, norm="forward"),
     lambda c: onp.fft.irfft(c, axis=0, norm="forward")),
    ("irfft2", lambda c: np.fft.irfft2(c), lambda c: onp.fft.irfft2(c)),
    ("irfftn s", lambda c: np.fft.irfftn(c, s=(4, 5), axes=(0, 1)),
     lambda c: onp.fft.irfftn(c, s=(4, 5), axes=(0, 1))),
    ("hfft", lambda c: np.fft.hfft(c), lambda c: onp.fft.hfft(c)),
]


def _loss(transform, w):
    return lambda x: np.sum(np.real(transform(x) * w))


@pytest.mark.parametrize("name, ours, ref", FFTS + RFFTS, ids=[c[0] for c in FFTS + RFFTS])
def test_fft_real_input(name, ours, ref):
    x = RNG.standard_normal((4, 6))
    onp.testing.assert_allclose(ours(x), ref(x), atol=1e-12)
    y = ref(x)
    w = RNG.standard_normal(y.shape) + 1j * RNG.standard_normal(y.shape) \
        if onp.iscomplexobj(y) else RNG.standard_normal(y.shape)
    got = grad(_loss(ours, w))(x)
    assert got.dtype == onp.float64
    onp.testing.assert_allclose(got, numeric_grad(_loss(ref, w), x), atol=1e-6)


@pytest.mark.parametrize("name, ours, ref", FFTS + IRFFTS, ids=[c[0] for c in FFTS + IRFFTS])
def test_fft_complex_input(name, ours, ref):
    z = RNG.standard_normal((4, 6)) + 1j * RNG.standard_normal((4, 6))
    onp.testing.assert_allclose(ours(z), ref(z), atol=1e-12)
    y = ref(z)
    w = RNG.standard_normal(y.shape) + (1j * RNG.standard_normal(y.shape)
                                        if onp.iscomplexobj(y) else 0)
    got = grad(_loss(ours, w))(z)
    onp.testing.assert_allclose(got, complex_numeric_grad(_loss(ref, w), z), atol=1e-6)


def test_fft_second_order_and_forward_mode():
    x = RNG.standard_normal(6)
    check_grads(lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2), modes=["fwd", "rev"], order=2)(x)
    z = RNG.standard_normal(5) + 1j * RNG.standard_normal(5)
    check_grads(lambda z: np.abs(np.fft.irfft(z, 7)) ** 3, modes=["fwd", "rev"], order=2)(z)
    check_grads(lambda z: np.fft.fftshift(np.fft.ifft(z)), modes=["fwd", "rev"], order=2)(z)


def test_fft_parseval_gradient():
    # sum |fft(x)|^2 = n sum |x|^2, so the gradient is 2 n x
    x = RNG.standard_normal(8)
    onp.testing.assert_allclose(grad(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2))(x),
                                16 * x, rtol=1e-10)


def test_fft_bad_norm():
    with pytest.raises(ValueError, match="norm"):
        grad(lambda x: np.sum(np.abs(np.fft.hfft(x, norm="bad"))))(onp.ones(4) + 0j)


# ------------------------------------------------------------ docstrings
DOC_MODULES = ["autograd.numpy", "autograd.numpy.creation", "autograd.numpy.stacking",
               "autograd.numpy.random", "autograd.numpy.linalg", "autograd.numpy.fft",
               "autograd.rules.fft", "autograd.rules.complex", "autograd.rules.common",
               "autograd.builtins", "autograd.scipy", "autograd.scipy.special",
               "autograd.scipy.linalg", "autograd.scipy.signal", "autograd.scipy.integrate",
               "autograd.scipy.stats", "autograd.scipy.stats.norm", "autograd.scipy.stats.t",
               "autograd.scipy.stats.beta", "autograd.scipy.stats.gamma",
               "autograd.scipy.stats.chi2", "autograd.scipy.stats.poisson",
               "autograd.scipy.stats.dirichlet", "autograd.scipy.stats.multivariate_normal",
               "autograd.numpy.numpy_boxes", "autograd.scipy.misc"]


@pytest.mark.parametrize("name", DOC_MODULES)
def test_docstring_examples_run(name):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(name), extraglobs={"np": onp},
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_full_with_recorded_fill_value():
    assert grad(lambda v: np.sum(np.full((2, 3), v) * 2.0))(1.5) == pytest.approx(12.0)
    x = RNG.standard_normal(3)
    onp.testing.assert_allclose(grad(lambda x: np.sum(np.full((2, 3), x) ** 2))(x), 4 * x)
    onp.testing.assert_allclose(grad(lambda v: np.sum(np.full_like(x, v) * x))(0.5), onp.sum(x))
    assert np.full((2,), 3, dtype=onp.float32).dtype == onp.float32
    assert onp.array_equal(np.full_like(onp.ones(2, int), 7), [7, 7])
    out = {}
    grad(lambda v: (out.setdefault("d", np.full((2,), v, dtype=onp.float32).dtype), v * 1.0)[1])(1.0)
    assert out["d"] == onp.float32


def test_hips_compat_modules():
    from autograd.numpy.numpy_boxes import ArrayBox
    from autograd.scipy.misc import logsumexp
    seen = []
    grad(lambda x: (seen.append(isinstance(x, ArrayBox)), np.sum(x))[1])(onp.ones(2))
    assert seen == [True]
    onp.testing.assert_allclose(grad(logsumexp)(onp.zeros(2)), [0.5, 0.5])
