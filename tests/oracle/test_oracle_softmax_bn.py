"""softmax / logsoftmax / logsumexp / nll / batchnorm / activations against PyTorch CPU
(float64, values and gradients at 1e-5)."""
import numpy as np
import pytest

from autograd import Param, diff, grad
from knetpy import (batchnorm, bnmoments, elu, gelu, logsoftmax, logsumexp, nll, relu, selu,
                    sigm, softmax)

torch = pytest.importorskip("torch")
F = torch.nn.functional
TOL = dict(rtol=1e-5, atol=1e-5)
rs = np.random.RandomState(5)


def torch_value_and_grad(fn, x, w):
    t = torch.tensor(x, requires_grad=True)
    y = fn(t)
    (y * torch.tensor(w)).sum().backward()
    return y.detach().numpy(), t.grad.numpy()


def ours_value_and_grad(fn, x, w):
    p = Param(x.copy())
    out = {}

    def loss():
        y = fn(p)
        out["y"] = np.asarray(y.value)
        return np.sum(y * w)
    g = grad(diff(loss), p)
    return out["y"], np.asarray(g)


@pytest.mark.parametrize("shape,axis", [((5, 7), -1), ((5, 7), 0), ((2, 3, 4, 5), 1)])
@pytest.mark.parametrize("op", ["softmax", "logsoftmax", "logsumexp"])
def test_softmax_family(shape, axis, op):
    x = rs.randn(*shape) * 3
    ours = {"softmax": lambda v: softmax(v, axis=axis),
            "logsoftmax": lambda v: logsoftmax(v, axis=axis),
            "logsumexp": lambda v: logsumexp(v, axis=axis)}[op]
    theirs = {"softmax": lambda t: torch.softmax(t, dim=axis),
              "logsoftmax": lambda t: torch.log_softmax(t, dim=axis),
              "logsumexp": lambda t: torch.logsumexp(t, dim=axis)}[op]
    w = rs.randn(*np.shape(ours(x)))
    y0, g0 = ours_value_and_grad(ours, x, w)
    y1, g1 = torch_value_and_grad(theirs, x, w)
    np.testing.assert_allclose(y0, y1, **TOL)
    np.testing.assert_allclose(g0, g1, **TOL)


@pytest.mark.parametrize("shape,axis", [((6, 5), -1), ((4, 5, 3), 1)])
@pytest.mark.parametrize("average", [True, False])
def test_nll_vs_cross_entropy(shape, axis, average):
    x = rs.randn(*shape) * 2
    rest = tuple(n for i, n in enumerate(shape) if i != axis % len(shape))
    a = rs.randint(0, shape[axis], size=rest)
    a.flat[0] = -1
    if average:
        y0, g0 = ours_value_and_grad(lambda v: nll(v, a, axis=axis), x, 1.0)
    else:
        y0, g0 = ours_value_and_grad(lambda v: nll(v, a, axis=axis, average=False)[0], x, 1.0)
    tx = torch.tensor(x, requires_grad=True)
    # torch wants classes in dim 1: move our class axis there
    scores = tx if axis in (1, -len(shape) + 1) else tx.movedim(axis, 1)
    ta = torch.tensor(np.where(a < 0, -100, a))
    y1 = F.cross_entropy(scores, ta, ignore_index=-100, reduction="mean" if average else "sum")
    y1.backward()
    np.testing.assert_allclose(y0, y1.item(), **TOL)
    np.testing.assert_allclose(g0, tx.grad.numpy(), **TOL)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 5), (2, 3, 3, 4, 2)])
def test_batchnorm_training_and_test(shape):
    C = shape[1]
    x = rs.randn(*shape) * 2 + 1
    p = rs.randn(2 * C)
    w = rs.randn(*shape)
    m = bnmoments(momentum=0.2)
    px, pp = Param(x.copy()), Param(p.copy())
    out = {}

    def loss():
        y = batchnorm(px, m, pp, eps=1e-3)
        out["y"] = np.asarray(y.value)
        return np.sum(y * w)
    r = diff(loss)
    tx = torch.tensor(x, requires_grad=True)
    tg = torch.tensor(p[:C], requires_grad=True)
    tb = torch.tensor(p[C:], requires_grad=True)
    rm, rv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    ty = F.batch_norm(tx, rm, rv, tg, tb, training=True, momentum=0.2, eps=1e-3)
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(out["y"], ty.detach().numpy(), **TOL)
    np.testing.assert_allclose(grad(r, px), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(grad(r, pp), np.concatenate([tg.grad.numpy(), tb.grad.numpy()]),
                               **TOL)
    np.testing.assert_allclose(m.mean, rm.numpy(), **TOL)
    np.testing.assert_allclose(m.var, rv.numpy(), **TOL)
    # test mode with the running statistics
    x2 = rs.randn(*shape)
    y2 = batchnorm(x2, m, p, eps=1e-3, training=False)
    t2 = F.batch_norm(torch.tensor(x2), rm, rv, torch.tensor(p[:C]), torch.tensor(p[C:]),
                      training=False, eps=1e-3)
    np.testing.assert_allclose(y2, t2.numpy(), **TOL)


@pytest.mark.parametrize("ours,theirs", [
    (relu, torch.relu), (elu, F.elu), (selu, F.selu), (sigm, torch.sigmoid),
    (gelu, lambda t: F.gelu(t, approximate="tanh"))], ids=["relu", "elu", "selu", "sigm", "gelu"])
def test_activations(ours, theirs):
    x = rs.randn(4, 6) * 3
    w = rs.randn(4, 6)
    y0, g0 = ours_value_and_grad(ours, x, w)
    y1, g1 = torch_value_and_grad(theirs, x, w)
    np.testing.assert_allclose(y0, y1, **TOL)
    np.testing.assert_allclose(g0, g1, **TOL)
