"""Fashion-MNIST with a multi-layer perceptron, in the style of Knet's README.

A model is plain Python: layers are objects holding Param weights, a Chain
calls them in turn, and called with answers it returns the loss.  ``adam``
trains every Param the loss touches, one minibatch per step.

    python examples/mnist_mlp.py                       # 10 epochs, test accuracy ~0.886
    python examples/mnist_mlp.py --epochs 1 --limit 6000
    mpiexec -n 2 .venv/bin/python examples/mnist_mlp.py --distributed   # data-parallel
With ``--distributed`` every rank trains on its shard of each minibatch
(``comm.shard``), a cross-replica ``BatchNorm`` normalizes the hidden layer
with the statistics of all ranks, and ``adam(..., comm=comm)`` averages the
gradients; rank 0 reports.  Without mpiexec it is one process, as usual.
Needs the data: `apt-get install dataset-fashion-mnist` (or --data FOLDER).
"""
import argparse
import os

import numpy as np

from knetpy import (accuracy, adam, distributed, load, mat, minibatch, ncycle, nll, param, param0,
                    progress, relu, save, seed)
from knetpy.layers import BatchNorm
from knetpy.datasets import fashion_mnist
from knetpy.plot import plot_history


# ---- the model, as in Knet's README
class Dense:
    """y = f(x W' + b) on flattened instances."""
    def __init__(self, i, o, f=relu):
        self.w, self.b, self.f = param(o, i), param0(o), f

    def __call__(self, x):
        return self.f(mat(x) @ self.w.T + self.b)


class Chain:
    """Layers in sequence; chain(x) gives scores, chain(x, y) the loss."""
    def __init__(self, *layers):
        self.layers = layers

    def __call__(self, x, y=None):
        for layer in self.layers:
            x = layer(x)
        return x if y is None else nll(x, y)


def identity(x):
    return x


# ---- the rest: options, data, training, checkpoint, plot
def plot_losses(losses, path, title):
    """Draw the loss curve to path (knetpy.plot) and say where, or why not; path or None."""
    try:
        plot_history(losses, path, title=title)
    except ImportError as e:
        print(f"no loss curve: {e}")
        return None
    print(f"loss curve: {os.path.abspath(path)}")
    return path


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--batchsize", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--limit", type=int, help="use only the first N training and test images")
    p.add_argument("--data", help="folder with the idx files (default: see knetpy.datasets)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--checkpoint", default="mnist_mlp.h5", help="'' to skip saving")
    p.add_argument("--plot", default="mnist_mlp_loss.png", help="'' to skip the plot")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the ranks of mpiexec, with a cross-replica BatchNorm")
    return p.parse_args(argv)


def main(argv=None):
    o = parse(argv)
    seed(o.seed)
    xtrn, ytrn, xtst, ytst = fashion_mnist(o.data)
    if o.limit:
        xtrn, ytrn, xtst, ytst = xtrn[:o.limit], ytrn[:o.limit], xtst[:o.limit], ytst[:o.limit]
    dtrn = minibatch(xtrn, ytrn, o.batchsize, shuffle=True)
    dtst = minibatch(xtst, ytst, o.batchsize, partial=True)

    comm = distributed.init() if o.distributed else None
    if comm is None:
        model = Chain(Dense(784, o.hidden), Dense(o.hidden, 10, identity))
    else:               # every rank draws the same weights and shuffles alike (same seed)
        model = Chain(Dense(784, o.hidden, identity), BatchNorm(o.hidden, relu, comm=comm),
                      Dense(o.hidden, 10, identity))
    say = print if comm is None or comm.rank == 0 else (lambda *a: None)
    say(f"{len(xtrn)} training and {len(xtst)} test images; "
        f"before training: test accuracy {accuracy(model, dtst):.4f}"
        + (f"; {comm.size} rank(s)" if comm else ""))
    data = ncycle(dtrn if comm is None else comm.shard(dtrn), o.epochs)
    training = adam(model, data, lr=o.lr, comm=comm)
    for _ in (progress(training) if comm is None or comm.rank == 0 else training):
        pass
    if comm is not None:  # the same model on every rank; a communicator is not saved
        o.checkpoint, o.plot = "", (o.plot if comm.rank == 0 else "")
    losses = training.history
    acc, tloss, reloaded = accuracy(model, dtst), nll(model, dtst), None
    say(f"after {o.epochs} epochs: test accuracy {acc:.4f}, test loss {tloss:.4f}")

    if o.checkpoint:    # the whole model, its Params with their Adam state
        save(o.checkpoint, model=model)
        again = load(o.checkpoint, "model", allow=[Chain, Dense, identity])
        reloaded = accuracy(again, dtst)
        print(f"saved {o.checkpoint}; reloaded model's test accuracy {reloaded:.4f}")
    if o.plot:
        plot_losses(losses, o.plot, f"MLP on Fashion-MNIST: test accuracy {acc:.4f}")
    return {"accuracy": acc, "test_loss": float(tloss), "losses": losses, "model": model,
            "reloaded_accuracy": reloaded}


if __name__ == "__main__":
    main()
