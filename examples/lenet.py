"""LeNet on Fashion-MNIST: convolution, pooling and dropout, in the style of Knet's README.

    python examples/lenet.py                           # 3 epochs, test accuracy ~0.893
    python examples/lenet.py --epochs 1 --limit 6000
Needs the data: `apt-get install dataset-fashion-mnist` (or --data FOLDER).
"""
import argparse

from knetpy import (accuracy, adam, conv4, dropout, mat, minibatch, ncycle, nll, param, param0,
                    pool, progress, relu, save, seed)
from knetpy.datasets import fashion_mnist

from mnist_mlp import Chain, identity, plot_losses   # examples/mnist_mlp.py


# ---- the model: the layers of examples/mnist_mlp.py plus a convolution
class Conv:
    """y = f(pool(conv4(w, x) + b)): w is (out, in, kh, kw), images are NCHW."""
    def __init__(self, kh, kw, cin, cout, f=relu):
        self.w, self.b, self.f = param(cout, cin, kh, kw), param0(1, cout, 1, 1), f

    def __call__(self, x):
        return self.f(pool(conv4(self.w, x) + self.b))


class Dense:
    """y = f(dropout(x) W' + b); dropout acts only while training."""
    def __init__(self, i, o, f=relu, pdrop=0.0):
        self.w, self.b, self.f, self.p = param(o, i), param0(o), f, pdrop

    def __call__(self, x):
        return self.f(mat(dropout(x, self.p)) @ self.w.T + self.b)


def lenet(pdrop=0.3):
    return Chain(Conv(5, 5, 1, 20), Conv(5, 5, 20, 50),
                 Dense(800, 500, pdrop=pdrop), Dense(500, 10, identity, pdrop=pdrop))


# ---- the rest: options, data, training, checkpoint, plot
def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batchsize", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--pdrop", type=float, default=0.3)
    p.add_argument("--limit", type=int, help="use only the first N training and test images")
    p.add_argument("--data", help="folder with the idx files (default: see knetpy.datasets)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--checkpoint", default="lenet.h5", help="'' to skip saving")
    p.add_argument("--plot", default="lenet_loss.png", help="'' to skip the plot")
    return p.parse_args(argv)


def main(argv=None):
    o = parse(argv)
    seed(o.seed)
    xtrn, ytrn, xtst, ytst = fashion_mnist(o.data)
    if o.limit:
        xtrn, ytrn, xtst, ytst = xtrn[:o.limit], ytrn[:o.limit], xtst[:o.limit], ytst[:o.limit]
    dtrn = minibatch(xtrn, ytrn, o.batchsize, shuffle=True)
    dtst = minibatch(xtst, ytst, o.batchsize, partial=True)

    model = lenet(o.pdrop)
    print(f"{len(xtrn)} training and {len(xtst)} test images")
    losses = [float(loss) for loss in progress(adam(model, ncycle(dtrn, o.epochs), lr=o.lr))]
    acc, tloss = accuracy(model, dtst), nll(model, dtst)
    print(f"after {o.epochs} epochs: test accuracy {acc:.4f}, test loss {tloss:.4f}")
    if o.checkpoint:
        save(o.checkpoint, model=model)
        print(f"saved {o.checkpoint}")
    if o.plot:
        plot_losses(losses, o.plot, "LeNet on Fashion-MNIST")
    return {"accuracy": acc, "test_loss": float(tloss), "losses": losses, "model": model}


if __name__ == "__main__":
    main()
