"""conv4 / deconv4: values against a direct nested-sum convolution, gradients by
gcheck (first and second order), dtypes, KnetArrays and bad input."""
import itertools

import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad
from knetpy import KnetArray, conv4, deconv4

rs = np.random.RandomState(3)


def _tup(v, nd):
    return (v,) * nd if np.isscalar(v) else tuple(v)


def direct_conv(w, x, padding=0, stride=1, dilation=1, mode=0, alpha=1, groups=1):
    """y[n, o, i] = alpha * sum_{c, k} w[o, c, k] * x[n, g*Cg + c, i*s - p + k*d], one
    output cell at a time (mode 0 reads the kernel back to front)."""
    nd = x.ndim - 2
    p, s, d = _tup(padding, nd), _tup(stride, nd), _tup(dilation, nd)
    N, C = x.shape[:2]
    O, Cg = w.shape[:2]
    K = w.shape[2:]
    out = [(x.shape[2 + a] + 2 * p[a] - d[a] * (K[a] - 1) - 1) // s[a] + 1 for a in range(nd)]
    wk = w[(slice(None), slice(None)) + (slice(None, None, -1),) * nd] if mode == 0 else w
    y = np.zeros([N, O] + out)
    for n, o in itertools.product(range(N), range(O)):
        g = o // (O // groups)
        for i in itertools.product(*map(range, out)):
            acc = 0.0
            for c in range(Cg):
                for k in itertools.product(*map(range, K)):
                    pos = [i[a] * s[a] - p[a] + k[a] * d[a] for a in range(nd)]
                    if all(0 <= pos[a] < x.shape[2 + a] for a in range(nd)):
                        acc += wk[(o, c) + k] * x[(n, g * Cg + c) + tuple(pos)]
            y[(n, o) + i] = acc
    return alpha * y


def direct_deconv(w, x, padding=0, stride=1, dilation=1, mode=0, alpha=1, groups=1):
    """Scatter form of the transposed convolution: x[n, c, i] * w[c, o, k] lands on
    y[n, g*Og + o, i*s - p + k*d]."""
    nd = x.ndim - 2
    p, s, d = _tup(padding, nd), _tup(stride, nd), _tup(dilation, nd)
    N, C = x.shape[:2]
    Og = w.shape[1]
    K = w.shape[2:]
    out = [(x.shape[2 + a] - 1) * s[a] + d[a] * (K[a] - 1) + 1 - 2 * p[a] for a in range(nd)]
    wk = w[(slice(None), slice(None)) + (slice(None, None, -1),) * nd] if mode == 0 else w
    y = np.zeros([N, Og * groups] + out)
    for n, c in itertools.product(range(N), range(C)):
        g = c // (C // groups)
        for i in itertools.product(*[range(v) for v in x.shape[2:]]):
            for o in range(Og):
                for k in itertools.product(*map(range, K)):
                    pos = [i[a] * s[a] - p[a] + k[a] * d[a] for a in range(nd)]
                    if all(0 <= pos[a] < out[a] for a in range(nd)):
                        y[(n, g * Og + o) + tuple(pos)] += x[(n, c) + i] * wk[(c, o) + k]
    return alpha * y


# (w shape, x shape, options)
CONV_CASES = [
    ((2, 3, 3, 3), (2, 3, 5, 6), {}),
    ((2, 3, 3, 3), (2, 3, 5, 6), dict(mode=1)),
    ((3, 2, 2, 3), (1, 2, 6, 5), dict(padding=1, stride=2)),
    ((3, 2, 2, 3), (1, 2, 6, 7), dict(padding=(2, 0), stride=(1, 3), mode=1)),
    ((2, 1, 3, 2), (2, 1, 7, 6), dict(dilation=(2, 1), padding=(1, 1))),
    ((4, 2, 2, 2), (2, 4, 5, 5), dict(groups=2, mode=1)),
    ((6, 1, 3, 3), (1, 3, 5, 5), dict(groups=3, padding=1, stride=2, dilation=2)),
    ((2, 2, 2, 3, 2), (2, 2, 4, 5, 3), {}),
    ((4, 1, 2, 2, 2), (1, 2, 4, 4, 5), dict(groups=2, padding=(1, 0, 1), stride=(2, 1, 2),
                                           dilation=(1, 2, 1), mode=1, alpha=0.5)),
    ((2, 3, 1, 1), (2, 3, 3, 4), dict(alpha=2.5)),
]


@pytest.mark.parametrize("ws,xs,o", CONV_CASES)
def test_conv4_values(ws, xs, o):
    w, x = rs.randn(*ws), rs.randn(*xs)
    np.testing.assert_allclose(conv4(w, x, **o), direct_conv(w, x, **o), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ws,xs,o", CONV_CASES)
def test_conv4_gradients(ws, xs, o):
    w, x = Param(rs.randn(*ws)), Param(rs.randn(*xs))
    c = rs.randn(*conv4(w.value, x.value, **o).shape)
    assert gcheck(lambda w, x: np.sum(conv4(w, x, **o) * c), w, x, nsample=20, verbose=1)


def test_conv4_gradient_exact_adjoint():
    # <conv4(w, x), dy> is bilinear: its gradients must match the nested-sum convolution
    w, x = rs.randn(4, 2, 3, 2), rs.randn(1, 4, 6, 5)
    o = dict(padding=(1, 2), stride=(2, 1), dilation=(1, 2), groups=2)
    dy = rs.randn(*direct_conv(w, x, **o).shape)
    pw, px = Param(w), Param(x)
    r = diff(lambda: np.sum(conv4(pw, px, **o) * dy))
    # d/dx: finite differences of a linear function are exact
    gx = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[idx] = 1
        gx[idx] = np.sum(direct_conv(w, e, **o) * dy)
    np.testing.assert_allclose(grad(r, px), gx, rtol=1e-10, atol=1e-10)


def test_conv4_second_order():
    w, x = Param(rs.randn(3, 2, 2, 3)), Param(rs.randn(2, 2, 5, 6))
    o = dict(padding=1, stride=(2, 1), dilation=(1, 2), mode=0)

    def gx(w, x):   # gradient w.r.t. x of a nonlinear loss, then a nonlinear function of it
        return np.sum(np.sin(grad(lambda xx: np.sum(np.tanh(conv4(w, xx, **o))))(x)))

    def gw(w, x):
        return np.sum(np.cos(grad(lambda ww: np.sum(np.tanh(conv4(ww, x, **o))))(w)))
    assert gcheck(gx, w, x, nsample=15)
    assert gcheck(gw, w, x, nsample=15)


def test_conv4_second_order_groups_5d():
    w, x = Param(rs.randn(4, 1, 2, 2, 2)), Param(rs.randn(1, 2, 3, 4, 3))
    o = dict(padding=(1, 0, 1), groups=2, mode=1, alpha=1.5)

    def f(w, x):
        gw = grad(lambda ww: np.sum(np.tanh(conv4(ww, x, **o))))(w)
        return np.sum(gw * gw)
    assert gcheck(f, w, x, nsample=15)


DECONV_CASES = [
    ((3, 2, 2, 2), (2, 3, 3, 4), {}),
    ((3, 2, 3, 2), (1, 3, 3, 3), dict(stride=2, padding=1, mode=1)),
    ((4, 1, 3, 3), (1, 4, 3, 2), dict(stride=(2, 1), padding=(0, 1), dilation=(1, 2), groups=2)),
    ((2, 2, 2, 2, 2), (1, 2, 2, 3, 2), dict(stride=2, alpha=2.0)),
]


@pytest.mark.parametrize("ws,xs,o", DECONV_CASES)
def test_deconv4_values(ws, xs, o):
    w, x = rs.randn(*ws), rs.randn(*xs)
    np.testing.assert_allclose(deconv4(w, x, **o), direct_deconv(w, x, **o), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("ws,xs,o", DECONV_CASES)
def test_deconv4_gradients(ws, xs, o):
    w, x = Param(rs.randn(*ws)), Param(rs.randn(*xs))
    c = rs.randn(*deconv4(w.value, x.value, **o).shape)
    assert gcheck(lambda w, x: np.sum(np.tanh(deconv4(w, x, **o)) * c), w, x, nsample=20)


def test_deconv4_second_order():
    w, x = Param(rs.randn(2, 3, 2, 2)), Param(rs.randn(1, 2, 3, 3))
    o = dict(stride=2, padding=1)

    def f(w, x):
        g = grad(lambda xx: np.sum(np.sin(deconv4(w, xx, **o))))(x)
        return np.sum(g * g)
    assert gcheck(f, w, x, nsample=15)


def test_deconv4_is_adjoint_of_conv4():
    w, x = rs.randn(3, 2, 3, 2), rs.randn(2, 2, 7, 6)
    o = dict(stride=(2, 3), padding=(1, 0), dilation=(1, 2), mode=0)
    y = conv4(w, x, **o)
    dy = rs.randn(*y.shape)
    back = deconv4(w, dy, **o)
    assert back.shape[2:] <= x.shape[2:]
    # <conv(x), dy> == <x, deconv(dy)> on the cells the convolution reads
    sub = x[:, :, :back.shape[2], :back.shape[3]]
    np.testing.assert_allclose(np.sum(conv4(w, sub, **o) * dy), np.sum(sub * back), rtol=1e-12)


def test_output_size_formula():
    for H, k, p, s, d in [(10, 3, 1, 2, 1), (9, 2, 0, 3, 2), (5, 5, 0, 1, 1), (7, 3, 2, 1, 3)]:
        y = conv4(np.ones((1, 1, k, 1)), np.ones((1, 1, H, 3)), padding=(p, 0), stride=(s, 1),
                  dilation=(d, 1))
        assert y.shape == (1, 1, 1 + (H + 2 * p - d * (k - 1) - 1) // s, 3)
        z = deconv4(np.ones((1, 1, k, 1)), np.ones((1, 1, H, 3)), padding=(p, 0),
                    stride=(s, 1))
        assert z.shape == (1, 1, k + s * (H - 1) - 2 * p, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_dtypes(dtype):
    w, x = rs.randn(3, 2, 3, 3), rs.randn(2, 2, 5, 5)
    y = conv4(w.astype(dtype), x.astype(dtype), padding=1)
    assert y.dtype == dtype
    ref = direct_conv(w.astype(dtype).astype(np.float64), x.astype(dtype).astype(np.float64),
                      padding=1)
    tol = 1e-5 if dtype == np.float32 else 1e-2
    np.testing.assert_allclose(y.astype(np.float64), ref, rtol=tol, atol=tol * 4)
    pw, px = Param(w.astype(dtype)), Param(x.astype(dtype))
    r = diff(lambda: np.sum(conv4(pw, px, padding=1)))
    assert grad(r, pw).dtype == dtype and grad(r, px).dtype == dtype
    d = deconv4(w.astype(dtype), x.astype(dtype)[:, :2].repeat(2, axis=1)[:, :3])
    assert d.dtype == dtype


def test_mixed_dtypes_promote():
    y = conv4(rs.randn(1, 1, 2, 2).astype(np.float32), rs.randn(1, 1, 3, 3))
    assert y.dtype == np.float64


def test_knetarray_inputs_and_params():
    w, x = rs.randn(3, 2, 2, 2), rs.randn(2, 2, 4, 5)
    kw, kx = KnetArray(w), KnetArray(x)
    y = conv4(kw, kx, padding=1)
    assert isinstance(y, KnetArray)
    np.testing.assert_allclose(y.to_numpy(), direct_conv(w, x, padding=1), rtol=1e-12)
    assert isinstance(conv4(w, kx), KnetArray)
    pw, px = Param(kw), Param(kx)
    r = diff(lambda: np.sum(conv4(pw, px, padding=1) ** 2))
    gw, gx = grad(r, pw), grad(r, px)
    assert isinstance(gw, KnetArray) and isinstance(gx, KnetArray)
    pw2, px2 = Param(w), Param(x)
    r2 = diff(lambda: np.sum(conv4(pw2, px2, padding=1) ** 2))
    np.testing.assert_allclose(gw.to_numpy(), grad(r2, pw2), rtol=1e-12)
    np.testing.assert_allclose(gx.to_numpy(), grad(r2, px2), rtol=1e-12)
    d = deconv4(kw, KnetArray(rs.randn(1, 3, 2, 2)))
    assert isinstance(d, KnetArray)


def test_outside_diff_params_give_arrays():
    y = conv4(Param(rs.randn(1, 1, 2, 2)), rs.randn(1, 1, 3, 3))
    assert isinstance(y, np.ndarray)


@pytest.mark.parametrize("call,msg", [
    (lambda: conv4(np.ones((2, 3, 3)), np.ones((1, 3, 5, 5))), "4-D"),
    (lambda: conv4(np.ones((2, 3, 3, 3)), np.ones((1, 3, 5, 5, 5))), "same number of dims"),
    (lambda: conv4(np.ones((2, 3, 3, 3)), np.ones((1, 4, 5, 5))), "channels"),
    (lambda: conv4(np.ones((3, 2, 3, 3)), np.ones((1, 4, 5, 5)), groups=2), "divide"),
    (lambda: conv4(np.ones((2, 2, 3, 3)), np.ones((1, 4, 5, 5)), groups=0), "groups"),
    (lambda: conv4(np.ones((2, 3, 6, 3)), np.ones((1, 3, 5, 5))), "bigger than the padded"),
    (lambda: conv4(np.ones((2, 3, 3, 3)), np.ones((1, 3, 5, 5)), dilation=3),
     "bigger than the padded"),
    (lambda: conv4(np.ones((2, 3, 3, 3)), np.ones((1, 3, 5, 5)), mode=2), "mode"),
    (lambda: conv4(np.ones((2, 3, 3, 3)), np.ones((1, 3, 5, 5)), stride=0), "stride"),
    (lambda: conv4(np.ones((2, 3, 3, 3)), np.ones((1, 3, 5, 5)), padding=-1), "padding"),
    (lambda: conv4(np.ones((2, 3, 3, 3)), np.ones((1, 3, 5, 5)), padding=(1, 1, 1)), "padding"),
    (lambda: conv4(np.ones((2, 3, 3, 3)), np.ones((1, 3, 5, 5)), stride=1.5), "stride"),
    (lambda: conv4(np.ones((2, 3, 3, 3), int), np.ones((1, 3, 5, 5))), "floats"),
    (lambda: conv4(np.ones((2, 3, 3, 3)), np.ones((1, 3, 5, 5)), alpha="x"), "alpha"),
    (lambda: deconv4(np.ones((2, 3, 3, 3)), np.ones((1, 3, 5, 5))), "channels"),
    (lambda: deconv4(np.ones((2, 3, 3, 3)), np.ones((1, 2, 1, 1)), padding=2), "no output"),
    (lambda: deconv4(np.ones((3, 3, 3, 3)), np.ones((1, 3, 5, 5)), groups=2), "divide"),
])
def test_errors(call, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        call()


def test_kernel_backend_uses_im2col_kernels(monkeypatch):
    # a backend with im2col/col2im kernels (the CUDA code, run by the CPU emulator)
    from knetpy.backends.emulator import emulated_backend
    be = emulated_backend(block=64, max_blocks=4)
    launched = []
    for name in ("im2col", "col2im"):
        f = getattr(be, name)
        monkeypatch.setattr(be, name, lambda *a, _f=f, _n=name, **k: launched.append(_n) or
                            _f(*a, **k))
    o = dict(padding=(1, 0), stride=(2, 1), dilation=(1, 2), groups=2, alpha=1.5)
    for dt in (np.float64, np.float32):
        w, x = rs.randn(6, 2, 3, 2).astype(dt), rs.randn(2, 4, 7, 6).astype(dt)
        kw, kx = KnetArray._of(w.copy(), be), KnetArray._of(x.copy(), be)
        y = conv4(kw, kx, **o)
        assert isinstance(y, KnetArray) and y.backend is be and y.dtype == dt
        np.testing.assert_allclose(y.to_numpy(), direct_conv(w.astype(float), x.astype(float),
                                                             **o), rtol=1e-4, atol=1e-4)
        pw, px = Param(kw), Param(kx)
        r = diff(lambda: np.sum(conv4(pw, px, **o) ** 2))
        qw, qx = Param(w), Param(x)
        r0 = diff(lambda: np.sum(conv4(qw, qx, **o) ** 2))
        np.testing.assert_allclose(grad(r, pw).to_numpy(), grad(r0, qw), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(grad(r, px).to_numpy(), grad(r0, qx), rtol=1e-4, atol=1e-4)
        d = deconv4(kw, y, **o)
        np.testing.assert_allclose(d.to_numpy(), deconv4(w, y.to_numpy(), **o), rtol=1e-4,
                                   atol=1e-4)
    assert {"im2col", "col2im"} <= set(launched)
    # second order on the kernel path equals second order on numpy arrays
    w, x = rs.randn(3, 2, 2, 2), rs.randn(1, 2, 4, 4)

    def second(w, x):
        pw, px = Param(w), Param(x)
        r = diff(lambda: np.sum(np.sin(grad(lambda xx: np.sum(np.tanh(conv4(pw, xx))))(px))))
        return [np.asarray(grad(r, p)) for p in (pw, px)]
    for a, b in zip(second(KnetArray._of(w, be), KnetArray._of(x, be)), second(w, x)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_results_do_not_share_the_work_arrays():
    # N=1 / C=1 make the transposes trivial; the results must still be fresh arrays
    w, x = rs.randn(1, 1, 2, 2), rs.randn(1, 1, 4, 4)
    pw, px = Param(w), Param(x)
    r = diff(lambda: np.sum(conv4(pw, px, padding=1)))
    y, gw, gx = conv4(w, x, padding=1), grad(r, pw), grad(r, px)
    keep = [a.copy() for a in (y, gw, gx)]
    for _ in range(2):       # same shapes again, then other values through the same buffers
        w2, x2 = rs.randn(1, 1, 2, 2), rs.randn(1, 1, 4, 4)
        q, p = Param(w2), Param(x2)
        r2 = diff(lambda: np.sum(conv4(q, p, padding=1) * 3))
        conv4(w2, x2, padding=1), grad(r2, q), grad(r2, p)
    for a, b in zip((y, gw, gx), keep):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------- swapped arguments, host kernels
@pytest.mark.parametrize("w,x", [
    (np.ones((8, 3, 28, 28)), np.ones((16, 3, 5, 5))),     # images passed as filters
    (np.ones((2, 2, 9, 9)), np.ones((4, 2, 3, 3))),
])
def test_swapped_arguments_are_named(w, x):
    with pytest.raises(ValueError, match="look swapped"):
        conv4(w, x)
    with pytest.raises(ValueError, match="look swapped"):
        conv4(np.ones((2, 4, 9, 9)), np.ones((6, 2, 3, 3)), groups=2)   # channels, too


def test_big_kernel_with_padding_is_not_called_swapped():
    # a 5x5 kernel on a 3x3 image fits with padding 2: no error at all
    assert conv4(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), padding=2).shape == (1, 1, 3, 3)
    with pytest.raises(ValueError, match="bigger than"):
        conv4(np.ones((1, 1, 5, 2)), np.ones((2, 1, 3, 3)))   # fits neither way


@pytest.mark.parametrize("k,pad,stride,dil", [(3, 1, 1, 1), (2, 0, 2, 1), (3, 2, 2, 2),
                                              ((2, 3), (1, 0), (1, 2), (2, 1))])
def test_host_im2col_col2im_match_kernel_backend(k, pad, stride, dil):
    # the numpy backend's bodies and the kernels: one signature, one layout
    from knetpy.backends import numpy_backend as nb
    from knetpy.backends.emulator import emulated_backend
    be = emulated_backend(block=64, max_blocks=4)
    x = rs.randn(2, 3, 7, 6)
    col = nb.im2col(x, k, pad, stride, dil)
    np.testing.assert_array_equal(col, be.im2col(x, k, pad, stride, dil))
    c = rs.randn(*col.shape)
    np.testing.assert_allclose(nb.col2im(c, x.shape, k, pad, stride, dil),
                               be.col2im(c, x.shape, k, pad, stride, dil), rtol=1e-12)


def test_forward_columns_are_reused_for_the_weight_gradient(monkeypatch):
    from knetpy.backends import host_conv as hc
    calls = []
    real = hc.im2col_nd
    monkeypatch.setattr(hc, "im2col_nd", lambda *a, **k: calls.append(1) or real(*a, **k))
    w, x = Param(rs.randn(4, 2, 3, 3)), Param(rs.randn(2, 2, 6, 5))
    r = diff(lambda: np.sum(conv4(w, x, padding=1, stride=(1, 2)) ** 2))
    gw = grad(r, w)
    assert len(calls) == 1                  # one im2col per convolution, forward and dw
    calls.clear()
    r0 = diff(lambda: np.sum(conv4(w, x, padding=1, stride=(1, 2)) ** 2))
    hc.clear_scratch()                      # nothing kept: dw builds the columns again
    np.testing.assert_allclose(grad(r0, w), gw, rtol=1e-12)


def test_work_arrays_are_lent_from_one_pool_and_shared():
    # conv and pool passes hold no named work arrays of their own between calls: they
    # borrow from one pool of bytes, so a second training step allocates nothing new
    from knetpy import pool
    from knetpy.backends import host_scratch as hs
    hs.clear_scratch()
    w, x = Param(rs.randn(6, 3, 3, 3).astype(np.float32)), rs.randn(8, 3, 12, 12).astype(np.float32)
    w2 = Param(rs.randn(4, 6, 3, 3).astype(np.float32))

    def step():
        r = diff(lambda: np.sum(conv4(w2, pool(conv4(w, x))) ** 2))
        return grad(r, w), grad(r, w2)
    g1 = step()
    assert not hs._workspace.__dict__.get("bufs")          # nothing per name
    pool_ids = sorted(id(b) for b in hs._workspace.spares)
    assert 0 < len(pool_ids) <= hs.SPARES
    g2 = step()
    assert sorted(id(b) for b in hs._workspace.spares) == pool_ids   # the same bytes again
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)
    a = hs.borrow(np, (5,), np.float64)
    hs.give_back(a[1])
    assert hs.spare(40) is a[1]                              # the smallest that fits


def test_kept_columns_of_a_dropped_input_go_back_to_the_pool():
    from knetpy.backends import host_scratch as hs
    hs.clear_scratch()
    x = rs.randn(2, 2, 5, 5)
    buf = hs.spare(1000)
    hs.keep(x, "k", None, buf)
    del x
    hs.keep(rs.randn(2), "k", None, hs.spare(8))             # the dead entry is swept
    assert any(b is buf for b in hs._workspace.spares)


@pytest.mark.parametrize("o", [dict(), dict(padding=1, stride=2, dilation=(1, 2), mode=1, alpha=0.5),
                               dict(padding=(2, 1), stride=(1, 2), mode=1)])
def test_instance_last_columns_agree_with_the_usual_layout(monkeypatch, o):
    # narrow outputs build their columns in (pixel, instance) order from x transposed;
    # forward, dw (kept or rebuilt) and dx agree with the (instance, pixel) layout
    from knetpy.backends import host_conv as hc
    w, x = rs.randn(4, 3, 3, 2), rs.randn(2, 3, 7, 6)
    w3, x3 = rs.randn(3, 2, 2, 2, 2), rs.randn(2, 2, 4, 5, 3)
    monkeypatch.setattr(hc, "PER_INSTANCE_PIXELS", 10 ** 9)
    out = {}
    for width in (0, 10 ** 9):
        monkeypatch.setattr(hc, "N_LAST_WIDTH", width)
        res = []
        for ww, xx in ((w, x), (w3, x3)):
            if xx.ndim == 5 and any(isinstance(v, tuple) for v in o.values()):
                continue                                # 3-D with the int options only
            pw, px = Param(ww), Param(xx)
            r = diff(lambda: np.sum(np.sin(conv4(pw, px, **o))))
            res += [np.asarray(r.value), grad(r, pw), grad(r, px)]
            hc.clear_scratch()
            res.append(hc.conv_backward_w(xx, np.cos(conv4(ww, xx, **o)), ww.shape,
                                          *[hc.ntuple(o.get(k, d), xx.ndim - 2, k, "t", 0)
                                            for k, d in (("padding", 0), ("stride", 1),
                                                         ("dilation", 1))],
                                          o.get("mode", 0), 1.0, 1))
        out[width] = res
        assert gcheck(lambda a, b: np.sum(np.tanh(conv4(a, b, **o))), Param(w), Param(x),
                      nsample=10)
    for a, b in zip(out[0], out[10 ** 9]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    col, _ = hc.im2col_nd(x, (3, 2), (1, 1), (1, 2), (1, 1))
    coln, outsz = hc.im2col_nd(x, (3, 2), (1, 1), (1, 2), (1, 1), n_last=True)
    np.testing.assert_array_equal(coln.reshape(-1, np.prod(outsz), 2),
                                  col.reshape(-1, 2, np.prod(outsz)).swapaxes(1, 2))


@pytest.mark.parametrize("o", [dict(), dict(padding=1, stride=2, dilation=(1, 2), mode=1, alpha=0.5)])
def test_per_instance_and_single_gemm_paths_agree(monkeypatch, o):
    from knetpy.backends import host_conv as hc
    w, x = rs.randn(4, 3, 3, 2), rs.randn(2, 3, 7, 6)
    out = {}
    monkeypatch.setattr(hc, "N_LAST_WIDTH", 0)     # the single GEMM in (instance, pixel) order
    for pixels in (1, 10 ** 9):
        monkeypatch.setattr(hc, "PER_INSTANCE_PIXELS", pixels)
        pw, px = Param(w), Param(x)
        r = diff(lambda: np.sum(np.sin(conv4(pw, px, **o))))
        out[pixels] = [np.asarray(r.value), grad(r, pw), grad(r, px)]
        assert gcheck(lambda a, b: np.sum(np.tanh(conv4(a, b, **o))), pw, px, nsample=10)
    for a, b in zip(out[1], out[10 ** 9]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("o", [dict(), dict(padding=(1, 2), stride=(2, 1), dilation=(1, 2),
                                            alpha=2.0), dict(padding=1, stride=2)])
def test_instance_inner_col2im_agrees(monkeypatch, o):
    # conv_backward_x sums along the instances for narrow outputs; both ways agree
    from knetpy.backends import host_conv as hc
    w, x = rs.randn(4, 3, 3, 2), rs.randn(2, 3, 7, 6)
    w3, x3 = rs.randn(3, 2, 2, 2, 2), Param(rs.randn(2, 2, 4, 5, 3))
    out = {}
    for width in (10 ** 9, 0):
        monkeypatch.setattr(hc, "N_LAST_WIDTH", width)
        pw, px = Param(w), Param(x)
        r = diff(lambda: np.sum(np.sin(conv4(pw, px, **o))))
        out[width] = [grad(r, pw), grad(r, px), deconv4(w, conv4(w, x, **o), **o)]
        assert gcheck(lambda a, b: np.sum(np.tanh(conv4(a, b, **o))), pw, px, nsample=10)
        assert gcheck(lambda b: np.sum(np.tanh(conv4(w3, b, padding=1))), x3, nsample=10)
    for a, b in zip(out[0], out[10 ** 9]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_tune_malloc_respects_the_opt_out_and_glibc_variables(monkeypatch):
    from knetpy.backends import host_scratch as hs
    monkeypatch.setenv("KNETPY_MALLOC_TUNE", "0")
    assert hs.tune_malloc() is False
    monkeypatch.delenv("KNETPY_MALLOC_TUNE")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    assert hs.tune_malloc() is False
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    import os
    glibc = hasattr(os, "confstr") and "glibc" in (os.confstr("CS_GNU_LIBC_VERSION") or "")
    assert hs.tune_malloc() is glibc


def test_tuned_malloc_stops_page_faults_of_repeated_large_arrays():
    # a step that makes and frees arrays of a few MB faults no new pages in once tuned
    import resource
    import sys
    from knetpy.backends import host_scratch as hs
    if not hs.tune_malloc() or not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    x = np.ones((100, 20, 24, 24), np.float32)

    def step():
        a = x + 1
        b = np.maximum(a, 0)
        c = a * b
        return float(c[0, 0, 0, 0])
    step()
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        step()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0 < 200   # ~3,400 untuned
