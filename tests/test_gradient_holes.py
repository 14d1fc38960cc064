"""The three holes of issue 16, each a case that once gave a wrong gradient (or
raised) without a word.  Public API only: grad, Param, diff, value, numpy."""
import numpy as np
import pytest

from autograd import Param, diff, grad, value


# (a) a recorded value turned into a plain array inside diff raises, never cuts the gradient
def test_ndarray_method_on_plain_array_raises_instead_of_dropping_gradient():
    a, b = np.array([1., 2., 3.]), np.ones(3)
    with pytest.raises(TypeError, match=r"value\(x\)"):
        grad(lambda b: a.dot(b))(b)
    p = Param(b)
    with pytest.raises(TypeError, match="gradient would be lost"):
        diff(lambda: a.dot(p))
    np.testing.assert_allclose(grad(lambda b: np.dot(a, b))(b), a)


def test_asarray_of_recorded_value_raises_inside_diff():
    p = Param(np.array([1., 2.]))
    for convert in (np.asarray, np.array, np.ascontiguousarray):
        with pytest.raises(TypeError, match="plain numpy array"):
            diff(lambda: np.sum(convert(p) * p))
        with pytest.raises(TypeError, match="plain numpy array"):
            grad(lambda x: np.sum(convert(x * 2.0)))(np.ones(2))


def test_value_scalars_and_outside_diff_still_convert():
    p = Param(np.array([1., 2.]))
    # value(x): the documented way to take a value without its gradient
    y = diff(lambda: np.sum(value(p) * p))
    np.testing.assert_allclose(grad(y, p), [1., 2.])
    # float/int/bool of a recorded scalar stay allowed (control flow)
    g = grad(lambda x: x * x if bool(x > 0) and int(x) >= 1 else -x)(np.float64(2.0))
    assert float(g) == 4.0
    assert float(grad(lambda x: float(x) * x)(3.0)) == 3.0
    # outside diff a Param converts silently
    np.testing.assert_array_equal(np.asarray(p), [1., 2.])
    np.testing.assert_array_equal(np.ones(2).dot(p), 3.0)


# (b) repeat with repeat counts ending in zeros (the last rows get no copy)
@pytest.mark.parametrize("repeats, expected", [([1, 2, 0], [1., 2., 0.]),
                                               ([0, 2, 0], [0., 2., 0.]),
                                               ([3, 0, 0], [3., 0., 0.]),
                                               ([0, 0, 0], [0., 0., 0.])])
def test_repeat_gradient_with_trailing_zero_counts(repeats, expected):
    w = np.array([1., 10., 100.])
    g = grad(lambda x: np.sum(np.repeat(x, repeats) * np.arange(1., 1 + sum(repeats))))(w)
    want = np.repeat(np.arange(3), repeats)
    np.testing.assert_allclose(g, [np.sum(np.arange(1., 1 + sum(repeats))[want == i])
                                   for i in range(3)])
    np.testing.assert_allclose(grad(lambda x: np.sum(np.repeat(x, repeats)))(w), expected)


def test_repeat_gradient_with_trailing_zero_counts_along_axis():
    x = np.arange(6.).reshape(2, 3)
    g = grad(lambda x: np.sum(np.repeat(x, [2, 1, 0], axis=1) ** 2))(x)
    np.testing.assert_allclose(g, 2 * x * np.array([2., 1., 0.]))
    g = grad(lambda x: np.sum(np.repeat(x, [3, 0], axis=0) * np.arange(9.).reshape(3, 3)))(x)
    np.testing.assert_allclose(g, [[9., 12., 15.], [0., 0., 0.]])


# (c) prod along an axis of length 1 holding a zero; take / index with an empty list
def test_second_order_prod_along_length_one_axis_with_zero():
    x = np.array([[0.], [2.]])
    h = grad(lambda x: np.sum(grad(lambda z: np.sum(np.prod(z, axis=1) ** 2))(x)))(x)
    np.testing.assert_allclose(h, [[2.], [2.]])
    p = Param(x)
    g = grad(diff(lambda: np.sum(np.prod(p, axis=1) * p[:, 0])), p)
    np.testing.assert_allclose(g, 2 * x)


def test_take_and_index_with_empty_list():
    x = np.arange(6.).reshape(3, 2)
    for f in (lambda x: np.sum(np.take(x, [], axis=0)) + np.sum(x),
              lambda x: np.sum(np.take(x, [])) + np.sum(x),
              lambda x: np.sum(x[[]]) + np.sum(x)):
        np.testing.assert_array_equal(grad(f)(x), np.ones((3, 2)))
    assert np.take(Param(x), [], axis=0).shape == (0, 2)


# found by the random programs: contracting over an empty axis
def test_inner_and_tensordot_over_empty_axis():
    x = np.ones((3, 2))
    g = grad(lambda x: np.sum(np.inner(x[[]], x[[]])) + np.sum(x))(x)
    np.testing.assert_array_equal(g, np.ones((3, 2)))
    g = grad(lambda x: np.sum(np.tensordot(x[:, :0], np.ones((0, 2)), 1)) + np.sum(x))(x)
    np.testing.assert_array_equal(g, np.ones((3, 2)))
