"""knetpy.layers.recurrent: cells vs numpy formulas, sequence wrappers, gradients, errors."""
import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad, params
from knetpy import relu
from knetpy.layers.recurrent import (BidirectionalRNN, GRUCell, LSTMCell, Recurrence, RNNCell,
                                     StatefulRecurrentCell)

rs = np.random.RandomState(5)


def sig(a):
    return 1 / (1 + np.exp(-a))


def ref_step(cell, x, h, c=None):
    """One step written from the textbook equations, gate by gate."""
    H = cell.out_dims
    Wi, Wh = np.asarray(cell.weight_ih.value), np.asarray(cell.weight_hh.value)
    bi = np.zeros(Wi.shape[0]) if cell.bias_ih is None else cell.bias_ih.value
    bh = np.zeros(Wi.shape[0]) if cell.bias_hh is None else cell.bias_hh.value

    def lin(k, v, W, b):
        return v @ W[k * H:(k + 1) * H].T + b[k * H:(k + 1) * H]

    if isinstance(cell, LSTMCell):
        pre = [lin(k, x, Wi, bi) + lin(k, h, Wh, bh) for k in range(4)]
        i, f, g, o = sig(pre[0]), sig(pre[1]), np.tanh(pre[2]), sig(pre[3])
        c2 = f * c + i * g
        return o * np.tanh(c2), c2
    if isinstance(cell, GRUCell):
        r = sig(lin(0, x, Wi, bi) + lin(0, h, Wh, bh))
        z = sig(lin(1, x, Wi, bi) + lin(1, h, Wh, bh))
        n = np.tanh(lin(2, x, Wi, bi) + r * lin(2, h, Wh, bh))
        return (1 - z) * n + z * h, None
    return cell.activation(lin(0, x, Wi, bi) + lin(0, h, Wh, bh)), None


def ref_sequence(cell, xs, h, c=None):
    ys = []
    for x in xs:
        h, c = ref_step(cell, x, h, c)
        ys.append(h)
    return np.stack(ys)


CELLS = [lambda **k: RNNCell(3, 4, dtype=np.float64, **k),
         lambda **k: RNNCell(3, 4, relu, dtype=np.float64, **k),             # fused relu
         lambda **k: RNNCell(3, 4, np.sin, dtype=np.float64, **k),           # stepwise only
         lambda **k: LSTMCell(3, 4, dtype=np.float64, **k),
         lambda **k: GRUCell(3, 4, dtype=np.float64, **k)]


@pytest.mark.parametrize("make", CELLS)
def test_cell_values_and_carry_forms(make):
    cell = make()
    x = rs.randn(5, 3)
    lstm = isinstance(cell, LSTMCell)
    y, carry = cell(x)
    assert y.shape == (5, 4) and len(carry) == (2 if lstm else 1) and carry[0] is y
    h0, c0 = np.zeros((5, 4)), np.zeros((5, 4))
    np.testing.assert_allclose(y, ref_step(cell, x, h0, c0)[0], atol=1e-12)
    h, c = rs.randn(5, 4), rs.randn(5, 4)
    y2, carry2 = cell((x, (h, c) if lstm else (h,)))
    rh, rc = ref_step(cell, x, h, c)
    np.testing.assert_allclose(y2, rh, atol=1e-12)
    if lstm:
        np.testing.assert_allclose(carry2[1], rc, atol=1e-12)


@pytest.mark.parametrize("make", CELLS[:1] + CELLS[3:])
def test_cell_gradients(make):
    cell = make()
    lstm = isinstance(cell, LSTMCell)
    x = Param(rs.randn(3, 3))
    h = Param(rs.randn(3, 4))
    c = Param(rs.randn(3, 4))

    def f(x):
        y, carry = cell((x, (h, c) if lstm else (h,)))
        return np.sum(np.sin(y)) + (np.sum(carry[1] ** 2) if lstm else 0)
    assert gcheck(f, x)          # checks x, h, c and every weight of the cell


def test_cell_options_and_init_rules():
    H = 5
    cell = LSTMCell(3, H)
    bound = 1 / np.sqrt(H)
    for p in params(cell):
        assert p.value.dtype == np.float32 and np.abs(p.value).max() <= bound
    assert cell.weight_ih.shape == (4 * H, 3) and cell.weight_hh.shape == (4 * H, H)
    assert cell.bias_ih.shape == (4 * H,) and cell.nparams() == 4 * H * (3 + H + 2)
    nob = GRUCell(3, H, use_bias=False)
    assert nob.bias_ih is None and len(params(nob)) == 2
    # one initializer per gate
    ones = lambda *s, dtype: np.ones(s, dtype)          # noqa: E731
    zeros = lambda *s, dtype: np.zeros(s, dtype)        # noqa: E731
    g = GRUCell(2, 3, init_weight=(ones, zeros, ones), init_bias=zeros)
    np.testing.assert_array_equal(g.weight_ih.value[:, 0], [1, 1, 1, 0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(g.weight_hh.value, g.weight_ih.value[:, :1].repeat(3, 1))
    assert not g.bias_hh.value.any()
    with pytest.raises(ValueError, match="tuple of 3"):
        GRUCell(2, 3, init_weight=(ones, ones))
    # init_state is used when no carry is given
    r = RNNCell(2, 3, init_state=lambda *s, dtype: np.full(s, 0.5, dtype), dtype=np.float64)
    x = rs.randn(4, 2)
    np.testing.assert_allclose(r(x)[0], ref_step(r, x, np.full((4, 3), 0.5))[0])


def test_train_state_and_memory():
    cell = LSTMCell(3, 4, train_state=True, train_memory=True, dtype=np.float64)
    assert cell.hidden_state.shape == (4,) and cell.memory.shape == (4,)
    cell.hidden_state.value[:] = rs.randn(4)
    cell.memory.value[:] = rs.randn(4)
    x = rs.randn(2, 3)
    h0 = np.tile(cell.hidden_state.value, (2, 1))
    c0 = np.tile(cell.memory.value, (2, 1))
    np.testing.assert_allclose(cell(x)[0], ref_step(cell, x, h0, c0)[0], atol=1e-12)
    out = diff(lambda: np.sum(cell(x)[0]))
    assert grad(out, cell.hidden_state) is not None and grad(out, cell.memory) is not None
    assert gcheck(lambda x: np.sum(np.sin(cell(x)[0])), Param(x))
    assert "train_state=true" in repr(cell) and "train_memory=true" in repr(cell)
    g = GRUCell(3, 4, train_state=True, dtype=np.float64)
    r = Recurrence(g, return_sequence=True)
    xs = Param(rs.randn(2, 4, 3))
    assert gcheck(lambda x: np.sum(np.sin(r(x))), xs)                    # fused path
    out = diff(lambda: np.sum(r(xs)))
    assert grad(out, g.hidden_state).shape == (4,)


def test_cell_errors():
    cell = LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        cell(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(x, \(h, c\)\)"):
        cell((np.ones((2, 3), np.float32), (np.ones((2, 4), np.float32),)))
    with pytest.raises(ValueError, match="h must have shape"):
        cell((np.ones((2, 3), np.float32), (np.ones((3, 4)), np.ones((2, 4)))))
    with pytest.raises(TypeError, match="floats"):
        cell(np.ones((2, 3), int))
    with pytest.raises(ValueError, match="out_dims"):
        GRUCell(3, 0)


@pytest.mark.parametrize("make", CELLS)
def test_recurrence_orderings_and_values(make):
    cell = make()
    lstm = isinstance(cell, LSTMCell)
    x = rs.randn(2, 6, 3)                                   # (B, T, X)
    ref = ref_sequence(cell, x.transpose(1, 0, 2), np.zeros((2, 4)),
                       np.zeros((2, 4)) if lstm else None)  # (T, B, H)
    for fused in (True, False):
        seq = Recurrence(cell, return_sequence=True, fused=fused)
        np.testing.assert_allclose(seq(x), ref.transpose(1, 0, 2), atol=1e-12)
        last = Recurrence(cell, fused=fused)
        np.testing.assert_allclose(last(x), ref[-1], atol=1e-12)
        tf = Recurrence(cell, ordering="time_first", return_sequence=True, fused=fused)
        np.testing.assert_allclose(tf(x.transpose(1, 0, 2)), ref, atol=1e-12)
        out = seq([x[:, t] for t in range(6)])              # list input -> list output
        assert isinstance(out, list) and len(out) == 6
        np.testing.assert_allclose(out[2], ref[2], atol=1e-12)
        np.testing.assert_allclose(last(tuple(x[:, t] for t in range(6))), ref[-1], atol=1e-12)


@pytest.mark.parametrize("make", [CELLS[0], CELLS[1], CELLS[3], CELLS[4]])
def test_recurrence_gradients(make):
    cell = make()
    x = Param(rs.randn(2, 4, 3))
    for fused in (True, False):
        r = Recurrence(cell, return_sequence=True, fused=fused)
        assert gcheck(lambda x: np.sum(np.sin(r(x))), x)
    # both paths give the same gradients
    gs = []
    for fused in (True, False):
        r = Recurrence(cell, fused=fused)
        out = diff(lambda: np.sum(r(x) ** 2))
        gs.append([grad(out, p) for p in [x] + params(cell)])
    for a, b in zip(*gs):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_recurrence_second_order_needs_unfused():
    cell = RNNCell(2, 3, dtype=np.float64)
    r = Recurrence(cell, fused=False)
    x = Param(rs.randn(2, 3, 2))
    gfun = grad(lambda x: np.sum(r(x) ** 2))
    assert gcheck(lambda x: np.sum(gfun(x) ** 2), x)


def test_recurrence_stacked_in_a_chain():
    from knetpy.layers.containers import Chain
    model = Chain(Recurrence(RNNCell(3, 5), return_sequence=True),
                  Recurrence(RNNCell(5, 5), return_sequence=True),
                  Recurrence(LSTMCell(5, 2)))
    assert model(rs.randn(4, 7, 3).astype(np.float32)).shape == (4, 2)


def test_recurrence_errors():
    r = Recurrence(GRUCell(3, 4))
    with pytest.raises(ValueError, match="3-dim array"):
        r(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="3 features"):
        r(np.ones((2, 5, 4), np.float32))
    with pytest.raises(ValueError, match="empty"):
        r([])
    with pytest.raises(ValueError, match="ordering"):
        Recurrence(GRUCell(3, 4), ordering="batch_last")
    with pytest.raises(TypeError, match="cell"):
        Recurrence(np.tanh)


def test_stateful_recurrent_cell():
    cell = GRUCell(3, 4, dtype=np.float64)
    m = StatefulRecurrentCell(cell)
    x = rs.randn(2, 5, 3)
    assert m.nstates() == 0
    ys = [m(x[:, t]) for t in range(5)]
    assert m.nstates() == 2 * 4 and "plus 8 states" in repr(m)
    ref = Recurrence(cell, return_sequence=True)(x)
    np.testing.assert_allclose(np.stack(ys, 1), ref, atol=1e-12)
    with pytest.raises(ValueError, match="reset"):
        m(rs.randn(3, 3))
    m.reset()
    np.testing.assert_allclose(m(x[:, 0]), ref[:, 0], atol=1e-12)      # starts afresh
    # inside one diff the gradient flows through the carried state
    m.reset()
    xp = Param(x)
    out = diff(lambda: np.sum(m(xp[:, 0]) * 0 + m(xp[:, 1]) ** 2))
    gx = grad(out, xp)
    gx = gx.dense() if hasattr(gx, "dense") else gx
    assert np.abs(gx[:, 0]).sum() > 0
    m.reset()
    assert gcheck(lambda x: (m.reset(), np.sum(np.sin(m(x[:, 0]) + m(x[:, 1]))))[1], xp)


def test_bidirectional():
    cell = LSTMCell(3, 4, dtype=np.float64)
    m = BidirectionalRNN(cell)
    assert m.backward_rnn.cell is not cell and isinstance(m.backward_rnn.cell, LSTMCell)
    assert not np.allclose(m.backward_rnn.cell.weight_ih.value, cell.weight_ih.value)
    assert m.nparams() == 2 * cell.nparams()
    x = rs.randn(2, 5, 3)
    y = m(x)
    assert y.shape == (2, 5, 8)
    fwd = Recurrence(cell, return_sequence=True)(x)
    bwd = Recurrence(m.backward_rnn.cell, return_sequence=True)(x[:, ::-1])[:, ::-1]
    np.testing.assert_allclose(y, np.concatenate([fwd, bwd], -1), atol=1e-12)
    yf, yb = BidirectionalRNN(cell, m.backward_rnn.cell, merge_mode=None)(x)
    np.testing.assert_allclose(yb, bwd, atol=1e-12)
    s = BidirectionalRNN(cell, m.backward_rnn.cell, merge_mode="sum")(x)
    np.testing.assert_allclose(s, fwd + bwd, atol=1e-12)
    f = BidirectionalRNN(cell, m.backward_rnn.cell, merge_mode=lambda a, b: a - b)(x)
    np.testing.assert_allclose(f, fwd - bwd, atol=1e-12)
    t = BidirectionalRNN(cell, m.backward_rnn.cell, ordering="time_first")(x.transpose(1, 0, 2))
    np.testing.assert_allclose(t, y.transpose(1, 0, 2), atol=1e-12)
    lst = m([x[:, i] for i in range(5)])
    np.testing.assert_allclose(lst[1], y[:, 1], atol=1e-12)
    # a different backward cell type and size is allowed; unfused path agrees
    m2 = BidirectionalRNN(GRUCell(3, 2, dtype=np.float64), RNNCell(3, 3, dtype=np.float64),
                          fused=False)
    assert m2(x).shape == (2, 5, 5)
    xp = Param(x[:, :3])
    assert gcheck(lambda x: np.sum(np.sin(m(x))), xp)
    with pytest.raises(ValueError, match="input features"):
        BidirectionalRNN(cell, GRUCell(2, 4))
    with pytest.raises(ValueError, match="merge_mode"):
        BidirectionalRNN(cell, merge_mode="max")


def test_docstring_examples():
    import doctest

    import knetpy.layers.recurrent as m
    res = doctest.testmod(m, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0
