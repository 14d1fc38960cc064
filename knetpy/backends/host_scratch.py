"""Reusable host work arrays of the convolution and pooling kernels.

Large fresh arrays are expensive on the host: the allocator hands back new
pages that must be faulted in, which costs about as much as the copy that
fills them.  The work arrays of the conv and pool passes (column matrices,
transposed gradients, intermediate pooling passes) are therefore reused:
results returned to callers are always fresh arrays.  Device arrays (CuPy has
its own memory pool) are never kept.

One pool of bytes per thread.  Work bytes handed back (``give_back``) wait
in a small pool (``spare`` takes the smallest that is big enough).  Inside a
``lending()`` scope (every host conv and pool kernel runs in one) the named
work arrays of ``scratch`` are borrowed from that pool and all go back when
the scope ends, so that work arrays of different kernels and layers share
the same bytes: what a training step holds is the most any one kernel needs
at once, not the sum over every name.  Outside a scope ``scratch`` keeps one
array per name (up to ``SCRATCH_LIMIT`` bytes each).

The column matrix a convolution builds in its forward pass can be kept for
the weight gradient of the same input (``keep``/``take``; at most
``KEEP_LIMIT`` bytes, oldest dropped first); its bytes come from the pool and
go back to it after use.

The C allocator (``tune_malloc``, run once when this module is imported).
Every op returns fresh result arrays, and a training step frees and makes
again many arrays of a few MB.  glibc's malloc hands memory above its trim
threshold back to the system and maps large blocks afresh, so each step
faults in new pages again (about 4,000 page faults per LeNet step, a quarter
of its time on one thread).  On glibc, ``tune_malloc`` raises the trim
threshold to 256 MiB and fixes the mmap threshold at 32 MiB, so that freed
blocks under 32 MiB are reused with their pages in; blocks from 32 MiB up are
still mapped and unmapped as before.  This is a setting of the whole process
(like preloading jemalloc): ``KNETPY_MALLOC_TUNE=0`` in the environment, or
glibc's own ``MALLOC_TRIM_THRESHOLD_``/``MALLOC_MMAP_THRESHOLD_``/
``GLIBC_TUNABLES``, leave the allocator as it is.

>>> a = scratch(np, "demo", (2, 3), np.float32)
>>> a.shape, a.dtype
((2, 3), dtype('float32'))
"""
import collections
import ctypes
import os
import threading
import weakref

import numpy as np

__all__ = ["array_module", "work_dtype", "scratch", "lending", "clear_scratch", "keep", "take",
           "spare", "give_back", "borrow", "tune_malloc", "SCRATCH_LIMIT", "KEEP_LIMIT",
           "SPARES"]

SCRATCH_LIMIT = 1 << 28
KEEP_LIMIT = 1 << 29
SPARES = 8
_workspace = threading.local()


def array_module(a):
    """array_module(a) -> the array module of ``a`` (numpy unless it is e.g.
    a CuPy array).

    >>> array_module(np.ones(1)).__name__
    'numpy'
    """
    if isinstance(a, np.ndarray):
        return np
    if type(a).__module__.split(".")[0] == "cupy":
        import cupy
        return cupy
    return np


def work_dtype(*arrays):
    """work_dtype(*arrays) -> the float dtype the kernels compute in: the
    result type of the arrays, float16 widened to float32.

    >>> work_dtype(np.ones(1, np.float16))
    dtype('float32')
    """
    dt = np.result_type(*[a.dtype for a in arrays])
    return np.dtype(np.float32) if dt == np.float16 else dt


def scratch(xp, name, shape, dtype):
    """scratch(xp, name, shape, dtype) -> a work array of this thread named
    ``name``, valid until the next call with the same name (or the end of the
    ``lending`` scope it was taken in); a fresh one for device arrays or above
    ``SCRATCH_LIMIT``."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if xp is not np or nbytes > SCRATCH_LIMIT:
        return xp.empty(shape, dtype=dtype)
    scope = _workspace.__dict__.get("scope")
    bufs = _workspace.__dict__.setdefault("bufs", {}) if scope is None else scope
    buf = bufs.get(name)
    if buf is None or buf.nbytes < nbytes:
        if scope is None:
            buf = np.empty(nbytes, dtype=np.uint8)
        else:
            give_back(buf)
            buf = spare(nbytes)
        bufs[name] = buf
    return buf[:nbytes].view(dtype).reshape(shape)


class lending:
    """``with lending():`` the named ``scratch`` arrays taken inside borrow
    bytes from this thread's pool, and all go back to it at the end (nested
    scopes join the outermost one).  Every host conv and pool kernel runs in
    one, so none of them holds work bytes between calls.

    >>> with lending():
    ...     scratch(np, "demo", (4,), np.float32).shape
    (4,)
    """

    def __enter__(self):
        self.outer = "scope" in _workspace.__dict__
        if not self.outer:
            _workspace.scope = {}
        return self

    def __exit__(self, *exc):
        if not self.outer:
            scope = _workspace.__dict__.pop("scope")
            for buf in scope.values():
                give_back(buf)
        return False


def lent(method):
    """Decorator: run ``method`` inside a ``lending()`` scope."""
    def run(*args, **kw):
        with lending():
            return method(*args, **kw)
    run.__name__, run.__qualname__, run.__doc__ = method.__name__, method.__qualname__, \
        method.__doc__
    run.__wrapped__ = method
    return run


def clear_scratch():
    """clear_scratch(): drop this thread's work arrays and kept columns (they
    are rebuilt when needed).

    >>> clear_scratch()
    """
    for key in ("bufs", "kept", "spares", "scope"):
        _workspace.__dict__.pop(key, None)


def _kept():
    return _workspace.__dict__.setdefault("kept", collections.OrderedDict())


def keep(x, key, col, buf):
    """keep(x, key, col, buf): remember ``col`` (held in the bytes ``buf``) as
    the columns of array ``x`` for geometry ``key``."""
    kept = _kept()
    for k in [k for k, e in kept.items() if e[0]() is None]:   # inputs gone: bytes back
        give_back(kept.pop(k)[3])
    kept[id(x)] = (weakref.ref(x), key, col, buf)
    kept.move_to_end(id(x))
    while sum(e[3].nbytes for e in kept.values()) > KEEP_LIMIT and len(kept) > 1:
        kept.popitem(last=False)


def take(x, key):
    """take(x, key) -> (columns, bytes) kept for array ``x`` and geometry
    ``key``, removed from the store; (None, None) when there are none."""
    kept = _kept()
    e = kept.get(id(x))
    if e is None or e[0]() is not x or e[1] != key:
        return None, None
    del kept[id(x)]
    return e[2], e[3]


def spare(nbytes):
    """spare(nbytes) -> uint8 bytes (at least ``nbytes``) for a kept column
    matrix or a large short-lived work array: the smallest one given back by
    ``give_back`` that is big enough (its pages are already in), else new.

    >>> clear_scratch(); b = spare(64); give_back(b); spare(16) is b
    True
    """
    spares = _workspace.__dict__.setdefault("spares", [])
    fits = [i for i, b in enumerate(spares) if b.nbytes >= nbytes]
    if fits:
        return spares.pop(min(fits, key=lambda i: spares[i].nbytes))
    return np.empty(nbytes, dtype=np.uint8)


def borrow(xp, shape, dtype):
    """borrow(xp, shape, dtype) -> (array, bytes): a work array of ``shape``
    living in ``spare`` bytes (hand ``bytes`` to ``give_back`` when done, so
    that the next large work array of any kind reuses them); for device
    arrays a fresh array and None.

    >>> a, b = borrow(np, (2, 3), np.float32); give_back(b); a.shape
    (2, 3)
    """
    dtype = np.dtype(dtype)
    if xp is not np:
        return xp.empty(shape, dtype=dtype), None
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buf = spare(nbytes)
    return buf[:nbytes].view(dtype).reshape(shape), buf


def give_back(buf):
    """give_back(buf): return bytes from ``spare`` to the pool (None is
    ignored); the pool keeps at most ``SPARES`` arrays (the smallest go first,
    they are cheap to make again) and ``KEEP_LIMIT`` bytes (the largest go
    first)."""
    if buf is None:
        return
    spares = _workspace.__dict__.setdefault("spares", [])
    spares.append(buf)
    while len(spares) > SPARES:
        spares.pop(min(range(len(spares)), key=lambda i: spares[i].nbytes))
    while sum(b.nbytes for b in spares) > KEEP_LIMIT:
        spares.pop(max(range(len(spares)), key=lambda i: spares[i].nbytes))


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3        # glibc's mallopt parameters


def tune_malloc(trim=1 << 28, mmap=1 << 25):
    """tune_malloc(trim=1 << 28, mmap=1 << 25) -> True when glibc's malloc now
    keeps up to ``trim`` free bytes instead of returning them to the system
    and maps only blocks of ``mmap`` bytes or more (see the module docstring);
    False where it was left alone: not glibc, ``KNETPY_MALLOC_TUNE=0``, or the
    user set glibc's own malloc variables.

    >>> tune_malloc() in (True, False)
    True
    """
    env = os.environ
    if (env.get("KNETPY_MALLOC_TUNE", "1") == "0" or "MALLOC_TRIM_THRESHOLD_" in env
            or "MALLOC_MMAP_THRESHOLD_" in env or "malloc" in env.get("GLIBC_TUNABLES", "")):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
    except (AttributeError, ValueError, OSError):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_TRIM_THRESHOLD, int(trim)) and mallopt(_M_MMAP_THRESHOLD, int(mmap)))


tune_malloc()
