"""Elementwise kernels (unary.cu, binary.cu, actback.cu) through the kernel
backend on the CPU emulator, against numpy / scipy formulas."""
import numpy as np
import pytest
import scipy.special as sp

from knetpy.backends import numpy_backend as nb
from knetpy.backends.cupy_backend import ACTIVATION_BACK, BINARY, UNARY
from knetpy.backends.emulator import emulated_backend

SIZES = (0, 1, 37, 300)        # 300 > 4 blocks * 64 threads: grid-stride loop trips
DTYPES = (np.float32, np.float64)


@pytest.fixture(scope="module")
def be():
    return emulated_backend(block=64, max_blocks=4)


def rng(seed=0):
    return np.random.default_rng(seed)


def off_integers(x):
    """Move values away from the poles of gamma-like functions at 0, -1, -2, ..."""
    return np.where(x < 0.2, np.floor(x) + 0.2 + 0.6 * (x - np.floor(x)), x)


# kernel -> (reference, sampler of inputs from u in [0, 1))
UNARY_REF = {
    "neg": (np.negative, lambda u: 10 * u - 5),
    "abs": (np.abs, lambda u: 10 * u - 5),
    "abs2": (np.square, lambda u: 10 * u - 5),
    "acos": (np.arccos, lambda u: 1.98 * u - 0.99),
    "acosh": (np.arccosh, lambda u: 1 + 5 * u),
    "asin": (np.arcsin, lambda u: 1.98 * u - 0.99),
    "asinh": (np.arcsinh, lambda u: 20 * u - 10),
    "atan": (np.arctan, lambda u: 20 * u - 10),
    "atanh": (np.arctanh, lambda u: 1.9 * u - 0.95),
    "cbrt": (np.cbrt, lambda u: 20 * u - 10),
    "ceil": (np.ceil, lambda u: 10 * u - 5),
    "cos": (np.cos, lambda u: 20 * u - 10),
    "cosh": (np.cosh, lambda u: 8 * u - 4),
    "cospi": (lambda x: np.cos(np.pi * x), lambda u: np.round(8 * u - 4, 1)),
    "digamma": (sp.digamma, lambda u: off_integers(12 * u - 4)),
    "erf": (sp.erf, lambda u: 6 * u - 3),
    "erfc": (sp.erfc, lambda u: 8 * u - 2),
    "erfcinv": (sp.erfcinv, lambda u: 1.998 * u + 0.001),
    "erfcx": (sp.erfcx, lambda u: 40 * u - 3),
    "erfinv": (sp.erfinv, lambda u: 1.998 * u - 0.999),
    "exp": (np.exp, lambda u: 20 * u - 10),
    "exp10": (lambda x: 10.0 ** x, lambda u: 8 * u - 4),
    "exp2": (np.exp2, lambda u: 20 * u - 10),
    "expm1": (np.expm1, lambda u: 4 * u - 2),
    "floor": (np.floor, lambda u: 10 * u - 5),
    "gamma": (sp.gamma, lambda u: off_integers(9 * u - 3)),
    "lgamma": (sp.gammaln, lambda u: off_integers(20 * u - 3)),
    "log": (np.log, lambda u: 10 * u + 1e-3),
    "log10": (np.log10, lambda u: 10 * u + 1e-3),
    "log1p": (np.log1p, lambda u: 3 * u - 0.9),
    "log2": (np.log2, lambda u: 10 * u + 1e-3),
    "one": (np.ones_like, lambda u: u),
    "round": (np.rint, lambda u: np.round(10 * u - 5, 1)),   # includes exact halves
    "sign": (np.sign, lambda u: np.round(4 * u - 2)),        # includes zeros
    "sin": (np.sin, lambda u: 20 * u - 10),
    "sinh": (np.sinh, lambda u: 8 * u - 4),
    "sinpi": (lambda x: np.sin(np.pi * x), lambda u: np.round(8 * u - 4, 1)),
    "sqrt": (np.sqrt, lambda u: 10 * u),
    "tan": (np.tan, lambda u: 2.4 * u - 1.2),
    "tanh": (np.tanh, lambda u: 10 * u - 5),
    "trigamma": (lambda x: sp.polygamma(1, x), lambda u: off_integers(12 * u - 4)),
    "trunc": (np.trunc, lambda u: 10 * u - 5),
    "zero": (np.zeros_like, lambda u: u),
}
ACTS = ("relu", "sigm", "elu", "selu", "gelu", "invx")


def tol(dt, name=""):
    if dt == np.float64:
        return dict(rtol=1e-10, atol=1e-12)
    loose = name in ("gamma", "trigamma", "digamma", "lgamma", "erfcx", "sinh", "cosh", "exp",
                     "exp10", "exp2")
    return dict(rtol=3e-5 if loose else 2e-6, atol=2e-5 if loose else 1e-6)


def test_every_unary_kernel_has_a_reference():
    kernels = set(UNARY.values()) - set(ACTS)
    assert kernels == set(UNARY_REF)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY_REF))
def test_unary(be, name, dt):
    ref, sample = UNARY_REF[name]
    for n in SIZES:
        x = sample(rng(n).random(n)).astype(dt)
        y = be.unary(name, x)
        assert y.shape == x.shape and y.dtype == dt
        want = ref(x.astype(np.float64))
        np.testing.assert_allclose(y, want, **tol(dt, name), err_msg=f"{name} n={n}")


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ACTS)
def test_activations_match_numpy_backend(be, name, dt):
    x = (rng(1).standard_normal((7, 43)) * 4).astype(dt)
    if name == "invx":
        x[x == 0] = 1
    x[0, :3] = [-800, 800, 0.5]          # sigm/elu/selu/gelu must not overflow
    np.testing.assert_allclose(be.unary(name, x), nb.unary(name, x), **tol(dt))


def test_special_values(be):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0])
    np.testing.assert_array_equal(be.unary("relu", x), [np.inf, 0, np.nan, 0, 0])
    np.testing.assert_array_equal(be.unary("sign", x), [1, -1, np.nan, 0, 0])
    np.testing.assert_array_equal(be.unary("sigm", x[:3]), [1, 0, np.nan])
    np.testing.assert_array_equal(be.unary("erfinv", np.array([-1.0, 1.0, 2.0])),
                                  [-np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(be.unary("digamma", np.array([0.0, -2.0])), [np.nan, np.nan])


def test_numpy_names_select_the_same_kernels(be):
    x = rng(2).random(50) * 0.9
    for alias, k in UNARY.items():
        np.testing.assert_array_equal(be.unary(alias, x), be.unary(k, x), err_msg=alias)


def test_unary_of_strided_and_nd_input(be):
    x = rng(3).standard_normal((6, 70))
    for v in (x.T, x[::-1, ::3], x.reshape(3, 2, 70)[:, 1]):
        y = be.unary("exp", v)
        assert y.flags.c_contiguous
        np.testing.assert_allclose(y, np.exp(v), rtol=1e-12)


def test_unary_float16_and_fallbacks(be):
    h = np.linspace(-2, 2, 11).astype(np.float16)
    y = be.unary("exp", h)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y, np.exp(h), rtol=1e-3)
    i = np.arange(-3, 4)
    np.testing.assert_array_equal(be.unary("absolute", i), np.abs(i))       # int: numpy protocol
    np.testing.assert_array_equal(be.unary("isnan", np.array([1.0, np.nan])), [False, True])


# ----------------------------------------------------------------- binary
BINARY_REF = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "power": np.power, "maximum": np.maximum, "minimum": np.minimum, "arctan2": np.arctan2,
    "hypot": np.hypot, "remainder": np.remainder, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal, "equal": np.equal,
    "not_equal": np.not_equal,
}


def operands(name, shape_a, shape_b, dt, seed=0):
    g = rng(seed)
    a = np.round(g.standard_normal(shape_a) * 3, 1).astype(dt)   # rounding makes ties
    b = np.round(g.standard_normal(shape_b) * 3, 1).astype(dt)
    if name == "power":
        a = np.abs(a) + 0.5
    if name in ("divide", "remainder"):
        b = np.where(b == 0, 1.5, b).astype(dt)
    return a, b


def check_binary(be, name, a, b):
    with np.errstate(all="ignore"):     # swapped operands meet zeros: inf/nan on both sides
        want = BINARY_REF[name](a, b)
    got = be.binary(name, a, b)
    assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
    assert got.shape == want.shape
    rt = np.result_type(want)
    t = tol(rt) if rt != np.bool_ else {}
    np.testing.assert_allclose(got, want, **t, err_msg=name)


def test_every_binary_kernel_has_a_reference():
    assert set(BINARY) == set(BINARY_REF) | {"true_divide", "mod"}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY_REF))
def test_binary_same_shape(be, name, dt):
    for n in SIZES:
        check_binary(be, name, *operands(name, (n,), (n,), dt, n))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY_REF))
def test_binary_with_scalar(be, name, dt):
    a, b = operands(name, (5, 67), (), dt)
    s = float(b) if name != "power" else 1.7
    check_binary(be, name, a, s)                   # python scalar keeps the array's dtype
    check_binary(be, name, s if name != "power" else 2.0, a)
    check_binary(be, name, a, dt(s))
    check_binary(be, name, a[:0], s)


BCAST = [((3, 1, 5), (4, 1)), ((1,), (7,)), ((2, 3, 70), (70,)), ((5, 1), (1, 66)),
         ((0, 3), (3,)), ((), (4, 9)), ((4, 1, 3, 1), (1, 5, 1, 6))]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY_REF))
def test_binary_broadcasting(be, name, dt):
    for sa, sb in BCAST:
        a, b = operands(name, sa, sb, dt)
        check_binary(be, name, a, b)
        check_binary(be, name, b, a)


@pytest.mark.parametrize("name", ["add", "divide", "maximum", "less"])
def test_binary_strided_operands(be, name):
    a, b = operands(name, (40, 30), (30, 40), np.float64)
    check_binary(be, name, a, b.T)                         # same shape, not contiguous
    check_binary(be, name, a[::-1, ::2], b.T[:, ::2])      # negative and step strides
    check_binary(be, name, a[:, :1], b.T[0])               # (40, 1) with (30,)


def test_binary_promotion_and_nan(be):
    a32 = np.linspace(-1, 1, 9, dtype=np.float32)
    a64 = np.linspace(0, 2, 9)
    check_binary(be, "add", a32, a64)                      # float32 + float64 -> float64
    check_binary(be, "add", a32, np.float64(0.1))          # numpy scalar promotes (numpy 2)
    x = np.array([np.nan, 1.0, 2.0])
    y = np.array([1.0, np.nan, 1.0])
    np.testing.assert_array_equal(be.binary("maximum", x, y), [np.nan, np.nan, 2.0])
    np.testing.assert_array_equal(be.binary("minimum", x, y), [np.nan, np.nan, 1.0])
    a, b = np.array([-7.0, 7.0, -6.0, 6.0]), np.array([3.0, -3.0, 3.0, -3.0])
    r = be.binary("remainder", a, b)
    np.testing.assert_array_equal(r, np.remainder(a, b))
    np.testing.assert_array_equal(np.signbit(r), np.signbit(np.remainder(a, b)))   # -0.0


def test_binary_fallbacks(be):
    i = np.arange(6)
    np.testing.assert_array_equal(be.binary("add", i, i), 2 * i)             # ints
    np.testing.assert_array_equal(be.binary("logaddexp", 0.0 * i, 0.0 * i),  # no kernel
                                  np.logaddexp(0.0 * i, 0.0 * i))
    assert be.binary("add", 1.0, 2.0) == 3.0


def test_contiguous_copy_kernel(be):
    x = rng(5).standard_normal((5, 6, 7))
    for v in (x.transpose(2, 0, 1), x[:, ::-2, 1:], x[..., :0], x[1, 2]):
        for d in DTYPES:
            c = be.contiguous(v.astype(d))
            assert c.flags.c_contiguous and c.dtype == d
            np.testing.assert_array_equal(c, v.astype(d))


# ----------------------------------------------------------------- activation gradients
def numeric_derivative(act, x):
    h = 1e-6
    return (nb.unary(act, x + h) - nb.unary(act, x - h)) / (2 * h)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("act", sorted(ACTIVATION_BACK))
def test_activation_backward(be, act, dt):
    g = rng(6)
    x = g.standard_normal((9, 41)) * 2
    x = np.where(np.abs(x) < 1e-3, 0.5, x)              # stay off the kinks at 0
    dy = g.standard_normal(x.shape)
    f = np.tanh if act == "tanh" else (lambda v: nb.unary(act, v))
    v = x if ACTIVATION_BACK[act] == "x" else f(x)
    deriv = ((np.tanh(x + 1e-6) - np.tanh(x - 1e-6)) / 2e-6 if act == "tanh"
             else numeric_derivative(act, x))
    got = be.activation_back(act, dy.astype(dt), v.astype(dt))
    assert got.dtype == dt
    np.testing.assert_allclose(got, dy * deriv, rtol=1e-6 if dt == np.float64 else 1e-4,
                               atol=1e-6 if dt == np.float64 else 1e-4)
    assert be.activation_back(act, dy[:0].astype(dt), v[:0].astype(dt)).shape == (0, 41)


def test_activation_backward_errors(be):
    with pytest.raises(ValueError, match="act must be one of"):
        be.activation_back("softplus", np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="one shape"):
        be.activation_back("relu", np.ones(2), np.ones(3))
