"""Reduction and softmax-family kernels (reduce.cu, softmax.cu) through the
kernel backend on the CPU emulator, against numpy and the numpy backend."""
import numpy as np
import pytest

from knetpy.backends import numpy_backend as nb
from knetpy.backends.emulator import emulated_backend

DTYPES = (np.float32, np.float64)
OPS = ("sum", "prod", "max", "min", "mean", "var", "std")
# shapes and axes covering: full reductions needing several blocks (and a second
# pass over the partials), one trailing run of axes (block per row), a leading
# or middle run (thread per output), and scattered axes (transposed first)
CASES = [((1000,), None), ((3000,), 0), ((37, 53), None), ((37, 53), 0), ((37, 53), 1),
         ((5, 300), 1), ((5, 300), -1), ((4, 5, 6, 7), (1, 2)), ((4, 5, 6, 7), (0, 2)),
         ((4, 5, 6, 7), (1, 3)), ((4, 5, 6, 7), (0, 1, 2, 3)), ((6, 1, 5), 1), ((), None),
         ((7,), ())]


@pytest.fixture(scope="module")
def be():
    return emulated_backend(block=64, max_blocks=4)


def sample(shape, dt, op, seed=0):
    g = np.random.default_rng(seed)
    x = g.standard_normal(shape)
    if op == "prod":                      # keep products of many terms near 1
        x = 1 + 0.01 * x
    return x.astype(dt)


def rtol(dt, n=1):
    return 1e-11 if dt == np.float64 else 2e-6 * max(1, np.sqrt(n))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_reductions(be, op, dt):
    for shape, axis in CASES:
        x = sample(shape, dt, op)
        for keepdims in (False, True):
            got = be.reduce(op, x, axis, keepdims)
            want = getattr(np, op)(x.astype(np.float64), axis=axis, keepdims=keepdims)
            assert np.shape(got) == np.shape(want), (shape, axis, keepdims)
            assert got.dtype == dt
            np.testing.assert_allclose(got, want, rtol=rtol(dt, x.size), atol=rtol(dt, x.size),
                                       err_msg=f"{op} {shape} axis={axis}")


@pytest.mark.parametrize("block, max_blocks", [(32, 1), (32, 7), (128, 3), (256, 2)])
def test_launch_shapes_do_not_change_results(block, max_blocks):
    be = emulated_backend(block=block, max_blocks=max_blocks)
    x = sample((33, 517), np.float64, "sum", seed=3)
    for axis in (None, 0, 1):
        np.testing.assert_allclose(be.reduce("sum", x, axis, False), x.sum(axis=axis),
                                   rtol=1e-12)
        np.testing.assert_array_equal(be.reduce("max", x, axis, False), x.max(axis=axis))


def test_reductions_of_strided_input(be):
    x = sample((20, 30, 3), np.float64, "sum")
    for v in (x.transpose(2, 0, 1), x[::-1, ::4]):
        for axis in (None, 0, (1, 2), 2):
            np.testing.assert_allclose(be.reduce("sum", v, axis, False), v.sum(axis=axis),
                                       rtol=1e-12)


def test_nan_and_inf_propagate(be):
    x = np.array([[1.0, np.nan, 3.0], [np.inf, 2.0, -1.0]])
    for op in ("max", "min", "sum"):
        for axis in (None, 0, 1):
            np.testing.assert_array_equal(be.reduce(op, x, axis, False),
                                          getattr(np, op)(x, axis=axis))


def test_zero_size(be):
    e = np.zeros((0, 4))
    np.testing.assert_array_equal(be.reduce("sum", e, 0, False), np.zeros(4))
    np.testing.assert_array_equal(be.reduce("prod", e, None, False), 1.0)
    assert be.reduce("sum", e, 1, False).shape == (0,)
    assert be.reduce("max", e, 1, True).shape == (0, 1)
    with pytest.warns(RuntimeWarning):
        want = np.mean(e, axis=0)
    np.testing.assert_array_equal(be.reduce("mean", e, 0, False), want)
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        be.reduce("max", e, 0, False)
    with pytest.raises(ValueError, match="minimum"):
        be.reduce("min", e, None, False)


def test_bad_axes(be):
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        be.reduce("sum", np.ones((2, 3)), 2, False)
    with pytest.raises(ValueError, match="repeats"):
        be.reduce("sum", np.ones((2, 3)), (0, -2), False)


def test_other_reductions_and_dtypes_fall_back(be):
    x = np.array([[3, 1, 2], [0, 5, 4]])
    np.testing.assert_array_equal(be.reduce("sum", x, 0, False), x.sum(0))      # ints
    np.testing.assert_array_equal(be.reduce("argmax", x * 1.0, 1, False), [0, 1])
    assert be.reduce("any", x > 4, None, False)


# ----------------------------------------------------------------- softmax family
SM_CASES = [((10,), None), ((7, 130), -1), ((7, 130), 0), ((3, 4, 5), (0, 2)), ((3, 4, 5), 1),
            ((2, 3, 4), None), ((1, 1), -1)]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("algo", [0, 1, 2])
def test_softmax(be, algo, dt):
    for shape, axis in SM_CASES:
        x = (np.random.default_rng(4).standard_normal(shape) * 3).astype(dt)
        xd = x.astype(np.float64)
        e = np.exp(xd - xd.max(axis=axis, keepdims=True))
        want = e / e.sum(axis=axis, keepdims=True)
        if algo == 2:
            want = np.log(want)
        got = be.softmax(x, axis, algo)
        assert got.shape == x.shape and got.dtype == dt
        np.testing.assert_allclose(got, want, rtol=rtol(dt, 100), atol=rtol(dt, 100))
    np.testing.assert_allclose(be.logsoftmax(x, axis), nb.logsoftmax(x, axis), rtol=rtol(dt, 100))


@pytest.mark.parametrize("dt", DTYPES)
def test_logsumexp(be, dt):
    for shape, axis in SM_CASES:
        x = (np.random.default_rng(5).standard_normal(shape) * 3).astype(dt)
        for keepdims in (False, True):
            xd = x.astype(np.float64)
            m = xd.max(axis=axis, keepdims=True)
            want = np.log(np.exp(xd - m).sum(axis=axis, keepdims=True)) + m
            if not keepdims:
                want = want.reshape(np.sum(xd, axis=axis).shape)
            got = be.logsumexp(x, axis, keepdims)
            assert got.shape == want.shape and got.dtype == dt
            np.testing.assert_allclose(got, want, rtol=rtol(dt, 100))


def test_softmax_family_extremes_match_numpy_backend(be):
    x = np.array([[1e4, 0.0, -1e4], [-np.inf, -np.inf, -np.inf], [np.inf, 1.0, 2.0]])
    with np.errstate(all="ignore"):
        for algo in (1, 2):
            np.testing.assert_array_equal(be.softmax(x, -1, algo), nb.softmax(x, -1, algo))
        np.testing.assert_array_equal(be.logsumexp(x, -1, False), nb.logsumexp(x, -1, False))


def test_softmax_float16_and_empty(be):
    h = np.linspace(-3, 3, 12).reshape(3, 4).astype(np.float16)
    got = be.softmax(h, -1, 1)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, nb.softmax(h, -1, 1), rtol=1e-3)
    assert be.softmax(np.zeros((0, 3)), -1, 1).shape == (0, 3)
    with pytest.raises(ValueError, match="algo"):
        be.softmax(h, -1, 3)


# ----------------------------------------------------------------- nll
def nll_reference(x, ans, axis):
    xm = np.moveaxis(x.astype(np.float64), axis, -1)
    lse = np.log(np.exp(xm - xm.max(-1, keepdims=True)).sum(-1)) + xm.max(-1)
    picked = np.take_along_axis(xm, np.maximum(ans, 0)[..., None], -1)[..., 0]
    return np.where(ans >= 0, lse - picked, 0).sum()


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape, axis", [((9, 5), -1), ((9, 5), 0), ((3, 70, 4), 1),
                                         ((130, 3), -1)])
def test_nll_forward_and_backward(be, shape, axis, dt):
    g = np.random.default_rng(6)
    x = g.standard_normal(shape).astype(dt)
    kept = tuple(s for d, s in enumerate(shape) if d != axis % len(shape))
    ans = g.integers(-1, shape[axis], kept)
    loss = be.nll_forward(x, ans, axis)
    assert loss.shape == () and loss.dtype == dt
    np.testing.assert_allclose(loss, nll_reference(x, ans, axis), rtol=rtol(dt, 100))
    np.testing.assert_allclose(loss, nb.nll_forward(x, ans, axis), rtol=rtol(dt, 100))
    grad = be.nll_backward(x, ans, axis)
    assert grad.shape == shape and grad.dtype == dt
    np.testing.assert_allclose(grad, nb.nll_backward(x, ans, axis), rtol=rtol(dt, 10),
                               atol=rtol(dt, 10))


def test_nll_checks_answers(be):
    with pytest.raises(ValueError, match="answers must be < 3"):
        be.nll_forward(np.zeros((2, 3)), np.array([0, 3]), -1)
    with pytest.raises(ValueError, match="must have 2 elements"):
        be.nll_backward(np.zeros((2, 3)), np.array([0, 1, 2]), -1)
