"""What the training examples share: their options, the Fashion-MNIST data, the checkpoint and the loss plot.

Each example imports it by name (``from _common import options``): Python puts
the folder of the script it runs first on ``sys.path``, so
``python examples/lenet.py`` finds this file from any working directory.  Keep
it small; a model or a training loop belongs in the example that shows it.
"""
import argparse
import os

from knetpy import minibatch, save
from knetpy.datasets import fashion_mnist
from knetpy.plot import plot_history

IMAGES_LIMIT = "use only the first N training and test images"
IMAGES_DATA = "folder with the idx files (default: see knetpy.datasets)"


def options(doc, name=None, *, epochs, lr, batchsize=100, limit=None, limit_help=IMAGES_LIMIT,
            data_help=IMAGES_DATA):
    """options(doc, name=None, *, epochs, lr, batchsize=100, limit=None, ...) -> ArgumentParser

    A parser described by the first line of ``doc`` with the options every
    training example takes: ``--epochs``, ``--batchsize``, ``--lr``,
    ``--limit`` (default ``limit``), ``--data``, ``--seed`` (1) and, when
    ``name`` is given, ``--checkpoint NAME.h5`` and ``--plot NAME_loss.png``
    (``''`` turns either off).  The example adds its own options and calls
    ``parse_args(argv)``.

    >>> o = options("A demo.", "demo", epochs=2, lr=0.1).parse_args(["--limit", "60"])
    >>> (o.epochs, o.lr, o.batchsize, o.limit, o.seed, o.checkpoint, o.plot)
    (2, 0.1, 100, 60, 1, 'demo.h5', 'demo_loss.png')
    """
    p = argparse.ArgumentParser(description=doc.strip().split("\n")[0])
    p.add_argument("--epochs", type=int, default=epochs, help="passes over the training set")
    p.add_argument("--batchsize", type=int, default=batchsize)
    p.add_argument("--lr", type=float, default=lr, help="Adam's learning rate")
    p.add_argument("--limit", type=int, default=limit, help=limit_help)
    p.add_argument("--data", help=data_help)
    p.add_argument("--seed", type=int, default=1)
    if name:
        p.add_argument("--checkpoint", default=f"{name}.h5", help="'' to skip saving")
        p.add_argument("--plot", default=f"{name}_loss.png", help="'' to skip the plot")
    return p


def images(data=None, limit=None):
    """images(data=None, limit=None) -> xtrn, ytrn, xtst, ytst

    Fashion-MNIST from the folder ``data`` (None: where knetpy.datasets looks),
    only the first ``limit`` training and test images when ``limit`` is set.
    """
    xtrn, ytrn, xtst, ytst = fashion_mnist(data)
    if limit:
        xtrn, ytrn, xtst, ytst = xtrn[:limit], ytrn[:limit], xtst[:limit], ytst[:limit]
    return xtrn, ytrn, xtst, ytst


def image_batches(o):
    """image_batches(o) -> dtrn, dtst

    ``images(o.data, o.limit)`` as minibatches of ``o.batchsize``: the training
    set shuffled on every pass, the test set in order with its last partial
    batch kept.  ``dtrn.n`` and ``dtst.n`` count the images.
    """
    xtrn, ytrn, xtst, ytst = images(o.data, o.limit)
    return (minibatch(xtrn, ytrn, o.batchsize, shuffle=True),
            minibatch(xtst, ytst, o.batchsize, partial=True))


def save_checkpoint(path, **objects):
    """save_checkpoint(path, **objects) -> path or None

    ``knetpy.save(path, **objects)`` and say so; nothing when ``path`` is ''.
    """
    if not path:
        return None
    save(path, **objects)
    print(f"saved {path}")
    return path


def plot_losses(losses, path, title):
    """plot_losses(losses, path, title) -> path or None

    Draw the loss curve to ``path`` (knetpy.plot) and say where, or why not
    (no matplotlib); nothing when ``path`` is ''.
    """
    if not path:
        return None
    try:
        plot_history(losses, path, title=title)
    except ImportError as e:
        print(f"no loss curve: {e}")
        return None
    print(f"loss curve: {os.path.abspath(path)}")
    return path
