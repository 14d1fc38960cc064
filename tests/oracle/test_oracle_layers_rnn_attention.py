"""Recurrent cells/wrappers and attention vs PyTorch: values and gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograd import Param, diff, grad
from knetpy import relu
from knetpy.layers.recurrent import (BidirectionalRNN, GRUCell, LSTMCell, Recurrence, RNNCell)

rs = np.random.RandomState(13)


def load_cell(tcell, cell):
    """Copy our cell's weights into the torch cell (same fused layout)."""
    with torch.no_grad():
        tcell.weight_ih.copy_(torch.tensor(cell.weight_ih.value))
        tcell.weight_hh.copy_(torch.tensor(cell.weight_hh.value))
        tcell.bias_ih.copy_(torch.tensor(cell.bias_ih.value))
        tcell.bias_hh.copy_(torch.tensor(cell.bias_hh.value))


CELLS = [(lambda: RNNCell(3, 5, dtype=np.float64),
          lambda: torch.nn.RNNCell(3, 5, dtype=torch.float64)),
         (lambda: RNNCell(3, 5, relu, dtype=np.float64),
          lambda: torch.nn.RNNCell(3, 5, nonlinearity="relu", dtype=torch.float64)),
         (lambda: LSTMCell(3, 5, dtype=np.float64),
          lambda: torch.nn.LSTMCell(3, 5, dtype=torch.float64)),
         (lambda: GRUCell(3, 5, dtype=np.float64),
          lambda: torch.nn.GRUCell(3, 5, dtype=torch.float64))]


@pytest.mark.parametrize("ours,theirs", CELLS)
def test_cells(ours, theirs):
    cell, tcell = ours(), theirs()
    load_cell(tcell, cell)
    lstm = isinstance(cell, LSTMCell)
    x, h, c = rs.randn(4, 3), rs.randn(4, 5), rs.randn(4, 5)
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    if lstm:
        th2, tc2 = tcell(tx, (th, tc))
        tl = (th2 ** 2).sum() + (tc2 * 3).sum()
    else:
        th2 = tcell(tx, th)
        tl = (th2 ** 2).sum()
    tl.backward()
    ps = [Param(x), Param(h), Param(c)]

    def loss():
        y, carry = cell((ps[0], (ps[1], ps[2]) if lstm else (ps[1],)))
        return np.sum(y ** 2) + (np.sum(carry[1] * 3) if lstm else 0)
    out = diff(loss)
    np.testing.assert_allclose(out.value, tl.item(), rtol=1e-12)
    np.testing.assert_allclose(grad(out, ps[0]), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad(out, ps[1]), th.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        np.testing.assert_allclose(grad(out, getattr(cell, name)),
                                   getattr(tcell, name).grad.numpy(), rtol=1e-9, atol=1e-12)


def _load_rnn(trnn, cells):
    """cells[k] is direction k (0 forward, 1 backward) of a one-layer torch RNN."""
    sfx = ["_l0", "_l0_reverse"]
    with torch.no_grad():
        for k, cell in enumerate(cells):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(trnn, name + sfx[k]).copy_(torch.tensor(getattr(cell, name).value))


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh"])
@pytest.mark.parametrize("fused", [True, False])
def test_recurrence_vs_torch_rnn(kind, fused):
    make = {"lstm": LSTMCell, "gru": GRUCell, "tanh": RNNCell}[kind]
    tmake = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "tanh": torch.nn.RNN}[kind]
    cell = make(3, 4, dtype=np.float64)
    trnn = tmake(3, 4, batch_first=True, dtype=torch.float64)
    _load_rnn(trnn, [cell])
    x = rs.randn(2, 6, 3)
    tx = torch.tensor(x, requires_grad=True)
    ty = trnn(tx)[0]
    w = rs.randn(*ty.shape)
    (ty * torch.tensor(w)).sum().backward()
    r = Recurrence(cell, return_sequence=True, fused=fused)
    xp = Param(x)
    out = diff(lambda: np.sum(r(xp) * w))
    np.testing.assert_allclose(r(x), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad(out, xp), tx.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(grad(out, cell.weight_hh), trnn.weight_hh_l0.grad.numpy(),
                               rtol=1e-8, atol=1e-12)


def test_bidirectional_vs_torch():
    cell = LSTMCell(3, 4, dtype=np.float64)
    m = BidirectionalRNN(cell)
    trnn = torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True, dtype=torch.float64)
    _load_rnn(trnn, [cell, m.backward_rnn.cell])
    x = rs.randn(3, 5, 3)
    np.testing.assert_allclose(m(x), trnn(torch.tensor(x))[0].detach().numpy(), rtol=1e-10,
                               atol=1e-12)


# ---------------------------------------------------------------- attention

from knetpy.layers.attention import MultiHeadAttention  # noqa: E402


def _torch_mha(m, E, H):
    t = torch.nn.MultiheadAttention(E, H, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        t.in_proj_weight.copy_(torch.tensor(np.concatenate(
            [m.q_proj.weight.value, m.k_proj.weight.value, m.v_proj.weight.value])))
        t.out_proj.weight.copy_(torch.tensor(m.out_proj.weight.value))
    return t


@pytest.mark.parametrize("causal", [False, True])
def test_multihead_attention_vs_torch(causal):
    E, H = 8, 2
    m = MultiHeadAttention(E, nheads=H, is_causal=causal or None, dtype=np.float64)
    t = _torch_mha(m, E, H)
    q = rs.randn(3, 5, E)
    kv = q if causal else rs.randn(3, 7, E)
    tq = torch.tensor(q, requires_grad=True)
    tkv = tq if causal else torch.tensor(kv, requires_grad=True)
    cm = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1) if causal else None
    ty, ta = t(tq, tkv, tkv, attn_mask=cm, average_attn_weights=False)
    w = rs.randn(*ty.shape)
    (ty * torch.tensor(w)).sum().backward()
    qp = Param(q)
    y, a = m(q if causal else (q, kv))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a, ta.detach().numpy(), rtol=1e-10, atol=1e-12)
    out = diff(lambda: np.sum(w * m(qp if causal else (qp, kv))[0]))
    np.testing.assert_allclose(grad(out, qp), tq.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(grad(out, m.q_proj.weight), t.in_proj_weight.grad[:E].numpy(),
                               rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(grad(out, m.out_proj.weight), t.out_proj.weight.grad.numpy(),
                               rtol=1e-8, atol=1e-12)


def test_attention_mask_vs_sdpa():
    """A per-batch, per-head boolean mask: the core matches F.scaled_dot_product_attention."""
    m = MultiHeadAttention(((4, 6, 5), (6, 8), 3), nheads=2, dtype=np.float64)
    q, k, v = rs.randn(2, 3, 4), rs.randn(2, 5, 6), rs.randn(2, 5, 5)
    mask = rs.rand(2, 2, 3, 5) > 0.3
    mask[..., 0] = True                                # every query sees something
    y, a = m((q, k, v, mask))

    def heads(x, H):
        B, L, D = x.shape
        return torch.tensor(x).reshape(B, L, H, D // H).transpose(1, 2)
    Q = heads(q @ m.q_proj.weight.value.T, 2)
    K = heads(k @ m.k_proj.weight.value.T, 2)
    V = heads(v @ m.v_proj.weight.value.T, 2)
    o = F.scaled_dot_product_attention(Q, K, V, attn_mask=torch.tensor(mask))
    ref = o.transpose(1, 2).reshape(2, 3, 8).numpy() @ m.out_proj.weight.value.T
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
