"""Systematic check of every registered primitive (see grad_table.py):
gradients by gcheck in float64, values against plain numpy, non-differentiable
functions return plain results, and nothing registered goes untested."""
import numpy as np
import pytest

from autograd import Param, Sparse, Value, diff, gcheck, grad, primitive
from grad_table import TABLE, is_external, missing_entries, registered

GRAD = sorted(n for n, e in TABLE.items() if e.kind == "grad")
ZERO = sorted(n for n, e in TABLE.items() if e.kind == "zero")


def _no_values(x):
    if isinstance(x, Value):
        return False
    if isinstance(x, (tuple, list)):
        return all(_no_values(v) for v in x)
    return True


def _recorded_output(call, arrays, differentiable=True):
    """Run call on Params inside diff; return the value it produced there."""
    ps = [Param(np.array(a, dtype=np.float64)) for a in arrays]
    seen = {}

    def f():
        seen["out"] = out = call(*ps)
        if not differentiable:
            return np.sum(ps[0])
        return np.sum(out) if np.ndim(out) else out
    y = diff(f)
    return seen["out"], y, ps


def test_every_registered_function_has_a_table_entry():
    assert missing_entries() == [], "add these to tests/grad_table.py"


def test_the_table_names_only_registered_functions():
    reg = registered()
    assert sorted(n for n in TABLE if n not in reg) == []
    assert not any(is_external(n) for n in TABLE)


@pytest.mark.parametrize("name", GRAD)
def test_gradient_and_value(name):
    for k, (call, arrays) in enumerate(TABLE[name].cases):
        out, y, ps = _recorded_output(call, arrays)
        assert isinstance(y, Value)
        expected = call(*[np.array(a, dtype=np.float64) for a in arrays])   # plain numpy
        np.testing.assert_allclose(np.asarray(getattr(out, "value", out), dtype=float), expected,
                                   rtol=1e-10, atol=1e-12, err_msg=f"{name} case {k}")
        for p in ps:
            assert grad(y, p) is not None, f"{name} case {k}: no gradient"
        params = [Param(np.array(a, dtype=np.float64)) for a in arrays]
        assert gcheck(call, *params, nsample=6, verbose=1), f"{name} case {k}"


@pytest.mark.parametrize("name", GRAD)
def test_gradient_through_a_sparse_output_gradient(name):
    """The output is indexed, so the function's gradient receives a Sparse dy."""
    call, arrays = TABLE[name].cases[-1]

    def picked(*ps):
        out = np.ravel(call(*ps))
        n = np.shape(out)[0]
        return out[[0, n - 1, 0]]
    params = [Param(np.array(a, dtype=np.float64)) for a in arrays]
    assert gcheck(picked, *params, nsample=4), name


@pytest.mark.parametrize("name", ZERO)
def test_non_differentiable_function_returns_plain_values(name):
    for call, arrays in TABLE[name].cases:
        out, y, ps = _recorded_output(call, arrays, differentiable=False)
        assert _no_values(out), f"{name} returned a recorded value"
        expected = call(*[np.array(a, dtype=np.float64) for a in arrays])
        np.testing.assert_equal(out, expected)


def test_float32_inputs_give_float32_gradients_for_elementwise_functions():
    for name, e in TABLE.items():
        if not e.elementwise:
            continue
        call, arrays = e.cases[2]
        ps = [Param(np.asarray(a, dtype=np.float32)) for a in arrays]
        y = diff(lambda: np.sum(call(*ps)))
        for p in ps:
            g = grad(y, p)
            assert np.asarray(g.dense() if isinstance(g, Sparse) else g).dtype == np.float32, name


def test_gcheck_returns_false_for_a_deliberately_wrong_registered_gradient(capsys):
    # register np.cbrt with a wrong gradient, check gcheck catches it, restore
    from autograd.core import UFUNCS
    saved = UFUNCS[np.cbrt]
    try:
        primitive(lambda dy, y, x: dy / (2 * y * y), override=True)(np.cbrt)      # should be 3 y^2
        assert not gcheck(np.cbrt, Param(np.array([0.5, 1.5, 2.0])))
        assert "FAIL" in capsys.readouterr().out
        primitive(lambda dy, y, a, b: dy * b, lambda dy, y, a, b: dy,
                  override=True)(np.multiply)  # b wrong
        a, b = Param(np.array([1.0, 2.0])), Param(np.array([3.0, -1.0]))
        assert not gcheck(lambda: a * b, verbose=0)
    finally:
        UFUNCS[np.cbrt] = saved
        primitive(lambda dy, y, a, b: dy * b, lambda dy, y, a, b: dy * a,
                  override=True)(np.multiply)
    assert gcheck(np.cbrt, Param(np.array([0.5, 1.5, 2.0])))
    assert gcheck(lambda: a * b)


def test_docstring_examples_of_the_gradient_modules_run():
    import doctest

    import importlib
    mods = [importlib.import_module(f"autograd.{m}") for m in (
        "rules.elementwise", "rules.reductions", "rules.shapes", "rules.indexing",
        "rules.products", "rules.composites", "rules.linalg", "rules.special", "sparse",
        "registry", "boxes", "backward", "core", "tree", "functional")]
    for mod in mods:
        result = doctest.testmod(mod, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, mod.__name__


def test_var_and_std_honour_where():
    mask = np.array([[True, False, True], [True, True, False]])
    x = np.array([[1.0, 5.0, 2.0], [0.5, -1.0, 9.0]])
    for f in (np.var, np.std):
        out = []
        diff(lambda: (out.append(f(Param(x), axis=1, where=mask)), np.sum(out[-1]))[1])
        np.testing.assert_allclose(out[0].value, f(x, axis=1, where=mask))
        assert gcheck(lambda p: f(p, axis=1, where=mask), Param(x.copy()))
