"""A small ResNet on Fashion-MNIST with knetpy.layers.

Conv + BatchNorm stems, residual blocks built with ``SkipConnection(block, np.add)``,
strided convolutions to downsample, ``GlobalMeanPool`` and a Dense classifier,
trained with Adam through the lazy ``adam`` iterator.

    python examples/resnet_cifarlike.py                 # 3 epochs, all 60000 images
    python examples/resnet_cifarlike.py --epochs 1 --limit 5000   # a quick look

Prints the model, the loss along the way and the test accuracy after every
epoch.  A measured run of the defaults: test accuracy 0.8705, 0.8977 and 0.9144
after epochs 1, 2 and 3 (77 minutes on a busy 2-core machine).
"""
import sys
import time

import numpy as np

import knetpy
from knetpy import accuracy, adam, minibatch, nll, relu
from knetpy.layers import (BatchNorm, Chain, Conv, Dense, FlattenLayer, GlobalMeanPool,
                           SkipConnection, WrappedFunction)

from _common import images, options   # examples/_common.py


def conv_bn(cin, cout, activation=None, stride=1):
    """3x3 convolution (cross-correlation, no bias: BatchNorm shifts) + BatchNorm."""
    return Chain(Conv((3, 3), cin, cout, pad=1, stride=stride, use_bias=False,
                      cross_correlation=True),
                 BatchNorm(cout, activation))


def residual(ch):
    """x -> relu(x + bn(conv(relu(bn(conv(x))))))."""
    return Chain(SkipConnection(Chain(conv_bn(ch, ch, relu), conv_bn(ch, ch)), np.add),
                 WrappedFunction(relu))


def resnet(width=16, classes=10):
    return Chain(
        stem=conv_bn(1, width, relu),                       # 28x28
        down1=conv_bn(width, 2 * width, relu, stride=2),    # 14x14
        block2=residual(2 * width),
        down2=conv_bn(2 * width, 4 * width, relu, stride=2),  # 7x7
        block3=residual(4 * width),
        pool=GlobalMeanPool(),
        flat=FlattenLayer(),
        head=Dense(4 * width, classes),
        name="ResNet")


def main(argv=None):
    ap = options(__doc__, epochs=3, lr=2e-3, batchsize=64)
    ap.add_argument("--width", type=int, default=16, help="channels of the first stage")
    a = ap.parse_args(argv)

    knetpy.seed(a.seed)
    xtrn, ytrn, xtst, ytst = images(a.data, a.limit)
    mean, std = xtrn.mean(), xtrn.std()
    xtrn, xtst = (xtrn - mean) / std, (xtst - mean) / std

    model = resnet(a.width)
    print(model)

    def loss(x, y):
        return nll(model(x), y)

    dtst = minibatch(xtst, ytst, 500, partial=True)
    t0 = time.time()
    for epoch in range(1, a.epochs + 1):
        dtrn = minibatch(xtrn, ytrn, a.batchsize, shuffle=True)
        lr = a.lr if epoch < a.epochs or a.epochs == 1 else a.lr / 4   # anneal the last epoch
        for p in knetpy.params(model):
            if p.opt is not None:
                p.opt.lr = lr
        for i, l in enumerate(adam(loss, dtrn, lr=lr)):
            if i % 100 == 0:
                print(f"epoch {epoch} step {i}/{len(dtrn)} loss {float(l):.4f} "
                      f"({time.time() - t0:.0f}s)", flush=True)
        acc = accuracy(model, dtst)
        print(f"epoch {epoch}: test accuracy {acc:.4f} ({time.time() - t0:.0f}s)", flush=True)
    return acc


if __name__ == "__main__":
    main()
    sys.exit(0)
