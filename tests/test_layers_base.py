"""Layer base: params found by autograd.params, state counts, mode flags, children, repr."""
import numpy as np
import pytest

from autograd import Param, diff, grad, params
from knetpy.layers import (Chain, Dense, Dropout, Layer, NoOpLayer, VariationalHiddenDropout,
                           automode, nparams, nstates, sublayers, testmode, trainmode)


class Stat(Layer):
    """A test layer with one Param and two state arrays."""
    _state = ("run_mean", "unused")

    def __init__(self, n):
        self.w = Param(np.ones(n))
        self.run_mean = np.zeros(n)
        self.unused = None

    def __call__(self, x):
        return x * self.w if self.istraining() else x

    def extra_repr(self):
        return str(self.w.shape[0])


def test_params_and_counts():
    m = Chain(Dense(2, 3), Stat(3), Dense(3, 2))
    ps = params(m)
    assert len(ps) == 5
    assert nparams(m) == m.nparams() == 9 + 3 + 8
    assert nstates(m) == m.nstates() == 3
    assert m[1].own_nstates() == 3 and m[0].own_nstates() == 0
    assert m.own_nparams() == 0 and m[0].own_nparams() == 9


def test_shared_params_counted_once():
    d = Dense(2, 2)
    m = Chain(d, d)
    assert nparams(m) == 6
    assert [type(l).__name__ for l in sublayers(m)] == ["Chain", "Dense"]


def test_children_in_order_including_lists():
    class Box(Layer):
        def __init__(self):
            self.a = Dense(1, 1)
            self.items = [NoOpLayer(), {"k": Dense(1, 2)}]
            self.f = np.tanh

    b = Box()
    names = [n for n, _ in b.named_children()]
    assert names == ["a", "items[0]", "items[1]['k']"]
    assert len(list(b.children())) == 3
    assert nparams(b) == 2 + 4


def test_mode_follows_training_and_can_be_forced():
    s = Stat(2)
    x = np.ones(2)
    assert s.istraining() is False
    seen = {}

    def loss():
        seen["t"] = s.istraining()
        return np.sum(s(x))
    r = diff(loss)
    assert seen["t"] is True and grad(r, s.w) is not None
    m = Chain(Stat(2), Chain(Stat(2)))
    trainmode(m)
    assert all(l.mode is True for l in sublayers(m))
    assert m[1][0].istraining()
    testmode(m[1])                        # one branch only
    assert m[1][0].mode is False and m[0].mode is True
    testmode(m)
    r = diff(lambda: np.sum(m(x)))        # forced test mode inside diff: Param unused
    assert grad(r, m[0].w) is None
    automode(m)
    assert all(l.mode is None for l in sublayers(m))


def test_mode_bad_argument():
    with pytest.raises(TypeError, match="trainmode: model must be a Layer"):
        trainmode(3)


def test_repr_tree_and_counts():
    m = Chain(Dense(2, 3, np.tanh), Stat(3), Dense(3, 2))
    r = repr(m)
    assert r.splitlines() == [
        "Chain(",
        "    layer_0 = Dense(2 => 3, tanh),  # 9 parameters",
        "    layer_1 = Stat(3),  # 3 parameters, plus 3 non-trainable",
        "    layer_2 = Dense(3 => 2),  # 8 parameters",
        ")  # Total: 20 parameters, plus 3 states.",
    ]
    assert repr(Dense(2, 3)) == "Dense(2 => 3)"
    named = Chain(Dense(2, 1), Dense(2, 1), name="MyChain")
    assert repr(named).splitlines()[0] == "MyChain("
    # identical neighbours are folded like Lux prints them
    assert "layer_(0-1) = Dense(2 => 1),  # 6 (3 x 2) parameters" in repr(named)


def test_repr_nested_and_big_numbers():
    m = Chain(Dense(784, 64), Chain(Dense(64, 10), Dropout(0.1)))
    lines = repr(m).splitlines()
    assert lines[1] == "    layer_0 = Dense(784 => 64),  # 50_240 parameters"
    assert lines[2] == "    layer_1 = Chain("
    assert lines[-1] == ")  # Total: 50_890 parameters, plus 0 states."


def test_state_counted_after_use():
    d = trainmode(VariationalHiddenDropout(0.5))
    assert nstates(d) == 0
    d(np.ones((4, 3)))
    assert nstates(d) == 12


def test_base_call_not_implemented():
    with pytest.raises(NotImplementedError):
        Layer()(1)


@pytest.mark.parametrize("mod", ["base", "containers", "basic", "conv", "pooling", "dropout",
                                 "misc"])
def test_docstring_examples(mod):
    import doctest
    import importlib
    m = importlib.import_module(f"knetpy.layers.{mod}")
    res = doctest.testmod(m, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0
