"""Every bad input to the tape raises the promised, readable error."""
import numpy as np
import pytest

from autograd import Param, diff, grad, training, value

INPLACE = {
    "setitem on a result": lambda x: _write(x * 2, lambda h: h.__setitem__(0, 1.0)),
    "setitem with a slice": lambda x: _write(x * 2, lambda h: h.__setitem__(slice(0, 2), 0.0)),
    "setitem of a Param": lambda x: _write(x, lambda h: h.__setitem__(1, 5.0)),
    "ufunc out= itself": lambda x: _write(x * 2, lambda h: np.add(h, 1, out=h)),
    "ufunc out= tuple": lambda x: _write(x * 2, lambda h: np.multiply(h, 2, out=(h,))),
    "ufunc out= into a plain array": lambda x: _write(x * 2, lambda h: np.exp(h, out=np.empty(3))),
    "unary ufunc out=": lambda x: _write(x * 2, lambda h: np.negative(h, out=h)),
    "+= on a Param": lambda x: _write(x, lambda h: h.__iadd__(1)),
    "-= on a Param": lambda x: _write(x, lambda h: h.__isub__(1)),
    "np.add.at": lambda x: _write(x * 2, lambda h: np.add.at(h, [0], 1.0)),
}
# (+=, -=, *=, /=, **= on a recorded value rebind it, as HIPS does: tests/test_augmented.py)


def _write(h, op):
    op(h)
    return np.sum(h)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_write_into_a_recorded_value_raises(name):
    x = Param(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="in place"):
        diff(lambda: INPLACE[name](x))
    assert x.value.tolist() == [1.0, 2.0, 3.0]       # nothing was written
    assert not training()                            # the failed tape was popped


def test_augmented_assignment_spelled_as_python_code():
    x = Param(np.ones(3))

    def f():
        x[0] += 1                    # a write into the Param's array
        return np.sum(x)

    def g():
        h = np.exp(x)
        h[0] = 1
        return np.sum(h)

    def k():
        h = x * 2
        np.add(h, 1, out=h)
        return np.sum(h)
    for fn in (f, g, k):
        with pytest.raises(ValueError, match="gradient would be wrong|in place"):
            diff(fn)


def test_unrecorded_ufunc_methods_on_recorded_values_are_refused():
    x = Param(np.ones(3))
    with pytest.raises(TypeError, match="add.at"):
        diff(lambda: (np.add.at(x * 2, [0], 1.0), np.sum(x))[1])
    with pytest.raises(TypeError, match="register"):
        diff(lambda: np.sum(np.copyto(x * 2, 0.0) or x))


@pytest.mark.parametrize("shape", [(2, 3), (3,), (0,), (1, 2)])
def test_non_scalar_result_names_its_shape(shape):
    x = Param(np.ones(shape))
    with pytest.raises(ValueError, match=r"scalar.*" + r"\(" + ", ".join(map(str, shape))):
        diff(lambda: x * 2)
    with pytest.raises(ValueError, match="shape"):
        grad(lambda v: v * 2)(np.ones(shape))


def test_one_element_results_are_accepted():
    x = Param(np.array([2.0]))
    y = diff(lambda: x * 3)                  # shape (1,) holds one element
    np.testing.assert_array_equal(grad(y, x), [3.0])


def test_independent_params_get_none():
    a, b, c = Param(np.ones(2)), Param(np.ones(2)), Param(np.ones(2))
    y = diff(lambda: np.sum(a * 2) + np.sum(np.sign(b)) + float(np.argmax(c)))
    assert grad(y, a) is not None
    assert grad(y, b) is None and grad(y, c) is None      # only non-differentiable uses
    y = diff(lambda: np.sum(value(a)) * 2.0)                # value() detaches
    assert grad(y, a) is None
    y = diff(lambda: 7.0)
    assert grad(y, a) is None and value(y) == 7.0
    assert grad(lambda u, v: np.sum(v))(np.ones(2), np.ones(2)).tolist() == [0.0, 0.0]


def test_unregistered_numpy_function_names_itself():
    x = Param(np.array([3.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="np.polyval.*register"):
        diff(lambda: np.polyval(x, 2.0))
    with pytest.raises(TypeError, match="np.add.accumulate"):
        diff(lambda: np.sum(np.add.accumulate(x)))


def test_keyword_recorded_arguments_are_refused():
    x = Param(np.ones((2, 2)))
    # (np.clip's keyword bounds are now passed on positionally: tests/test_hips_extra.py)
    with pytest.raises(TypeError, match="positionally"):
        diff(lambda: np.sum(np.linalg.solve(x + 2 * np.eye(2), b=x * 0.5)))


def test_bad_callers():
    x = Param(np.ones(2))
    with pytest.raises(TypeError, match="callable"):
        diff(3.0)
    with pytest.raises(TypeError, match="Result of diff"):
        grad(np.ones(2), x)
    with pytest.raises(IndexError, match="argnum"):
        grad(lambda a: np.sum(a), argnum=2)(np.ones(2))
    with pytest.raises(TypeError, match="Param"):
        Param(x)


def test_unsupported_options_raise_clear_errors():
    x = Param(np.arange(6.0).reshape(2, 3) + 1)
    # (einsum's sublist form is differentiable now: tests/test_hips_extra.py)
    cases = [
        (NotImplementedError, "mode='constant'", lambda: np.pad(x, 1, mode="reflect")),
        (NotImplementedError, "full_matrices=False", lambda: np.linalg.svd(x)[0]),
        (ValueError, "equal parts", lambda: np.split(x, 2, axis=1)[0]),
        (ValueError, "ord", lambda: np.linalg.norm(x, "bogus")),
        (ValueError, "only defined for matrices", lambda: np.linalg.norm(x[0], "fro")),
        (ValueError, "1-D or 2-D", lambda: np.diag(np.reshape(x, (1, 2, 3)))),
        (ValueError, "out=", lambda: np.concatenate([x, x], out=np.empty((4, 3)))),
        (ValueError, "out=", lambda: np.dot(x, x.T, out=np.empty((2, 2)))),
        (ValueError, "out=", lambda: np.einsum("ij->", x, out=np.empty(()))),
        (ValueError, "weights", lambda: np.average(x, weights=np.ones(3))),
        (NotImplementedError, "axes=", lambda: np.vecdot(x, x, axes=[(1,), (1,), ()])),
    ]
    for err, msg, f in cases:
        with pytest.raises(err, match=msg):
            diff(lambda: np.sum(f()))
        assert not training()


def test_scipy_special_domain_error():
    import scipy.special as sp
    a = Param(np.array([0.5]))
    with pytest.raises(ValueError, match=r"multigammaln: a must be"):
        diff(lambda: np.sum(sp.multigammaln(a, 3)))


def test_errors_inside_nested_gradients_leave_no_tape_behind():
    def bad(x):
        h = x * 2
        h[0] = 0.0
        return np.sum(h)
    with pytest.raises(ValueError):
        grad(lambda x: np.sum(grad(bad)(x)))(np.ones(2))
    assert not training()
    assert grad(lambda x: np.sum(x * x))(np.ones(2)).tolist() == [2.0, 2.0]
