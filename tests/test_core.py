"""The tape itself: recording, nesting, higher order, errors, memory."""
import gc
import resource

import numpy as np
import pytest

from autograd import (Param, Result, Sparse, cat1d, diff, gcheck, grad, gradloss, params,
                      primitive, training, value, zerograd)


def test_param_acts_like_its_value_outside_diff():
    x = Param(np.array([[1., 2.], [3., 4.]]))
    assert type(x + 1) is np.ndarray
    assert type(np.exp(x)) is np.ndarray
    assert x.shape == (2, 2) and x.ndim == 2 and x.size == 4 and len(x) == 2
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x.T, [[1., 3.], [2., 4.]])
    np.testing.assert_array_equal(x.sum(axis=0), [4., 6.])
    np.testing.assert_array_equal(x @ x, x.value @ x.value)
    np.testing.assert_array_equal(np.concatenate([x, x]).shape, (4, 2))
    np.testing.assert_array_equal([r.tolist() for r in x], [[1., 2.], [3., 4.]])
    assert float(x[0, 1]) == 2.0
    assert repr(Param(np.float64(2.0))) == "P(2.0)"


def test_result_repr_and_value():
    x = Param(np.array([1., 2., 3.]))
    y = diff(lambda: np.sum(x * x))
    assert repr(y) == "T(14.0)"
    assert value(y) == 14.0 and value(x) is x.value and value(3) == 3
    assert params(y) == [x]


def test_training_flag():
    seen = []
    assert not training()
    x = Param(np.ones(2))
    diff(lambda: (seen.append(training()), np.sum(x))[1])
    assert seen == [True] and not training()


def test_grad_none_for_unused_param_and_constant_function():
    x, z = Param(np.ones(3)), Param(np.ones(3))
    y = diff(lambda: np.sum(x * 2))
    assert grad(y, z) is None
    c = diff(lambda: 3.0)
    assert grad(c, x) is None and value(c) == 3.0


def test_non_scalar_result_names_the_shape():
    x = Param(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        diff(lambda: x * 2)


def test_argnum_and_tuple_argnum():
    f = lambda a, b: np.sum(a * b ** 2)
    a, b = np.array([1., 2.]), np.array([3., 4.])
    np.testing.assert_allclose(grad(f, argnum=1)(a, b), 2 * a * b)
    ga, gb = grad(f, argnum=(0, 1))(a, b)
    np.testing.assert_allclose(ga, b ** 2)
    np.testing.assert_allclose(gb, 2 * a * b)
    g, loss = gradloss(f)(a, b)
    assert loss == pytest.approx(41.0)
    with pytest.raises(IndexError, match="argnum"):
        grad(f, argnum=3)(a, b)


def test_functional_grad_of_independent_argument_is_zero():
    assert grad(lambda x, y: y * 2.0)(1.5, 2.0) == 0.0


def test_higher_order_sin_to_fourth_order():
    derivs = [np.sin, np.cos, lambda t: -np.sin(t), lambda t: -np.cos(t), np.sin]
    g = np.sin
    for k in range(1, 5):
        g = grad(g)
        assert g(0.7) == pytest.approx(derivs[k](0.7), rel=1e-12)


def test_nested_closure_is_not_confused():
    assert grad(lambda x: x * grad(lambda y: x + y)(x))(5.0) == 1.0
    # d/dx [x * d/dy (x*y)] = d/dx x^2 = 2x
    assert grad(lambda x: x * grad(lambda y: x * y)(x))(3.0) == pytest.approx(6.0)


def test_gradient_of_gradient_with_params():
    w = Param(np.array([0.5, -1.0, 2.0]))
    # penalty on the gradient norm: d/dw sum((d/dw sum(w^3))^2) = d/dw sum(9 w^4) = 36 w^3
    y = diff(lambda: np.sum(grad(diff(lambda: np.sum(w ** 3)), w) ** 2))
    np.testing.assert_allclose(grad(y, w), 36 * w.value ** 3)


def test_hessian_of_nll_matches_closed_form():
    rng = np.random.default_rng(1)
    z0 = rng.standard_normal(4)
    label = 2

    def nll(z):
        return np.log(np.sum(np.exp(z))) - z[label]

    p = np.exp(z0) / np.sum(np.exp(z0))
    hessian = np.stack([grad(lambda z: grad(nll)(z)[i])(z0) for i in range(4)])
    np.testing.assert_allclose(hessian, np.diag(p) - np.outer(p, p), atol=1e-12)


def test_user_primitive_and_zerograd():
    @primitive(lambda dy, y, x: dy * np.cos(x))
    def mysin(x):
        return np.sin(x)

    @primitive(lambda dy, y, a, b: dy * a / y, lambda dy, y, a, b: dy * b / y)
    def hypot(a, b):
        return np.sqrt(a * a + b * b)

    @zerograd
    def mysign(x):
        return np.sign(x)

    x = Param(np.array([0.3, -0.2]))
    y = diff(lambda: np.sum(mysin(x) * mysign(x)))
    np.testing.assert_allclose(grad(y, x), np.cos(x.value) * np.sign(x.value))
    a, b = Param(np.array([3.0])), Param(np.array([4.0]))
    y = diff(lambda: np.sum(hypot(a, b)))
    np.testing.assert_allclose([grad(y, a)[0], grad(y, b)[0]], [0.6, 0.8])
    assert grad(grad(mysin))(0.4) == pytest.approx(-np.sin(0.4))
    assert type(mysign(x)) is np.ndarray


def test_primitive_registers_an_existing_numpy_function():
    from autograd.registry import lookup, register
    saved = lookup(np.sinc)
    try:
        p = primitive(lambda dy, y, x: dy * (np.cos(np.pi * x) * np.pi * x - np.sin(np.pi * x))
                      / (np.pi * x * x), override=True)(np.sinc)
        assert lookup(np.sinc) is p
        assert gcheck(lambda x: np.sinc(x), Param(np.array([0.3, 0.7, 1.4])))
    finally:
        register(np.sinc, saved, override=True)


def test_registering_a_second_rule_needs_override():
    from autograd.registry import defgrad, lookup, zerograd
    saved = lookup(np.sinc)
    with pytest.raises(ValueError, match="sinc.*override=True"):
        primitive(lambda dy, y, x: dy)(np.sinc)
    with pytest.raises(ValueError, match="override"):
        defgrad(np.sinc, lambda dy, y, x: dy)
    with pytest.raises(ValueError, match="override"):
        zerograd(np.sinc)
    assert lookup(np.sinc) is saved


def test_broadcasting_gradients_are_summed_back():
    a, b = Param(np.ones((3, 1))), Param(np.arange(4.0))
    y = diff(lambda: np.sum(a * b))
    np.testing.assert_allclose(grad(y, a), np.full((3, 1), 6.0))
    np.testing.assert_allclose(grad(y, b), np.full(4, 3.0))
    s = Param(np.float64(2.0))
    y = diff(lambda: np.sum(s * np.ones((2, 2))))
    assert np.shape(grad(y, s)) == () and grad(y, s) == 4.0


def test_float32_gradients_stay_float32():
    x = Param(np.ones(3, np.float32))
    y = diff(lambda: np.sum(x * 2.0 + np.ones(3)))
    assert grad(y, x).dtype == np.float32


def test_sparse_gradient_of_row_reads():
    e = Param(np.random.default_rng(0).standard_normal((1000, 4)))
    y = diff(lambda: np.sum(e[[3, 3, 7]] * 2))
    g = grad(y, e)
    assert isinstance(g, Sparse)
    rows, vals = g.rows()
    np.testing.assert_array_equal(rows, [3, 7])
    np.testing.assert_allclose(vals, [[4.] * 4, [2.] * 4])
    dense = g.dense()
    assert dense[3].tolist() == [4.] * 4 and dense.sum() == 24


def test_inplace_writes_into_recorded_values_raise():
    x = Param(np.ones(3))

    def setitem():
        h = x * 2
        h[0] = 1
        return np.sum(h)

    def out_kw():
        h = x * 2
        np.add(h, 1, out=h)
        return np.sum(h)

    def param_iadd():                # a Param: refused (x = x + 1 gives a new value)
        x_ = x
        x_ += 1
        return np.sum(x_)

    def param_write():
        x[0] = 5.0
        return np.sum(x)

    # (h += 1 on a recorded h rebinds h, as HIPS does: tests/test_augmented.py)
    for f in (setitem, out_kw, param_iadd, param_write):
        with pytest.raises(ValueError, match="in place"):
            diff(f)
    assert x.value.tolist() == [1., 1., 1.]


def test_param_inplace_update_outside_diff_keeps_array():
    x = Param(np.ones(3))
    arr = x.value
    x -= 0.5 * np.ones(3)
    assert x.value is arr and arr.tolist() == [0.5] * 3
    x[1] = 2.0
    assert arr[1] == 2.0


def test_unregistered_function_is_a_clear_error_while_recording():
    x = Param(np.array([1., 2.]))
    with pytest.raises(TypeError, match="np.*register"):
        diff(lambda: np.sum(np.polyval(x, 2.0)))
    assert np.polyval(x, 2.0) == 4.0          # outside diff it just runs


def test_params_search_is_recursive_and_cycle_safe():
    a, b, c = Param(np.ones(1)), Param(np.ones(2)), Param(np.ones(3))

    class Layer:
        def __init__(self):
            self.w = a
            self.more = {"b": b, "list": [c, (a,)]}
            self.me = self

    class Slotted:
        __slots__ = ("p", "q")

        def __init__(self):
            self.p, self.q = c, None

    found = params([Layer(), Slotted()])
    assert [id(p) for p in found] == [id(a), id(b), id(c)]


def test_results_of_a_finished_tape_act_as_constants():
    x = Param(np.array([2.0]))
    kept = []
    diff(lambda: (kept.append(x * 3), np.sum(kept[0]))[1])
    h = kept[0]
    assert isinstance(h, Result)
    y = diff(lambda: np.sum(h * x))
    np.testing.assert_allclose(grad(y, x), [6.0])


def test_cat1d():
    a, b = Param(np.ones((2, 2))), Param(np.arange(3.0))
    assert cat1d(a, b).shape == (7,)
    y = diff(lambda: np.sum(cat1d(a, b) * np.arange(7.0)))
    np.testing.assert_allclose(grad(y, b), [4., 5., 6.])
    with pytest.raises(ValueError):
        cat1d()


def test_gcheck_detects_a_wrong_gradient(capsys):
    @primitive(lambda dy, y, x: dy * 2 * np.cos(x))       # wrong on purpose
    def badsin(x):
        return np.sin(x)

    assert not gcheck(badsin, Param(np.array([0.1, 0.5, 0.9])))
    assert "FAIL" in capsys.readouterr().out
    assert gcheck(np.sin, Param(np.array([0.1, 0.5, 0.9])))


def test_gcheck_finds_captured_params_and_kw():
    w = Param(np.array([[0.2, -0.4], [0.3, 0.1]]))
    b = Param(np.array([0.5, -0.5]))
    assert gcheck(lambda x, bias=None: np.tanh(x @ w + bias), np.ones((3, 2)), kw={"bias": b})


def test_tape_memory_stays_flat():
    w = Param(np.random.default_rng(0).standard_normal((20, 20)))
    x = np.ones((8, 20))
    loss = lambda: np.sum(np.tanh(np.tanh(x @ w) @ w) ** 2)
    for _ in range(500):
        diff(loss)
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(10000):
        y = diff(loss)
    gc.collect()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 20_000        # KiB: 10,000 tapes leave no trace
    assert y.tape.nodes == [] and y.parents is None and y.args is None


def test_raw_is_public_and_strips_every_level():
    import autograd
    import autograd.core as core
    assert autograd.raw is core.raw is core._raw
    x = Param(np.array([1.0, 2.0]))
    seen = []

    def f(w):
        seen.append(autograd.raw(w * x))
        return np.sum(w * x)
    autograd.grad(f)(np.ones(2))
    assert type(seen[0]) is np.ndarray


def test_core_grad_function_form_is_the_registered_hook():
    import autograd.core as core
    import autograd.functional as functional
    assert core._upper["grad_of"] is functional.grad_of
    np.testing.assert_allclose(core.grad(lambda w: np.sum(w ** 3))(np.array([1.0, 2.0])),
                               [3.0, 12.0])
