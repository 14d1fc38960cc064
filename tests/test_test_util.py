"""autograd.test_util: check_grads and combo_check catch what they should."""
import numpy as onp
import pytest

import autograd.numpy as np
from autograd import value
from autograd.extend import defjvp, defvjp, primitive
from autograd.test_util import (check_equivalent, check_grads, combo_check, make_numerical_jvp,
                                scalar_close)


def U(lo, hi, shape, seed=0):
    return onp.random.default_rng(seed).uniform(lo, hi, shape)


@pytest.fixture(autouse=True)
def _seed():
    onp.random.seed(0)       # check_grads draws its directions from numpy's global generator


def test_correct_functions_pass_every_mode_and_order():
    A = U(-1, 1, (3, 3))
    x = U(-1, 1, 3, 1)
    assert check_grads(lambda v: np.tanh(A @ v) * v, order=3)(x) is None
    check_grads(lambda a, b: np.sum(a * np.exp(b)) / (1 + a @ a), argnum=(0, 1))(x, x[::-1])
    check_grads(lambda v, k=2.0: np.sin(v) ** k, modes=["fwd"])(x, k=3.0)
    check_grads(lambda p: p["w"] @ np.cos(p["b"][0]) + p["b"][1] ** 2)(
        {"w": x, "b": [x[::-1], 0.7]})
    check_grads(np.sin, order=2)(0.4)


def test_complex_inputs():
    z = onp.array([0.3 + 0.4j, -1.1 + 0.2j])
    check_grads(lambda w: w ** 2 * np.exp(w))(z)                  # holomorphic
    check_grads(lambda w: np.abs(w) ** 2 + np.real(w) * np.imag(w))(z)   # real-valued


def make_cube(vjp_factor=3.0, jvp_factor=None, plain_numpy_vjp=False):
    @primitive
    def cube(x):
        return x ** 3
    if plain_numpy_vjp:   # right values, but not differentiable again: wrong second derivative
        defvjp(cube, lambda ans, x: lambda g: g * vjp_factor * value(x) ** 2)
    else:
        defvjp(cube, lambda ans, x: lambda g: g * vjp_factor * x ** 2)
    if jvp_factor is not None:
        defjvp(cube, lambda g, ans, x: g * jvp_factor * x ** 2)
    return cube


X = onp.array([0.5, -1.2, 2.0])


def test_wrong_vjp_is_caught_in_reverse_mode():
    with pytest.raises(AssertionError, match="VJP"):
        check_grads(make_cube(2.0), modes=["rev"], order=1)(X)
    check_grads(make_cube(3.0), modes=["rev"], order=1)(X)


def test_wrong_jvp_is_caught_in_forward_mode_only():
    cube = make_cube(3.0, jvp_factor=2.5)
    check_grads(cube, modes=["rev"], order=1)(X)
    with pytest.raises(AssertionError, match="JVP"):
        check_grads(cube, modes=["fwd"], order=1)(X)


def test_wrong_second_derivative_needs_order_two():
    cube = make_cube(3.0, plain_numpy_vjp=True)
    check_grads(cube, modes=["rev"], order=1)(X)
    with pytest.raises(AssertionError):
        check_grads(cube, modes=["rev"], order=2)(X)


def test_combo_check_runs_every_combination():
    calls = []

    def f(x, y, axis=None):
        calls.append((onp.shape(x), onp.shape(y), axis))
        return np.sum(x * y, axis=axis)
    xs = [U(-1, 1, (2, 3), 2), U(-1, 1, (4, 3), 3)]
    combo_check(f, [0, 1], modes=["rev"], order=1)(xs, [U(-1, 1, 3, 4)], axis=[None, 0, -1])
    seen = {(sx, axis) for sx, sy, axis in calls}
    assert seen == {(s, a) for s in [(2, 3), (4, 3)] for a in (None, 0, -1)}
    with pytest.raises(AssertionError):
        combo_check(make_cube(2.0), [0], modes=["rev"], order=1)([X])


def test_helpers_and_argument_errors():
    assert scalar_close(1.0, 1.0 + 1e-9) and not scalar_close(1.0, 1.1)
    jvp = make_numerical_jvp(np.sin, 0.3)
    assert abs(jvp(2.0) - 2 * onp.cos(0.3)) < 1e-8
    check_equivalent(onp.ones(3), onp.ones(3) + 1e-12)
    with pytest.raises(AssertionError, match="VSpace"):
        check_equivalent(onp.ones(3), onp.ones(2))
    with pytest.raises(ValueError, match="modes"):
        check_grads(np.sin, modes=["backward"])(0.3)
    with pytest.raises(TypeError, match="vector space"):
        check_grads(np.sin)(3)      # integers have no vector space (as in HIPS)


@pytest.mark.parametrize("fname", ["real", "imag", "angle", "conj", "abs"])
def test_non_holomorphic_functions_second_order_real_and_complex_inputs(fname):
    f = getattr(np, fname)
    inputs = [-0.4 - 0.08j, onp.array([0.3 + 0.1j, -0.5 + 0.2j]), U(0.2, 1, (3, 2), 5) * (1 + 0.5j)]
    if fname != "angle":        # angle of a real number is piecewise constant (0 or pi)
        inputs += [0.4, U(0.2, 1, (1, 2), 6)]
    for x in inputs:
        check_grads(f)(x)       # fwd and rev, order 2: gradients keep the input's vector space


def test_python_number_gradients_keep_their_kind():
    from autograd import grad
    g = grad(lambda x, z: np.abs(x * z) ** 2, 0)(0.5, 1 + 1j)
    assert isinstance(g, (float, onp.floating)) and abs(g - 2 * 0.5 * 2) < 1e-12
    g = grad(lambda z: np.real(z))(0.3 + 0.1j)
    assert onp.iscomplexobj(g) and g == 1
