"""Reusable host work arrays of the convolution and pooling kernels.

Large fresh arrays are expensive on the host: the allocator hands back new
pages that must be faulted in, which costs about as much as the copy that
fills them.  The work arrays of the conv and pool passes (column matrices,
transposed gradients, intermediate pooling passes) are therefore kept per
thread and per name (``scratch``), up to ``SCRATCH_LIMIT`` bytes each;
results returned to callers are always fresh arrays.  Device arrays (CuPy has
its own memory pool) are never kept.

The column matrix a convolution builds in its forward pass can be kept for
the weight gradient of the same input (``keep``/``take``; at most
``KEEP_LIMIT`` bytes, oldest dropped first); its bytes are then handed back
(``give_back``) and serve the next kept matrix (``spare``).

>>> a = scratch(np, "demo", (2, 3), np.float32)
>>> a.shape, a.dtype
((2, 3), dtype('float32'))
"""
import collections
import threading
import weakref

import numpy as np

__all__ = ["array_module", "work_dtype", "scratch", "clear_scratch", "keep", "take", "spare",
           "give_back", "SCRATCH_LIMIT", "KEEP_LIMIT"]

SCRATCH_LIMIT = 1 << 28
KEEP_LIMIT = 1 << 29
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
    ``name``, reused from call to call (valid until the next call with the
    same name); a fresh one for device arrays or above ``SCRATCH_LIMIT``."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if xp is not np or nbytes > SCRATCH_LIMIT:
        return xp.empty(shape, dtype=dtype)
    bufs = _workspace.__dict__.setdefault("bufs", {})
    buf = bufs.get(name)
    if buf is None or buf.nbytes < nbytes:
        buf = bufs[name] = np.empty(nbytes, dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def clear_scratch():
    """clear_scratch(): drop this thread's work arrays and kept columns (they
    are rebuilt when needed).

    >>> clear_scratch()
    """
    for key in ("bufs", "kept", "spares"):
        _workspace.__dict__.pop(key, None)


def _kept():
    return _workspace.__dict__.setdefault("kept", collections.OrderedDict())


def keep(x, key, col, buf):
    """keep(x, key, col, buf): remember ``col`` (held in the bytes ``buf``) as
    the columns of array ``x`` for geometry ``key``."""
    kept = _kept()
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
    """spare(nbytes) -> uint8 bytes for a kept column matrix: one given back
    by ``give_back`` when big enough (its pages are already in), else new."""
    spares = _workspace.__dict__.setdefault("spares", [])
    for i, b in enumerate(spares):
        if b.nbytes >= nbytes:
            return spares.pop(i)
    return np.empty(nbytes, dtype=np.uint8)


def give_back(buf):
    """give_back(buf): return the bytes of a used kept column matrix."""
    spares = _workspace.__dict__.setdefault("spares", [])
    spares.append(buf)
    while len(spares) > 4 or sum(b.nbytes for b in spares) > KEEP_LIMIT:
        spares.pop(0)
