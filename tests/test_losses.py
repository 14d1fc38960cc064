"""nll, accuracy, zeroone, bce, logistic: values vs numpy formulas, gradients, both forms, errors."""
import warnings

import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad
from knetpy import KnetArray, accuracy, bce, logistic, nll, zeroone

rs = np.random.RandomState(2)


def ref_nll_terms(scores, answers, axis):
    """-log p(answer) per instance from probabilities written out directly."""
    s = np.moveaxis(scores, axis, -1)
    p = np.exp(s) / np.sum(np.exp(s), axis=-1, keepdims=True)
    out = []
    for idx in np.ndindex(*answers.shape):
        if answers[idx] >= 0:
            out.append(-np.log(p[idx][answers[idx]]))
    return np.array(out)


CASES = [((5, 4), -1), ((4, 5), 0), ((3, 2, 6), -1), ((3, 6, 2), 1), ((7,), 0)]


def answers_for(shape, axis, skip=True):
    C = shape[axis]
    rest = tuple(n for i, n in enumerate(shape) if i != axis % len(shape))
    a = rs.randint(0, C, size=rest)
    if skip and a.size > 1:
        a.flat[1] = -1
    return a


@pytest.mark.parametrize("shape,axis", CASES)
def test_nll_values(shape, axis):
    x = rs.randn(*shape) * 2
    a = answers_for(shape, axis)
    terms = ref_nll_terms(x, a, axis)
    assert float(nll(x, a, axis=axis)) == pytest.approx(terms.mean(), rel=1e-12)
    total, count = nll(x, a, axis=axis, average=False)
    assert count == len(terms) and float(total) == pytest.approx(terms.sum(), rel=1e-12)


def test_nll_knet_example():
    # Knet's doc example with instances as rows (its columns) and 0-based answers
    s = np.array([[12.2, 2.0, 0.0], [0.3, 21.5, -21.0]])
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    want = -(np.log(p[0, 0]) + np.log(p[1, 1])) / 2
    assert float(nll(s, np.array([0, 1]))) == pytest.approx(want, rel=1e-9)
    assert float(nll(s.T, np.array([0, 1]), axis=0)) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("shape,axis", CASES)
@pytest.mark.parametrize("average", [True, False])
def test_nll_gradients(shape, axis, average):
    x = Param(rs.randn(*shape))
    a = answers_for(shape, axis)
    f = (lambda: nll(x, a, axis=axis)) if average else (lambda: nll(x, a, axis=axis,
                                                                        average=False)[0])
    assert gcheck(f)


def test_nll_gradient_is_softmax_minus_onehot():
    x = rs.randn(4, 3)
    a = np.array([2, -1, 0, 1])
    g = grad(lambda z: nll(z, a))(x)
    p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    want = p.copy()
    want[[0, 2, 3], a[[0, 2, 3]]] -= 1
    want[1] = 0
    np.testing.assert_allclose(g, want / 3, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("axis", [0, 1])
def test_nll_higher_order(axis):
    x = Param(rs.randn(4, 3))
    a = answers_for((4, 3), axis)
    w = rs.randn(4, 3)
    g = grad(lambda z: nll(z, a, axis=axis))
    assert gcheck(lambda: np.sum(g(x * 1.0) * w) ** 2)
    gg = grad(lambda z: np.sum(g(z) * w) ** 2)
    assert gcheck(lambda: np.sum(gg(x * 1.0) ** 2))


def test_nll_large_scores_and_dtypes():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(nll(x, np.array([0, 1]))) == pytest.approx(np.log(2) / 2)
        g = grad(lambda z: nll(z, np.array([0, 1])))(x)
    assert np.all(np.isfinite(g))
    for dt in (np.float32, np.float16):
        x = rs.randn(5, 4).astype(dt)
        a = answers_for((5, 4), -1)
        y = nll(x, a)
        assert np.result_type(y) == dt
        want = ref_nll_terms(x.astype(np.float64), a, -1).mean()
        assert float(y) == pytest.approx(want, rel=1e-5 if dt == np.float32 else 3e-3)


def test_nll_flat_answers_are_reshaped():
    x = rs.randn(3, 2, 4)
    a = rs.randint(0, 4, size=(3, 2))
    assert float(nll(x, a.ravel())) == pytest.approx(float(nll(x, a)))


def test_nll_model_form():
    w = Param(rs.randn(3, 4))
    model = lambda x, scale=1.0: (x @ w) * scale
    data = [(rs.randn(5, 3), rs.randint(0, 4, 5)) for _ in range(3)]
    terms = np.concatenate([ref_nll_terms(x @ w.value * 2, y, -1) for x, y in data])
    assert float(nll(model, data, scale=2.0)) == pytest.approx(terms.mean(), rel=1e-12)
    total, count = nll(model, data, average=False, scale=2.0)
    assert count == 15 and float(total) == pytest.approx(terms.sum(), rel=1e-12)
    # differentiable when called inside diff
    y = diff(lambda: nll(model, data))
    assert grad(y, w).shape == (3, 4)


def test_nll_errors():
    x = rs.randn(3, 4)
    with pytest.raises(ValueError, match=r"answers must be in 0..3"):
        nll(x, np.array([0, 4, 1]))
    with pytest.raises(TypeError, match="answers must be integer"):
        nll(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"answers must have shape \(3,\)"):
        nll(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="every answer is negative"):
        nll(x, np.array([-1, -1, -1]))
    with pytest.raises(TypeError, match="scores must hold floats"):
        nll(np.ones((3, 4), int), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        nll(x, np.array([0, 1, 2]), axis=2)
    assert nll(x, np.array([-1, -1, -1]), average=False)[1] == 0


def test_nll_on_knetarrays_matches_numpy():
    x = rs.randn(4, 5)
    a = answers_for((4, 5), -1)
    y = nll(KnetArray(x), a)
    assert isinstance(y, KnetArray) and float(y) == pytest.approx(float(nll(x, a)))
    p = Param(KnetArray(x))
    g = grad(diff(lambda: nll(p, a)), p)
    np.testing.assert_allclose(np.asarray(g), grad(lambda z: nll(z, a))(x), rtol=1e-12)


# ------------------------------------------------------------- accuracy, zeroone
def test_accuracy_and_zeroone():
    s = rs.randn(6, 3)
    a = np.argmax(s, axis=1)
    a[[0, 1]] = (a[[0, 1]] + 1) % 3          # two wrong
    a[2] = -1                                 # one skipped
    assert accuracy(s, a) == pytest.approx(3 / 5)
    assert accuracy(s, a, average=False) == (3, 5)
    assert zeroone(s, a) == pytest.approx(2 / 5)
    assert zeroone(s, a, average=False) == (2, 5)
    assert accuracy(s.T, a, axis=0) == pytest.approx(3 / 5)
    assert accuracy(Param(s), a) == pytest.approx(3 / 5)
    assert accuracy(KnetArray(s), a) == pytest.approx(3 / 5)


def test_accuracy_model_form():
    w = rs.randn(3, 4)
    model = lambda x: x @ w
    data = [(rs.randn(5, 3), rs.randint(0, 4, 5)) for _ in range(4)]
    correct = sum(int(np.sum(np.argmax(x @ w, 1) == y)) for x, y in data)
    assert accuracy(model, data) == pytest.approx(correct / 20)
    assert accuracy(model, data, average=False) == (correct, 20)
    assert zeroone(model, data) == pytest.approx(1 - correct / 20)
    with pytest.raises(ValueError, match="no instance"):
        accuracy(model, [])
    with pytest.raises(ValueError, match=r"\(inputs, answers\) pairs"):
        accuracy(model, [rs.randn(2, 3)])


def test_accuracy_errors():
    with pytest.raises(ValueError, match=r"answers must be in 0..2"):
        accuracy(rs.randn(2, 3), np.array([0, 3]))
    with pytest.raises(TypeError, match="answers must be integer"):
        accuracy(rs.randn(2, 3), np.array([0.5, 1]))


# ------------------------------------------------------------- bce, logistic
def sig(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("shape", [(6,), (3, 4)])
def test_bce_and_logistic_values(shape):
    s = rs.randn(*shape) * 2
    y01 = rs.randint(0, 2, size=shape)
    ypm = 2 * y01 - 1
    b = -(y01 * np.log(sig(s)) + (1 - y01) * np.log(1 - sig(s)))
    l = np.log(1 + np.exp(-ypm * s))
    assert float(bce(s, y01)) == pytest.approx(b.mean(), rel=1e-12)
    assert float(logistic(s, ypm)) == pytest.approx(l.mean(), rel=1e-12)
    tb, nb = bce(s, y01, average=False)
    tl, nl = logistic(s, ypm, average=False)
    assert (nb, nl) == (b.size, l.size)
    assert float(tb) == pytest.approx(b.sum()) and float(tl) == pytest.approx(l.sum())


@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 2, 3)])
def test_bce_and_logistic_gradients(shape):
    s = Param(rs.randn(*shape))
    y01 = rs.randint(0, 2, size=shape)
    assert gcheck(lambda: bce(s, y01))
    assert gcheck(lambda: logistic(s, 2 * y01 - 1))
    np.testing.assert_allclose(grad(lambda z: bce(z, y01))(s.value),
                               (sig(s.value) - y01) / y01.size, rtol=1e-10)


def test_bce_logistic_stable_and_typed():
    s = np.array([1e4, -1e4, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(bce(s, np.array([1, 0, 1]))) == pytest.approx(np.log(2) / 3)
        assert float(logistic(s, np.array([1, -1, -1]))) == pytest.approx(np.log(2) / 3)
    s32 = rs.randn(4).astype(np.float32)
    assert np.result_type(bce(s32, np.array([0, 1, 1, 0]))) == np.float32


def test_bce_logistic_errors():
    s = rs.randn(4)
    with pytest.raises(ValueError, match=r"bce: answers must be in \{0, 1\}"):
        bce(s, np.array([0, 1, 2, 1]))
    with pytest.raises(ValueError, match=r"logistic: answers must be in \{1, -1\}|\{-1, 1\}"):
        logistic(s, np.array([0, 1, 1, 1]))
    with pytest.raises(ValueError, match="shape of scores"):
        bce(s, np.array([0, 1]))


def test_misspelt_keywords_are_type_errors():
    import knetpy
    s, y = np.array([[1.0, 2.0], [0.5, 0.1]]), np.array([1, 0])
    for f in (knetpy.nll, knetpy.accuracy, knetpy.zeroone):
        with pytest.raises(TypeError, match="avarage"):
            f(s, y, avarage=False)
    for f in (knetpy.bce, knetpy.logistic):
        with pytest.raises(TypeError):
            f(s, (y[:, None] * np.ones(2, int)), avarage=False)
    with pytest.raises(TypeError):
        knetpy.softmax(s, axes=0)
    with pytest.raises(TypeError):
        knetpy.dropout(s, 0.5, dorp=True)
    with pytest.raises(TypeError):
        knetpy.batchnorm(s, eps0=1e-3)
