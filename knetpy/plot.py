"""Plots of training (needs the optional extra: ``pip install knetpy[plot]``).

``plot_history(itr_or_losses, "loss.png")`` draws the loss history that a
training iterator recorded (``adam(...).history``) to a PNG file.
"""
import math
import os
from numbers import Real

import numpy as np

__all__ = ["plot_history"]


def _losses(history):
    h = getattr(history, "history", history)
    try:
        a = np.asarray([float(v) for v in h], dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("plot_history: history must be a training iterator (adam(...), "
                        "minimize(...)) or a sequence of numbers, got "
                        f"{type(history).__name__}") from None
    if a.size == 0:
        raise ValueError("plot_history: the history is empty; run the training iterator first")
    return a


def _ema(a, alpha):
    out = np.empty_like(a)
    acc = w = 0.0
    for i, v in enumerate(a):
        if math.isfinite(v):
            acc, w = (1 - alpha) * acc + alpha * v, (1 - alpha) * w + alpha
        out[i] = acc / w if w else math.nan
    return out


def plot_history(history, path, *, title=None, smoothing=0.05, xlabel="step",
                 ylabel="training loss", logy=False, dpi=100):
    """plot_history(history, path, *, title=None, smoothing=0.05, xlabel="step",
    ylabel="training loss", logy=False, dpi=100) -> path

    Draw the losses (a training iterator, whose ``history`` is used, or a
    sequence of numbers), one point per step, as a thin line with their
    exponential moving average (weight ``smoothing``; 0 draws none) over it,
    and write the figure to ``path`` (PNG, or another format matplotlib
    knows by the suffix).  Needs matplotlib (``pip install knetpy[plot]``);
    without it raises ImportError saying so.

    >>> import tempfile, os
    >>> p = plot_history([3.0, 2.0, 1.5, 1.2], os.path.join(tempfile.mkdtemp(), "l.png"))
    >>> p.endswith("l.png") and os.path.getsize(p) > 0
    True
    """
    a = _losses(history)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"plot_history: path must be a file name, got {type(path).__name__}")
    if isinstance(smoothing, bool) or not isinstance(smoothing, Real) or not 0 <= smoothing <= 1:
        raise ValueError(f"plot_history: smoothing must be in [0, 1], got {smoothing!r}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_history needs matplotlib: pip install 'knetpy[plot]' "
                          "(or pip install matplotlib)") from None
    steps = np.arange(1, a.size + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(steps, a, lw=0.6, alpha=0.45 if smoothing else 1.0, color="tab:blue", label="loss")
    if smoothing and a.size > 1:
        ax.plot(steps, _ema(a, float(smoothing)), lw=1.8, color="tab:orange",
                label=f"moving average ({smoothing:g})")
        ax.legend()
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or f"{a.size} steps, last loss {a[-1]:.4g}")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return os.fspath(path)
