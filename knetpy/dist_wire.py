"""How ``knetpy.distributed`` puts arrays on the wire: contiguous buffers,
in host memory or on the arrays' device.

Arrays of the kernel backend (KnetArrays on a GPU through CuPy, or on the
CPU emulator that runs the same backend code) are packed into one buffer on
their device.  When the MPI library reports CUDA-aware support
(``cuda_aware()``), that device buffer goes to mpi4py as it is; otherwise
it is staged: copied to host memory, reduced there and copied back.  Host
arrays (numpy) are packed into a numpy buffer.

>>> w = Wire(None, np.float64, 3); w.put(0, np.ones(2), 2.0); w.buf
array([2., 2., 0.])
"""
import ctypes
import os

import numpy as np

from autograd.core import Param, Value, raw

from . import backends
from .knetarray import KnetArray

__all__ = ["cuda_aware", "placed", "Wire", "unwrap"]

_aware = {}


def cuda_aware():
    """cuda_aware() -> bool: whether MPI may be given device (CUDA) buffers.
    ``$KNETPY_MPI_CUDA_AWARE`` (1/0) decides when set; otherwise the MPI
    library is asked (Open MPI's ``MPIX_Query_cuda_support``, MPICH's
    ``MPIX_GPU_query_support``); False when neither answers.

    >>> os.environ["KNETPY_MPI_CUDA_AWARE"] = "0"; cuda_aware()
    False
    >>> del os.environ["KNETPY_MPI_CUDA_AWARE"]
    """
    env = os.environ.get("KNETPY_MPI_CUDA_AWARE")
    if env is not None:
        return env.strip().lower() in ("1", "true", "yes", "on")
    if "lib" not in _aware:
        _aware["lib"] = _ask_library()
    return _aware["lib"]


def _ask_library():
    try:
        from mpi4py import MPI
        lib = ctypes.CDLL(MPI.__file__)        # dlsym searches libmpi behind it too
    except Exception:                         # noqa: BLE001 - no MPI: no device buffers
        return False
    q = getattr(lib, "MPIX_Query_cuda_support", None)
    if q is not None:
        q.restype = ctypes.c_int
        return bool(q())
    q = getattr(lib, "MPIX_GPU_query_support", None)
    if q is not None:                          # MPICH >= 4: (MPIX_GPU_SUPPORT_CUDA=0, &flag)
        flag = ctypes.c_int(0)
        return q(0, ctypes.byref(flag)) == 0 and bool(flag.value)
    return False


def unwrap(a):
    """unwrap(a) -> (raw array, KnetArray backend or None): the data of a
    Param, recorded value or KnetArray; the backend when it lives on a
    device of the kernel backend (CuPy or the emulator), None for host
    memory.

    >>> unwrap(Param(np.ones(1)))
    (array([1.]), None)
    """
    if isinstance(a, Param):
        a = a.value
    if isinstance(a, Value):
        a = raw(a)
    be = None
    if isinstance(a, KnetArray):
        be, a = a.backend, a.data
    elif not isinstance(a, np.ndarray):
        be = backends.of(a)
    if be is not None and getattr(be, "dev", None) is None:
        be = None                              # the host (numpy) backend
    if be is None and not isinstance(a, np.ndarray):
        raise TypeError(f"expected a numpy array, KnetArray or Param, got {type(a).__name__}")
    return a, be


def placed(arrays):
    """placed(arrays) -> list of (raw, backend or None) for each array (see ``unwrap``)."""
    return [unwrap(a) for a in arrays]


class Wire:
    """Wire(be, dtype, size): a zeroed contiguous buffer of ``size`` elements
    on ``be``'s device (host memory when ``be`` is None); ``put`` writes an
    array into it, ``allreduce``/``bcast`` send it, ``get`` views a part."""

    def __init__(self, be, dtype, size):
        self.be = be
        self.buf = (np if be is None else be.xp).zeros(size, dtype)

    def put(self, off, a, scale=None):
        """Write ``a`` (flattened, times ``scale`` when given) at ``off``."""
        n = a.size
        if self.be is not None and not self.be.owns(a):
            a = self.be.asarray(a)
        dst = self.buf[off:off + n]
        if scale is None:
            dst[...] = a.reshape(-1)
        else:
            self.be.xp.multiply(a.reshape(-1), scale, out=dst) if self.be is not None \
                else np.multiply(a.reshape(-1), scale, out=dst)

    def get(self, off, shape):
        """A view of the buffer at ``off`` with ``shape``."""
        n = int(np.prod(shape, dtype=np.int64))
        return self.buf[off:off + n].reshape(shape)

    def _send(self, comm, call):
        """Run ``call(buffer)`` on the device buffer when MPI takes it, else staged."""
        if self.be is None:
            comm._timed(call, self.buf)
            return
        xp = self.be.xp
        if hasattr(xp, "cuda"):                # the kernels must be done before MPI reads
            xp.cuda.get_current_stream().synchronize()
        if comm.device_direct:
            comm.wire_bytes["direct"] += self.buf.nbytes
            comm._timed(call, self.buf)
            return
        host = self.be.to_numpy(self.buf)
        comm.wire_bytes["staged"] += host.nbytes
        comm._timed(call, host)
        self.buf[...] = self.be.asarray(host)

    def allreduce(self, comm, mop):
        """Sum (``mop``, an MPI op) the buffer across ``comm``'s ranks, in place."""
        from mpi4py import MPI

        def Allreduce(b):                      # named like the MPI call, for comm._timed
            comm.mpi.Allreduce(MPI.IN_PLACE, b, mop)
        self._send(comm, Allreduce)

    def bcast(self, comm, root):
        """Rank ``root``'s buffer into every rank's."""
        def Bcast(b):
            comm.mpi.Bcast(b, root)
        self._send(comm, Bcast)

    def host(self, off, n):
        """Elements ``off:off+n`` as a float64 numpy array (a small read)."""
        part = self.buf[off:off + n]
        return np.asarray(part if self.be is None else self.be.to_numpy(part), np.float64)
