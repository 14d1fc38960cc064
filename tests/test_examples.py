"""The examples run end to end on tiny generated data (a few optimizer steps each)."""
import doctest
import gzip
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from test_datasets import idx_bytes

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def examples():
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield {name: importlib.import_module(name) for name in ("_common", "mnist_mlp", "lenet", "charlm",
                                                            "resnet_cifarlike")}
    finally:
        sys.path.remove(str(EXAMPLES))


def has_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def learnable_images(n, seed):
    """Images whose class k shows as a bright band at rows 2k..2k+3, plus noise."""
    r = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.uint8) % 10
    x = r.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(y):
        x[i, 2 * k + 2:2 * k + 5, 4:24] = 250
    return x, y


def write_fake_mnist(folder):
    """Write 200 training and 100 test learnable_images as the four idx.gz files of Fashion-MNIST
    into folder (made if missing); return folder.  tests/test_distributed_bn.py uses it too."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", 200), ("t10k", 100)):
        x, y = learnable_images(n, seed=len(split))
        (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(x)))
        (folder / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(y)))
    return folder


@pytest.fixture
def fake_mnist(tmp_path):
    return write_fake_mnist(tmp_path / "data")


def common(tmp_path, data):
    return ["--data", str(data), "--checkpoint", str(tmp_path / "model.h5"),
            "--plot", str(tmp_path / "loss.png")]


def check_outputs(tmp_path, out, nsteps):
    losses = out["losses"]
    assert len(losses) == nsteps and all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
    assert (tmp_path / "model.h5").stat().st_size > 0
    assert (tmp_path / "loss.png").exists() == has_matplotlib()


def test_mnist_mlp(examples, fake_mnist, tmp_path, capsys):
    out = examples["mnist_mlp"].main(common(tmp_path, fake_mnist) + [
        "--epochs", "3", "--batchsize", "20", "--hidden", "32", "--lr", "0.01"])
    check_outputs(tmp_path, out, 3 * 200 // 20)
    assert out["accuracy"] >= 0.9          # the bands make the classes easy
    assert out["reloaded_accuracy"] == out["accuracy"]
    text = capsys.readouterr().out
    assert "test accuracy" in text and "reloaded model's test accuracy" in text


def test_mnist_mlp_limit(examples, fake_mnist, tmp_path):
    out = examples["mnist_mlp"].main(common(tmp_path, fake_mnist) + [
        "--epochs", "1", "--limit", "60", "--batchsize", "20", "--hidden", "8",
        "--checkpoint", "", "--plot", ""])
    assert len(out["losses"]) == 3 and 0 <= out["accuracy"] <= 1
    assert not (tmp_path / "model.h5").exists() and not (tmp_path / "loss.png").exists()


def test_mnist_mlp_missing_data(examples, tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        examples["mnist_mlp"].main(["--data", str(tmp_path)])


def test_lenet(examples, fake_mnist, tmp_path, capsys):
    out = examples["lenet"].main(common(tmp_path, fake_mnist) + [
        "--epochs", "2", "--limit", "75", "--batchsize", "25", "--pdrop", "0", "--lr", "0.003"])
    check_outputs(tmp_path, out, 2 * 75 // 25)
    assert 0 <= out["accuracy"] <= 1
    assert "test accuracy" in capsys.readouterr().out


def test_lenet_shapes(examples):
    model = examples["lenet"].lenet(0.0)
    x = np.random.default_rng(0).random((3, 1, 28, 28), dtype=np.float32)
    assert np.shape(model(x)) == (3, 10)
    assert np.isfinite(float(model(x, np.array([0, 1, 2]))))


@pytest.fixture
def tiny_text(tmp_path):
    folder = tmp_path / "text"
    folder.mkdir()
    (folder / "verse.txt").write_text("to be or not to be.\n" * 60)
    return folder


def test_charlm(examples, tiny_text, tmp_path, capsys):
    out = examples["charlm"].main(common(tmp_path, tiny_text) + [
        "--epochs", "4", "--limit", "0", "--hidden", "24", "--batchsize", "4", "--bptt", "20",
        "--lr", "0.02", "--sample", "30"])
    nwin = -(-((1200 - 60 - 1) // 4) // 20)      # training text 95% of 1200 chars, 4 streams
    check_outputs(tmp_path, out, 4 * nwin)
    assert out["test_loss"] < out["unigram"] - 0.3
    assert len(out["text"]) == 30 and set(out["text"]) <= set("to ber n.\n")
    printed = capsys.readouterr().out
    assert "unigram entropy" in printed and "sampled text" in printed


def test_charlm_windows(examples):
    ids = np.arange(23)
    w = examples["charlm"].Windows(ids, batchsize=2, bptt=4, shuffle=False)
    pairs = list(w)
    assert len(w) == len(pairs) == 3                     # 11 steps per stream: 4 + 4 + 3
    assert pairs[0][0].shape == (4, 2) and pairs[-1][0].shape == (3, 2)
    x = np.concatenate([p[0] for p in pairs])
    y = np.concatenate([p[1] for p in pairs])
    np.testing.assert_array_equal(x[:, 1], np.arange(11, 22))   # stream 1 continues stream 0
    np.testing.assert_array_equal(y, x + 1)
    shuffled = examples["charlm"].Windows(ids, batchsize=2, bptt=4)
    assert sorted(int(p[0][0, 0]) for p in shuffled) == [0, 4, 8]
    with pytest.raises(ValueError, match="too few"):
        examples["charlm"].Windows(ids[:2], batchsize=4, bptt=4)


def test_unigram_entropy(examples):
    h = examples["charlm"].unigram_entropy(np.array([0, 0, 1, 2]), 4)
    assert h == pytest.approx(-(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25)))


def test_resnet(examples, fake_mnist, capsys):
    acc = examples["resnet_cifarlike"].main(["--data", str(fake_mnist), "--epochs", "1",
                                             "--limit", "40", "--batchsize", "20", "--width", "4"])
    assert 0 <= acc <= 1
    assert "epoch 1: test accuracy" in capsys.readouterr().out


def test_common_docstrings(examples):
    result = doctest.testmod(examples["_common"])
    assert result.attempted >= 2 and result.failed == 0


def test_common_options_and_outputs(examples, fake_mnist, tmp_path, capsys):
    common = examples["_common"]
    o = common.options("Doc line.\nmore", epochs=1, lr=0.5, batchsize=30).parse_args(
        ["--data", str(fake_mnist), "--limit", "70"])
    assert not hasattr(o, "checkpoint") and not hasattr(o, "plot")    # no name: no outputs
    dtrn, dtst = common.image_batches(o)
    assert (dtrn.n, dtst.n, len(dtrn), len(dtst)) == (70, 70, 2, 3)  # test keeps its partial batch
    assert common.save_checkpoint("", model=1) is None and common.plot_losses([1.0], "", "t") is None
    assert capsys.readouterr().out == ""
    path = str(tmp_path / "w.h5")
    assert common.save_checkpoint(path, w=np.arange(3)) == path
    assert f"saved {path}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        common.options("Doc.", epochs=1, lr=0.1).parse_args(["--checkpoint", "x.h5"])
