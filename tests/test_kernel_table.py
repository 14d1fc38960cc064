"""The kernel table (knetpy.backends.kernel_table) is the one source of the
elementwise kernels: the committed .cu files match what it renders, and the
Python tables agree with the kernels the sources define."""
import re

import numpy as np
import pytest

from knetpy import kernels
from knetpy.backends import kernel_table as kt
from knetpy.backends import numpy_backend as nb


@pytest.mark.parametrize("family", sorted(kt.GENERATED))
def test_committed_sources_are_up_to_date(family):
    assert kernels.source(family) == kt.render(family), (
        f"kernels/{family}.cu is stale: run python -m knetpy.backends.kernel_table")


def test_write_rewrites_only_stale_files(tmp_path):
    assert sorted(p.rsplit("/", 1)[1] for p in kt.write(str(tmp_path))) == \
        ["actback.cu", "binary.cu", "unary.cu"]
    (tmp_path / "unary.cu").write_text("stale")
    assert [p.rsplit("/", 1)[1] for p in kt.write(str(tmp_path))] == ["unary.cu"]
    assert kt.write(str(tmp_path)) == []


def test_python_tables_name_the_generated_kernels():
    unary = set(re.findall(r"^KNET_UNARY\((\w+),", kernels.source("unary"), re.M))
    assert set(kt.UNARY.values()) == unary
    binary = set(re.findall(r"^KNET_(?:BINARY|COMPARE)\((\w+),", kernels.source("binary"), re.M))
    assert {k for k, _ in kt.BINARY.values()} == binary
    back = set(re.findall(r"^KNET_BACK\((\w+),", kernels.source("actback"), re.M))
    assert set(kt.ACTIVATION_BACK) == back
    for name, (k, compare) in kt.BINARY.items():
        assert isinstance(getattr(np, name), np.ufunc) and compare == (k in
                                                                       "lt le gt ge eq ne".split())


def test_constants_are_defined_once():
    for fam in ("unary", "actback"):
        src = kernels.source(fam)
        for k, v in kt.CONSTANTS.items():
            assert f"#define KNET_{k} {v!r}" in src
    assert kt.GELU_C == pytest.approx(np.sqrt(2 / np.pi), rel=1e-15)
    for fam in ("unary", "actback"):          # the literals appear in their #define only
        for lit in ("0.044715", "1.0507009873554805", "1.6732632423543778"):
            assert kernels.source(fam).count(lit) == 1, (fam, lit)


def test_numpy_formulas_match_the_table():
    x = np.linspace(-3, 3, 13)
    for a in kt.ACTS:
        np.testing.assert_allclose(nb.unary(a.kernel, x if a.kernel != "invx" else x + 10),
                                   a.numpy(x if a.kernel != "invx" else x + 10))
    for b in kt.BACKS:
        v = x if b.reads == "x" else (np.tanh(x) if b.act == "tanh" else nb.unary(b.act, x + 10)
                                       if b.act == "invx" else nb.unary(b.act, x))
        h = 1e-6
        if b.reads == "x":                       # gelu: finite difference of the forward
            want = (nb.unary(b.act, x + h) - nb.unary(b.act, x - h)) / (2 * h)
            np.testing.assert_allclose(nb.activation_back(b.act, np.ones_like(x), v), want,
                                       rtol=1e-6, atol=1e-8)


def test_render_rejects_unknown_family():
    with pytest.raises(ValueError, match="family must be one of"):
        kt.render("pool")
