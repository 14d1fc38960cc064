"""Complex numbers with HIPS autograd's convention: the gradient of a real
loss L at z = x + iy is dL/dx - i dL/dy; holomorphic functions get f'(z)."""
import numpy as onp
import pytest

import autograd.numpy as np
from autograd import grad, holomorphic_grad
from autograd.test_util import check_grads
from numeric_refs import complex_numeric_grad

RNG = onp.random.default_rng(11)


def crandn(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


# functions of one complex array and how to draw a valid input
UNARY = {
    "exp": (np.exp, None), "log": (np.log, None), "log2": (np.log2, None),
    "log10": (np.log10, None), "log1p": (np.log1p, None), "expm1": (np.expm1, None),
    "exp2": (np.exp2, None), "sqrt": (np.sqrt, None), "square": (np.square, None),
    "reciprocal": (np.reciprocal, None), "negative": (np.negative, None),
    "sin": (np.sin, None), "cos": (np.cos, None), "tan": (np.tan, None),
    "arcsin": (np.arcsin, None), "arccos": (np.arccos, None), "arctan": (np.arctan, None),
    "sinh": (np.sinh, None), "cosh": (np.cosh, None), "tanh": (np.tanh, None),
    "arcsinh": (np.arcsinh, None), "arccosh": (np.arccosh, None),
    "arctanh": (np.arctanh, None),
    "conj": (np.conj, None), "conjugate method": (lambda z: z.conjugate(), None),
    "real": (np.real, None), "imag": (np.imag, None), "real attr": (lambda z: z.real, None),
    "imag attr": (lambda z: z.imag, None), "abs": (np.abs, None), "angle": (np.angle, None),
    "angle deg": (lambda z: np.angle(z, deg=True), None),
    "real_if_close": (np.real_if_close, None),
    "power int": (lambda z: z ** 3, None), "power real": (lambda z: z ** 2.5, None),
    "power complex exponent": (lambda z: np.power(1.5 - 0.5j, z), None),
    "power both": (lambda z: np.power(z, z), None),
    "divide": (lambda z: (1 + 2j) / z, None), "sum": (lambda z: np.sum(z, axis=0), None),
    "mean": (lambda z: np.mean(z, axis=1), None), "prod": (lambda z: np.prod(z, axis=0), None),
    "cumsum": (lambda z: np.cumsum(z), None), "cumprod": (lambda z: np.cumprod(z, axis=1), None),
    "var": (lambda z: np.var(z, axis=0), None), "std": (np.std, None),
    "var ddof": (lambda z: np.var(z, ddof=1), None),
    "transpose": (lambda z: z.T, None), "reshape": (lambda z: np.reshape(z, (-1,)), None),
    "getitem": (lambda z: z[1:, ::2], None), "where": (lambda z: np.where(np.abs(z) > 1, z, 2 * z), None),
    "concatenate": (lambda z: np.concatenate([z, 2 * z]), None),
    "array": (lambda z: np.array([z[0, 0], z[1, 1] * z[0, 1]]), None),
    "matmul": (lambda z: z @ z.T, None), "dot const": (lambda z: np.dot(z, onp.ones(3) * 1j), None),
    "vdot": (lambda z: np.vdot(z, z * (1 + 1j)), None), "einsum": (lambda z: np.einsum("ij,ij->i", z, z), None),
    "astype real": (lambda z: z.astype(onp.float64), None),
    "abs squared": (lambda z: np.abs(z) ** 2, None),
    "fft": (lambda z: np.fft.fft(z, axis=0), None),
    "linalg inv": (lambda z: np.linalg.inv(z[:, :2] + 3 * onp.eye(2)), None),
    "linalg det": (lambda z: np.linalg.det(z[:, :2] + 3 * onp.eye(2)), None),
    "linalg norm": (np.linalg.norm, None),
    "linalg norm axis ord 3": (lambda z: np.linalg.norm(z, 3, axis=1), None),
    "linalg norm matrix ord 1": (lambda z: np.linalg.norm(z, 1), None),
    "linalg vector_norm": (lambda z: np.linalg.vector_norm(z, axis=0), None),
    "linalg matrix_norm fro": (lambda z: np.linalg.matrix_norm(z), None),
}


def _real_loss(f, w):
    def loss(z):
        y = f(z)
        return np.sum(np.real(y * w)) + np.sum(np.abs(y) ** 2) * 0.1
    return loss


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("name", sorted(UNARY))
def test_real_valued_composition_matches_finite_differences(name):
    f, _ = UNARY[name]
    z = crandn(2, 3) * 0.5 + 0.3
    y = onp.asarray(f(z))
    w = onp.asarray(crandn(*y.shape)) if onp.iscomplexobj(y) else RNG.standard_normal(y.shape)
    loss = _real_loss(f, w)
    got = grad(loss)(z)
    assert onp.iscomplexobj(got) and got.shape == z.shape
    onp.testing.assert_allclose(got, complex_numeric_grad(loss, z), atol=1e-5)


@pytest.mark.parametrize("name", ["exp", "log", "sin", "tanh", "sqrt", "arcsin", "square",
                                  "reciprocal", "power int", "power both", "cumprod", "fft",
                                  "matmul"])
def test_holomorphic_grad_is_the_complex_derivative(name):
    f, _ = UNARY[name]
    z0 = 0.4 + 0.3j
    h = 1e-6
    g = lambda z: np.sum(f(z * onp.ones((2, 3))))
    want = (g(z0 + h) - g(z0 - h)) / (2 * h)
    assert complex(holomorphic_grad(g)(z0)) == pytest.approx(want, abs=1e-6)
    # Cauchy-Riemann: the derivative along the imaginary axis agrees
    assert (g(z0 + 1j * h) - g(z0 - 1j * h)) / (2j * h) == pytest.approx(want, abs=1e-6)


def test_documented_values():
    # |z|^2 -> 2 conj(z); real -> 1; imag -> -i; angle -> conj(i z)/|z|^2
    z = 1 + 2j
    assert complex(grad(lambda z: np.abs(z) ** 2)(z)) == pytest.approx(2 - 4j)
    assert complex(grad(np.real)(z)) == pytest.approx(1)
    assert complex(grad(np.imag)(z)) == pytest.approx(-1j)
    assert complex(grad(np.abs)(z)) == pytest.approx((1 - 2j) / abs(z))
    assert complex(grad(np.angle)(z)) == pytest.approx((1j * z).conjugate() / abs(z) ** 2)
    assert complex(grad(np.abs)(0j)) == 0


def test_complex_norm_values_match_numpy():
    from autograd import value_and_grad
    z = crandn(2, 3)
    for args in [(), (3, 1), (1,), ("fro",), (onp.inf,), (None, 0)]:
        v, g = value_and_grad(lambda z: np.sum(np.linalg.norm(z, *args)))(z)
        assert v == pytest.approx(onp.sum(onp.linalg.norm(z, *args)))
        assert g.shape == z.shape and onp.iscomplexobj(g)


def test_real_inputs_keep_real_gradients():
    x = RNG.standard_normal(4)
    for f in [lambda x: np.sum(np.abs(np.exp(1j * x)) ** 2 * x), lambda x: np.sum(np.imag(x * (1 + 2j))),
              lambda x: np.sum(np.real(np.fft.fft(x)) ** 2), lambda x: np.sum(np.angle(x - 0.1)),
              lambda x: np.sum(np.conj(x) * x), lambda x: np.sum(x.astype(complex).real)]:
        g = grad(f)(x)
        assert g.dtype == onp.float64
        h = 1e-6
        num = onp.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in onp.eye(4)])
        onp.testing.assert_allclose(g, num, atol=1e-6)


def test_real_rules_unchanged():
    x = onp.array([-1.5, 0.0, 2.0])
    onp.testing.assert_allclose(grad(lambda x: np.sum(np.abs(x)))(x), [-1, 0, 1])
    onp.testing.assert_allclose(grad(lambda b: np.sum(np.power(2.0, b)))(x), onp.log(2) * 2 ** x)
    onp.testing.assert_allclose(grad(lambda x: np.var(x))(x), 2 * (x - x.mean()) / 3)


def test_second_order_and_forward_mode_on_complex():
    z = crandn(3)
    check_grads(lambda z: np.abs(z) ** 3, modes=["fwd", "rev"], order=2)(z)
    check_grads(lambda z: np.angle(z) * np.real(z), modes=["fwd", "rev"], order=2)(z)
    check_grads(lambda z: np.var(z * np.conj(z) + z), modes=["fwd", "rev"], order=2)(z)


def _herm(a):
    return (a + np.conj(a.T)) / 2


def _pd(a):
    return np.matmul(a, np.conj(a.T)) + 3 * onp.eye(3)


_W3 = RNG.standard_normal((3, 3))
HERMITIAN = {
    "eigvalsh": lambda a: np.sum(np.linalg.eigvalsh(_herm(a)) ** 3),
    "eigh values": lambda a: np.sum(np.linalg.eigh(_herm(a))[0] * onp.arange(3.0)),
    # |V|^2 does not depend on the phase of each eigenvector
    "eigh vectors": lambda a: np.sum(np.abs(np.linalg.eigh(_herm(a))[1]) ** 2 * _W3),
    "eigh upper": lambda a: np.sum(np.abs(np.linalg.eigh(_pd(a), "U")[1]) ** 2 * _W3),
    "cholesky": lambda a: np.sum(np.real(np.linalg.cholesky(_pd(a)) * (_W3 + 1j * _W3.T))),
    "svd values": lambda a: np.sum(np.linalg.svd(a[:, :2], full_matrices=False)[1]
                                   * onp.array([1.0, 3.0])),
    "svdvals": lambda a: np.sum(np.linalg.svd(a, compute_uv=False) ** 2),
    "norm 2": lambda a: np.linalg.norm(a, 2),
    "norm nuc": lambda a: np.linalg.norm(a[:2], "nuc"),
    "norm -2 axis": lambda a: np.sum(np.linalg.norm(np.stack([a, 2 * a]), -2, axis=(1, 2))),
    "matrix_norm nuc": lambda a: np.linalg.matrix_norm(a, ord="nuc"),
}


@pytest.mark.parametrize("name", sorted(HERMITIAN))
def test_complex_decompositions(name):
    f = HERMITIAN[name]
    a = crandn(3, 3)
    onp.testing.assert_allclose(grad(f)(a), complex_numeric_grad(f, a), atol=1e-5)
    # real input still takes the real rules and gives a real gradient
    g = grad(f)(onp.real(a))
    assert g.dtype == onp.float64


def test_complex_decomposition_values_match_numpy():
    a = crandn(3, 3)
    h = (a + a.conj().T) / 2
    onp.testing.assert_allclose(np.linalg.eigh(h)[0], onp.linalg.eigh(h)[0])
    for ord in [2, -2, "nuc"]:
        v, _ = __import__("autograd").value_and_grad(lambda a: np.linalg.norm(a, ord))(a)
        assert v == pytest.approx(onp.linalg.norm(a, ord))
    # singular vectors of a complex matrix are differentiable too (autograd/rules/complex.py;
    # this used to raise NotImplementedError): check against central differences
    f = lambda a: np.sum(np.abs(np.linalg.svd(a)[0]) * onp.arange(1.0, 10.0).reshape(3, 3))
    g, d, eps = grad(f)(a), crandn(3, 3), 1e-6
    numeric = (f(a + eps * d) - f(a - eps * d)) / (2 * eps)
    assert numeric == pytest.approx(onp.real(onp.sum(g * d)), rel=1e-5, abs=1e-7)


def test_plain_import_autograd_has_complex_rules():
    """`import autograd` alone (without autograd.numpy) uses the HIPS convention."""
    import subprocess
    import sys
    code = ("import numpy as np; from autograd import grad; "
            "print(grad(lambda z: np.abs(z) ** 2)(1 + 2j))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert complex(out.stdout.strip()) == 2 - 4j


def test_complex_sparse_gradient_of_a_real_input_is_real():
    from autograd import grad
    g = grad(lambda x: np.real((x * (1 + 1j))[1]))(np.zeros(3))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])
