"""Attention and positional embeddings (Lux's): MultiHeadAttention,
RotaryPositionalEmbedding, SinusoidalPositionalEmbedding and the functional
apply_rotary_embedding / compute_rotary_embedding_params.

Layouts are batch-first with features last: attention inputs are
``(B, L, E)`` (any number of leading batch axes, or ``(L, E)`` alone) and
the attention weights come back as ``(B, nheads, q_len, kv_len)``; rotary
embeddings act on ``(B, T, nheads, head_dim)`` (``seq_axis=1``, the default)
or ``(B, nheads, T, head_dim)`` (``seq_axis=2``).
"""
import numbers

import numpy as np

from autograd.core import raw

from ..ops.softmax import softmax
from ..ops.dropout import dropout as _dropout
from .base import Layer
from .basic import Dense

__all__ = ["MultiHeadAttention", "RotaryPositionalEmbedding", "SinusoidalPositionalEmbedding",
           "apply_rotary_embedding", "compute_rotary_embedding_params"]


def _posint(v, fname, name):
    if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{fname}: {name} must be a positive integer, got {v!r}")
    return int(v)


def _parse_dims(dims):
    """((q_in, k_in, v_in), (qk_dim, v_dim), out_dim) from Lux's four forms."""
    fname = "MultiHeadAttention"
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        d = _posint(dims, fname, "dims")
        return (d, d, d), (d, d), d
    if not isinstance(dims, (tuple, list)) or len(dims) != 3:
        raise ValueError(f"{fname}: dims must be an int or (in, mid, out) with in an int or "
                         f"(q_in, k_in, v_in) and mid an int or (qk_dim, v_dim), got {dims!r}")
    ins, mid, out = dims
    ins = (ins,) * 3 if isinstance(ins, numbers.Integral) else tuple(ins)
    mid = (mid,) * 2 if isinstance(mid, numbers.Integral) else tuple(mid)
    if len(ins) != 3 or len(mid) != 2:
        raise ValueError(f"{fname}: dims must be (in, mid, out) with in an int or a triple "
                         f"and mid an int or a pair, got {dims!r}")
    ins = tuple(_posint(v, fname, "input dims") for v in ins)
    mid = tuple(_posint(v, fname, "qk/v dims") for v in mid)
    return ins, mid, _posint(out, fname, "out_dim")


def _check_seq(x, E, fname, name):
    xr = raw(x)
    if not hasattr(xr, "shape") or np.ndim(xr) < 2 or xr.shape[-1] != E:
        raise ValueError(f"{fname}: {name} must be an array (..., length, {E}), got "
                         f"{getattr(xr, 'shape', type(xr).__name__)}")
    if np.dtype(xr.dtype).kind != "f":
        raise TypeError(f"{fname}: {name} must hold floats, got dtype {xr.dtype}")
    return xr.shape


def _heads(x, nheads):
    """(..., L, nheads*d) -> (..., nheads, L, d)."""
    s = np.shape(raw(x))
    return np.swapaxes(np.reshape(x, s[:-1] + (nheads, s[-1] // nheads)), -2, -3)


def _merge_heads(x):
    """(..., nheads, L, d) -> (..., L, nheads*d)."""
    x = np.swapaxes(x, -2, -3)
    s = np.shape(raw(x))
    return np.reshape(x, s[:-2] + (s[-2] * s[-1],))


def causal_mask(q_len, kv_len):
    """causal_mask(q_len, kv_len) -> boolean (q_len, kv_len): query i sees keys 0..i."""
    return np.tril(np.ones((q_len, kv_len), dtype=bool))


class MultiHeadAttention(Layer):
    """MultiHeadAttention(dims, *, nheads=1, dense_kwargs=None,
    attention_dropout_probability=0.0, is_causal=None, dtype=np.float32)

    Multi-head scaled dot-product attention with input and output projections
    (``q_proj``, ``k_proj``, ``v_proj``, ``out_proj``: Dense layers, without bias
    unless ``dense_kwargs`` says otherwise).

    ``dims`` takes Lux's forms: an int ``E`` (everything E wide),
    ``(in_dim, qkv_dim, out_dim)``, ``(in_dim, (qk_dim, v_dim), out_dim)`` or
    ``((q_in, k_in, v_in), (qk_dim, v_dim), out_dim)``; ``qk_dim`` and ``v_dim``
    must be divisible by ``nheads``.

    Call forms: ``m(x)`` (self-attention), ``m((q, kv))``, ``m((q, k, v))`` or
    ``m((q, k, v, mask))``, with ``q`` ``(B, q_len, q_in)``, ``k`` ``(B, kv_len,
    k_in)``, ``v`` ``(B, kv_len, v_in)``.  ``mask`` is boolean, True where a
    query may attend to a key, broadcastable to ``(B, nheads, q_len, kv_len)``.
    ``is_causal=True`` builds the causal mask itself (query i sees keys 0..i);
    when ``is_causal`` is given (True or False) passing a mask is an error.
    A query that may attend to nothing gets zero weights.

    Returns ``(y, weights)``: ``y`` ``(B, q_len, out_dim)`` and the attention
    weights ``(B, nheads, q_len, kv_len)`` (after dropout, which acts only in
    training).

    >>> m = MultiHeadAttention(64, nheads=8)
    >>> q, k = np.ones((32, 10, 64), np.float32), np.ones((32, 20, 64), np.float32)
    >>> y, a = m((q, k, k)); y.shape, a.shape
    ((32, 10, 64), (32, 8, 10, 20))
    """

    def __init__(self, dims, *, nheads=1, dense_kwargs=None, attention_dropout_probability=0.0,
                 is_causal=None, dtype=np.float32):
        fname = "MultiHeadAttention"
        (q_in, k_in, v_in), (qk, vd), out = _parse_dims(dims)
        self.nheads = _posint(nheads, fname, "nheads")
        for name, d in (("qk_dim", qk), ("v_dim", vd)):
            if d % self.nheads:
                raise ValueError(f"{fname}: {name} = {d} must be divisible by nheads = "
                                 f"{self.nheads}")
        p = attention_dropout_probability
        if not isinstance(p, numbers.Real) or not 0 <= p < 1:
            raise ValueError(f"{fname}: attention_dropout_probability must be in [0, 1), got "
                             f"{p!r}")
        if is_causal is not None and not isinstance(is_causal, (bool, np.bool_)):
            raise TypeError(f"{fname}: is_causal must be None, True or False, got {is_causal!r}")
        kw = {"use_bias": False}
        kw.update(dense_kwargs or {})
        kw.setdefault("dtype", dtype)
        self.dims = ((q_in, k_in, v_in), (qk, vd), out)
        self.attention_dropout_probability = float(p)
        self.is_causal = is_causal
        self.q_proj = Dense(q_in, qk, **kw)
        self.k_proj = Dense(k_in, qk, **kw)
        self.v_proj = Dense(v_in, vd, **kw)
        self.out_proj = Dense(vd, out, **kw)

    def extra_repr(self):
        s = f"{self.dims}, nheads={self.nheads}"
        if self.attention_dropout_probability:
            s += f", attention_dropout_probability={self.attention_dropout_probability}"
        if self.is_causal is not None:
            s += f", is_causal={self.is_causal}"
        return s

    def _inputs(self, inp):
        fname = "MultiHeadAttention"
        mask = None
        if isinstance(inp, (tuple, list)):
            if len(inp) == 2:
                q, k = inp
                v = k
            elif len(inp) in (3, 4):
                q, k, v = inp[:3]
                mask = inp[3] if len(inp) == 4 else None
            else:
                raise ValueError(f"{fname}: input must be x, (q, kv), (q, k, v) or "
                                 f"(q, k, v, mask), got a tuple of {len(inp)}")
        else:
            q = k = v = inp
        (q_in, k_in, v_in), _, _ = self.dims
        qs = _check_seq(q, q_in, fname, "q")
        ks = _check_seq(k, k_in, fname, "k")
        vs = _check_seq(v, v_in, fname, "v")
        if ks[:-1] != vs[:-1]:
            raise ValueError(f"{fname}: k and v must have the same batch and length, got "
                             f"{ks} and {vs}")
        if qs[:-2] != ks[:-2]:
            raise ValueError(f"{fname}: q and k must have the same batch axes, got {qs} and "
                             f"{ks}")
        if self.is_causal is not None:
            if mask is not None:
                raise ValueError(f"{fname}: is_causal is set, so no mask may be passed (the "
                                 f"causal mask is built automatically)")
            if self.is_causal:
                mask = causal_mask(qs[-2], ks[-2])
        if mask is not None:
            mask = np.asarray(raw(mask))
            if mask.dtype != bool:
                raise TypeError(f"{fname}: mask must be boolean (True = may attend), got dtype "
                                f"{mask.dtype}")
            want = qs[:-2] + (self.nheads, qs[-2], ks[-2])
            try:
                np.broadcast_shapes(mask.shape, want)
            except ValueError:
                raise ValueError(f"{fname}: mask of shape {mask.shape} does not broadcast to "
                                 f"the weights' shape {want}") from None
        return q, k, v, mask

    def __call__(self, inp):
        q, k, v, mask = self._inputs(inp)
        H = self.nheads
        qh = _heads(self.q_proj(q), H)                 # (..., H, Lq, d)
        kh = _heads(self.k_proj(k), H)                 # (..., H, Lk, d)
        vh = _heads(self.v_proj(v), H)                 # (..., H, Lk, dv)
        d = np.shape(raw(qh))[-1]
        scores = (qh @ np.swapaxes(kh, -1, -2)) * float(1 / np.sqrt(d))
        if mask is not None:
            full = np.broadcast_to(mask, np.shape(raw(scores)))
            any_ok = np.any(full, axis=-1, keepdims=True)
            fill = np.where(any_ok, -np.inf, 0).astype(np.result_type(raw(scores)))
            scores = np.where(full, scores, fill)
            weights = softmax(scores, axis=-1) * any_ok.astype(fill.dtype)
        else:
            weights = softmax(scores, axis=-1)
        p = self.attention_dropout_probability
        if p > 0 and self.istraining():
            weights = _dropout(weights, p, drop=True)
        y = self.out_proj(_merge_heads(weights @ vh))
        return y, weights


# ------------------------------------------------------------------ rotary embedding

def compute_rotary_embedding_params(head_dim, max_sequence_length=4096, *, base=10000,
                                    dtype=np.float32, low_memory_variant=True):
    """compute_rotary_embedding_params(head_dim, max_sequence_length=4096, *, base=10000,
    dtype=np.float32, low_memory_variant=True) -> (cos_cache, sin_cache)

    The cosine and sine tables of rotary embeddings: angle ``t * base**(-2i/head_dim)``
    for position ``t`` (rows, ``0..max_sequence_length-1``) and frequency ``i``
    (``0..head_dim/2-1``).  With ``low_memory_variant`` the tables are
    ``(max_sequence_length, head_dim // 2)``; otherwise the frequencies are
    repeated, ``(max_sequence_length, head_dim)``.  ``head_dim`` must be even.

    >>> c, s = compute_rotary_embedding_params(8, 16); c.shape, float(c[0, 0])
    ((16, 4), 1.0)
    """
    fname = "compute_rotary_embedding_params"
    head_dim = _posint(head_dim, fname, "head_dim")
    if head_dim % 2:
        raise ValueError(f"{fname}: head_dim must be even, got {head_dim}")
    T = _posint(max_sequence_length, fname, "max_sequence_length")
    if not isinstance(base, numbers.Real) or base <= 0:
        raise ValueError(f"{fname}: base must be a positive number, got {base!r}")
    inv_freq = 1.0 / float(base) ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    ang = np.arange(T, dtype=np.float64)[:, None] * inv_freq[None, :]
    if not low_memory_variant:
        ang = np.concatenate([ang, ang], axis=1)
    return np.cos(ang).astype(dtype), np.sin(ang).astype(dtype)


def apply_rotary_embedding(x, cos_cache, sin_cache, input_positions=None, *, head_dim=None,
                           seq_axis=1, traditional=False):
    """apply_rotary_embedding(x, cos_cache, sin_cache, input_positions=None, *,
    head_dim=None, seq_axis=1, traditional=False) -> rotated x

    Rotates the first ``head_dim`` features (last axis; default: all of them)
    of ``x`` by the angle of each position.  ``x`` has at least 2 dims with
    the sequence on ``seq_axis`` (1 for ``(B, T, nheads, head_dim)``, 2 for
    ``(B, nheads, T, head_dim)``); features past ``head_dim`` pass unchanged.

    The pairs rotated are ``(j, j + head_dim/2)`` (the default, Lux's layout) or,
    with ``traditional=True``, consecutive ``(2j, 2j+1)``.  The caches come
    from ``compute_rotary_embedding_params`` in either variant.
    ``input_positions`` (integers, one per step) picks the cache rows;
    otherwise rows ``0..T-1`` are used.

    >>> c, s = compute_rotary_embedding_params(4, 8)
    >>> apply_rotary_embedding(np.ones((1, 3, 2, 4)), c, s).shape
    (1, 3, 2, 4)
    """
    fname = "apply_rotary_embedding"
    xr = raw(x)
    if not hasattr(xr, "shape") or xr.ndim < 2:
        raise ValueError(f"{fname}: x must have at least 2 dims, got "
                         f"{getattr(xr, 'shape', type(xr).__name__)}")
    nd = xr.ndim
    if not isinstance(seq_axis, numbers.Integral) or isinstance(seq_axis, bool) \
            or not -nd <= seq_axis < nd or int(seq_axis) % nd == nd - 1:
        raise ValueError(f"{fname}: seq_axis must name an axis of x other than the last "
                         f"(features), got {seq_axis!r} for x of shape {xr.shape}")
    seq_axis = int(seq_axis) % nd
    D = xr.shape[-1] if head_dim is None else _posint(head_dim, fname, "head_dim")
    if D % 2 or D > xr.shape[-1]:
        raise ValueError(f"{fname}: head_dim must be even and at most x.shape[-1] = "
                         f"{xr.shape[-1]}, got {D}")
    cos, sin = np.asarray(raw(cos_cache)), np.asarray(raw(sin_cache))
    if cos.shape != sin.shape or cos.ndim != 2 or cos.shape[1] not in (D // 2, D):
        raise ValueError(f"{fname}: cos_cache and sin_cache must both be (max_len, {D // 2}) "
                         f"or (max_len, {D}), got {cos.shape} and {sin.shape}")
    T = xr.shape[seq_axis]
    if input_positions is None:
        if T > cos.shape[0]:
            raise ValueError(f"{fname}: x has {T} positions on axis {seq_axis} but the caches "
                             f"cover only {cos.shape[0]}")
        rows = slice(0, T)
    else:
        rows = np.asarray(input_positions)
        if rows.ndim != 1 or rows.shape[0] != T or rows.dtype.kind not in "iu" \
                or (rows.size and (rows.min() < 0 or rows.max() >= cos.shape[0])):
            raise ValueError(f"{fname}: input_positions must be {T} integers in "
                             f"[0, {cos.shape[0]}), got {input_positions!r}")
    half = D // 2
    cos, sin = cos[rows, :half], sin[rows, :half]      # the full variant repeats its halves
    shape = [1] * nd
    shape[seq_axis], shape[-1] = T, half
    dt = np.result_type(xr)
    cos = cos.reshape(shape).astype(dt)
    sin = sin.reshape(shape).astype(dt)
    if traditional:
        a, b = x[..., 0:D:2], x[..., 1:D:2]
    else:
        a, b = x[..., :half], x[..., half:D]
    ra, rb = a * cos - b * sin, b * cos + a * sin
    if traditional:
        rot = np.reshape(np.stack([ra, rb], axis=-1), xr.shape[:-1] + (D,))
    else:
        rot = np.concatenate([ra, rb], axis=-1)
    if D < xr.shape[-1]:
        rot = np.concatenate([rot, x[..., D:]], axis=-1)
    return rot


class RotaryPositionalEmbedding(Layer):
    """RotaryPositionalEmbedding(dim, *, max_sequence_length=4096, base=10000,
    low_memory_variant=True, seq_axis=1, traditional=False, dtype=np.float32)

    Rotary positional embedding (Su et al.): rotates the first ``dim``
    features of each position by position-dependent angles (see
    ``apply_rotary_embedding``).  Input ``(B, T, nheads, head_dim)`` (or
    ``(B, nheads, T, head_dim)`` with ``seq_axis=2``) with ``T <=
    max_sequence_length``; output of the same shape.  The tables are kept as
    non-trainable state ``cos_cache``/``sin_cache``; ``low_memory_variant``
    stores ``dim // 2`` columns instead of ``dim``.  Call ``m((x, positions))``
    to pick the cache rows explicitly.

    >>> RotaryPositionalEmbedding(16)(np.ones((2, 10, 4, 16), np.float32)).shape
    (2, 10, 4, 16)
    """
    _state = ("cos_cache", "sin_cache")

    def __init__(self, dim, *, max_sequence_length=4096, base=10000, low_memory_variant=True,
                 seq_axis=1, traditional=False, dtype=np.float32):
        self.dim = _posint(dim, "RotaryPositionalEmbedding", "dim")
        self.max_sequence_length = int(max_sequence_length)
        self.base = base
        self.low_memory_variant = bool(low_memory_variant)
        self.seq_axis, self.traditional = int(seq_axis), bool(traditional)
        self.cos_cache, self.sin_cache = compute_rotary_embedding_params(
            self.dim, max_sequence_length, base=base, dtype=dtype,
            low_memory_variant=low_memory_variant)

    def extra_repr(self):
        return f"{self.dim}, max_sequence_length={self.max_sequence_length}, base={self.base}"

    def __call__(self, x):
        pos = None
        if isinstance(x, tuple):
            if len(x) != 2:
                raise ValueError("RotaryPositionalEmbedding: input must be x or (x, positions)")
            x, pos = x
        xr = raw(x)
        if not hasattr(xr, "shape") or xr.ndim != 4:
            raise ValueError(f"RotaryPositionalEmbedding: x must be 4-dim (B, T, nheads, "
                             f"head_dim) (or (B, nheads, T, head_dim) with seq_axis=2), got "
                             f"{getattr(xr, 'shape', type(xr).__name__)}")
        return apply_rotary_embedding(x, self.cos_cache, self.sin_cache, pos, head_dim=self.dim,
                                      seq_axis=self.seq_axis, traditional=self.traditional)


class SinusoidalPositionalEmbedding(Layer):
    """SinusoidalPositionalEmbedding(dims, *, min_freq=1e-4, max_freq=1.0, scale=None,
    full_turns=False, dtype=np.float32)

    Sinusoidal embedding (Vaswani et al.) of positions or any real values:
    an input of shape ``s`` becomes ``s + (dims,)``, ``[sin(x*sigmas),
    cos(x*sigmas)] * scale`` where the ``dims // 2`` frequencies ``sigmas`` run
    geometrically from ``max_freq`` down to ``min_freq`` (times 2π with
    ``full_turns``).  ``scale`` defaults to ``sqrt(2/dims)``, which gives every
    embedding unit length.  ``sigmas`` is non-trainable state.  ``dims`` must be
    even.

    >>> SinusoidalPositionalEmbedding(8)(np.arange(5.0)).shape
    (5, 8)
    """
    _state = ("sigmas",)

    def __init__(self, dims, *, min_freq=1e-4, max_freq=1.0, scale=None, full_turns=False,
                 dtype=np.float32):
        fname = "SinusoidalPositionalEmbedding"
        self.dims = _posint(dims, fname, "dims")
        if self.dims % 2:
            raise ValueError(f"{fname}: dims must be even, got {self.dims}")
        for name, v in (("min_freq", min_freq), ("max_freq", max_freq)):
            if not isinstance(v, numbers.Real) or v <= 0:
                raise ValueError(f"{fname}: {name} must be a positive number, got {v!r}")
        self.min_freq, self.max_freq = float(min_freq), float(max_freq)
        self.full_turns = bool(full_turns)
        self.scale = float(np.sqrt(2 / self.dims)) if scale is None else float(scale)
        n = self.dims // 2
        one_zero = np.linspace(1.0, 0.0, n) if n > 1 else np.ones(1)
        lo, hi = np.log(self.min_freq), np.log(self.max_freq)
        sig = np.exp(one_zero * (hi - lo) + lo)
        if self.full_turns:
            sig = sig * (2 * np.pi)
        self.dtype = np.dtype(dtype)
        self.sigmas = sig.astype(self.dtype)

    def extra_repr(self):
        return f"{self.dims}, min_freq={self.min_freq:g}, max_freq={self.max_freq:g}"

    def __call__(self, x):
        xr = raw(x)
        if not hasattr(xr, "shape"):
            x = xr = np.asarray(xr, self.dtype)
        if np.dtype(xr.dtype).kind not in "fiu":
            raise TypeError(f"SinusoidalPositionalEmbedding: x must hold numbers, got dtype "
                            f"{xr.dtype}")
        if np.dtype(xr.dtype).kind != "f":
            x = np.asarray(xr, self.dtype)
        y = np.expand_dims(x, -1) * self.sigmas.astype(np.result_type(raw(x)))
        return np.concatenate([np.sin(y), np.cos(y)], axis=-1) * self.scale
