"""Recurrent cells/wrappers and attention vs PyTorch: values and gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograd import Param, diff, grad
from knetpy.activations import relu
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
