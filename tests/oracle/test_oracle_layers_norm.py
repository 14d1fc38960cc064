"""Normalization layers vs PyTorch: values, running statistics and gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograd import Param, diff, grad
from knetpy.layers.base import testmode, trainmode
from knetpy.layers.normalization import (BatchNorm, GroupNorm, InstanceNorm, LayerNorm,
                                         LocalResponseNormalization, RMSNorm, batchnorm,
                                         groupnorm, instancenorm, layernorm)

rs = np.random.RandomState(11)


def T(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def grads_ours(f, *arrays):
    ps = [Param(np.array(a, dtype=np.float64)) for a in arrays]
    w = rs.randn(*np.shape(f(*[p.value for p in ps])))
    out = diff(lambda: np.sum(w * f(*ps)))
    return [grad(out, p) for p in ps], w


def check_grads(f_ours, f_torch, *arrays):
    gs, w = grads_ours(f_ours, *arrays)
    ts = [T(a) for a in arrays]
    (f_torch(*ts) * torch.tensor(w)).sum().backward()
    for g, t in zip(gs, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape", [(7, 4), (3, 4, 5), (2, 4, 3, 3), (2, 4, 2, 3, 2)])
def test_batchnorm(shape):
    C = shape[1]
    x, g, b = rs.randn(*shape) * 2 + 1, rs.randn(C), rs.randn(C)
    rm, rv = rs.randn(C), rs.rand(C) + 0.5
    y, st = batchnorm(x, g, b, rm, rv, training=True, momentum=0.3, epsilon=1e-4)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    ty = F.batch_norm(torch.tensor(x), trm, trv, torch.tensor(g), torch.tensor(b),
                      training=True, momentum=0.3, eps=1e-4)
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(st.running_mean, trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(st.running_var, trv.numpy(), rtol=1e-12)
    y, _ = batchnorm(x, g, b, rm, rv, training=False)
    ty = F.batch_norm(torch.tensor(x), torch.tensor(rm), torch.tensor(rv), torch.tensor(g),
                      torch.tensor(b), training=False)
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-10, atol=1e-12)
    check_grads(lambda x, g, b: batchnorm(x, g, b, training=True)[0],
                lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True), x, g, b)


def test_batchnorm_layer_vs_torch_module():
    bn = BatchNorm(3, momentum=0.1, dtype=np.float64)
    tb = torch.nn.BatchNorm2d(3, momentum=0.1, dtype=torch.float64)
    trainmode(bn)
    tb.train()
    for _ in range(3):
        x = rs.randn(4, 3, 5, 5) * 3 + 2
        np.testing.assert_allclose(bn(x), tb(torch.tensor(x)).detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(bn.running_mean, tb.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, tb.running_var.numpy(), rtol=1e-12)
    testmode(bn)
    tb.eval()
    x = rs.randn(2, 3, 5, 5)
    np.testing.assert_allclose(bn(x), tb(torch.tensor(x)).detach().numpy(), atol=1e-10)


@pytest.mark.parametrize("shape,G", [((3, 6, 5), 3), ((2, 8, 3, 3), 4), ((2, 4, 2, 2, 3), 2)])
def test_groupnorm(shape, G):
    C = shape[1]
    x, g, b = rs.randn(*shape), rs.randn(C), rs.randn(C)
    ty = F.group_norm(torch.tensor(x), G, torch.tensor(g), torch.tensor(b), eps=1e-5)
    np.testing.assert_allclose(groupnorm(x, g, b, groups=G), ty.numpy(), rtol=1e-10, atol=1e-12)
    check_grads(lambda x, g, b: groupnorm(x, g, b, groups=G),
                lambda x, g, b: F.group_norm(x, G, g, b, eps=1e-5), x, g, b)
    gn = GroupNorm(C, G, dtype=np.float64)
    tg = torch.nn.GroupNorm(G, C, dtype=torch.float64)
    np.testing.assert_allclose(gn(x), tg(torch.tensor(x)).detach().numpy(), atol=1e-10)


@pytest.mark.parametrize("shape", [(3, 4, 6), (2, 3, 4, 4)])
def test_instancenorm(shape):
    C = shape[1]
    x, g, b = rs.randn(*shape), rs.randn(C), rs.randn(C)
    rm, rv = np.zeros(C), np.ones(C)
    y, st = instancenorm(x, g, b, rm, rv, training=True, momentum=0.2)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    ty = F.instance_norm(torch.tensor(x), trm, trv, torch.tensor(g), torch.tensor(b),
                         use_input_stats=True, momentum=0.2)
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(st.running_mean, trm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(st.running_var, trv.numpy(), rtol=1e-10)
    y, _ = instancenorm(x, g, b, st.running_mean, st.running_var, training=False)
    ty = F.instance_norm(torch.tensor(x), trm, trv, torch.tensor(g), torch.tensor(b),
                         use_input_stats=False)
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-10, atol=1e-12)
    check_grads(lambda x, g, b: instancenorm(x, g, b)[0],
                lambda x, g, b: F.instance_norm(x, weight=g, bias=b), x, g, b)
    inn = InstanceNorm(C, affine=True, dtype=np.float64)
    ti = torch.nn.InstanceNorm1d(C, affine=True, dtype=torch.float64) if len(shape) == 3 else \
        torch.nn.InstanceNorm2d(C, affine=True, dtype=torch.float64)
    np.testing.assert_allclose(inn(x), ti(torch.tensor(x)).detach().numpy(), atol=1e-10)


@pytest.mark.parametrize("shape,nshape", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5))])
def test_layernorm(shape, nshape):
    x, g, b = rs.randn(*shape) * 3, rs.randn(*nshape), rs.randn(*nshape)
    ty = F.layer_norm(torch.tensor(x), nshape, torch.tensor(g), torch.tensor(b), eps=1e-5)
    np.testing.assert_allclose(layernorm(x, g, b), ty.numpy(), rtol=1e-10, atol=1e-12)
    check_grads(lambda x, g, b: layernorm(x, g, b),
                lambda x, g, b: F.layer_norm(x, nshape, g, b, eps=1e-5), x, g, b)
    ln = LayerNorm(nshape, dtype=np.float64)
    tl = torch.nn.LayerNorm(nshape, dtype=torch.float64)
    np.testing.assert_allclose(ln(x), tl(torch.tensor(x)).detach().numpy(), atol=1e-10)


def test_layernorm_float16_vs_torch_float32():
    x = (rs.randn(4, 32) * 4 + 100).astype(np.float16)
    ty = F.layer_norm(torch.tensor(x.astype(np.float32)), (32,)).numpy().astype(np.float16)
    y = LayerNorm(32)(x)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.astype(np.float32), ty.astype(np.float32), atol=2e-3)


def test_rmsnorm():
    x, g = rs.randn(3, 4, 5), rs.randn(4, 5)
    r = RMSNorm(4, 5, epsilon=1e-6, dtype=np.float64)
    r.scale.value[:] = g
    ty = F.rms_norm(torch.tensor(x), (4, 5), torch.tensor(g), eps=1e-6)
    np.testing.assert_allclose(r(x), ty.numpy(), rtol=1e-10, atol=1e-12)
    gs, w = grads_ours(lambda x: r(x), x)
    tx = T(x)
    (F.rms_norm(tx, (4, 5), torch.tensor(g), eps=1e-6) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(gs[0], tx.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("n", [5, 4, 2])
def test_local_response_normalization(n):
    x = rs.randn(2, 7, 3, 3)
    lrn = LocalResponseNormalization(k=2.0, n=n, alpha=1e-2, beta=0.75)
    # PyTorch divides alpha by n
    ty = F.local_response_norm(torch.tensor(x), n, alpha=1e-2 * n, beta=0.75, k=2.0)
    np.testing.assert_allclose(lrn(x), ty.numpy(), rtol=1e-10, atol=1e-12)
    check_grads(lambda x: lrn(x),
                lambda x: F.local_response_norm(x, n, alpha=1e-2 * n, beta=0.75, k=2.0), x)
