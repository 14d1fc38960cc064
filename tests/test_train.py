"""minimize and the optimizer iterators, converge, minibatch, ncycle, take."""
import itertools

import numpy as np
import pytest

import knetpy
from autograd import Param, diff, grad
from knetpy.optim import SGD, Adam, Momentum, Rmsprop
from knetpy.update import update_
from knetpy.train import (adadelta, adagrad, adam, adam_, converge, converge_, minibatch,
                          minimize, minimize_, momentum, ncycle, nesterov, rmsprop, sgd, sgd_,
                          take)


def linreg(seed=0, n=40):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    return x, y


class Model:
    def __init__(self, seed=1):
        r = np.random.default_rng(seed)
        self.w = Param(r.standard_normal((3, 1)) * 0.1)
        self.b = Param(np.zeros(1))

    def __call__(self, x, y):
        return np.mean((x @ self.w + self.b - y) ** 2)


def by_hand(model, data, opt_factory):
    """The same training written with diff/grad/update_ by hand."""
    opts = {}
    losses = []
    for x, y in data:
        r = diff(model, x, y)
        for p in (model.w, model.b):
            o = opts.setdefault(id(p), opt_factory())
            update_(p.value, grad(r, p), o)
        losses.append(float(r.value))
    return losses


@pytest.mark.parametrize("fn,cls,kw", [
    (sgd, SGD, dict(lr=0.05)), (momentum, Momentum, dict(lr=0.01, gamma=0.9)),
    (adam, Adam, dict(lr=0.01)), (rmsprop, Rmsprop, dict(lr=0.01, rho=0.8))])
def test_iterators_match_hand_written_loop(fn, cls, kw):
    x, y = linreg()
    data = minibatch(x, y, 8)
    m1, m2 = Model(), Model()
    losses = [float(l) for l in fn(m1, data, **kw)]
    assert losses == pytest.approx(by_hand(m2, data, lambda: cls(**kw)), rel=1e-12)
    np.testing.assert_allclose(m1.w.value, m2.w.value, rtol=1e-12)
    assert isinstance(m1.w.opt, cls) and m1.w.opt.lr == kw["lr"]
    assert m1.w.opt is not m1.b.opt


def test_every_optimizer_reduces_the_loss():
    x, y = linreg()
    for fn, kw in [(sgd, {}), (momentum, {}), (nesterov, {}), (adagrad, dict(lr=0.3)),
                   (rmsprop, {}), (adadelta, dict(eps=1e-2)), (adam, dict(lr=0.05))]:
        m = Model()
        losses = list(fn(m, ncycle(minibatch(x, y, 10), 20), **kw))
        assert len(losses) == 80
        assert np.mean(losses[-4:]) < 0.5 * np.mean(losses[:4]), fn.__name__


def test_laziness():
    calls = []

    def data():
        for i in range(3):
            calls.append(i)
            yield np.ones(1)
    w = Param(np.zeros(1))
    itr = sgd(lambda x: np.sum((w - x) ** 2), data())
    assert calls == [] and w.value[0] == 0          # nothing happens before iterating
    next(itr)
    assert calls == [0] and w.value[0] == pytest.approx(0.2)
    assert iter(itr) is itr
    assert len(list(itr)) == 2 and calls == [0, 1, 2]


def test_batch_forms_and_len():
    w = Param(np.zeros(2))
    seen = []

    def f(*args):
        seen.append(len(args))
        return np.sum(w * w)
    minimize_(f, [(1, 2), np.ones(2), ()], SGD())
    assert seen == [2, 1, 0]                        # tuples are spread, others passed whole
    assert len(sgd(f, [(), ()])) == 2
    with pytest.raises(TypeError):
        len(sgd(f, iter([()])))


def test_existing_opt_is_kept_and_resume_is_exact():
    x, y = linreg()
    data = list(minibatch(x, y, 5))
    full = Model()
    ref = [float(l) for l in adam(full, data, lr=0.02)]
    m = Model()
    part1 = [float(l) for l in adam(m, data[:3], lr=0.02)]
    state = m.w.opt
    part2 = [float(l) for l in sgd(m, data[3:], lr=99.0)]   # Params keep their Adam
    assert m.w.opt is state and isinstance(state, Adam) and state.t == len(data)
    assert part1 + part2 == ref
    np.testing.assert_array_equal(m.w.value, full.w.value)


def test_params_keyword_restricts_updates():
    m = Model()
    b0 = m.b.value.copy()
    x, y = linreg()
    sgd_(m, minibatch(x, y, 10), params=[m.w])
    np.testing.assert_array_equal(m.b.value, b0)
    assert m.b.opt is None
    m2 = Model()
    sgd_(m2, minibatch(x, y, 10), params={"only": m2.b})     # any object holding Params
    assert m2.w.opt is None and m2.b.opt is not None


def test_gclip_keyword():
    w = Param(np.zeros(2))
    losses = list(sgd(lambda: np.sum((w - np.array([30.0, 40.0])) ** 2), [()], lr=1.0, gclip=1.0))
    np.testing.assert_allclose(w.value, [0.6, 0.8])
    assert w.opt.gclip == 1.0 and losses == [2500.0]
    v = Param(np.zeros(2))
    minimize_(lambda: np.sum((v - 30.0) ** 2), [()], SGD(lr=1.0), gclip=3.0)
    np.testing.assert_allclose(np.linalg.norm(v.value), 3.0)


def test_failed_steps_change_nothing_and_iteration_can_go_on():
    m = Model()
    x, y = linreg()
    good = list(minibatch(x, y, 10))
    adam_(m, good[:2], lr=0.01)
    snap = (m.w.value.copy(), m.w.opt.m.copy(), m.w.opt.v.copy(), m.w.opt.t)
    bad_shape = (np.ones((10, 4)), y[:10])                 # the model's matmul fails
    with_nan = (np.full((10, 3), np.nan), y[:10])
    itr = adam(m, [bad_shape, with_nan, good[2]], lr=0.01, check_finite=True)
    with pytest.raises(ValueError):
        next(itr)
    with pytest.raises(FloatingPointError, match="loss of step 1 is nan"):
        next(itr)
    np.testing.assert_array_equal(m.w.value, snap[0])
    np.testing.assert_array_equal(m.w.opt.m, snap[1])
    np.testing.assert_array_equal(m.w.opt.v, snap[2])
    assert m.w.opt.t == snap[3]
    next(itr)                                               # the next good batch trains
    assert m.w.opt.t == snap[3] + 1 and itr.steps == 1


def test_nonfinite_gradient_with_finite_loss_is_caught():
    w = Param(np.array([0.0, 1.0]))
    first = Param(np.array([1.0]))
    f = lambda: np.sum(first * 2.0) + np.sum(np.sqrt(w))   # d sqrt(w)/dw = inf at 0
    with pytest.raises(FloatingPointError, match="non-finite"):
        with np.errstate(divide="ignore"):
            next(sgd(f, [()], check_finite=True))
    assert first.value[0] == 1.0 and first.opt is None and w.opt is None


def test_minimize_errors():
    with pytest.raises(TypeError, match="f must be callable"):
        minimize(3, [])
    with pytest.raises(TypeError, match="optimizer must be an Optimizer"):
        minimize(len, [], "adam")
    with pytest.raises(TypeError, match="data must be iterable"):
        minimize(len, 5)
    with pytest.raises(TypeError, match="unexpected keyword.*'beta1'"):
        sgd(len, [], beta1=0.9)
    w = Param(np.ones(2))
    with pytest.raises(ValueError, match="scalar"):
        next(sgd(lambda: w * 2, [()]))


# ---------------------------------------------------------------- converge
def test_converge_follows_the_rule():
    vals = [10.0, 8, 7, 6.5, 6.4, 6.6, 6.3, 6.9, 7.5, 8, 9, 10, 11, 12]
    out = list(converge(vals, alpha=0.3))
    avgx, avgp, expect = vals[0], 0.0, []
    for v in vals:                         # the rule written out
        p = v - avgx
        avgx = 0.3 * v + 0.7 * avgx
        avgp = 0.3 * p + 0.7 * avgp
        if avgp > 0:
            break
        expect.append(v)
    assert out == expect and len(out) < len(vals)


def test_converge_stops_endless_training():
    x, y = linreg(n=200)
    y = y + 0.3 * np.random.default_rng(5).standard_normal(y.shape)
    m = Model()
    n = sum(1 for _ in converge(adam(m, take(ncycle([(x, y)]), 5000), lr=0.1)))
    assert 10 < n < 5000                   # stopped by converge, not by take
    X = np.hstack([x, np.ones((len(x), 1))])
    best = np.mean((X @ np.linalg.lstsq(X, y, rcond=None)[0] - y) ** 2)
    assert m(x, y) == pytest.approx(best, rel=1e-6)
    assert converge_(iter([1.0, 2.0])) is None


def test_converge_errors():
    with pytest.raises(FloatingPointError, match="value 2 is nan"):
        list(converge([1.0, float("nan")]))
    with pytest.raises(TypeError, match="must be a number"):
        list(converge([np.ones(3)]))
    with pytest.raises(ValueError, match="alpha"):
        converge([], alpha=0)


# ---------------------------------------------------------------- minibatch
def test_minibatch_basic_and_partial():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    d = minibatch(x, y, 4)
    assert len(d) == 2
    batches = list(d)
    np.testing.assert_array_equal(batches[1][0], x[4:8])
    np.testing.assert_array_equal(batches[1][1], y[4:8])
    dp = minibatch(x, y, 4, partial=True)
    assert len(dp) == 3 and len(list(dp)[-1][1]) == 2
    assert [b.shape for b in minibatch(x, 3)] == [(3, 2)] * 3      # int 2nd arg: batchsize
    assert [len(b) for b in minibatch(x, batchsize=5)] == [5, 5]
    assert list(minibatch(np.zeros((3, 2)), batchsize=5)) == []
    assert len(list(minibatch(np.zeros((3, 2)), batchsize=5, partial=True))) == 1
    assert "3 batches" in repr(dp)


def test_minibatch_shuffle_every_epoch_and_seed():
    x = np.arange(50)
    d = minibatch(x, 10, shuffle=True, seed=3)
    e1, e2 = np.concatenate(list(d)), np.concatenate(list(d))
    assert sorted(e1) == list(x) and sorted(e2) == list(x)
    assert not np.array_equal(e1, e2) and not np.array_equal(e1, x)
    d2 = minibatch(x, 10, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate(list(d2)), e1)     # seeded: reproducible
    knetpy.seed(7)
    a = np.concatenate(list(minibatch(x, 10, shuffle=True)))
    knetpy.seed(7)
    b = np.concatenate(list(minibatch(x, 10, shuffle=True)))
    np.testing.assert_array_equal(a, b)                             # knetpy.seed governs
    xy = minibatch(x, x * 2, 7, shuffle=True, seed=1, partial=True)
    for xb, yb in xy:
        np.testing.assert_array_equal(yb, xb * 2)                   # pairs stay together


def test_minibatch_types_and_sizes():
    x = np.arange(24, dtype=np.int64).reshape(6, 4)
    y = np.arange(6)
    d = minibatch(x, y, 2, xtype=np.float32, ytype="int32", xsize=(6, 2, 2), ysize=(6, 1))
    xb, yb = next(iter(d))
    assert xb.dtype == np.float32 and xb.shape == (2, 2, 2)
    assert yb.dtype == np.int32 and yb.shape == (2, 1)
    k = next(iter(minibatch(x, 3, xtype=knetpy.KnetArray)))
    assert isinstance(k, knetpy.KnetArray) and k.shape == (3, 4)
    assert next(iter(minibatch(x, 2, xsize=(6, -1, 1)))).shape == (2, 4, 1)
    assert next(iter(minibatch(x, 2, xtype=lambda a: a.T))).shape == (4, 2)
    assert next(iter(minibatch([[1, 2], [3, 4]], 1))).tolist() == [[1, 2]]


def test_minibatch_errors():
    with pytest.raises(ValueError, match="x has 3 instances.*y has 2"):
        minibatch(np.zeros((3, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="batchsize must be a positive integer"):
        minibatch(np.zeros(3), batchsize=0)
    with pytest.raises(ValueError, match="xsize"):
        minibatch(np.zeros((4, 6)), xsize=(4, 5))
    with pytest.raises(ValueError, match="0-d"):
        minibatch(np.float64(1.0))
    with pytest.raises(TypeError, match="xtype"):
        minibatch(np.zeros(3), xtype=3)
    with pytest.raises(ValueError, match="seed"):
        minibatch(np.zeros(3), seed=-1)


# ---------------------------------------------------------------- ncycle and take
def test_ncycle_take():
    d = minibatch(np.arange(6), 2, shuffle=True, seed=0)
    c = ncycle(d, 3)
    assert len(c) == 9
    epochs = [np.concatenate(list(itertools.islice(iter(c), 3 * i, 3 * i + 3))) for i in range(1)]
    assert sorted(epochs[0]) == list(range(6))
    t = take(ncycle([1, 2, 3]), 7)
    assert len(t) == 7 and list(t) == [1, 2, 3, 1, 2, 3, 1]
    assert len(take([1, 2], 5)) == 2
    assert list(ncycle([], None)) == []            # an empty dataset does not spin forever
    with pytest.raises(TypeError, match="re-iterable"):
        ncycle(iter([1, 2]))
    with pytest.raises(ValueError):
        take([1], -1)
    with pytest.raises(TypeError, match="endless"):
        len(ncycle([1]))
