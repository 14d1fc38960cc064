"""Learning-rate schedules and lr as a function of the step."""
import math

import numpy as np
import pytest

from autograd import Param
from knetpy import schedules
from knetpy.optim import SGD, Adam, Momentum
from knetpy.train import adam, sgd
from knetpy.update import update_


def test_step_cosine_warmup_values():
    s = schedules.step(0.8, every=3, gamma=0.5)
    assert [s(t) for t in range(1, 8)] == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2]
    c = schedules.cosine(1.0, steps=10, min_lr=0.1)
    assert c(1) == 1.0 and math.isclose(c(6), 0.55) and c(11) == pytest.approx(0.1) \
        and c(500) == pytest.approx(0.1)
    assert all(c(t) >= c(t + 1) for t in range(1, 15))
    w = schedules.warmup(c, steps=4)
    assert [w(t) for t in (1, 2, 4)] == [0.25 * c(1), 0.5 * c(2), c(4)] and w(8) == c(8)
    assert schedules.constant(0.3)(9) == 0.3
    assert repr(s) == "schedules.step(lr=0.8, every=3, gamma=0.5)"
    assert schedules.cosine(1.0, 10) == schedules.cosine(1.0, 10)


def test_schedule_argument_errors():
    with pytest.raises(ValueError, match="every"):
        schedules.step(0.1, every=0)
    with pytest.raises(ValueError, match="gamma"):
        schedules.step(0.1, 2, gamma=1.5)
    with pytest.raises(ValueError, match="min_lr"):
        schedules.cosine(0.1, 10, min_lr=0.2)
    with pytest.raises(ValueError, match="step must be an integer >= 1"):
        schedules.cosine(0.1, 10)(0)
    with pytest.raises(TypeError):
        schedules.cosine(0.1, stpes=10)                     # misspelt keyword
    with pytest.raises(ValueError, match="lr"):
        schedules.warmup("fast", 10)


def test_lr_as_a_function_of_the_step_in_update_():
    w = np.zeros(1)
    o = SGD(lr=lambda t: 0.1 * t)
    for _ in range(3):
        update_(w, np.ones(1), o)
    np.testing.assert_allclose(w, [-(0.1 + 0.2 + 0.3)])
    assert o.t == 3 and o.rate(5) == pytest.approx(0.5)


@pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
def test_a_constant_schedule_equals_the_number(cls):
    g = [np.array([0.5, -1.0]), np.array([2.0, 0.1]), np.array([-0.3, 0.7])]
    a, b = np.ones(2), np.ones(2)
    oa, ob = cls(lr=0.05), cls(lr=schedules.constant(0.05))
    for gi in g:
        update_(a, gi, oa)
        update_(b, gi, ob)
    np.testing.assert_array_equal(a, b)


def test_schedule_in_a_training_loop_follows_each_params_step_count():
    w = Param(np.array([1.0]))
    lrs = []
    sched = lambda t: lrs.append(t) or 0.1
    list(sgd(lambda: np.sum(w * w), [()] * 4, lr=sched))
    assert sorted(set(lrs)) == [1, 2, 3, 4]
    p = Param(np.array([2.0, -1.0]))
    list(adam(lambda: np.sum(p * p), [()] * 5, lr=schedules.cosine(0.1, steps=4)))
    assert p.opt.t == 5 and p.opt.rate(5) == 0.0


def test_a_bad_schedule_changes_nothing():
    w = np.ones(2)
    o = Adam(lr=lambda t: -1.0 if t == 2 else 0.1)
    update_(w, np.ones(2), o)
    w1, m1 = w.copy(), o.m.copy()
    with pytest.raises(ValueError, match=r"lr\(2\) must give a finite non-negative number"):
        update_(w, np.ones(2), o)
    np.testing.assert_array_equal(w, w1)
    np.testing.assert_array_equal(o.m, m1)
    assert o.t == 1
    with pytest.raises(ValueError, match="lr must be a non-negative number or a function"):
        SGD(lr="0.1")
