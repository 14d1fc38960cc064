"""Names and state (SPEC §11): named_params, state_dict, load_state_, summary,
checkpoints by name, allow= by qualified name."""
import doctest

import h5py
import numpy as np
import pytest

import knetpy
import knetpy.layers as L
import knetpy.serialize
import knetpy.state
from autograd import Param, params
from knetpy.serialize import CheckpointError, load, save
from knetpy.state import load_state_, named_params, state_dict, summary


@pytest.fixture(autouse=True)
def own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("KNETPY_KEY_DIR", str(tmp_path / "key"))


class Net:
    """A plain user model: a list of layers and a dict of extras."""

    def __init__(self):
        self.layers = [L.Dense(3, 4, knetpy.relu), L.Dense(4, 2)]
        self.extra = {"scale": Param(np.ones(2)), "tied": None}
        self.extra["tied"] = self.layers[0].weight          # shared: named once


class Slotted:
    __slots__ = ("w", "inner")

    def __init__(self):
        self.w = Param(np.zeros((2, 2)))
        self.inner = (Param(np.ones(1)), [Param(np.ones(3))])


def test_named_params_follow_params_order_with_dotted_names():
    knetpy.seed(0)
    n = Net()
    names = named_params(n)
    assert list(names) == ["layers.0.weight", "layers.0.bias", "layers.1.weight",
                           "layers.1.bias", "extra.scale"]
    assert list(names.values()) == params(n)
    s = Slotted()
    assert list(named_params(s)) == ["w", "inner.0", "inner.1.0"]
    assert list(named_params(s).values()) == params(s)
    m = L.Chain(L.Dense(2, 3), L.BatchNorm(3), L.Dense(3, 1))
    assert list(named_params(m).values()) == params(m)
    assert "layers.layer_1.scale" in named_params(m)


def test_state_dict_has_running_statistics_and_load_state_copies_back():
    knetpy.seed(0)
    a = L.Chain(L.Dense(2, 3), L.BatchNorm(3))
    a.layers["layer_1"].running_mean[...] = 5.0
    st = state_dict(a)
    assert set(st) == {"layers.layer_0.weight", "layers.layer_0.bias", "layers.layer_1.scale",
                       "layers.layer_1.bias", "layers.layer_1.running_mean",
                       "layers.layer_1.running_var"}
    knetpy.seed(1)
    b = L.Chain(L.Dense(2, 3), L.BatchNorm(3))
    w_dtype = b.layers["layer_0"].weight.value.dtype
    assert load_state_(b, {k: np.asarray(v, np.float64) for k, v in st.items()}) == ([], [])
    np.testing.assert_array_equal(b.layers["layer_0"].weight.value, st["layers.layer_0.weight"])
    assert b.layers["layer_0"].weight.value.dtype == w_dtype        # dtype of the model kept
    assert b.layers["layer_1"].running_mean.tolist() == [5.0, 5.0, 5.0]
    x = np.ones((4, 2), np.float32)
    np.testing.assert_allclose(L.testmode(a)(x), L.testmode(b)(x))


def test_load_state_strict_names_every_problem():
    knetpy.seed(0)
    n = Net()
    st = dict(state_dict(n))
    del st["layers.1.bias"]
    st["layers.9.weight"] = np.ones(3)
    st["layers.0.weight"] = np.ones((5, 5))
    with pytest.raises(ValueError) as e:
        load_state_(Net(), st)
    msg = str(e.value)
    assert "missing from the state: ['layers.1.bias']" in msg
    assert "not in the model: ['layers.9.weight']" in msg
    assert "layers.0.weight: model (4, 3), state (5, 5)" in msg
    st["layers.0.weight"] = state_dict(n)["layers.0.weight"]
    fresh = Net()
    missing, unexpected = load_state_(fresh, st, strict=False)
    assert missing == ["layers.1.bias"] and unexpected == ["layers.9.weight"]
    np.testing.assert_array_equal(fresh.layers[0].weight.value, n.layers[0].weight.value)
    with pytest.raises(TypeError, match="state must be a dict"):
        load_state_(fresh, [1])
    with pytest.raises(TypeError, match="strict"):
        load_state_(fresh, {}, strict="yes")


def test_summary_of_a_plain_class_and_of_layers():
    knetpy.seed(0)
    s = summary(Net())
    text = str(s)
    assert [r[0] for r in s.rows] == ["layers.0.weight", "layers.0.bias", "layers.1.weight",
                                      "layers.1.bias", "extra.scale"]
    assert s.rows[0][1:] == ((4, 3), np.dtype("float32"), 12)
    assert s.total == 12 + 4 + 8 + 2 + 2 and "total: 28 parameters in 5 Params" in text
    assert "layers.0.weight" in text and "(4, 3)" in text and "float64" in text
    assert summary(L.Dense(2, 3)).total == 9 and repr(summary([])) .endswith("in 0 Params")


def test_checkpoint_stores_arrays_under_their_names(tmp_path):
    knetpy.seed(0)
    n = Net()
    f = tmp_path / "ck.h5"
    save(f, model=n, step=4)
    with h5py.File(f, "r") as h:
        np.testing.assert_array_equal(h["model/layers/0/weight"][()], n.layers[0].weight.value)
        np.testing.assert_array_equal(h["model/extra/scale"][()], np.ones(2))
        assert h["step"][()] == 4
        assert h["model/layers/0/weight"].attrs["kind"] == "param"
    n2 = load(f, "model", allow=[Net])
    assert n2.extra["tied"] is n2.layers[0].weight                    # sharing kept
    np.testing.assert_array_equal(n2.layers[1].weight.value, n.layers[1].weight.value)


def test_allow_matches_by_qualified_name_across_modules(tmp_path):
    class_in_main = type("Model", (), {"__module__": "__main__", "__qualname__": "Model"})
    import sys
    main = sys.modules["__main__"]
    had = getattr(main, "Model", None)
    main.Model = class_in_main                      # as a script's __main__ would have it
    try:
        m = class_in_main()
        m.w = Param(np.arange(3.0))
        save(tmp_path / "ck.h5", model=m)
    finally:
        if had is None:
            del main.Model
        else:
            main.Model = had
    with pytest.raises(CheckpointError, match=r"__main__\.Model.*allow=\[Model\]"):
        load(tmp_path / "ck.h5")
    elsewhere = type("Model", (), {"__module__": "mymodels", "__qualname__": "Model"})
    got = load(tmp_path / "ck.h5", "model", allow=[elsewhere])
    assert type(got) is elsewhere and got.w.value.tolist() == [0, 1, 2]
    other = type("Model", (), {"__module__": "other", "__qualname__": "Model"})
    with pytest.raises(CheckpointError, match="allow="):        # two candidates: no guess
        load(tmp_path / "ck.h5", "model", allow=[elsewhere, other])


def test_docstring_examples_run():
    for mod in (knetpy.state, knetpy.serialize, knetpy.serialize.errors):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0, mod.__name__
