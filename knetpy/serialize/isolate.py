"""isolate: parse a checkpoint that this user did not write in a child process.

The HDF5 C library is not hardened against crafted files (a byte at the
right offset crashes or hangs it), so a file without this user's seal is
read by a child process with limits: address space (what it has plus about
twice the byte budget), CPU time and wall-clock time (``timeout``), and no
core dumps.  The child runs ``h5tree.read_file`` and sends the tree back as a
plain byte stream, which the parent decodes without trusting it.  A crash,
a hang, a memory blow-up or a garbled answer is a ``CheckpointError``.

The child is a ``fork`` of this process when only one Python thread runs
(milliseconds; numpy and h5py are already loaded), otherwise a fresh
interpreter (``python -I``, a few hundred milliseconds).
``KNETPY_ISOLATION=spawn`` forces the second way.
"""
import faulthandler
import os
import select
import signal
import subprocess
import sys
import threading
import time

from . import h5tree
from .errors import CheckpointError

_HERE = os.path.dirname(os.path.abspath(__file__))
_SPAWN = ("import sys; sys.path.insert(0, sys.argv[1]); import h5tree; "
          "h5tree.child_main(sys.argv[2:])")


def default_timeout(size):
    """Seconds a child may take for a file of ``size`` bytes: 20 s plus 1 s per 20 MB."""
    return 20.0 + size / 20e6


def read_isolated(path, budget, timeout, label):
    """read_isolated(path, budget, timeout, label) -> h5tree.Tree, parsed in a
    child process; ``label`` names the file in errors."""
    spawn = os.environ.get("KNETPY_ISOLATION") == "spawn" or not hasattr(os, "fork") \
        or threading.active_count() > 1
    r, w = os.pipe()
    proc = pid = None
    try:
        if spawn:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _SPAWN, _HERE, path, str(budget), str(w),
                 str(timeout)],
                pass_fds=(w,) + ((_fd_of(path),) if _fd_of(path) is not None else ()),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=_child_env())
        else:
            pid = os.fork()
            if pid == 0:                                    # the child
                code = 1
                try:
                    os.close(r)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    faulthandler.disable()          # a crash here is reported by the parent
                    h5tree.apply_limits(budget, timeout)
                    h5tree.run_child(path, budget, w)
                    code = 0
                finally:
                    os._exit(code)
        os.close(w)
        w = None
        data = _collect(r, budget, timeout, label)
    finally:
        if w is not None:
            os.close(w)
        os.close(r)
        status = _reap(proc, pid)
    if status != ("exit", 0) and not data.startswith(b"E"):
        raise CheckpointError(f"load: {label} made the HDF5 reader fail ({_why(status)}); "
                              "the file is damaged or crafted")
    if data.startswith(b"E"):
        raise CheckpointError(f"load: {label}: {bytes(data[1:2000]).decode('utf-8', 'replace')}")
    if not data.startswith(b"T"):
        raise CheckpointError(f"load: {label}: the HDF5 reader gave no answer ({_why(status)})")
    try:
        return h5tree.decode(memoryview(data)[1:], budget)
    except h5tree.Refused as e:
        raise CheckpointError(f"load: {label}: {e}") from None


def _fd_of(path):
    prefix = "/proc/self/fd/"
    return int(path[len(prefix):]) if path.startswith(prefix) else None


def _child_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _collect(r, budget, timeout, label):
    """Read the child's whole answer (at most budget + 16 MiB) before the deadline."""
    limit = int(budget) + (16 << 20)
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise CheckpointError(f"load: {label}: reading it took more than {timeout:.0f} s "
                                  "(a crafted or damaged file?); raise load(..., timeout=...) "
                                  "for a slow disk")
        ready, _, _ = select.select([r], [], [], min(left, 1.0))
        if not ready:
            continue
        try:
            chunk = os.read(r, 1 << 20)
        except MemoryError:
            raise CheckpointError(f"load: {label}: out of memory while reading it") from None
        if not chunk:
            return buf
        buf += chunk
        if len(buf) > limit:
            raise CheckpointError(f"load: {label}: the reader's answer exceeds the byte budget")


def _reap(proc, pid):
    """Kill the child if it still runs; its end as ("exit", code) or ("signal", number)."""
    if proc is not None:
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
        return ("signal", -rc) if rc < 0 else ("exit", rc)
    if pid is None:
        return ("exit", 0)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return ("signal", os.WTERMSIG(status))
    return ("exit", os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1)


def _why(status):
    how, n = status
    if how == "signal":
        try:
            return f"killed by {signal.Signals(n).name}"
        except ValueError:
            return f"killed by signal {n}"
    return f"exit status {n}"
