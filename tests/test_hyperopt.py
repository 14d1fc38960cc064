"""goldensection and hyperband on functions with known minima."""
import collections
import math

import numpy as np
import pytest

from knetpy.hyperopt import golden, goldensection, hyperband


def test_goldensection_finds_the_minimum_of_a_quadratic():
    c = np.array([2.5, -1.2, 0.7])
    calls = []

    def f(x):
        calls.append(x.copy())
        return float(np.sum((x - c) ** 2) + 3.0)
    fmin, xmin = goldensection(f, 3)
    assert np.max(np.abs(xmin - c)) < 0.1
    assert fmin == pytest.approx(3.0, abs=0.02)
    assert np.array_equal(calls[0], np.zeros(3))          # always starts at zero


def test_goldensection_exact_trace_in_one_dimension():
    hist = []
    fmin, xmin = goldensection(lambda x: (x[0] - 1) ** 2, 1, history=hist)
    xs = [float(x[0]) for x, _ in hist]
    g = golden
    # 0, then a good step to 1 (step grows to g), a bad one to 1+g (step reverses and
    # shrinks to -1), 1-1 = 0 is cached, then the step keeps halving by 1/g around 1
    assert xs == pytest.approx([0, 1, 1 + g, 1 + 1 / g, 1 - 1 / g ** 2, 1 + 1 / g ** 3,
                                1 - 1 / g ** 4])
    assert (fmin, xmin.tolist()) == (0.0, [1.0])
    assert all(v == (x - 1) ** 2 for x, v in zip(xs, (v for _, v in hist)))


def test_goldensection_history_is_a_cache_and_nan_is_out_of_range():
    calls = collections.Counter()

    def f(x):
        calls[tuple(x)] += 1
        return math.nan if x[0] > 1.5 else float((x[0] - 3) ** 2)
    hist = []
    fmin, xmin = goldensection(f, 1, history=hist)
    assert max(calls.values()) == 1 and len(hist) == sum(calls.values())
    assert xmin[0] <= 1.5 and xmin[0] > 1.3                  # the edge of the valid range
    n = sum(calls.values())
    goldensection(f, 1, history=hist)                         # all answers come from the cache
    assert sum(calls.values()) == n


def test_goldensection_options_and_errors(capsys):
    fmin, xmin = goldensection(lambda x: float(np.sum((x - 5) ** 2)), 2, dxmin=0.01, maxevals=7)
    assert fmin < 50                                          # stopped early but improved
    goldensection(lambda x: float(x[0] ** 2), 1, verbose=True)
    assert "goldensection:" in capsys.readouterr().out
    fine = goldensection(lambda x: (x[0] - 0.3) ** 2, 1, dxmin=0.001)[1][0]
    assert abs(fine - 0.3) < 0.005
    with pytest.raises(ValueError, match="n must be"):
        goldensection(lambda x: 0.0, 0)
    with pytest.raises(ValueError, match="NaN"):
        goldensection(lambda x: math.nan, 1)
    with pytest.raises(TypeError, match="real number"):
        goldensection(lambda x: "1", 1)
    with pytest.raises(ValueError, match="accel"):
        goldensection(lambda x: 0.0, 1, accel=1)


def test_hyperband_schedule():
    configs = iter(range(1000))
    resources = collections.Counter()

    def getloss(c, r):
        resources[r] += 1
        return 100.0 - c + 1.0 / r          # later configurations are better
    loss, r, c = hyperband(lambda: next(configs), getloss)
    # brackets s=3..0 start 27, 12, 6, 4 configurations with resources 1, 3, 9, 27
    assert next(configs) == 49
    assert resources == {1: 27, 3: 9 + 12, 9: 3 + 4 + 6, 27: 1 + 1 + 2 + 4}
    assert (c, r) == (48, 27.0) and loss == pytest.approx(100 - 48 + 1 / 27)


def test_hyperband_finds_a_known_minimum():
    rs = np.random.default_rng(0)
    seen = []

    def getloss(c, r):
        seen.append((float(np.sum((c - [3, -2]) ** 2)) + 2.0 / r, r, c))
        return seen[-1][0]
    loss, r, c = hyperband(lambda: rs.uniform([1, -4], [5, 0]), getloss)
    assert loss == min(s[0] for s in seen)
    assert np.linalg.norm(c - [3, -2]) < 0.6 and r == 27
    l2, r2, _ = hyperband(lambda: rs.uniform(), lambda c, r: c, maxresource=16, reduction=2)
    assert r2 in (1, 2, 4, 8, 16) and l2 < 0.05


def test_hyperband_errors_and_nan():
    assert hyperband(lambda: 0, lambda c, r: math.nan, maxresource=9)[0] == math.inf
    with pytest.raises(ValueError, match="reduction"):
        hyperband(lambda: 0, lambda c, r: 0.0, reduction=1)
    with pytest.raises(ValueError, match="maxresource"):
        hyperband(lambda: 0, lambda c, r: 0.0, maxresource=0)
    with pytest.raises(TypeError, match="callable"):
        hyperband(0, 0)
