"""Forward mode (make_jvp) against central differences.

* every registered differentiable function, through the coverage table
  (tests/grad_table.py: each registered numpy / scipy function with calls on
  a domain where it is smooth; its list of non-differentiable functions is
  the list of skips, each with its reason there);
* numpy's elementwise ufuncs with broadcasting, which take another route
  through the forward rules than same-shape calls;
* complex inputs (holomorphic and not), nesting with reverse mode, and the
  rule choices of autograd.forward (explicit rule, built-in rule, fallback).
"""
import numpy as onp
import pytest

import autograd.numpy as np
from autograd import grad, jacobian, make_jvp
from autograd.core import UFUNCS, Primitive, record
from autograd.forward import forward_sweep, jvp_rule

EPS = 1e-6


def numeric_jvp(f, args, vs):
    plus = f(*[a + EPS * v for a, v in zip(args, vs)])
    minus = f(*[a - EPS * v for a, v in zip(args, vs)])
    return (onp.asarray(plus) - onp.asarray(minus)) / (2 * EPS)


class ValueMismatch(AssertionError):
    """The function's value on the tape is not numpy's: a value bug, not a JVP one."""


def check_jvp_all_args(f, args, seed=0, rtol=1e-6, atol=1e-6):
    """make_jvp of f with respect to all of args at once, in a random direction."""
    args = [onp.array(a, dtype=float) if not onp.iscomplexobj(a) else onp.array(a)
            for a in args]
    r = onp.random.default_rng(seed)
    vs = [r.standard_normal(onp.shape(a)) + (1j * r.standard_normal(onp.shape(a))
                                             if onp.iscomplexobj(a) else 0) for a in args]
    ans, jv = make_jvp(f, tuple(range(len(args))))(*args)(tuple(vs))
    if not onp.allclose(ans, f(*args), rtol=1e-12, atol=1e-12):
        raise ValueMismatch(f"recorded value {ans} differs from numpy's {f(*args)}")
    if onp.result_type(ans) in (onp.float32, onp.complex64):     # e.g. astype(float32)
        rtol, atol = 1e-2, 1e-2
    want = numeric_jvp(f, args, vs)
    scale = max(1.0, float(onp.max(onp.abs(want))) if onp.size(want) else 1.0)
    assert onp.shape(jv) == onp.shape(want)
    assert onp.allclose(jv, want, rtol=rtol, atol=atol * scale), (jv, want)
    return jv


# ---------------------------------------------------------------- the registry table
try:
    import grad_table
    TABLE_GRAD = sorted(n for n, e in grad_table.TABLE.items() if e.kind == "grad")
except Exception:            # the coverage table is missing or broken (test_coverage reports it)
    grad_table, TABLE_GRAD = None, []


@pytest.mark.skipif(grad_table is None, reason="tests/grad_table.py is not importable")
@pytest.mark.parametrize("name", TABLE_GRAD)
def test_forward_mode_over_the_registry_table(name):
    wrong_values = []
    for k, (call, arrays) in enumerate(grad_table.TABLE[name].cases):
        try:
            check_jvp_all_args(call, arrays, seed=k)
        except ValueMismatch as e:     # values are test_coverage's job; report, don't hide
            wrong_values.append(f"case {k}: {e}")
    if wrong_values:
        pytest.xfail(f"{name}: value on the tape differs from numpy (JVP not checked): "
                     + "; ".join(wrong_values))


# ---------------------------------------------------------------- ufuncs with broadcasting
def U(lo, hi, shape, seed):
    return onp.random.default_rng(seed).uniform(lo, hi, shape)


def S(lo, hi, shape, seed):
    r = onp.random.default_rng(seed)
    return r.uniform(lo, hi, shape) * r.choice([-1.0, 1.0], shape)


POS, UNIT = (0.2, 3.0), (-0.9, 0.9)
UNARY_DOMAINS = {
    "log": POS, "log2": POS, "log10": POS, "sqrt": POS, "cbrt": POS, "log1p": (-0.5, 2),
    "arcsin": UNIT, "arccos": UNIT, "arctanh": UNIT, "arccosh": (1.2, 3), "sin": (-1.2, 1.2),
    "cos": (-1.2, 1.2), "tan": (-1.2, 1.2), "reciprocal": ("s", 0.5, 2),
    "absolute": ("s", 0.2, 2), "fabs": ("s", 0.2, 2),
}
BINARY_DOMAINS = {
    "divide": ((-2, 2), (0.5, 2)), "power": ((0.5, 2), (-1.5, 1.5)),
    "float_power": ((0.5, 2), (-1.5, 1.5)), "arctan2": ((-2, 2), (0.5, 2)),
    "hypot": (("s", 0.5, 2), ("s", 0.5, 2)), "remainder": ((2.1, 2.9), (1.0, 1.04)),
    "fmod": ((2.1, 2.9), (1.0, 1.04)), "copysign": (("s", 0.2, 2), ("s", 0.2, 2)),
}
UFUNC_SKIPS = {
    "matmul": "a generalized ufunc (not elementwise): covered by the product tests",
    "ldexp": "its second argument is an integer exponent",
    "vecdot": "a generalized ufunc", "matvec": "a generalized ufunc",
    "vecmat": "a generalized ufunc", "conjugate": "complex-only rule: see test_complex_jvps",
}


def gen(dom, shape, seed):
    return S(dom[1], dom[2], shape, seed) if dom[0] == "s" else U(dom[0], dom[1], shape, seed)


NUMPY_UFUNC_PRIMS = sorted(k.__name__ for k, v in UFUNCS.items()
                           if isinstance(v, Primitive) and getattr(onp, k.__name__, None) is k)


@pytest.mark.parametrize("name", NUMPY_UFUNC_PRIMS)
def test_numpy_ufunc_jvps_with_and_without_broadcasting(name):
    if name in UFUNC_SKIPS:
        pytest.skip(UFUNC_SKIPS[name])
    uf = getattr(onp, name)
    if uf.nin == 1:
        dom = UNARY_DOMAINS.get(name, (-2, 2))
        for k, shape in enumerate([(), (5,), (3, 4)]):
            check_jvp_all_args(uf, [gen(dom, shape, k)], seed=k)
    else:
        d1, d2 = BINARY_DOMAINS.get(name, ((-2, 2), (-2, 2)))
        for k, (s1, s2) in enumerate([((4,), (4,)), ((3, 1), (1, 4)), ((2, 3), ()),
                                      ((), (3,))]):
            check_jvp_all_args(uf, [gen(d1, s1, k), gen(d2, s2, k + 7)], seed=k)
            # one argument at a time (the other a constant)
            a, b = gen(d1, s1, k), gen(d2, s2, k + 7)
            check_jvp_all_args(lambda x: uf(x, b), [a], seed=k)
            check_jvp_all_args(lambda y: uf(a, y), [b], seed=k)


# ---------------------------------------------------------------- other functions
A34 = U(-1, 1, (3, 4), 1)
FUNCTION_CASES = {
    "sum axis keepdims": (lambda x: np.sum(x, axis=1, keepdims=True), [A34]),
    "sum initial (affine)": (lambda x: np.sum(x, initial=2.0), [A34]),
    "mean/var/std": (lambda x: np.mean(x, 0) + np.var(x, 1).sum() + np.std(x), [A34]),
    "prod/cumsum/cumprod": (lambda x: np.prod(x, 0) + np.cumsum(x, 1)[-1] +
                            np.cumprod(x, axis=0)[-1], [U(0.5, 1.5, (3, 4), 2)]),
    "max/min": (lambda x: np.max(x, axis=0) - np.min(x), [A34]),
    "reshape/transpose/moveaxis": (lambda x: np.moveaxis(np.reshape(x, (2, 6)).T, 0, 1),
                                   [A34]),
    "indexing": (lambda x: x[1:, ::2] * x[[0, 2], 1][:, None] + x[:2, :2][A34[:2, :2] > 0].sum(),
                 [A34]),
    "take/take_along_axis": (lambda x: np.take(x, [0, 3], axis=1) +
                             np.take_along_axis(x, onp.array([[1, 0]] * 3), 1), [A34]),
    "concatenate/stack/split": (lambda x, y: np.concatenate(
        [np.stack([x, y]).reshape(-1), np.split(x, 2, axis=1)[1].ravel()]),
        [A34, U(-1, 1, (3, 4), 3)]),
    "where/clip": (lambda x, y: np.where(A34 > 0, x, y) + np.clip(x, -0.5, 0.5),
                   [S(0.05, 1, (3, 4), 4), U(-1, 1, (3, 1), 5)]),
    "matmul/dot/tensordot/einsum": (lambda a, b: a @ b + np.dot(a, b) + np.tensordot(a, b, 1)
                                    + np.einsum("ij,jk->ik", a, b), [A34, U(-1, 1, (4, 2), 6)]),
    "outer/inner/kron": (lambda a, b: np.outer(a, b).sum(0) + np.inner(a, b) +
                         np.kron(a, b)[:3], [U(-1, 1, 3, 7), U(-1, 1, 3, 8)]),
    "pad/repeat/tile/roll/flip": (lambda x: np.pad(x, 1)[1:4, 0:3] * np.repeat(x, 2, 0)[:3, 1:]
                                  + np.tile(x, (1, 2))[:, 5:] * np.roll(x, 1, 0)[:, 1:]
                                  + np.flip(x, 1)[:, 1:], [A34]),
    "broadcast_to/expand_dims/squeeze": (lambda x: np.squeeze(np.broadcast_to(
        np.expand_dims(x, 0), (2, 3, 4))[1:]), [A34]),
    "linalg": (lambda a: np.linalg.inv(a) + np.linalg.det(a) + np.linalg.solve(a, a.T),
               [U(-1, 1, (3, 3), 9) + 3 * onp.eye(3)]),
    "fft family (complex outputs)": (lambda a: np.concatenate(
        [np.fft.fft(a), np.fft.rfft(a), np.fft.ifft(a * 1j), np.fft.fft2(a.reshape(2, 4)).ravel(),
         np.fft.fftshift(a)]), [U(-1, 1, 8, 10)]),
}


@pytest.mark.parametrize("name", sorted(FUNCTION_CASES))
def test_function_jvps(name):
    f, arrays = FUNCTION_CASES[name]
    check_jvp_all_args(f, arrays)


def test_scipy_stats_and_signal_jvps():
    import autograd.scipy.signal as sig
    import autograd.scipy.stats as st
    x = U(-1, 1, 8, 11)
    check_jvp_all_args(lambda a, m: st.norm.logpdf(a, m, 1.5) + st.norm.cdf(a) +
                       st.t.logpdf(a, 3.0), [x, U(-1, 1, 8, 12)])
    check_jvp_all_args(lambda a, k: sig.convolve(a, k), [x, U(-1, 1, 3, 13)])


# ---------------------------------------------------------------- complex
def test_complex_jvps_holomorphic_and_not():
    z = onp.array([0.4 + 0.3j, -0.7 + 1.1j, 1.2 - 0.5j])
    v = onp.array([1.0 - 0.5j, 0.3 + 0.2j, -1.0 + 2.0j])
    for f, fprime in [(np.exp, onp.exp), (np.sin, onp.cos), (lambda w: w ** 3, lambda w: 3 * w ** 2),
                      (np.log, lambda w: 1 / w), (lambda w: 1 / w, lambda w: -1 / w ** 2)]:
        ans, jv = make_jvp(f)(z)(v)
        assert onp.allclose(jv, fprime(z) * v, rtol=1e-12)
    for f in (np.abs, np.real, np.imag, np.conj, np.angle, lambda w: np.abs(w) ** 2,
              lambda w: w * np.conj(w) + np.exp(np.real(w))):
        check_jvp_all_args(f, [z])
    # a real function of real inputs that computes with complex numbers
    x = onp.array([0.2, 0.9])
    ans, jv = make_jvp(lambda t: np.real(np.exp(1j * t)))(x)(onp.ones(2))
    assert jv.dtype == onp.float64 and onp.allclose(jv, -onp.sin(x))


# ---------------------------------------------------------------- nesting and rules
def test_forward_over_reverse_and_reverse_over_forward():
    A = U(-1, 1, (3, 3), 11)
    f = lambda x: np.sum(np.tanh(A @ x) ** 2)
    x, v = U(-1, 1, 3, 12), U(-1, 1, 3, 13)
    H = jacobian(grad(f))(x)
    _, hv = make_jvp(grad(f))(x)(v)                                # forward over reverse
    assert onp.allclose(hv, H @ v, rtol=1e-10)
    g = grad(lambda y: make_jvp(f)(y)(v)[1])(x)                    # reverse over forward
    assert onp.allclose(g, H @ v, rtol=1e-10)
    _, second = make_jvp(lambda y: make_jvp(f)(y)(v)[1])(x)(v)     # forward over forward
    assert onp.allclose(second, v @ H @ v, rtol=1e-10)


def test_jvp_rule_choices_and_fallback_agree():
    x = U(0.5, 1.5, (4,), 14)
    t = U(-1, 1, (4,), 15)

    def tangent(f):
        tape, out = record(f, [x], {}, 0)
        return forward_sweep(tape, [t])[id(out)]
    sin_prim = UFUNCS[onp.sin]
    assert jvp_rule(sin_prim, 0) is not None                      # built-in elementwise rule
    mm = jvp_rule(UFUNCS[onp.matmul], 1)                          # multilinear rule
    B = U(-1, 1, (3, 4), 16)
    assert onp.allclose(mm(onp.ones((4, 2)), None, (B, onp.zeros((4, 2))), {}), B @ onp.ones((4, 2)))
    assert onp.allclose(tangent(np.sin), onp.cos(x) * t)
    fallback_only = Primitive(onp.sin, sin_prim.grads)            # same rule, unknown fn
    fallback_only.fn = lambda v: onp.sin(v)
    assert jvp_rule(fallback_only, 0) is None
    assert onp.allclose(tangent(fallback_only), onp.cos(x) * t)
    ans, jv = make_jvp(lambda v: 3.0)(x)(t)                       # output independent of x
    assert ans == 3.0 and jv == 0.0


def test_make_jvp_containers_and_reuse():
    f = lambda p: {"s": np.sum(p["a"] * p["b"][0]), "t": (p["a"] ** 2, 1.0)}
    a, b = U(-1, 1, 3, 16), U(-1, 1, 3, 17)
    jvp = make_jvp(f)({"a": a, "b": [b]})
    for seed in range(2):
        va, vb = U(-1, 1, 3, 20 + seed), U(-1, 1, 3, 30 + seed)
        ans, tan = jvp({"a": va, "b": [vb]})
        assert onp.allclose(tan["s"], va @ b + a @ vb)
        assert onp.allclose(tan["t"][0], 2 * a * va) and tan["t"][1] == 0.0
    with pytest.raises(ValueError, match="structure"):
        jvp(va)


def test_primitive_without_any_rule_names_what_is_missing():
    from autograd.extend import primitive

    @primitive
    def twice(x):
        return 2 * x
    with pytest.raises(NotImplementedError, match="no forward rule.*twice|twice.*no forward rule"):
        make_jvp(twice)(1.0)(1.0)
