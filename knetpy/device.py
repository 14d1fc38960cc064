"""gpu(): which device new KnetArrays are allocated on.

CuPy is never imported when knetpy starts: only ``gpu(d)`` with ``d >= 0``
or ``gpu(True)`` looks for it, and says clearly why no GPU can be used when
that is the case.
"""
import warnings

from . import backends

__all__ = ["gpu"]

_active = -1


def _device_count():
    """(count, reason): the number of CUDA devices CuPy sees, and why it is 0."""
    try:
        import cupy
    except ImportError as e:
        return 0, f"cupy is not installed ({e}); install knetpy[gpu]"
    try:
        n = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as e:     # CUDARuntimeError and friends: no driver, no device
        return 0, f"CUDA reports no usable device ({type(e).__name__}: {e})"
    return n, "" if n else "CUDA reports 0 devices"


def _free_memory(d):
    import cupy
    with cupy.cuda.Device(d):
        return cupy.cuda.runtime.memGetInfo()[0]


def _activate(d):
    global _active
    import cupy
    be = backends.use("cupy")
    cupy.cuda.Device(d).use()
    _active = d
    return be


def gpu(d=None):
    """gpu() -> int: the active GPU id, -1 when computing on the host.

    - ``gpu()`` returns the active device id (-1: none, the start-up state).
    - ``gpu(d)`` with an int ``d >= 0`` activates device ``d``; when no usable
      GPU exists (CuPy missing, no driver, ``d`` out of range) it raises a
      ``RuntimeError`` that says why, and the host stays active.
    - ``gpu(True)`` activates the device with the most free memory; with no
      usable GPU it warns (``RuntimeWarning``) and stays on the host.
    - ``gpu(False)`` or ``gpu(-1)`` (any negative int) deactivates: new
      KnetArrays live in host memory again.

    Arrays made on a device keep living there; ``gpu`` only decides where
    new ones go.

    >>> gpu()
    -1
    >>> gpu(False)
    -1
    """
    global _active
    if d is None:
        return _active
    if d is False or (isinstance(d, int) and not isinstance(d, bool) and d < 0):
        backends.use("numpy")
        _active = -1
        return _active
    if d is True:
        n, why = _device_count()
        if n == 0:
            warnings.warn(f"gpu(True): no usable GPU, computing on the host: {why}",
                          RuntimeWarning, stacklevel=2)
            return gpu(False)
        best = max(range(n), key=_free_memory)
        _activate(best)
        return _active
    if not isinstance(d, int):
        raise TypeError(f"gpu: d must be an int device id, True or False, got {d!r}")
    n, why = _device_count()
    if n == 0:
        raise RuntimeError(f"gpu({d}): no usable GPU: {why}")
    if d >= n:
        raise RuntimeError(f"gpu({d}): no such device; valid ids are 0..{n - 1}")
    _activate(d)
    return _active
