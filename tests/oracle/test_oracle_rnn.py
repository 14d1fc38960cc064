"""RNN against torch.nn.RNN / LSTM / GRU (CPU, float64) with the same weights:
outputs, final states and the gradients of weights, input and initial states."""
import numpy as np
import pytest

from autograd import Param, Sparse, diff, grad
from knetpy.rnn import RNN, rnnparam

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-5, atol=1e-5)


def dense(g):
    return g.dense() if isinstance(g, Sparse) else np.asarray(g)


def torch_twin(r):
    """A torch module holding r's weights (fused gate blocks copied from rnnparam)."""
    kw = dict(num_layers=r.num_layers, bidirectional=r.bidirectional, dtype=torch.float64)
    if r.rnn_type in ("relu", "tanh"):
        m = torch.nn.RNN(r.input_size, r.hidden_size, nonlinearity=r.rnn_type, **kw)
    else:
        m = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[r.rnn_type](
            r.input_size, r.hidden_size, **kw)
    G, dirs = r.ngates, 1 + r.bidirectional
    with torch.no_grad():
        for k in range(r.nlayers):
            suffix = f"_l{k // dirs}" + ("_reverse" if k % dirs else "")
            for name, ids, par in (("weight_ih", range(1, G + 1), 1),
                                   ("weight_hh", range(G + 1, 2 * G + 1), 1),
                                   ("bias_ih", range(1, G + 1), 2),
                                   ("bias_hh", range(G + 1, 2 * G + 1), 2)):
                block = np.concatenate([rnnparam(r, k + 1, i, par) for i in ids])
                getattr(m, name + suffix).copy_(torch.from_numpy(block))
    return m


def torch_grad_as_w(r, m):
    """torch's parameter gradients laid out like r.w."""
    g = np.zeros_like(r.w.value)
    G, dirs, H = r.ngates, 1 + r.bidirectional, r.hidden_size
    for k in range(r.nlayers):
        suffix = f"_l{k // dirs}" + ("_reverse" if k % dirs else "")
        for name, first, par in (("weight_ih", 1, 1), ("weight_hh", G + 1, 1),
                                 ("bias_ih", 1, 2), ("bias_hh", G + 1, 2)):
            block = getattr(m, name + suffix).grad.numpy()
            for j in range(G):
                start, shape = r._layout[(k + 1, first + j, par)]
                g[start:start + int(np.prod(shape))] = block[j * H:(j + 1) * H].ravel()
    return g


def make(rnn_type, X=4, H=5, **kw):
    r = RNN(X, H, rnn_type, dtype=np.float64, **kw)
    r.w.value[:] = np.random.default_rng(1).standard_normal(r.w.size) * 0.4
    return r


CASES = [(t, opts) for t in ("relu", "tanh", "lstm", "gru")
         for opts in ({}, {"bidirectional": True}, {"num_layers": 2},
                      {"bidirectional": True, "num_layers": 2})]


@pytest.mark.parametrize("rnn_type,opts", CASES)
def test_against_torch(rnn_type, opts):
    rng = np.random.default_rng(2)
    r = make(rnn_type, **opts)
    m = torch_twin(r)
    T, B, L, H = 6, 3, r.nlayers, r.hidden_size
    lstm = rnn_type == "lstm"
    x0, h0, c0 = rng.standard_normal((T, B, 4)), rng.standard_normal((L, B, H)), \
        rng.standard_normal((L, B, H))
    py, ph, pc = (rng.standard_normal((T, B, H * (1 + r.bidirectional))),
                  rng.standard_normal((L, B, H)), rng.standard_normal((L, B, H)))

    x, hp, cp = Param(x0.copy()), Param(h0.copy()), Param(c0.copy())
    out = {}

    def loss():
        r.h, r.c = hp, cp
        y = r(x)
        out["y"] = y
        total = np.sum(y * py) + np.sum(r.h * ph)
        return total + np.sum(r.c * pc) if lstm else total
    res = diff(loss)

    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x0, h0, c0))
    ty, state = m(tx, (th, tc) if lstm else th)
    thN = state[0] if lstm else state
    tl = (ty * torch.from_numpy(py)).sum() + (thN * torch.from_numpy(ph)).sum()
    if lstm:
        tl = tl + (state[1] * torch.from_numpy(pc)).sum()
    tl.backward()

    np.testing.assert_allclose(out["y"].value, ty.detach().numpy(), **TOL)
    np.testing.assert_allclose(r.h.value, thN.detach().numpy(), **TOL)
    if lstm:
        np.testing.assert_allclose(r.c.value, state[1].detach().numpy(), **TOL)
    np.testing.assert_allclose(float(res.value), tl.item(), **TOL)
    np.testing.assert_allclose(dense(grad(res, r.w)), torch_grad_as_w(r, m), **TOL)
    np.testing.assert_allclose(dense(grad(res, x)), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(dense(grad(res, hp)), th.grad.numpy(), **TOL)
    if lstm:
        np.testing.assert_allclose(dense(grad(res, cp)), tc.grad.numpy(), **TOL)


@pytest.mark.parametrize("rnn_type", ["tanh", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_sequences_against_torch(rnn_type, bidirectional):
    rng = np.random.default_rng(3)
    r = make(rnn_type, bidirectional=bidirectional, num_layers=2)
    m = torch_twin(r)
    bs = [4, 3, 3, 1]
    N, H, L = sum(bs), r.hidden_size, r.nlayers
    lstm = rnn_type == "lstm"
    x0, h0, c0 = rng.standard_normal((N, 4)), rng.standard_normal((L, 4, H)), \
        rng.standard_normal((L, 4, H))
    py, ph = rng.standard_normal((N, H * (1 + bidirectional))), rng.standard_normal((L, 4, H))

    x, hp, cp = Param(x0.copy()), Param(h0.copy()), Param(c0.copy())
    out = {}

    def loss():
        r.h, r.c = hp, cp
        y = r(x, batch_sizes=bs)
        out["y"] = y
        return np.sum(y * py) + np.sum(r.h * ph)
    res = diff(loss)

    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x0, h0, c0))
    packed = torch.nn.utils.rnn.PackedSequence(tx, torch.tensor(bs))
    ty, state = m(packed, (th, tc) if lstm else th)
    thN = state[0] if lstm else state
    tl = (ty.data * torch.from_numpy(py)).sum() + (thN * torch.from_numpy(ph)).sum()
    tl.backward()

    np.testing.assert_allclose(out["y"].value, ty.data.detach().numpy(), **TOL)
    np.testing.assert_allclose(r.h.value, thN.detach().numpy(), **TOL)
    np.testing.assert_allclose(dense(grad(res, r.w)), torch_grad_as_w(r, m), **TOL)
    np.testing.assert_allclose(dense(grad(res, x)), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(dense(grad(res, hp)), th.grad.numpy(), **TOL)
    if lstm:
        np.testing.assert_allclose(dense(grad(res, cp)), tc.grad.numpy(), **TOL)
