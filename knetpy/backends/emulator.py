"""A CPU stand-in for a CUDA device: runs the kernels of ``knetpy.kernels``
with the host C++ compiler, so they can be checked where there is no GPU.

Each kernel family (``unary.cu``, ``reduce.cu``, ...) is compiled once by
``g++`` (``$CXX``) together with ``cuda_emul.h``, which supplies CUDA's
built-ins (threads are fibers, ``__syncthreads`` a real barrier, warp
shuffles exchange values between the fibers of a warp).  The shared library
is cached under ``$KNETPY_CACHE`` (default ``~/.cache/knetpy``) by a hash of
the sources and the compiler, and loaded with ctypes.

``EmulatorDevice`` has the same small interface as the CuPy device of
``knetpy.backends.cupy_backend`` (arrays, ``function(family, name)``
returning a launchable kernel), with numpy arrays standing in for device
memory; ``emulated_backend()`` is the CuPy backend's code running on it.

>>> import numpy as np
>>> be = emulated_backend()
>>> be.unary("sin", np.zeros(3, np.float32)).tolist()
[0.0, 0.0, 0.0]
"""
import ctypes
import os
import re
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from knetpy import kernels

__all__ = ["EmulatorDevice", "EmulatorError", "emulated_backend", "build", "prebuild",
           "compile_source"]

CXX_FLAGS = ("-std=c++17", "-O1", "-fPIC", "-shared", "-w")

# kernel parameter codes (see knetemu::code in cuda_emul.h) -> numpy dtypes
_CODES = {"f": np.float32, "d": np.float64, "i": np.int32, "u": np.uint32,
          "q": np.int64, "x": np.uint64, "b": np.bool_}
_CTYPES = {"f": ctypes.c_float, "d": ctypes.c_double, "i": ctypes.c_int32,
           "u": ctypes.c_uint32, "q": ctypes.c_int64, "x": ctypes.c_uint64, "b": ctypes.c_bool}

_lock = threading.Lock()
_libs = {}


class EmulatorError(RuntimeError):
    """A kernel failed under the emulator (bad launch, deadlock, bad arguments)."""


def _cxx():
    return os.environ.get("CXX", "g++")


def _cache_dir():
    d = os.environ.get("KNETPY_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                       "knetpy")
    d = os.path.join(d, "emulator")
    os.makedirs(d, exist_ok=True)
    return d


def _compiler_id():
    try:
        out = subprocess.run([_cxx(), "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise EmulatorError(f"emulator: the C++ compiler {_cxx()!r} does not run ({e})") from e
    return out.stdout.splitlines()[0] + " ".join(CXX_FLAGS)


def _kernel_names(src_path):
    """Names of the __global__ functions of a source, found after preprocessing
    (the entry points are stamped out by macros)."""
    cmd = [_cxx(), "-E", "-P", "-x", "c++", "-std=c++17", "-D__global__=KNETEMU_GLOBAL",
           "-I", kernels.include_dir(), src_path]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise EmulatorError(f"emulator: preprocessing {src_path} failed:\n{out.stderr}")
    return sorted(set(re.findall(r"KNETEMU_GLOBAL\s+void\s+(\w+)\s*\(", out.stdout)))


def compile_source(src_path, key):
    """compile_source(src_path, key) -> path of the cached shared library
    built from the CUDA source file ``src_path`` (``key`` names the cache entry).

    Adds, for every kernel ``k``, the C entry points ``knetemu_launch_k`` and
    ``knetemu_sig_k``.  Compiles only when the cache has no such library.
    """
    so = os.path.join(_cache_dir(), f"{key}.so")
    if os.path.exists(so):
        return so
    names = _kernel_names(src_path)
    stubs = "".join(
        f'extern "C" int knetemu_launch_{k}(const unsigned* g, const unsigned* b, void** a)'
        f" {{ return knetemu::launch({k}, g, b, a); }}\n"
        f'extern "C" const char* knetemu_sig_{k}() {{ return knetemu::signature({k}); }}\n'
        for k in names)
    tu = (f'#include "{kernels.emulator_header()}"\n#include "{os.path.abspath(src_path)}"\n'
          f'extern "C" const char* knetemu_names() {{ return "{" ".join(names)}"; }}\n{stubs}')
    fd, cpp = tempfile.mkstemp(suffix=".cpp", dir=_cache_dir())
    tmp_so = cpp[:-4] + ".so"
    try:
        with os.fdopen(fd, "w") as f:
            f.write(tu)
        cmd = [_cxx(), *CXX_FLAGS, "-I", kernels.include_dir(), "-o", tmp_so, cpp]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            raise EmulatorError(f"emulator: compiling {src_path} failed:\n{out.stderr[-4000:]}")
        os.replace(tmp_so, so)          # atomic: parallel builders never see half a file
    finally:
        for p in (cpp, tmp_so):
            if os.path.exists(p):
                os.remove(p)
    return so


def build(family):
    """build(family) -> the loaded ctypes library of kernel family ``family``
    (compiled on first use, then cached on disk and in this process)."""
    with _lock:
        lib = _libs.get(family)
    if lib is not None:
        return lib
    key = f"{family}-{kernels.digest(family, _compiler_id())}"
    lib = ctypes.CDLL(compile_source(kernels.path(family), key))
    lib.knetemu_error.restype = ctypes.c_char_p
    lib.knetemu_names.restype = ctypes.c_char_p
    with _lock:
        return _libs.setdefault(family, lib)


def prebuild(families=None, jobs=2):
    """prebuild(families=None, jobs=2): build several families in parallel
    (all by default), so a cold cache costs the longest compile, not the sum."""
    fams = kernels.families() if families is None else list(families)
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        list(ex.map(build, fams))


class EmulatedKernel:
    """A kernel of an emulated module, called like a CuPy ``RawKernel``:
    ``k(grid, block, args)`` with a tuple of numpy arrays and numpy scalars.

    Every argument is checked against the kernel's C signature (an array of the
    pointed-to dtype for a pointer, a numpy scalar of exactly the parameter's
    type otherwise), so type slips that a GPU would silently misread fail here.
    """

    def __init__(self, lib, name):
        try:
            self._launch = getattr(lib, f"knetemu_launch_{name}")
            sig = getattr(lib, f"knetemu_sig_{name}")
        except AttributeError:
            raise EmulatorError(f"emulator: no kernel named {name!r}") from None
        sig.restype = ctypes.c_char_p
        self.name = name
        self.signature = sig().decode()
        self._launch.argtypes = [ctypes.POINTER(ctypes.c_uint)] * 2 + [ctypes.c_void_p]
        self._error = lib.knetemu_error
        self._error.restype = ctypes.c_char_p

    def _pack(self, args):
        if len(args) != len(self.signature):
            raise EmulatorError(f"{self.name}: expects {len(self.signature)} arguments "
                                f"(signature {self.signature!r}), got {len(args)}")
        slots = []
        for k, (code, a) in enumerate(zip(self.signature, args)):
            want = np.dtype(_CODES[code.lower()])
            if code.isupper():
                if not isinstance(a, np.ndarray) or a.dtype != want:
                    raise EmulatorError(f"{self.name}: argument {k} must be a {want} array, "
                                        f"got {type(a).__name__} {getattr(a, 'dtype', '')}")
                slots.append(ctypes.c_void_p(a.ctypes.data))
            else:
                if not isinstance(a, np.generic) or a.dtype != want:
                    raise EmulatorError(f"{self.name}: argument {k} must be a numpy {want} "
                                        f"scalar, got {type(a).__name__} {a!r}")
                slots.append(_CTYPES[code](a.item()))
        ptrs = (ctypes.c_void_p * max(len(slots), 1))(*[ctypes.addressof(s) for s in slots])
        return slots, ptrs

    def __call__(self, grid, block, args):
        g, b = (tuple(v) if isinstance(v, (tuple, list)) else (v,) for v in (grid, block))
        g, b = [(tuple(int(i) for i in v) + (1, 1))[:3] for v in (g, b)]
        _slots, ptrs = self._pack(tuple(args))
        rc = self._launch((ctypes.c_uint * 3)(*g), (ctypes.c_uint * 3)(*b), ptrs)
        if rc:
            raise EmulatorError(f"{self.name}: {self._error().decode()}")


class EmulatorDevice:
    """The device API of the kernel backend, on the CPU: numpy arrays are the
    device memory and kernels run under the emulator.

    ``block`` (threads per block, a multiple of 32) and ``max_blocks`` (grid
    cap; grid-stride loops cover the rest) are kept small by default so that
    tests exercise several blocks and several loop trips quickly.
    """
    name = "emulator"
    xp = np

    def __init__(self, block=64, max_blocks=4):
        if block % 32 or not 32 <= block <= 1024:
            raise ValueError(f"EmulatorDevice: block must be a multiple of 32 in 32..1024, "
                             f"got {block!r}")
        if max_blocks < 1:
            raise ValueError(f"EmulatorDevice: max_blocks must be >= 1, got {max_blocks!r}")
        self.block, self.max_blocks = block, max_blocks
        self._kernels = {}

    def owns(self, a):
        """True for numpy arrays (the emulated device memory)."""
        return isinstance(a, np.ndarray)

    def asarray(self, a, dtype=None):
        """``a`` as device memory (no copy when it already is)."""
        return np.asarray(a, dtype=dtype)

    def copy(self, a, dtype=None):
        """A fresh device array holding ``a``'s values."""
        return np.array(a, dtype=dtype, copy=True)

    def empty(self, shape, dtype):
        """Uninitialized device memory, filled with NaN/garbage-like bytes so that
        a kernel that forgets to write an element is caught."""
        a = np.empty(shape, dtype)
        a.reshape(-1).view(np.uint8).fill(0xFF)
        return a

    def to_numpy(self, a):
        """A host copy of ``a``."""
        return np.array(a, copy=True)

    def matmul(self, a, b):
        """Matrix product (cuBLAS on the GPU, numpy here)."""
        return np.matmul(a, b)

    def function(self, family, name):
        """The kernel ``name`` of ``family`` (built on first use)."""
        k = self._kernels.get(name)
        if k is None:
            k = self._kernels[name] = EmulatedKernel(build(family), name)
        return k


def emulated_backend(block=64, max_blocks=4):
    """emulated_backend(block=64, max_blocks=4) -> the CuPy backend's code
    (``cupy_backend.KernelBackend``) running on an ``EmulatorDevice``.

    >>> import numpy as np
    >>> emulated_backend().reduce("sum", np.ones(100), None, False)
    array(100.)
    """
    from .cupy_backend import KernelBackend
    return KernelBackend(EmulatorDevice(block, max_blocks))
