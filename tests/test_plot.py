"""knetpy.plot: the loss history drawn to a PNG (needs the `plot` extra)."""
import numpy as np
import pytest

from autograd import Param
from knetpy import sgd
from knetpy.plot import plot_history


def test_errors_before_matplotlib_is_needed(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        plot_history([], tmp_path / "a.png")
    with pytest.raises(TypeError, match="training iterator"):
        plot_history(["x"], tmp_path / "a.png")
    with pytest.raises(ValueError, match="smoothing"):
        plot_history([1.0], tmp_path / "a.png", smoothing=2)
    with pytest.raises(TypeError):
        plot_history([1.0], tmp_path / "a.png", titel="x")


def test_draws_the_history_of_a_training_iterator(tmp_path):
    pytest.importorskip("matplotlib")
    w = Param(np.array([2.0, -1.0]))
    itr = sgd(lambda: np.sum(w * w), [()] * 30, lr=0.05)
    for _ in itr:
        pass
    out = plot_history(itr, tmp_path / "loss.png", title="quadratic", logy=True)
    data = (tmp_path / "loss.png").read_bytes()
    assert out == str(tmp_path / "loss.png") and data[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image
    img = matplotlib.image.imread(out)
    assert img.shape[0] > 200 and img.shape[1] > 300
    assert img[..., :3].std() > 0.05                     # not a blank canvas
