"""knetpy.layers.attention: MultiHeadAttention and positional embeddings vs numpy formulas."""
import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad
from knetpy.layers.attention import (MultiHeadAttention, RotaryPositionalEmbedding,
                                     SinusoidalPositionalEmbedding, apply_rotary_embedding,
                                     compute_rotary_embedding_params)
from knetpy.layers.base import testmode, trainmode

rs = np.random.RandomState(3)


def ref_mha(m, q, k, v, mask=None):
    """Loops over batch, head and query, with an explicit softmax."""
    H = m.nheads
    Q = q @ m.q_proj.weight.value.T
    K = k @ m.k_proj.weight.value.T
    V = v @ m.v_proj.weight.value.T
    d, dv = Q.shape[-1] // H, V.shape[-1] // H
    B, Lq, Lk = q.shape[0], q.shape[1], k.shape[1]
    W = np.zeros((B, H, Lq, Lk))
    O = np.zeros((B, Lq, H * dv))
    for b in range(B):
        for h in range(H):
            for i in range(Lq):
                s = np.array([Q[b, i, h * d:(h + 1) * d] @ K[b, j, h * d:(h + 1) * d]
                              for j in range(Lk)]) / np.sqrt(d)
                ok = np.ones(Lk, bool) if mask is None else \
                    np.broadcast_to(mask, (B, H, Lq, Lk))[b, h, i]
                if ok.any():
                    e = np.where(ok, np.exp(s - s[ok].max()), 0)
                    W[b, h, i] = e / e.sum()
                O[b, i, h * dv:(h + 1) * dv] = W[b, h, i] @ V[b, :, h * dv:(h + 1) * dv]
    return O @ m.out_proj.weight.value.T, W


def test_seed_example_shapes():
    m = MultiHeadAttention(64, nheads=8)
    assert m.nparams() == 4 * 64 * 64
    q = rs.randn(4, 10, 64).astype(np.float32)
    k = rs.randn(4, 20, 64).astype(np.float32)
    v = rs.randn(4, 20, 64).astype(np.float32)
    y, a = m((q, k, v))
    assert y.shape == (4, 10, 64) and a.shape == (4, 8, 10, 20) and y.dtype == np.float32
    y, a = m(q)
    assert y.shape == (4, 10, 64) and a.shape == (4, 8, 10, 10)
    np.testing.assert_allclose(a.sum(-1), 1, rtol=1e-5)


@pytest.mark.parametrize("dims,shapes", [
    (6, ((6, 6), (6, 6), (6, 6), (6, 6))),
    ((6, 4, 5), ((4, 6), (4, 6), (4, 6), (5, 4))),
    ((6, (4, 8), 5), ((4, 6), (4, 6), (8, 6), (5, 8))),
    (((3, 5, 7), (4, 8), 2), ((4, 3), (4, 5), (8, 7), (2, 8)))])
def test_dims_forms_and_values(dims, shapes):
    m = MultiHeadAttention(dims, nheads=2, dtype=np.float64)
    got = tuple(lay.weight.shape for lay in (m.q_proj, m.k_proj, m.v_proj, m.out_proj))
    assert got == shapes
    q_in, k_in, v_in = shapes[0][1], shapes[1][1], shapes[2][1]
    q, k, v = rs.randn(2, 3, q_in), rs.randn(2, 4, k_in), rs.randn(2, 4, v_in)
    y, a = m((q, k, v))
    ry, ra = ref_mha(m, q, k, v)
    np.testing.assert_allclose(y, ry, atol=1e-12)
    np.testing.assert_allclose(a, ra, atol=1e-12)
    assert gcheck(lambda q, k, v: np.sum(np.sin(m((q, k, v))[0])), Param(q), Param(k),
                  Param(v))


def test_self_and_cross_forms():
    m = MultiHeadAttention(4, nheads=2, dtype=np.float64)
    x, kv = rs.randn(2, 3, 4), rs.randn(2, 5, 4)
    np.testing.assert_allclose(m(x)[0], m((x, x, x))[0])
    np.testing.assert_allclose(m((x, kv))[0], m((x, kv, kv))[0])
    # extra leading batch axes and unbatched inputs
    x4 = rs.randn(2, 3, 5, 4)
    np.testing.assert_allclose(m(x4)[0][1], m(x4[1])[0], atol=1e-12)
    np.testing.assert_allclose(m(x[0])[0], m(x)[0][0], atol=1e-12)


def test_mask_and_causal():
    m = MultiHeadAttention(4, nheads=2, dtype=np.float64)
    q, k = rs.randn(2, 3, 4), rs.randn(2, 5, 4)
    mask = rs.rand(2, 1, 3, 5) > 0.4
    mask[1, 0, 2] = False                       # a query that may attend to nothing
    y, a = m((q, k, k, mask))
    ry, ra = ref_mha(m, q, k, k, mask)
    np.testing.assert_allclose(a, ra, atol=1e-12)
    np.testing.assert_allclose(y, ry, atol=1e-12)
    assert not a[1, :, 2].any() and np.isfinite(y).all()
    assert gcheck(lambda q: np.sum(np.sin(m((q, k, k, mask))[0])), Param(q))
    c = MultiHeadAttention(4, nheads=2, is_causal=True, dtype=np.float64)
    x = rs.randn(2, 4, 4)
    y, a = c(x)
    np.testing.assert_array_equal(np.triu(np.ones((4, 4)), 1) * a, 0)
    ry, ra = ref_mha(c, x, x, x, np.tril(np.ones((4, 4), bool)))
    np.testing.assert_allclose(y, ry, atol=1e-12)
    # the first query sees only itself; changing later steps leaves it unchanged
    x2 = x.copy()
    x2[:, 1:] += 1
    np.testing.assert_allclose(c(x2)[0][:, 0], y[:, 0], atol=1e-12)
    with pytest.raises(ValueError, match="is_causal"):
        c((x, x, x, np.ones((4, 4), bool)))
    with pytest.raises(ValueError, match="is_causal"):
        MultiHeadAttention(4, is_causal=False)((x, x, x, np.ones((4, 4), bool)))
    with pytest.raises(TypeError, match="boolean"):
        m((q, k, k, np.ones((3, 5))))
    with pytest.raises(ValueError, match="does not broadcast"):
        m((q, k, k, np.ones((3, 4), bool)))


def test_attention_dropout_follows_mode():
    m = MultiHeadAttention(8, nheads=2, attention_dropout_probability=0.5)
    x = rs.randn(2, 6, 8).astype(np.float32)
    a0 = m(x)[1]                                # outside diff: no dropout
    np.testing.assert_allclose(a0.sum(-1), 1, rtol=1e-5)
    trainmode(m)
    a1 = m(x)[1]
    assert (a1 == 0).mean() > 0.2
    kept = a1 != 0
    np.testing.assert_allclose(a1[kept], 2 * a0[kept], rtol=1e-5)
    testmode(m)
    out = diff(lambda: np.sum(m(x)[1]))         # forced test mode inside diff
    np.testing.assert_allclose(float(out.value), a0.sum(), rtol=1e-5)


def test_mha_errors_and_params():
    with pytest.raises(ValueError, match="divisible by nheads"):
        MultiHeadAttention(6, nheads=4)
    with pytest.raises(ValueError, match="dims"):
        MultiHeadAttention((4, 4))
    m = MultiHeadAttention(4, nheads=2, dense_kwargs={"use_bias": True})
    assert m.q_proj.bias is not None and m.nparams() == 4 * (16 + 4)
    with pytest.raises(ValueError, match=r"q must be an array \(\.\.\., length, 4\)"):
        m(rs.randn(2, 3, 5))
    with pytest.raises(ValueError, match="same batch and length"):
        m((rs.randn(2, 3, 4), rs.randn(2, 5, 4), rs.randn(2, 4, 4)))
    w = MultiHeadAttention(4, nheads=2, dtype=np.float64)
    x = Param(rs.randn(2, 3, 4))
    out = diff(lambda: np.sum(w(x)[0] ** 2))
    assert all(grad(out, lay.weight) is not None
               for lay in (w.q_proj, w.k_proj, w.v_proj, w.out_proj))


# ---------------------------------------------------------------- rotary

def test_rotary_params_formula():
    c, s = compute_rotary_embedding_params(6, 5, base=100)
    assert c.shape == (5, 3) and c.dtype == np.float32
    for t in range(5):
        for i in range(3):
            ang = t / 100 ** (2 * i / 6)
            assert abs(c[t, i] - np.cos(ang)) < 1e-6 and abs(s[t, i] - np.sin(ang)) < 1e-6
    cf, sf = compute_rotary_embedding_params(6, 5, base=100, low_memory_variant=False,
                                             dtype=np.float64)
    assert cf.shape == (5, 6)
    np.testing.assert_allclose(cf[:, 3:], cf[:, :3])
    with pytest.raises(ValueError, match="even"):
        compute_rotary_embedding_params(5, 4)


def ref_rope(x, D, base=10000, traditional=False, positions=None):
    """x (B, T, H, F); loops over positions and rotated pairs."""
    y = x.astype(np.float64).copy()
    T = x.shape[1]
    pos = range(T) if positions is None else positions
    for ti, t in enumerate(pos):
        for i in range(D // 2):
            ang = t / base ** (2 * i / D)
            a, b = (2 * i, 2 * i + 1) if traditional else (i, i + D // 2)
            xa, xb = x[:, ti, :, a], x[:, ti, :, b]
            y[:, ti, :, a] = xa * np.cos(ang) - xb * np.sin(ang)
            y[:, ti, :, b] = xb * np.cos(ang) + xa * np.sin(ang)
    return y


def test_apply_rotary_embedding_layouts():
    x = rs.randn(2, 5, 3, 8)
    c, s = compute_rotary_embedding_params(8, 16, dtype=np.float64)
    cf, sf = compute_rotary_embedding_params(8, 16, dtype=np.float64, low_memory_variant=False)
    y = apply_rotary_embedding(x, c, s)
    np.testing.assert_allclose(y, ref_rope(x, 8), atol=1e-12)
    np.testing.assert_allclose(apply_rotary_embedding(x, cf, sf), y, atol=1e-12)
    yt = apply_rotary_embedding(x.transpose(0, 2, 1, 3), c, s, seq_axis=2)     # (B, H, T, D)
    np.testing.assert_allclose(yt.transpose(0, 2, 1, 3), y, atol=1e-12)
    np.testing.assert_allclose(apply_rotary_embedding(x, c, s, traditional=True),
                               ref_rope(x, 8, traditional=True), atol=1e-12)
    pos = np.array([3, 0, 7, 7, 1])
    np.testing.assert_allclose(apply_rotary_embedding(x, c, s, pos),
                               ref_rope(x, 8, positions=pos), atol=1e-12)
    # only the first head_dim features rotate; norms are preserved
    c4, s4 = compute_rotary_embedding_params(4, 16, dtype=np.float64)
    y4 = apply_rotary_embedding(x, c4, s4, head_dim=4)
    np.testing.assert_array_equal(y4[..., 4:], x[..., 4:])
    np.testing.assert_allclose(y4[..., :4], ref_rope(x[..., :4], 4), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1))
    assert gcheck(lambda x: np.sum(np.sin(apply_rotary_embedding(x, c, s, traditional=True))),
                  Param(x[:, :3, :2]))
    with pytest.raises(ValueError, match="cover only 16"):
        apply_rotary_embedding(rs.randn(1, 17, 1, 8), c, s)
    with pytest.raises(ValueError, match="seq_axis"):
        apply_rotary_embedding(x, c, s, seq_axis=3)
    with pytest.raises(ValueError, match="input_positions"):
        apply_rotary_embedding(x, c, s, np.array([0, 1]))


def test_rotary_layer_relative_positions():
    rope = RotaryPositionalEmbedding(8, max_sequence_length=32, dtype=np.float64)
    assert rope.cos_cache.shape == (32, 4) and rope.nstates() == 2 * 32 * 4
    assert RotaryPositionalEmbedding(8, low_memory_variant=False).cos_cache.shape == (4096, 8)
    q, k = rs.randn(8), rs.randn(8)
    # <rope(q) at m, rope(k) at n> depends only on m - n
    x = np.zeros((1, 32, 2, 8))
    x[0, :, 0], x[0, :, 1] = q, k
    y = rope(x)
    def dot(mm, n):
        return y[0, mm, 0] @ y[0, n, 1]
    for mm in range(6):
        for n in range(6):
            for shift in (1, 2, 20):
                assert abs(dot(mm, n) - dot(mm + shift, n + shift)) < 1e-9
    assert abs(dot(0, 0) - dot(0, 1)) > 1e-3 and abs(dot(0, 0) - q @ k) < 1e-12
    np.testing.assert_allclose(rope((x, np.arange(32))), y)
    with pytest.raises(ValueError, match="4-dim"):
        rope(rs.randn(3, 8))


# ---------------------------------------------------------------- sinusoidal

def test_sinusoidal_embedding():
    e = SinusoidalPositionalEmbedding(8, min_freq=0.01, max_freq=2.0, dtype=np.float64)
    sig = np.array([2.0 * (0.01 / 2.0) ** (i / 3) for i in range(4)])      # geometric, high->low
    np.testing.assert_allclose(e.sigmas, sig)
    x = rs.randn(3, 5)
    y = e(x)
    assert y.shape == (3, 5, 8)
    ref = np.concatenate([np.sin(x[..., None] * sig), np.cos(x[..., None] * sig)], -1)
    np.testing.assert_allclose(y, ref * np.sqrt(2 / 8), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), 1)                  # unit length
    assert SinusoidalPositionalEmbedding(8)(np.arange(6)).shape == (6, 8)      # integer input
    ft = SinusoidalPositionalEmbedding(4, full_turns=True, scale=1.0, dtype=np.float64)
    np.testing.assert_allclose(ft.sigmas, 2 * np.pi * np.array([1.0, 1e-4]))
    np.testing.assert_allclose(ft(np.array([0.25]))[0], [1, np.sin(np.pi / 2e4), 0,
                                                         np.cos(np.pi / 2e4)], atol=1e-12)
    assert gcheck(lambda x: np.sum(e(x) ** 3), Param(x))
    with pytest.raises(ValueError, match="even"):
        SinusoidalPositionalEmbedding(7)


def test_docstring_examples():
    import doctest

    import knetpy.layers.attention as m
    res = doctest.testmod(m, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0
