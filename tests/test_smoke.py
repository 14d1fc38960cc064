import numpy as np

from autograd import Param, diff, grad, gradloss, params, value


def test_spec_quickstart():
    x = Param(np.array([1., 2., 3.]))
    assert float(np.sum(x * x)) == 14.0
    y = diff(lambda: np.sum(x * x))
    assert value(y) == 14.0
    assert params(y) == [x]
    np.testing.assert_allclose(grad(y, x), [2., 4., 6.])
    f = lambda w: np.sum(w * w)
    np.testing.assert_allclose(grad(f)(np.array([1., 2., 3.])), [2., 4., 6.])
    g, loss = gradloss(f)(np.array([1., 2., 3.]))
    assert loss == 14.0
    assert np.isclose(grad(grad(np.sin))(0.5), -np.sin(0.5))
