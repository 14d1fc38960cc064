"""autograd.builtins: HIPS autograd's container helpers on this tape."""
import numpy as onp
import pytest

import autograd.numpy as np
from autograd import Param, grad
from autograd.builtins import dict as ag_dict
from autograd.builtins import isinstance as ag_isinstance
from autograd.builtins import list as ag_list
from autograd.builtins import tuple as ag_tuple
from autograd.builtins import type as ag_type


def test_isinstance_looks_through_recorded_values():
    def checker(x, type_, truth):
        assert ag_isinstance(x, type_) == truth
        return np.sum(x) if ag_isinstance(x, onp.ndarray) else 0.0

    checker(onp.zeros(2), onp.ndarray, True)
    g = grad(lambda x: checker(x, onp.ndarray, True))(onp.ones(2))
    onp.testing.assert_array_equal(g, onp.ones(2))
    grad(lambda x: checker(x, (list, tuple), False) + np.sum(x))(onp.ones(2))
    assert ag_isinstance(Param(1.5), float) and not ag_isinstance(Param(1.5), onp.ndarray)
    assert ag_isinstance([], (tuple, list)) and not ag_isinstance((), list)


def test_type_of_recorded_value():
    seen = []
    grad(lambda x: (seen.append(ag_type(x)), np.sum(x))[1])(onp.ones(2))
    assert seen == [onp.ndarray] and ag_type(Param(2.0)) is float and ag_type(3) is int


def test_containers_are_plain_and_keep_gradients():
    def f(x):
        t = ag_tuple([x, 2 * x])
        lst = ag_list((x * x, t[1]))
        d = ag_dict(a=t[0], b=lst[0])
        d2 = ag_dict([("c", x)], e=3.0)
        assert type(t) is tuple and type(lst) is list and type(d) is dict
        return np.sum(d["a"] + d["b"] + lst[1] + d2["c"] * d2["e"])

    x = onp.array([1.0, -2.0])
    onp.testing.assert_allclose(grad(f)(x), 1 + 2 * x + 2 + 3)
    assert ag_tuple() == () and ag_list() == [] and ag_dict() == {}


def test_container_classes_check_like_builtins():
    assert isinstance((1,), ag_tuple) and isinstance([1], ag_list) and isinstance({}, ag_dict)
    assert not isinstance([1], ag_tuple) and not isinstance((1,), ag_dict)
    assert issubclass(tuple, ag_tuple) and not issubclass(list, ag_tuple)


def test_grad_through_container_arguments():
    def loss(params):
        w, b = params["w"], params["b"]
        return np.sum(np.tanh(w * 2.0 + b))

    params = ag_dict(w=onp.array([0.1, 0.2]), b=0.3)
    g = grad(loss)(params)
    t = onp.tanh(params["w"] * 2 + 0.3)
    onp.testing.assert_allclose(g["w"], 2 * (1 - t ** 2))
    assert g["b"] == pytest.approx(onp.sum(1 - t ** 2))
    gt = grad(lambda p: np.sum(p[0] * p[1]))(ag_tuple([onp.ones(2), onp.arange(2.0)]))
    assert isinstance(gt, ag_tuple)
    onp.testing.assert_allclose(gt[0], [0, 1])
