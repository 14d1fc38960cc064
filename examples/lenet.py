"""LeNet on Fashion-MNIST: convolution, pooling and dropout, in the style of Knet's README.

    python examples/lenet.py                           # 3 epochs, test accuracy ~0.893
    python examples/lenet.py --epochs 1 --limit 6000
Needs the data: `apt-get install dataset-fashion-mnist` (or --data FOLDER).
"""
from knetpy import (accuracy, adam, conv4, dropout, mat, ncycle, nll, param, param0, pool, progress,
                    relu, seed)

from _common import image_batches, options, plot_losses, save_checkpoint   # examples/_common.py
from mnist_mlp import Chain, identity                                      # examples/mnist_mlp.py


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
    p = options(__doc__, "lenet", epochs=3, lr=0.001)
    p.add_argument("--pdrop", type=float, default=0.3)
    return p.parse_args(argv)


def main(argv=None):
    o = parse(argv)
    seed(o.seed)
    dtrn, dtst = image_batches(o)
    model = lenet(o.pdrop)
    print(f"{dtrn.n} training and {dtst.n} test images")
    losses = [float(loss) for loss in progress(adam(model, ncycle(dtrn, o.epochs), lr=o.lr))]
    acc, tloss = accuracy(model, dtst), nll(model, dtst)
    print(f"after {o.epochs} epochs: test accuracy {acc:.4f}, test loss {tloss:.4f}")
    save_checkpoint(o.checkpoint, model=model)
    plot_losses(losses, o.plot, "LeNet on Fashion-MNIST")
    return {"accuracy": acc, "test_loss": float(tloss), "losses": losses, "model": model}


if __name__ == "__main__":
    main()
