"""Helpers for the hostile-file tests and ``make fuzz``: crafted checkpoints,
resealing (as an attacker can: SHA-256 recomputed, no key), and running a
load in a forked process with a memory limit and a timeout."""
import hashlib
import os
import resource
import signal
import time
import zlib

import h5py
import numpy as np

HEADER = 512


def reseal(path):
    """Give ``path`` (an HDF5 file with a 512-byte user block) a valid version-2
    header without a key's hmac: what anyone can forge."""
    with open(path, "rb") as fh:
        data = fh.read()
    head = b"KNETPY-CHECKPOINT 2 sha256=" + hashlib.sha256(data[HEADER:]).hexdigest().encode() \
        + b" hmac=" + b"-" * 64 + b"\n"
    with open(path, "r+b") as fh:
        fh.write(head.ljust(HEADER, b"\0"))


def reseal_bytes(data):
    """``data`` (a whole file) with a recomputed, unkeyed header."""
    head = b"KNETPY-CHECKPOINT 2 sha256=" + hashlib.sha256(data[HEADER:]).hexdigest().encode() \
        + b" hmac=" + b"-" * 64 + b"\n"
    return head.ljust(HEADER, b"\0") + data[HEADER:]


def handmade(path, version=2):
    """An open h5py file laid out like a checkpoint (caller closes and reseals)."""
    f = h5py.File(path, "w", userblock_size=HEADER)
    f.attrs["format"], f.attrs["version"] = "knetpy-checkpoint", version
    return f


def external_storage(path, target, nbytes):
    with handmade(path) as f:
        ds = f.create_dataset("x", shape=(nbytes,), dtype="u1", external=[(target, 0, nbytes)])
        ds.attrs["kind"] = "ndarray"
    reseal(path)


def external_link(path, other):
    with h5py.File(other, "w") as g:
        g["data"] = np.arange(10.0)
        g["data"].attrs["kind"] = "ndarray"
    with handmade(path) as f:
        f["x"] = h5py.ExternalLink(other, "/data")
    reseal(path)


def soft_link(path):
    with handmade(path) as f:
        f["a"] = np.arange(3.0)
        f["a"].attrs["kind"] = "ndarray"
        f["x"] = h5py.SoftLink("/a")
    reseal(path)


def hard_alias(path):
    with handmade(path) as f:
        g = f.create_group("x")
        g.attrs["kind"], g.attrs["n"] = "list", 1
        g["0"] = f["x"]                      # the group inside itself
    reseal(path)


def virtual_dataset(path, other):
    with h5py.File(other, "w") as g:
        g["data"] = np.arange(10.0)
    layout = h5py.VirtualLayout(shape=(10,), dtype="f8")
    layout[:] = h5py.VirtualSource(other, "data", shape=(10,))
    with handmade(path) as f:
        f.create_virtual_dataset("x", layout).attrs["kind"] = "ndarray"
    reseal(path)


def fill_bomb(path, nbytes=4 << 30):
    with handmade(path) as f:
        ds = f.create_dataset("x", shape=(nbytes // 4,), dtype="f4", chunks=(1 << 20,),
                              fillvalue=1.0)
        ds.attrs["kind"] = "ndarray"
    reseal(path)


def gzip_bomb(path, nbytes=1 << 30, chunk=16 << 20):
    with handmade(path) as f:
        ds = f.create_dataset("x", shape=(nbytes,), dtype="u1", chunks=(chunk,),
                              compression="gzip")
        ds.attrs["kind"] = "ndarray"
        z = zlib.compress(bytes(chunk), 9)
        for i in range(nbytes // chunk):
            ds.id.write_direct_chunk((i * chunk,), z)
    reseal(path)


def object_node(path, module, qualname, fields=None):
    """An object node of class module.qualname; with ``fields``, the version-1
    namedtuple form that used to call the class with them."""
    with handmade(path, version=1 if fields is not None else 2) as f:
        g = f.create_group("x")
        g.attrs["kind"], g.attrs["module"], g.attrs["qualname"] = "object", module, qualname
        if fields is not None:
            lst = g.create_group("fields")
            lst.attrs["kind"], lst.attrs["n"] = "list", len(fields)
            for i, v in enumerate(fields):
                lst.create_dataset(str(i), data=np.int64(v)).attrs["kind"] = "int"
        else:
            g.attrs["named"], g.attrs["n"] = 1, 1
            g.create_dataset("size", data=np.int64(20000)).attrs["kind"] = "int"
    reseal(path)


class Costly:
    """A class whose constructor must never run from a file (it leaves a mark)."""
    mark = None

    def __init__(self, *sizes):
        with open(os.environ["COSTLY_MARK"], "w") as fh:
            fh.write("constructor ran")
        self.w = np.zeros(sizes)


def in_child(fn, mem_bytes=2 << 30, timeout=60.0):
    """Run ``fn()`` in a forked process limited to ``mem_bytes`` of address
    space; returns ("ok", repr) / ("raised", "Type: message") / ("crash", signal)
    / ("hang", seconds)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            try:
                out = "ok\t" + repr(fn())[:500]
            except BaseException as e:      # noqa: B902 - reported to the parent
                out = f"raised\t{type(e).__name__}: {e}"[:4000]
            os.write(w, out.encode("utf-8", "replace"))
        finally:
            os._exit(code)
    os.close(w)
    t0 = time.monotonic()
    buf = b""
    try:
        while True:
            left = t0 + timeout - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return ("hang", round(time.monotonic() - t0, 1))
            import select
            ready, _, _ = select.select([r], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                buf += chunk
    finally:
        os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return ("crash", os.WTERMSIG(status))
    how, _, text = buf.decode("utf-8", "replace").partition("\t")
    if not how:
        return ("crash", f"exit {os.WEXITSTATUS(status)} without an answer")
    return (how, text)


def mutate(data, rng):
    """``data`` with 1-16 random bytes changed after the header, resealed."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 17))):
        b[int(rng.integers(HEADER, len(b)))] = int(rng.integers(0, 256))
    return reseal_bytes(bytes(b))
