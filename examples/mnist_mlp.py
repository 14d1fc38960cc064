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
from knetpy import accuracy, adam, distributed, load, mat, ncycle, nll, param, param0, progress, relu, seed
from knetpy.layers import BatchNorm

from _common import image_batches, options, plot_losses, save_checkpoint   # examples/_common.py


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
def parse(argv):
    p = options(__doc__, "mnist_mlp", epochs=10, lr=0.001)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the ranks of mpiexec, with a cross-replica BatchNorm")
    return p.parse_args(argv)


def main(argv=None):
    o = parse(argv)
    seed(o.seed)
    dtrn, dtst = image_batches(o)

    comm = distributed.init() if o.distributed else None
    if comm is None:
        model = Chain(Dense(784, o.hidden), Dense(o.hidden, 10, identity))
    else:               # every rank draws the same weights and shuffles alike (same seed)
        model = Chain(Dense(784, o.hidden, identity), BatchNorm(o.hidden, relu, comm=comm),
                      Dense(o.hidden, 10, identity))
    say = print if comm is None or comm.rank == 0 else (lambda *a: None)
    say(f"{dtrn.n} training and {dtst.n} test images; "
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

    if save_checkpoint(o.checkpoint, model=model):   # the whole model, its Params with their Adam state
        reloaded = accuracy(load(o.checkpoint, "model", allow=[Chain, Dense, identity]), dtst)
        print(f"reloaded model's test accuracy {reloaded:.4f}")
    plot_losses(losses, o.plot, f"MLP on Fashion-MNIST: test accuracy {acc:.4f}")
    return {"accuracy": acc, "test_loss": float(tloss), "losses": losses, "model": model,
            "reloaded_accuracy": reloaded}


if __name__ == "__main__":
    main()
