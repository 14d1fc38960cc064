"""CUDA C sources for the GPU backend of knetpy (installed as knetpy.kernels).

Each family of kernels is one ``.cu`` file in this folder; they share
``knet_common.cuh``.  ``cuda_emul.h`` lets the host C++ compiler build the
same sources for the CPU emulator (``knetpy.backends.emulator``).

>>> "unary" in families()
True
>>> "sin_32" in source("unary") or "KNET_UNARY(sin" in source("unary")
True
"""
import hashlib
import os

__all__ = ["families", "path", "source", "include_dir", "emulator_header", "digest"]

_DIR = os.path.dirname(os.path.abspath(__file__))


def include_dir():
    """include_dir() -> the folder holding the .cu sources and their headers."""
    return _DIR


def families():
    """families() -> sorted names of the kernel families (the .cu files without suffix).

    >>> families()[:2]
    ['actback', 'batchnorm']
    """
    return sorted(f[:-3] for f in os.listdir(_DIR) if f.endswith(".cu"))


def path(family):
    """path(family) -> absolute path of ``<family>.cu``; ValueError for an unknown family."""
    p = os.path.join(_DIR, f"{family}.cu")
    if not isinstance(family, str) or not os.path.isfile(p):
        raise ValueError(f"kernels: family must be one of {families()}, got {family!r}")
    return p


def source(family):
    """source(family) -> the CUDA C text of ``<family>.cu`` (it #includes knet_common.cuh)."""
    with open(path(family)) as f:
        return f.read()


def emulator_header():
    """emulator_header() -> path of cuda_emul.h, the CUDA built-ins for the CPU emulator."""
    return os.path.join(_DIR, "cuda_emul.h")


def digest(family, extra=""):
    """digest(family, extra="") -> hex hash of the family's source, every header of
    this folder and ``extra``: a cache key for compiled modules."""
    h = hashlib.sha256(extra.encode())
    for f in sorted(os.listdir(_DIR)):
        if f.endswith((".cuh", ".h")) or f == f"{family}.cu":
            with open(os.path.join(_DIR, f), "rb") as fh:
                h.update(f.encode() + b"\0" + fh.read())
    return h.hexdigest()[:24]
