"""Arrays a tape holds for its backward sweep are read-only until the sweep is
over (SPEC §9); a write raises a ValueError that says so, instead of giving a
silently wrong gradient, and the flags are restored afterwards."""
import numpy as np
import pytest

from autograd import Param, diff, grad, value
from autograd.hold import HeldArrayError


def test_writing_a_used_param_value_inside_diff_raises_naming_the_write():
    x = Param(np.array([1.0, 2.0, 3.0]))

    def f():
        y = np.sum(x * x)
        x.value[0] = 10
        return y
    with pytest.raises(ValueError, match=r"x\.value\[0\] = 10.*held|holds") as e:
        diff(f)
    assert isinstance(e.value, HeldArrayError)
    assert "read-only" in str(e.value) and "test_write_protect.py" in str(e.value)
    assert x.value.flags.writeable                  # restored after the failure
    assert np.array_equal(x.value, [1.0, 2.0, 3.0])
    # and the gradient is right once the write is gone
    assert np.array_equal(grad(diff(lambda: np.sum(x * x)), x), [2.0, 4.0, 6.0])


def test_changing_a_constant_operand_inside_diff_raises():
    x = Param(np.array([1.0, 2.0, 3.0]))
    c = np.array([1.0, 2.0, 3.0])

    def f():
        y = np.sum(x * c)
        c[:] = 0
        return y
    with pytest.raises(ValueError, match="holds for the backward sweep"):
        diff(f)
    assert c.flags.writeable and np.array_equal(c, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("write", [
    lambda a: np.add(a, 1, out=a),
    lambda a: a.fill(0),
    lambda a: a.__setitem__(slice(None), 0),
])
def test_every_kind_of_numpy_write_raises(write):
    x = Param(np.array([1.0, 2.0, 3.0]))

    def f():
        y = np.sum(np.sin(x))
        write(x.value)
        return y
    with pytest.raises(ValueError, match="read-only"):
        diff(f)
    assert x.value.flags.writeable


def test_a_recorded_value_taken_out_with_value_is_read_only():
    x = Param(np.array([1.0, 2.0]))

    def f():
        h = np.exp(x)                # exp's gradient reads its output
        value(h)[0] = 0.0
        return np.sum(h)
    with pytest.raises(ValueError, match="holds"):
        diff(f)


def test_hips_grad_root_is_held():
    c = np.array([1.0, 2.0])

    def f(v):
        y = np.sum(np.sin(v))
        c[0] = 5.0                   # c is the root being differentiated
        return y
    with pytest.raises(ValueError, match="holds"):
        grad(f)(c)
    assert c.flags.writeable and c[0] == 1.0


def test_flags_restored_after_diff_and_writes_allowed_again():
    x = Param(np.array([1.0, 2.0]))
    c = np.array([3.0, 4.0])
    y = diff(lambda: np.sum(x * c) + np.sum(np.sum(x, axis=0) * c))
    assert np.array_equal(grad(y, x), c + np.sum(c))
    assert x.value.flags.writeable and c.flags.writeable
    x.value[0] = 7.0                 # the optimizer's in-place update works
    c[0] = 1.0


def test_restored_when_the_output_is_not_a_scalar():
    x = Param(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="scalar"):
        diff(lambda: x * 2)
    assert x.value.flags.writeable


def test_already_read_only_arrays_stay_read_only():
    c = np.array([1.0, 2.0])
    c.setflags(write=False)
    x = Param(np.array([1.0, 2.0]))
    diff(lambda: np.sum(x * c))
    assert not c.flags.writeable


def test_views_do_not_break():
    base = np.arange(6.0)
    view = base[:3]                  # a Param whose value does not own its memory
    x = Param(view)
    c = base[3:]                     # and a constant that is another view of the same memory
    y = diff(lambda: np.sum(x * c))
    assert np.array_equal(grad(y, x), [3.0, 4.0, 5.0])
    assert base.flags.writeable and view.flags.writeable and c.flags.writeable
    ro = np.arange(3.0)
    ro_view = ro[:]
    ro.setflags(write=False)         # a view whose base is read-only: left read-only
    diff(lambda: np.sum(Param(np.ones(3)) * ro_view))
    assert view.flags.writeable and not ro.flags.writeable


def test_nested_diff_holds_until_the_outer_sweep():
    x = Param(np.array([0.5, 1.0]))

    def outer():
        g = grad(diff(lambda: np.sum(np.sin(x) * x)), x)
        assert not x.value.flags.writeable   # still held by the outer tape
        return np.sum(g * g)
    y = diff(outer)
    assert grad(y, x) is not None
    assert x.value.flags.writeable


def test_writes_outside_diff_are_untouched():
    x = Param(np.array([1.0, 2.0]))
    x.value[0] = 5.0
    x[1] = 6.0
    assert np.array_equal(x.value, [5.0, 6.0])
