"""knetpy.layers.normalization: values vs numpy formulas, gradients, modes, errors,
update_averages vs exact data statistics."""
import numpy as np
import pytest

from autograd import Param, diff, gcheck, grad, params
from knetpy.layers.base import Layer, testmode, trainmode
from knetpy.layers.normalization import (BatchNorm, GroupNorm, InstanceNorm, LayerNorm,
                                         LocalResponseNormalization, RMSNorm, WeightNorm,
                                         batchnorm, groupnorm, instancenorm, layernorm,
                                         reset_averages, update_averages)

rs = np.random.RandomState(7)


# ---------------------------------------------------------------- numpy references

def ref_norm(x, axes, eps=1e-5):
    x = x.astype(np.float64)
    m = x.mean(axis=axes, keepdims=True)
    v = ((x - m) ** 2).mean(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps)


def ref_groupnorm(x, G, gamma, beta, eps=1e-5):
    """Loop over instances and groups."""
    N, C = x.shape[:2]
    y = np.empty(x.shape)
    k = C // G
    for n in range(N):
        for g in range(G):
            blk = x[n, g * k:(g + 1) * k].astype(np.float64)
            y[n, g * k:(g + 1) * k] = (blk - blk.mean()) / np.sqrt(blk.var() + eps)
    shape = (1, C) + (1,) * (x.ndim - 2)
    return y * gamma.reshape(shape) + beta.reshape(shape)


def ref_lrn(x, k, n, alpha, beta):
    C = x.shape[1]
    y = np.empty(x.shape)
    for c in range(C):
        lo, hi = max(0, c - n // 2), min(C - 1, c + (n - 1) // 2)
        s = (x[:, lo:hi + 1] ** 2).sum(axis=1)
        y[:, c] = x[:, c] / (k + alpha * s) ** beta
    return y


# ---------------------------------------------------------------- functional forms

@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 3), (2, 2, 2, 3, 2)])
def test_batchnorm_functional(shape):
    C = shape[1]
    x = rs.randn(*shape) * 2 + 1
    g, b = rs.randn(C), rs.randn(C)
    rm, rv = rs.randn(C), rs.rand(C) + 0.5
    axes = (0,) + tuple(range(2, len(shape)))
    cs = (1, C) + (1,) * (len(shape) - 2)
    y, st = batchnorm(x, g, b, rm, rv, training=True, momentum=0.3)
    np.testing.assert_allclose(y, ref_norm(x, axes) * g.reshape(cs) + b.reshape(cs), atol=1e-10)
    n = x.size // C
    np.testing.assert_allclose(st.running_mean, 0.7 * rm + 0.3 * x.mean(axis=axes))
    np.testing.assert_allclose(st.running_var, 0.7 * rv + 0.3 * x.var(axis=axes) * n / (n - 1))
    # test mode uses the running statistics; the inputs are not modified
    y2, st2 = batchnorm(x, g, b, rm, rv, training=False, epsilon=1e-3)
    np.testing.assert_allclose(y2, (x - rm.reshape(cs)) / np.sqrt(rv.reshape(cs) + 1e-3)
                               * g.reshape(cs) + b.reshape(cs), atol=1e-10)
    assert st2.running_mean is rm
    # without running statistics the batch statistics are used even in test mode
    np.testing.assert_allclose(batchnorm(x, training=False)[0], ref_norm(x, axes), atol=1e-10)
    # activation
    np.testing.assert_allclose(batchnorm(x, activation=np.tanh, training=True)[0],
                               np.tanh(ref_norm(x, axes)), atol=1e-10)


def test_batchnorm_functional_gradients():
    for shape in [(5, 3), (3, 2, 4), (2, 3, 2, 2)]:
        C = shape[1]
        x, g, b = Param(rs.randn(*shape)), Param(rs.randn(C)), Param(rs.randn(C))
        w = rs.randn(*shape)
        assert gcheck(lambda x: np.sum(w * batchnorm(x, g, b, training=True)[0]), x)
        assert gcheck(lambda x: np.sum(w * batchnorm(x, training=True, epsilon=0.1)[0]), x)
    # test-mode gradients go through the running statistics formula
    x, w = Param(rs.randn(4, 3)), rs.randn(4, 3)
    assert gcheck(lambda x: np.sum(w * batchnorm(x, g, b, np.ones(3), np.ones(3) * 2,
                                                          training=False)[0]), x)


def test_batchnorm_second_order():
    """Gradients of gradients go through the composed (recorded) backward."""
    x = Param(rs.randn(5, 3))
    w = rs.randn(5, 3)
    gfun = grad(lambda x: np.sum(w * batchnorm(x, training=True)[0] ** 2))
    assert gcheck(lambda x: np.sum(gfun(x) ** 2), x)


@pytest.mark.parametrize("shape,G", [((3, 4, 5), 2), ((2, 6, 3, 2), 3), ((4, 6), 2),
                                     ((2, 4, 2, 2, 2), 4), ((2, 4, 3), 1)])
def test_groupnorm_values_and_grads(shape, G):
    C = shape[1]
    x, g, b = rs.randn(*shape) * 3, rs.randn(C), rs.randn(C)
    np.testing.assert_allclose(groupnorm(x, g, b, groups=G), ref_groupnorm(x, G, g, b),
                               atol=1e-10)
    xp, gp, bp = Param(x), Param(g), Param(b)
    w = rs.randn(*shape)
    assert gcheck(lambda x: np.sum(w * groupnorm(x, gp, bp, groups=G)), xp)


def test_instancenorm_values_and_running_stats():
    x = rs.randn(3, 2, 4, 5)
    g, b = rs.randn(2), rs.randn(2)
    y, st = instancenorm(x, g, b)
    cs = (1, 2, 1, 1)
    np.testing.assert_allclose(y, ref_norm(x, (2, 3)) * g.reshape(cs) + b.reshape(cs),
                               atol=1e-10)
    assert st.running_mean is None
    rm, rv = np.zeros(2), np.ones(2)
    y, st = instancenorm(x, None, None, rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(st.running_mean, 0.5 * x.mean(axis=(2, 3)).mean(axis=0))
    np.testing.assert_allclose(st.running_var,
                               0.5 + 0.5 * x.var(axis=(2, 3), ddof=1).mean(axis=0))
    y2, _ = instancenorm(x, None, None, st.running_mean, st.running_var, training=False)
    np.testing.assert_allclose(y2, (x - st.running_mean.reshape(cs))
                               / np.sqrt(st.running_var.reshape(cs) + 1e-5), atol=1e-10)
    xp, gp, bp = Param(x[:, :, :2, :3]), Param(g), Param(b)
    w = rs.randn(3, 2, 2, 3)
    assert gcheck(lambda x: np.sum(w * instancenorm(x, gp, bp)[0]), xp)
    with pytest.raises(ValueError, match="at least 3 dims"):
        instancenorm(rs.randn(4, 3))


@pytest.mark.parametrize("shape,dims", [((4, 5), None), ((3, 4, 5), (1, 2)), ((3, 4, 5), -1),
                                        ((2, 3, 4, 5), (1, 3))])
def test_layernorm_functional(shape, dims):
    x = rs.randn(*shape) * 2 - 1
    axes = tuple(range(1, len(shape))) if dims is None else \
        tuple(np.atleast_1d(dims) % len(shape))
    np.testing.assert_allclose(layernorm(x, dims=dims), ref_norm(x, axes), atol=1e-10)
    xp = Param(x)
    w = rs.randn(*shape)
    assert gcheck(lambda x: np.sum(w * layernorm(x, dims=dims)), xp)


def test_layernorm_scale_infers_dims():
    x = rs.randn(2, 3, 4)
    s, b = rs.randn(4), rs.randn(4)
    np.testing.assert_allclose(layernorm(x, s, b), ref_norm(x, (2,)) * s + b, atol=1e-10)
    s2 = rs.randn(3, 4)
    np.testing.assert_allclose(layernorm(x, s2), ref_norm(x, (1, 2)) * s2, atol=1e-10)


# ---------------------------------------------------------------- layers

def test_batchnorm_layer_modes_and_state():
    bn = BatchNorm(3, momentum=0.2)
    assert [p.value.shape for p in params(bn)] == [(3,), (3,)]
    assert bn.nstates() == 6 and bn.nparams() == 6
    x = (rs.randn(8, 3) * 2 + 5).astype(np.float32)
    y = bn(x)                          # outside diff: test mode, initial statistics
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-5), rtol=1e-6)
    np.testing.assert_array_equal(bn.running_mean, 0)
    y = diff(lambda: np.sum(bn(x) ** 2))
    np.testing.assert_allclose(bn.running_mean, 0.2 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, 0.8 + 0.2 * x.var(0, ddof=1), rtol=1e-5)
    assert grad(y, bn.scale) is not None and grad(y, bn.bias) is not None
    trainmode(bn)                      # forced: batch statistics outside diff
    np.testing.assert_allclose(bn(x), ref_norm(x, (0,)), atol=1e-5)
    testmode(bn)                       # forced: running statistics inside diff
    rm = bn.running_mean.copy()
    val = diff(lambda: np.sum(bn(x)))
    np.testing.assert_array_equal(bn.running_mean, rm)
    np.testing.assert_allclose(float(val.value), np.sum((x - rm) / np.sqrt(bn.running_var
                                                                             + 1e-5)), rtol=1e-4)


def test_batchnorm_layer_gcheck_and_shapes():
    for shape in [(5, 4), (3, 4, 6), (2, 4, 3, 3)]:
        bn = BatchNorm(4, np.tanh, dtype=np.float64)
        bn.scale.value[:] = rs.randn(4)
        x = Param(rs.randn(*shape))
        assert bn(x.value).shape == shape
        trainmode(bn)         # gcheck's numeric evaluations run outside diff
        assert gcheck(lambda x: np.sum(np.sin(bn(x))), x)
        testmode(bn)
        assert gcheck(lambda x: np.sum(np.sin(bn(x))), x)


def test_batchnorm_switches():
    x = rs.randn(6, 3)
    bn = BatchNorm(3, center=False)
    assert bn.bias is None and isinstance(bn.scale, Param)
    bn = BatchNorm(3, scale=False)
    assert bn.scale is None and isinstance(bn.bias, Param)
    bn = BatchNorm(3, affine=False, track_stats=False)
    assert params(bn) == [] and bn.running_mean is None
    np.testing.assert_allclose(bn(x), ref_norm(x, (0,)), atol=1e-6)   # batch stats always
    bn = BatchNorm(3, frozen_averages=True)
    diff(lambda: np.sum(bn(x.astype(np.float32)) ** 2))
    np.testing.assert_array_equal(bn.running_mean, 0)                 # not updated
    np.testing.assert_array_equal(bn.running_var, 1)
    bn = BatchNorm(3, trainable=False)
    assert params(bn) == []
    bn.running_mean[:] = 1
    out = diff(lambda: np.sum(bn(Param(x))))                          # always running stats
    np.testing.assert_allclose(float(out.value), np.sum((x - 1) / np.sqrt(1 + 1e-5)))
    np.testing.assert_array_equal(bn.running_mean, 1)
    assert "trainable=false" in repr(bn)
    assert repr(BatchNorm(3)) == "BatchNorm(3, affine=true, track_stats=true)"


def test_batchnorm_errors():
    bn = trainmode(BatchNorm(3))
    with pytest.raises(ValueError, match="more than one instance"):
        bn(rs.randn(1, 3, 4, 4))
    testmode(bn)
    assert bn(rs.randn(1, 3, 4, 4)).shape == (1, 3, 4, 4)            # fine in test mode
    with pytest.raises(ValueError, match="3 channels on axis 1"):
        bn(rs.randn(4, 5))
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=1.5)
    with pytest.raises(ValueError, match="chs"):
        BatchNorm(0)
    with pytest.raises(TypeError, match="floats"):
        bn(np.ones((4, 3), int))
    with pytest.raises(ValueError, match="one value per channel"):
        batchnorm(rs.randn(1, 3), training=True)
    with pytest.raises(ValueError, match="scale must be a vector of C = 3"):
        batchnorm(rs.randn(4, 3), np.ones(4), training=True)


def test_update_and_reset_averages():
    class Net(Layer):
        def __init__(self):
            self.bn1 = BatchNorm(3)
            self.w = Param(rs.randn(3, 3))
            self.bn2 = BatchNorm(3, momentum=0.5)

        def __call__(self, x):
            return self.bn2(np.tanh(self.bn1(x) @ self.w))

    net = Net()
    data = [(rs.randn(n, 3) * [1, 2, 3] + [0, 1, -1]).astype(np.float32) for n in (5, 7, 4)]
    for x in data:                      # some ordinary training steps move the averages
        diff(lambda: np.sum(net(x) ** 2))
    assert update_averages(net, [(x, None) for x in data])
    allx = np.concatenate(data).astype(np.float64)
    np.testing.assert_allclose(net.bn1.running_mean, allx.mean(0), rtol=1e-5)
    np.testing.assert_allclose(net.bn1.running_var, allx.var(0), rtol=1e-5)
    # bn2 sees tanh(batch-normalized x @ w): each batch normalized by its own statistics
    h = np.concatenate([np.tanh(ref_norm(x, (0,)) @ net.w.value) for x in data])
    np.testing.assert_allclose(net.bn2.running_mean, h.mean(0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(net.bn2.running_var, h.var(0), rtol=1e-4)
    assert net.bn1._accum is None
    assert reset_averages(net)
    np.testing.assert_array_equal(net.bn2.running_mean, 0)
    np.testing.assert_array_equal(net.bn2.running_var, 1)
    assert not update_averages(LayerNorm(3), data) and not reset_averages(LayerNorm(3))
    with pytest.raises(ValueError, match="no batches"):
        update_averages(net, [])


def test_groupnorm_layer():
    gn = GroupNorm(6, 3, dtype=np.float64)
    gn.scale.value[:] = rs.randn(6)
    gn.bias.value[:] = rs.randn(6)
    x = rs.randn(2, 6, 3, 3)
    np.testing.assert_allclose(gn(x), ref_groupnorm(x, 3, gn.scale.value, gn.bias.value),
                               atol=1e-10)
    xp = Param(x)
    assert gcheck(lambda x: np.sum(np.cos(gn(x))), xp)
    assert repr(GroupNorm(64, 4, np.tanh)) == "GroupNorm(64, 4, tanh, affine=true)"
    assert GroupNorm(10, 5).nparams() == 20
    with pytest.raises(ValueError, match="divisible by groups"):
        GroupNorm(6, 4)
    with pytest.raises(ValueError, match="divisible by groups"):
        groupnorm(rs.randn(2, 6, 3), groups=4)


def test_instancenorm_layer():
    inn = InstanceNorm(3, affine=True, track_stats=True, momentum=1.0)
    assert inn.nparams() == 6 and inn.nstates() == 6
    x = rs.randn(4, 3, 5)
    trainmode(inn)
    np.testing.assert_allclose(inn(x), ref_norm(x, (2,)), atol=1e-5)
    np.testing.assert_allclose(inn.running_mean, x.mean(2).mean(0), rtol=1e-5)
    testmode(inn)
    np.testing.assert_allclose(inn(x), (x - inn.running_mean[:, None])
                               / np.sqrt(inn.running_var[:, None] + 1e-5), rtol=1e-5, atol=1e-6)
    plain = InstanceNorm(3)
    assert params(plain) == [] and plain.nstates() == 0
    testmode(plain)                     # without track_stats: instance statistics always
    np.testing.assert_allclose(plain(x), ref_norm(x, (2,)), atol=1e-5)


def test_layernorm_layer():
    ln = LayerNorm((4, 5), dtype=np.float64)
    ln.scale.value[:] = rs.randn(4, 5)
    ln.bias.value[:] = rs.randn(4, 5)
    x = rs.randn(3, 4, 5)
    np.testing.assert_allclose(ln(x), ref_norm(x, (1, 2)) * ln.scale.value + ln.bias.value,
                               atol=1e-10)
    assert ln.nparams() == 40
    xp = Param(x)
    assert gcheck(lambda x: np.sum(np.sin(ln(x))), xp)
    assert LayerNorm(64)(np.ones((10, 64))).shape == (10, 64)
    assert LayerNorm((28, 28))(np.ones((16, 28, 28))).shape == (16, 28, 28)
    ln2 = LayerNorm(5, dims=(1, 2), affine=False)
    np.testing.assert_allclose(ln2(x), ref_norm(x, (1, 2)), atol=1e-10)
    with pytest.raises(ValueError, match="does not end with"):
        ln(rs.randn(3, 5, 4))


def test_layernorm_float16_is_float32_accurate():
    x = (rs.randn(8, 64) + 30).astype(np.float16)      # a float16 sum of a row overflows
    ln = LayerNorm(64)                                 # its 2**11 resolution
    y = ln(x)
    assert y.dtype == np.float16
    ref = ref_norm(x.astype(np.float64), (1,))
    # only the final rounding to float16 (half an ulp, 2**-11 relative) is lost
    np.testing.assert_allclose(y.astype(np.float64), ref, rtol=2 ** -10, atol=1e-3)
    for layer in (GroupNorm(64 // 8 * 8, 8), RMSNorm(64)):
        x2 = (rs.randn(4, 64) * 50).astype(np.float16)      # squares overflow float16
        y2 = layer(x2)
        assert y2.dtype == np.float16 and np.isfinite(y2).all()
    # gradient w.r.t. float32 Params from a float16 input is finite and float32
    out = diff(lambda: np.sum(ln(x)))
    assert grad(out, ln.scale).dtype == np.float32


def test_rmsnorm():
    r = RMSNorm(4, 5, epsilon=1e-6, dtype=np.float64)
    assert r.normalized_shape == (4, 5) and RMSNorm((4, 5)).normalized_shape == (4, 5)
    r.scale.value[:] = rs.randn(4, 5)
    x = rs.randn(3, 4, 5)
    ref = x / np.sqrt((x ** 2).mean(axis=(1, 2), keepdims=True) + 1e-6) * r.scale.value
    np.testing.assert_allclose(r(x), ref, atol=1e-10)
    xp = Param(x)
    assert gcheck(lambda x: np.sum(np.sin(r(x))), xp)
    assert RMSNorm(3, affine=False).nparams() == 0
    with pytest.raises(ValueError, match="normalized_shape"):
        r(rs.randn(3, 5, 4))


class _Lin(Layer):
    def __init__(self, w, b):
        self.weight, self.bias = Param(w), Param(b)

    def __call__(self, x):
        return x @ self.weight.T + self.bias


def test_weightnorm():
    w, b = rs.randn(3, 4), rs.randn(3)
    x = rs.randn(5, 4)
    wn = WeightNorm(_Lin(w, b), ("weight",))
    assert {id(p) for p in params(wn)} == {id(wn.weight_g), id(wn.weight_v), id(wn.layer.bias)}
    np.testing.assert_allclose(wn(x), x @ w.T + b, atol=1e-10)      # same function at init
    assert wn.weight_g.value.shape == (1, 1)
    wn.weight_g.value *= 2
    np.testing.assert_allclose(wn(x), 2 * x @ w.T + b, atol=1e-10)
    assert not isinstance(wn.layer.weight, Param)
    assert gcheck(lambda x: np.sum(np.tanh(wn(x))), Param(x))
    # per-output-unit magnitudes (PyTorch's dim=0)
    wn0 = WeightNorm(_Lin(w, b), "weight", dims=(0,))
    assert wn0.weight_g.value.shape == (3, 1)
    np.testing.assert_allclose(wn0.weight_g.value.ravel(), np.linalg.norm(w, axis=1))
    wn0.weight_v.value *= 7                                          # direction only
    np.testing.assert_allclose(wn0(x), x @ w.T + b, atol=1e-10)
    out = diff(lambda: np.sum(wn0(x) ** 2))
    gv = grad(out, wn0.weight_v)
    # the gradient of the direction is orthogonal to it
    np.testing.assert_allclose(np.sum(gv * wn0.weight_v.value, axis=1), 0, atol=1e-8)
    with pytest.raises(ValueError, match="all zeros"):
        WeightNorm(_Lin(w, np.zeros(3)), ("bias",))
    with pytest.raises(ValueError, match="no Param named"):
        WeightNorm(_Lin(w, b), ("kernel",))
    with pytest.raises(ValueError, match="one entry per name"):
        WeightNorm(_Lin(w, b), ("weight",), dims=(0, 1))


def test_local_response_normalization():
    lrn = LocalResponseNormalization()
    assert lrn(np.ones((2, 8, 14, 14))).shape == (2, 8, 14, 14)
    for n in (5, 4, 1):
        lrn = LocalResponseNormalization(k=1.5, n=n, alpha=0.1, beta=0.6)
        x = rs.randn(2, 6, 3, 2)
        np.testing.assert_allclose(lrn(x), ref_lrn(x, 1.5, n, 0.1, 0.6), atol=1e-10)
        assert gcheck(lambda x: np.sum(np.sin(lrn(x))), Param(x))
    assert lrn.nparams() == 0
    with pytest.raises(ValueError, match="n must be a positive integer"):
        LocalResponseNormalization(n=0)


def test_docstring_examples():
    import doctest

    import knetpy.layers.normalization as m
    res = doctest.testmod(m, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_initializers_both_conventions():
    full = lambda *s, dtype: np.full(s, 2.0, dtype)        # noqa: E731  knetpy's convention
    ln = LayerNorm((2, 3), init_scale=full, init_bias=np.ones)
    np.testing.assert_array_equal(ln.scale.value, 2)
    np.testing.assert_array_equal(ln.bias.value, 1)
    bn = BatchNorm(3, init_scale=full)
    np.testing.assert_array_equal(bn.scale.value, 2)
    with pytest.raises(ValueError, match="init_scale returned shape"):
        GroupNorm(4, 2, init_scale=lambda *s, dtype: np.ones(5, dtype))


def test_standardize_second_order():
    """Gradients of gradients of the fused layer/group/RMS primitive."""
    x = Param(rs.randn(3, 4, 2))
    g, b = Param(rs.randn(4)), Param(rs.randn(4))
    w = rs.randn(3, 4, 2)
    rms = RMSNorm(2, dtype=np.float64)
    for f in (lambda x: groupnorm(x, g, b, groups=2),
              lambda x: layernorm(x, dims=(1, 2)), rms):
        gfun = grad(lambda x: np.sum(w * f(x) ** 2))
        assert gcheck(lambda x: np.sum(gfun(x) ** 2), x)
