"""Augmented assignment on a recorded value rebinds it to a new recorded value,
as HIPS autograd's boxes do (issue 17); writes into a recorded array still raise."""
import numpy as np
import pytest

import autograd.numpy as anp
from autograd import Param, diff, gcheck, grad, value
from autograd.hold import HeldArrayError


def test_hips_style_loss_accumulated_in_a_loop():
    """rnn.py / lstm.py of HIPS's examples: loss = 0.0; loss += ... in a loop."""
    xs = [np.array([0.5, -1.0]), np.array([2.0, 0.3]), np.array([-0.7, 1.1])]

    def loss(w):
        total = 0.0
        h = np.zeros(2)
        for x in xs:
            h = anp.tanh(w * h + x)
            total += anp.sum(h ** 2)
        return total

    def loss_plain(w):
        total = 0.0
        h = np.zeros(2)
        for x in xs:
            h = anp.tanh(w * h + x)
            total = total + anp.sum(h ** 2)
        return total
    w = np.array([0.3, -0.8])
    g = grad(loss)(w)
    assert np.array_equal(g, grad(loss_plain)(w))
    eps = 1e-6
    num = [(loss(w + eps * e) - loss(w - eps * e)) / (2 * eps) for e in np.eye(2)]
    assert np.allclose(g, num, rtol=1e-6)


def test_knet_style_total_inside_diff():
    w = Param(np.array([1.0, 2.0, 3.0]))

    def f():
        total = np.sum(w * w)
        total += np.sum(w)
        return total
    y = diff(f)
    assert float(value(y)) == 20.0
    assert np.array_equal(grad(y, w), 2 * w.value + 1)
    assert gcheck(f)


def _fn(line, x, c):
    """A function of no arguments running ``h = x * x``, then ``line``, then returning sum(h)."""
    ns = {"np": np, "x": x, "c": c}
    exec(f"def f():\n    h = x * x\n    {line}\n    return np.sum(h)", ns)
    return ns["f"]


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "@"])
def test_every_augmented_operator_rebinds_with_the_right_gradient(op):
    x = Param(np.array([0.5, 1.5, 2.0]))
    c = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, 3.0], [2.0, 1.0, 1.0]]) if op == "@" \
        else np.array([3.0, 0.5, 2.0])
    augmented, plain = _fn(f"h {op}= c", x, c), _fn(f"h = h {op} c", x, c)
    y, y0 = diff(augmented), diff(plain)
    assert float(value(y)) == float(value(y0))
    assert np.array_equal(grad(y, x), grad(y0, x))
    assert gcheck(augmented)
    assert x.value.tolist() == [0.5, 1.5, 2.0]            # nothing written


def test_rebinding_leaves_the_old_value_alone():
    x = Param(np.array([1.0, 2.0]))
    seen = {}

    def f():
        h = x * 2
        g = h
        h += 1                        # h is rebound; g still names the old value
        seen["old"], seen["new"] = value(g).tolist(), value(h).tolist()
        return np.sum(g * h)
    y = diff(f)
    assert seen == {"old": [2.0, 4.0], "new": [3.0, 5.0]}
    assert np.array_equal(grad(y, x), 2 * (2 * x.value + 1) + 2 * 2 * x.value)


def test_higher_order_through_augmented_assignment():
    def f(x):
        t = x * x
        t *= x                         # x ** 3
        return t
    assert np.isclose(grad(grad(f))(2.0), 12.0)


@pytest.mark.parametrize("write", [
    lambda h: h.__setitem__(0, 1.0),
    lambda h: np.add(h, 1, out=h),
    lambda h: np.add.at(h, [0], 1.0),
    lambda h: np.negative(h, out=(h,)),
])
def test_writes_into_a_recorded_array_still_raise(write):
    x = Param(np.array([1.0, 2.0, 3.0]))

    def f():
        h = x * 2
        write(h)
        return np.sum(h)
    with pytest.raises(HeldArrayError, match="in place") as e:
        diff(f)
    assert isinstance(e.value, ValueError) and isinstance(e.value, TypeError)
    assert "recorded value of shape (3,) float64" in str(e.value)


def test_param_augmented_assignment_outside_and_inside_diff():
    w = Param(np.array([1.0, 2.0]))
    arr = w.value
    w -= 0.5                          # an optimizer step: in place
    assert w.value is arr and arr.tolist() == [0.5, 1.5]

    def f():
        v = w
        v += 1                        # would change the Param: refused, says what to write
        return np.sum(v)
    with pytest.raises(ValueError, match=r"x = x \+ y"):
        diff(f)
    assert w.value.tolist() == [0.5, 1.5]


def test_finished_result_rebinds_to_a_plain_value():
    w = Param(np.array([1.0, 2.0]))
    y = diff(lambda: np.sum(w * w))
    y += 1.0
    assert float(y) == 6.0 and not isinstance(y, Param)
