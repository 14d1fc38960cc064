"""Optimizers and update_: formulas, gclip, sparse (lazy) updates, containers, atomicity."""
import math
import signal

import numpy as np
import pytest

from autograd import Param, Sparse, diff, grad
from knetpy import KnetArray
from knetpy.optim import SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, Optimizer, Rmsprop
from knetpy.update import update_

R = np.random.default_rng(0)


def rnd(*shape):
    return R.standard_normal(shape)


# ---------------------------------------------------------------- the seed's formulas
def formula(kind, hp, w, gs):
    """The update rules exactly as the reference writes them, for a list of gradients."""
    w = w.copy()
    v = np.zeros_like(w)      # minimize's convention: v is the (negative) step
    G = np.zeros_like(w)
    delta = np.zeros_like(w)
    m = np.zeros_like(w)
    for t, g in enumerate(gs, 1):
        if kind == "SGD":
            w = w - hp["lr"] * g
        elif kind == "Momentum":
            v = hp["gamma"] * v - hp["lr"] * g
            w = w + v
        elif kind == "Nesterov":
            w = w - hp["gamma"] * v
            v = hp["gamma"] * v - hp["lr"] * g
            w = w + (1 + hp["gamma"]) * v
        elif kind == "Adagrad":
            G = G + g ** 2
            w = w - hp["lr"] * g / np.sqrt(G + hp["eps"])
        elif kind == "Rmsprop":
            G = hp["rho"] * G + (1 - hp["rho"]) * g ** 2
            w = w - hp["lr"] * g / np.sqrt(G + hp["eps"])
        elif kind == "Adadelta":
            G = hp["rho"] * G + (1 - hp["rho"]) * g ** 2
            upd = np.sqrt(delta + hp["eps"]) * g / np.sqrt(G + hp["eps"])
            w = w - hp["lr"] * upd
            delta = hp["rho"] * delta + (1 - hp["rho"]) * upd ** 2
        elif kind == "Adam":
            m = hp["beta1"] * m + (1 - hp["beta1"]) * g
            G = hp["beta2"] * G + (1 - hp["beta2"]) * g ** 2
            mhat = m / (1 - hp["beta1"] ** t)
            Ghat = G / (1 - hp["beta2"] ** t)
            w = w - (hp["lr"] / (np.sqrt(Ghat) + hp["eps"])) * mhat
    return w


DEFAULTS = {
    SGD: dict(lr=0.1, gclip=0),
    Momentum: dict(lr=0.05, gamma=0.95, gclip=0),
    Nesterov: dict(lr=0.05, gamma=0.95, gclip=0),
    Adagrad: dict(lr=0.05, eps=1e-6, gclip=0),
    Rmsprop: dict(lr=0.01, rho=0.9, eps=1e-6, gclip=0),
    Adadelta: dict(lr=1.0, rho=0.9, eps=1e-6, gclip=0),
    Adam: dict(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, gclip=0),
}
CUSTOM = {
    SGD: dict(lr=0.3),
    Momentum: dict(lr=0.2, gamma=0.7),
    Nesterov: dict(lr=0.2, gamma=0.7),
    Adagrad: dict(lr=0.4, eps=1e-3),
    Rmsprop: dict(lr=0.05, rho=0.8, eps=1e-4),
    Adadelta: dict(lr=0.9, rho=0.6, eps=1e-3),
    Adam: dict(lr=0.05, beta1=0.8, beta2=0.9, eps=1e-6),
}


@pytest.mark.parametrize("cls", list(DEFAULTS))
def test_defaults(cls):
    o = cls()
    for k, v in DEFAULTS[cls].items():
        assert getattr(o, k) == v
    assert o.t == 0 and all(getattr(o, s) is None for s in o.state)


@pytest.mark.parametrize("cls", list(DEFAULTS))
@pytest.mark.parametrize("hp", ["default", "custom"])
def test_formula_several_steps(cls, hp):
    hp = DEFAULTS[cls] if hp == "default" else CUSTOM[cls]
    w0 = rnd(5, 3)
    gs = [rnd(5, 3) for _ in range(4)]
    p = Param(w0.copy(), cls(**hp))
    arr = p.value
    for g in gs:
        update_(p, g)
    assert p.value is arr                      # in place
    full = dict(DEFAULTS[cls], **hp)
    np.testing.assert_allclose(p.value, formula(cls.__name__, full, w0, gs), rtol=1e-12, atol=1e-14)
    if cls is Adam:
        assert p.opt.t == 4


@pytest.mark.parametrize("cls", list(DEFAULTS))
def test_float32_stays_float32(cls):
    w0 = rnd(4, 4).astype(np.float32)
    gs = [rnd(4, 4).astype(np.float32) for _ in range(3)]
    w = w0.copy()
    o = cls(**CUSTOM[cls])
    for g in gs:
        update_(w, g, o)
    assert w.dtype == np.float32
    for s in o.state:
        assert getattr(o, s).dtype == np.float32
    ref = formula(cls.__name__, dict(DEFAULTS[cls], **CUSTOM[cls]), w0.astype(np.float64),
                  [g.astype(np.float64) for g in gs])
    np.testing.assert_allclose(w, ref, rtol=1e-4, atol=1e-5)


def test_noncontiguous_and_mixed_dtype_gradients():
    w0 = rnd(3, 4)
    g = rnd(4, 3).T                      # not C-contiguous
    w = w0.copy()
    update_(w, g, Adam(lr=0.1))
    ref = formula("Adam", dict(DEFAULTS[Adam], lr=0.1), w0, [g])
    np.testing.assert_allclose(w, ref, rtol=1e-12)
    w32 = w0.astype(np.float32)
    update_(w32, g, SGD(lr=0.5))          # float64 gradient into float32 weights
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, w0 - 0.5 * g, rtol=1e-6)


# ---------------------------------------------------------------- gclip
@pytest.mark.parametrize("cls", list(DEFAULTS))
def test_gclip_scales_large_gradients(cls):
    w0, g = rnd(6), rnd(6) * 10
    norm = np.linalg.norm(g)
    gkeep = g.copy()
    w = w0.copy()
    update_(w, g, cls(**CUSTOM[cls], gclip=1.5))
    np.testing.assert_array_equal(g, gkeep)              # the caller's gradient is untouched
    ref = formula(cls.__name__, dict(DEFAULTS[cls], **CUSTOM[cls]), w0, [g * 1.5 / norm])
    np.testing.assert_allclose(w, ref, rtol=1e-12)
    w = w0.copy()                                        # below the threshold: no scaling
    update_(w, g, cls(**CUSTOM[cls], gclip=norm * 2))
    ref = formula(cls.__name__, dict(DEFAULTS[cls], **CUSTOM[cls]), w0, [g])
    np.testing.assert_allclose(w, ref, rtol=1e-12)


def test_gclip_keyword_for_arrays():
    w = np.zeros(2)
    update_(w, np.array([3.0, 4.0]), lr=1.0, gclip=1.0)
    np.testing.assert_allclose(w, [-0.6, -0.8])


# ---------------------------------------------------------------- sparse gradients
def embedding_grad(W, idx):
    y = diff(lambda: np.sum(np.sin(W[idx]) * np.arange(1.0, W.shape[1] + 1)))
    return grad(y, W)


def test_sparse_gradient_from_indexing_updates_only_touched_rows():
    W = Param(rnd(10, 3))
    idx = np.array([2, 7, 2])              # a repeated row: its contributions add up
    g = embedding_grad(W, idx)
    assert isinstance(g, Sparse)
    before = W.value.copy()
    dense = g.dense()
    update_(W, g, SGD(lr=0.5))
    np.testing.assert_allclose(W.value, before - 0.5 * dense, rtol=1e-14)
    untouched = np.setdiff1d(np.arange(10), idx)
    np.testing.assert_array_equal(W.value[untouched], before[untouched])


@pytest.mark.parametrize("cls", [Adagrad, SGD])
def test_sparse_equals_dense_for_stateless_decay(cls):
    W0 = rnd(8, 2)
    p1, p2 = Param(W0.copy(), cls(**CUSTOM[cls])), Param(W0.copy(), cls(**CUSTOM[cls]))
    for idx in ([1, 3], [3, 3, 5], [0]):
        g = embedding_grad(p1, np.array(idx))
        update_(p1, g)
        update_(p2, g.dense())
    np.testing.assert_allclose(p1.value, p2.value, rtol=1e-13)


@pytest.mark.parametrize("cls", [Adam, Momentum, Nesterov, Rmsprop, Adadelta])
def test_lazy_sparse_updates(cls):
    """Touched rows follow the dense rule on those rows alone; others keep weights and state."""
    W0 = rnd(6, 2)
    p = Param(W0.copy(), cls(**CUSTOM[cls]))
    steps = [np.array([1, 4]), np.array([4, 4]), np.array([0, 1])]
    refs = {r: W0[r].copy() for r in range(6)}
    rowgrads = {r: [] for r in range(6)}
    for t, idx in enumerate(steps, 1):
        g = embedding_grad(p, idx)
        dense = g.dense()
        update_(p, g)
        for r in set(idx.tolist()):
            rowgrads[r].append(dense[r])
    hp = dict(DEFAULTS[cls], **CUSTOM[cls])
    for r in range(6):
        if cls is Adam:
            # lazy Adam: the moments of row r see only its own gradients, but the bias
            # correction uses the parameter's global step count t
            m = v = np.zeros(2)
            w = W0[r].copy()
            ts = [t for t, idx in enumerate(steps, 1) if r in idx]
            for t, gr in zip(ts, rowgrads[r]):
                m = hp["beta1"] * m + (1 - hp["beta1"]) * gr
                v = hp["beta2"] * v + (1 - hp["beta2"]) * gr ** 2
                w = w - hp["lr"] * (m / (1 - hp["beta1"] ** t)) / (
                    np.sqrt(v / (1 - hp["beta2"] ** t)) + hp["eps"])
            expect = w
        else:
            expect = formula(cls.__name__, hp, refs[r], rowgrads[r])
        np.testing.assert_allclose(p.value[r], expect, rtol=1e-12, atol=1e-14)
    for s in p.opt.state:                      # state of never-touched rows stays zero
        st = getattr(p.opt, s)
        np.testing.assert_array_equal(st[[2, 3, 5]], 0)
    if cls is Adam:
        assert p.opt.t == 3


def test_sparse_without_row_structure_falls_back_to_dense():
    W = Param(rnd(4, 5))
    y = diff(lambda: np.sum(W[:, [1, 3]] ** 2))
    g = grad(y, W)
    before = W.value.copy()
    update_(W, g, lr=0.1)
    np.testing.assert_allclose(W.value, before - 0.1 * np.asarray(g), rtol=1e-14)


def test_sparse_gclip_uses_the_norm_of_the_summed_rows():
    W = np.zeros((5, 1))
    g = Sparse((5, 1), np.float64, [([1, 1], np.full((2, 1), 3.0)), ([2], np.full((1, 1), 8.0))])
    update_(W, g, SGD(lr=1.0, gclip=5.0))     # summed rows (6, 8), norm 10 -> (3, 4)
    np.testing.assert_allclose(W[:, 0], [0, -3, -4, 0, 0])


# ---------------------------------------------------------------- forms of update_
def test_param_without_opt_gets_sgd():
    p = Param(np.ones(2))
    update_(p, np.ones(2))
    assert isinstance(p.opt, SGD) and p.opt.lr == 0.1
    np.testing.assert_allclose(p.value, [0.9, 0.9])
    q = Param(np.ones(2))
    update_(q, np.ones(2), lr=0.5)
    np.testing.assert_allclose(q.value, [0.5, 0.5])
    r = Param(np.ones(2))
    update_(r, np.ones(2), Adam(lr=0.1))           # explicit optimizer: not stored
    assert r.opt is None


def test_scalar_params():
    p = Param(2.0, Momentum(lr=0.5, gamma=0.5))
    update_(p, 1.0)
    update_(p, np.float64(1.0))
    assert isinstance(p.value, float) and p.value == pytest.approx(2 - 0.5 - 0.75)
    p32 = Param(np.float32(1.0))
    update_(p32, np.float32(1.0))
    assert isinstance(p32.value, np.float32) and p32.value == pytest.approx(0.9)


def test_collections():
    ws = [np.ones(2), np.ones(3)]
    update_(ws, [np.ones(2), np.ones(3)], [SGD(lr=0.5), Adam(lr=0.1)])
    np.testing.assert_allclose(ws[0], 0.5)
    np.testing.assert_allclose(ws[1], 0.9)
    wt = (np.ones(2), np.ones(2))
    update_(wt, (np.ones(2), None), lr=0.25)        # None: no gradient, not updated
    np.testing.assert_allclose(wt[0], 0.75)
    np.testing.assert_allclose(wt[1], 1.0)
    wd = {"a": np.ones(1), "b": [np.ones(1), Param(np.ones(1), Nesterov(lr=0.1, gamma=0.5))]}
    opts = {"a": Adagrad(lr=1.0, eps=1.0), "b": [SGD(lr=0.2), None]}
    update_(wd, {"a": np.ones(1), "b": [np.ones(1), np.ones(1)]}, opts)
    np.testing.assert_allclose(wd["a"], 1 - 1 / np.sqrt(2))
    np.testing.assert_allclose(wd["b"][0], 0.8)
    np.testing.assert_allclose(wd["b"][1].value, 1 - 0.05 - 0.1)
    assert isinstance(opts["a"].G, np.ndarray)


def test_knetarray_params():
    w0 = rnd(3, 2)
    p = Param(KnetArray(w0), Adam(lr=0.1))
    g = rnd(3, 2)
    update_(p, KnetArray(g))
    assert isinstance(p.value, KnetArray)
    np.testing.assert_allclose(p.value.to_numpy(), formula("Adam", dict(DEFAULTS[Adam], lr=0.1),
                                                           w0, [g]), rtol=1e-12)


def test_device_kernel_path_matches_numpy():
    """On a device backend the fused optimizer kernels run (here on the CPU emulator)."""
    emulator = pytest.importorskip("knetpy.backends.emulator")
    try:
        be = emulator.emulated_backend(block=32, max_blocks=2)
        be.sgd_(np.zeros(1), np.zeros(1), 0.1)
    except Exception as e:       # no C++ compiler: nothing to compare
        pytest.skip(f"kernel emulator unavailable: {e}")
    for cls in (Adam, Nesterov, Adadelta):
        w0, gs = rnd(7), [rnd(7) for _ in range(3)]
        p = Param(KnetArray._of(w0.copy(), be), cls(**CUSTOM[cls]))
        for g in gs:
            update_(p, g)
        assert p.opt._tmp is None            # no numpy scratch: the kernel did the work
        ref = formula(cls.__name__, dict(DEFAULTS[cls], **CUSTOM[cls]), w0, gs)
        np.testing.assert_allclose(p.value.data, ref, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- errors
def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="lr must be"):
        SGD(lr=-1)
    with pytest.raises(ValueError, match="beta1 must be in"):
        Adam(beta1=1.0)
    with pytest.raises(ValueError, match="eps must be in"):
        Rmsprop(eps=0)
    with pytest.raises(ValueError, match="finite"):
        Momentum(gamma=float("nan"))
    o = Adam()
    with pytest.raises(ValueError, match="lr"):
        o.lr = "0.1"
    o.lr = 0.01                     # a schedule may change it between steps
    assert o.lr == 0.01
    with pytest.raises(TypeError, match="unexpected keyword"):
        Adam(lr=0.1, momentum=0.9)


def test_bad_updates():
    with pytest.raises(ValueError, match=r"gradient of w has shape \(3,\)"):
        update_(np.zeros(2), np.zeros(3))
    with pytest.raises(TypeError, match="floating-point"):
        update_(np.zeros(2, int), np.zeros(2))
    with pytest.raises(TypeError, match="must be a Param, a numpy array"):
        update_(1.0, 1.0)
    with pytest.raises(ValueError, match="2 weights but 1 optimizers"):
        update_([np.zeros(1), np.zeros(1)], [np.zeros(1)] * 2, [SGD()])
    with pytest.raises(ValueError, match="gradients must be a list/tuple of 2"):
        update_([np.zeros(1), np.zeros(1)], [np.zeros(1)])
    with pytest.raises(ValueError, match="own optimizer"):
        o = Adam()
        update_(np.zeros(2), np.zeros(2), o)
        update_(np.zeros(3), np.zeros(3), o)
    with pytest.raises(ValueError, match="keeps per-parameter state"):
        update_([np.zeros(2), np.zeros(2)], [np.zeros(2)] * 2, Adam())
    with pytest.raises(TypeError, match="either an optimizer or lr"):
        update_(np.zeros(2), np.zeros(2), SGD(), lr=0.1)
    with pytest.raises(TypeError, match="already has its optimizer"):
        update_(Param(np.zeros(2), Adam()), np.zeros(2), lr=0.1)
    with pytest.raises(TypeError, match="must be an Optimizer"):
        update_(np.zeros(2), np.zeros(2), "adam")
    ro = np.zeros(2)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        update_(ro, np.zeros(2))


def test_failed_validation_changes_nothing():
    a, b = Param(np.ones(3), Adam()), Param(np.ones(2), Momentum())
    with pytest.raises(ValueError, match="shape"):
        update_([a, b], [np.ones(3), np.ones(5)])
    np.testing.assert_array_equal(a.value, 1)
    assert a.opt.m is None and a.opt.t == 0 and b.opt.velocity is None
    c = Param(np.ones(2))
    with pytest.raises(ValueError):
        update_([c, b], [np.ones(2), np.ones(5)])
    assert c.opt is None                          # no optimizer got attached either


class Flaky(SGD):
    """An SGD whose update raises on demand, after writing half of it."""
    nothrow = False
    fail = False

    def _math(self, w, g, st, tmp, t):
        w[: w.size // 2] -= 100.0
        if self.fail:
            raise RuntimeError("device lost")
        super()._math(w, g, st, tmp, t)


def test_failure_inside_apply_restores_everything():
    a = Param(np.ones(3), Adam(lr=0.1))
    update_(a, np.ones(3))
    w_a, m_a, t_a = a.value.copy(), a.opt.m.copy(), a.opt.t
    bad = Flaky(lr=0.1)
    bad.fail = True
    b = Param(np.ones(4), bad)
    c = Param(np.ones(2))
    with pytest.raises(RuntimeError, match="device lost"):
        update_([a, c, b], [np.ones(3), np.ones(2), np.ones(4)])
    np.testing.assert_array_equal(a.value, w_a)        # already applied: rolled back
    np.testing.assert_array_equal(a.opt.m, m_a)
    assert a.opt.t == t_a
    np.testing.assert_array_equal(b.value, 1)          # half-written: rolled back
    np.testing.assert_array_equal(c.value, 1)
    assert c.opt is None
    bad.fail = False
    update_([a, c, b], [np.ones(3), np.ones(2), np.ones(4)])
    assert b.value[-1] == pytest.approx(0.9)


def test_ctrl_c_is_held_until_the_update_ends():
    class Interrupting(SGD):
        def _math(self, w, g, st, tmp, t):
            signal.raise_signal(signal.SIGINT)          # arrives in the middle of the step
            super()._math(w, g, st, tmp, t)
    a, b = Param(np.ones(2), Interrupting(lr=0.5)), Param(np.ones(2), SGD(lr=0.5))
    with pytest.raises(KeyboardInterrupt):
        update_([a, b], [np.ones(2), np.ones(2)])
    np.testing.assert_allclose(a.value, 0.5)            # both finished before the interrupt
    np.testing.assert_allclose(b.value, 0.5)


def test_clone_and_copy():
    o = Adam(lr=0.01, gclip=2)
    update_(np.zeros(2), np.ones(2), o)
    c = o.clone()
    assert (c.lr, c.gclip, c.t, c.m) == (0.01, 2.0, 0, None)
    d = o.copy()
    assert d.t == 1 and d.m is not o.m and np.array_equal(d.m, o.m)
    assert repr(SGD()) == "SGD(lr=0.1, gclip=0.0)"
    assert issubclass(Adam, Optimizer) and math.isclose(Adam().eps, 1e-8)


def test_knetarray_param_with_sparse_gradient():
    W0 = rnd(6, 2)
    p = Param(KnetArray(W0), Adam(lr=0.1))
    y = diff(lambda: np.sum(p[np.array([1, 4, 1])] * 2.0))
    g = grad(y, p)
    update_(p, g)
    out = p.value.to_numpy()
    touched = np.array([1, 4])
    np.testing.assert_array_equal(np.delete(out, touched, axis=0), np.delete(W0, touched, axis=0))
    np.testing.assert_allclose(out[touched], W0[touched] - 0.1, rtol=1e-7)   # Adam's first step
