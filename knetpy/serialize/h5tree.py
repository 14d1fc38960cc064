"""h5tree: read a checkpoint's HDF5 file into a plain in-memory tree, refusing
anything that could reach outside the file or allocate out of proportion.

This module imports only the standard library, numpy and h5py, so that the
isolated child process (``isolate``) can run it without importing knetpy.
Everything that is wrong raises ``Refused`` with a message; the caller turns
it into a ``CheckpointError``.

Checks, all made before a dataset's data is read:

* every link is a hard link inside the file (no soft, external or user-defined
  links), and no object is reached twice (no hard-link cycles);
* no dataset has external storage or a virtual layout;
* dtypes are numeric/bool or variable-length strings, attributes are scalars
  (numbers or strings);
* the decoded sizes of all datasets, plus ``NODE_COST`` bytes for every
  node and attribute, stay within the byte budget.

The tree also travels from the child to the parent as a byte stream
(``encode``/``decode``): a JSON description followed by the raw array bytes.
``decode`` trusts nothing in the stream either.
"""
import json
import struct

import numpy as np

NODE_COST = 256          # bytes charged to the budget for each node and attribute
MAX_DEPTH = 200
_NUMERIC = "biufc"


class Refused(Exception):
    """The file (or a stream from the child) is not an acceptable checkpoint."""


class Node:
    """One HDF5 group or dataset: ``name`` (its absolute path), ``attrs``
    (str -> int | float | str), ``children`` (ordered dict, groups) or
    ``value`` (datasets: a numpy array, or a str for a scalar string; read
    from the file on first use when ``load`` is given)."""
    __slots__ = ("name", "attrs", "children", "_value", "_load")

    def __init__(self, name, attrs, children=None, value=None, load=None):
        self.name, self.attrs, self.children = name, attrs, children
        self._value, self._load = value, load

    @property
    def value(self):
        if self._load is not None:
            self._value, self._load = self._load(), None
        return self._value

    @property
    def is_dataset(self):
        return self.children is None

    def __contains__(self, key):
        return self.children is not None and key in self.children

    def __getitem__(self, key):
        if self.children is None or key not in self.children:
            raise KeyError(f"{self.name} has no child {key!r}")
        return self.children[key]

    def keys(self):
        return list(self.children) if self.children is not None else []


class Tree:
    """The whole file: ``root`` and ``index`` (absolute path -> Node)."""

    def __init__(self, root):
        self.root = root
        self.index = {}
        stack = [root]
        while stack:
            n = stack.pop()
            self.index[n.name] = n
            if n.children:
                stack.extend(reversed(list(n.children.values())))

    def lookup(self, path):
        if not isinstance(path, str) or path not in self.index:
            raise Refused(f"reference to {path!r}, which is not in the file")
        return self.index[path]


class _Budget:
    def __init__(self, limit):
        self.limit, self.used = int(limit), 0

    def charge(self, n, what):
        self.used += int(n)
        if self.used > self.limit:
            raise Refused(f"{what} would take the decoded size past the limit of {self.limit} "
                          "bytes (a dataset declares far more data than the file holds, or the "
                          "file is larger than expected: raise it with load(..., max_bytes=...))")


# ---------------------------------------------------------------- reading HDF5
def read_file(path, budget, use=None):
    """read_file(path, budget, use=None) -> Tree of the HDF5 file at ``path``,
    all data read; or, with ``use``, ``use(tree)`` called while the file is
    open, each array read only when its node's ``value`` is first used.
    Raises Refused for anything outside the rules of the module docstring
    (all checked before any array is read)."""
    import h5py
    try:
        f = h5py.File(path, "r", locking=False)
    except OSError as e:
        raise Refused(f"not a readable HDF5 file (truncated or corrupt?): {e}") from None
    with f:
        b = _Budget(budget)
        seen = set()
        tree = Tree(_group(h5py, f, "/", b, seen, 0))
        if use is not None:
            return use(tree)
        for node in tree.index.values():
            if node.children is None:
                node.value                      # noqa: B018 - read it now
        return tree


def _attrs(h5py, obj, b):
    out = {}
    am = obj.attrs
    for name in list(am):
        b.charge(NODE_COST, f"attribute {name!r}")
        aid = am.get_id(name)
        if aid.shape != ():
            raise Refused(f"{obj.name}: attribute {name!r} is not a scalar")
        dt = aid.dtype
        if h5py.check_string_dtype(dt) is None and (dt.kind not in _NUMERIC or dt.fields):
            raise Refused(f"{obj.name}: attribute {name!r} has dtype {dt}")
        v = am[name]
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        if isinstance(v, (np.bool_, bool)):
            v = int(v)
        elif isinstance(v, (np.integer, int)):
            v = int(v)
        elif isinstance(v, (np.floating, float)):
            v = float(v)
        elif not isinstance(v, str):
            raise Refused(f"{obj.name}: attribute {name!r} is a {type(v).__name__}")
        out[str(name)] = v
    return out


def _group(h5py, g, name, b, seen, depth):
    if depth > MAX_DEPTH:
        raise Refused(f"{name}: nested deeper than {MAX_DEPTH} levels")
    key = _object_key(h5py, g)
    if key in seen:
        raise Refused(f"{name}: an object reached twice (a hard-link cycle or alias)")
    seen.add(key)
    b.charge(NODE_COST, name)
    children = {}
    for k in list(g.keys()):
        link = g.get(k, getlink=True)
        path = name.rstrip("/") + "/" + k
        if not isinstance(link, h5py.HardLink):
            raise Refused(f"{path} is a {type(link).__name__}; only hard links inside the "
                          "file are accepted")
        obj = g[k]
        if isinstance(obj, h5py.Group):
            children[k] = _group(h5py, obj, path, b, seen, depth + 1)
        elif isinstance(obj, h5py.Dataset):
            children[k] = _dataset(h5py, obj, path, b, seen)
        else:
            raise Refused(f"{path} is a {type(obj).__name__}")
    return Node(name, _attrs(h5py, g, b), children=children)


def _object_key(h5py, obj):
    info = h5py.h5o.get_info(obj.id)
    return (info.fileno, getattr(info, "token", None) or getattr(info, "addr", None))


def _dataset(h5py, ds, name, b, seen):
    key = _object_key(h5py, ds)
    if key in seen:
        raise Refused(f"{name}: an object reached twice (a hard-link alias)")
    seen.add(key)
    b.charge(NODE_COST, name)
    dcpl = ds.id.get_create_plist()
    if dcpl.get_external_count() > 0:
        raise Refused(f"{name} keeps its data in external files; only data inside the file "
                      "is accepted")
    if dcpl.get_layout() == h5py.h5d.VIRTUAL:
        raise Refused(f"{name} is a virtual dataset; only data inside the file is accepted")
    shape = ds.shape
    if shape is None:
        raise Refused(f"{name} has a null dataspace")
    count = 1
    for d in shape:
        count *= int(d)
    dt = ds.dtype
    attrs = _attrs(h5py, ds, b)
    sinfo = h5py.check_string_dtype(dt)
    if sinfo is not None:
        if sinfo.length is not None:
            raise Refused(f"{name}: fixed-length strings are not used by checkpoints")
        b.charge(16 * count, name)
        out = []
        for i in np.ndindex(*shape) if shape else [()]:
            raw = ds[i] if shape else ds[()]
            if not isinstance(raw, bytes):
                raise Refused(f"{name}: a string element is a {type(raw).__name__}")
            b.charge(len(raw) * 4, name)
            out.append(raw.decode("utf-8"))
        if not shape:
            return Node(name, attrs, value=out[0])
        width = max((len(s) for s in out), default=1) or 1
        b.charge(count * width * 4, name)
        return Node(name, attrs, value=np.array(out, dtype=f"<U{width}").reshape(shape))
    if dt.kind not in _NUMERIC or dt.fields or dt.shape:
        raise Refused(f"{name} has dtype {dt}; only numbers, booleans and strings are accepted")
    b.charge(count * dt.itemsize, name)
    if ds.chunks is not None:
        chunk = dt.itemsize
        for d in ds.chunks:
            chunk *= int(d)
        if chunk > b.limit:
            raise Refused(f"{name} declares chunks of {chunk} bytes, past the limit")

    def read():
        out = np.empty(shape, dt.newbyteorder("=") if dt.byteorder not in "=|" else dt)
        if count:
            ds.read_direct(out)
        return out
    return Node(name, attrs, load=read)


# ---------------------------------------------------------------- the stream
_MAGIC = b"KNTREE1\n"


def encode(tree, write):
    """Write ``tree`` as a stream through ``write(bytes)``."""
    blobs, nodes = [], []
    stack = [tree.root]
    while stack:
        n = stack.pop()
        rec = {"n": n.name, "a": n.attrs}
        if n.children is not None:
            rec["c"] = list(n.children)
            stack.extend(reversed(list(n.children.values())))
        elif isinstance(n.value, str):
            rec["s"] = n.value
        else:
            a = np.require(n.value, requirements="C")
            rec["d"], rec["sh"], rec["nb"] = a.dtype.str, list(a.shape), a.nbytes
            blobs.append(a)
        nodes.append(rec)
    head = json.dumps(nodes).encode("utf-8")
    write(_MAGIC + struct.pack("<Q", len(head)) + head)
    for a in blobs:
        write(memoryview(a.reshape(-1).view(np.uint8)))


def decode(buf, budget):
    """decode(buf, budget) -> Tree from a bytearray written by ``encode``.
    The arrays are writable views into ``buf``."""
    mv = memoryview(buf)
    if bytes(mv[:8]) != _MAGIC or len(buf) < 16:
        raise Refused("the reader process sent no valid answer")
    (hlen,) = struct.unpack("<Q", bytes(mv[8:16]))
    if hlen > len(buf) - 16:
        raise Refused("the reader process sent a truncated answer")
    try:
        nodes = json.loads(bytes(mv[16:16 + hlen]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise Refused("the reader process sent an unreadable answer") from None
    if not isinstance(nodes, list) or not nodes:
        raise Refused("the reader process sent an empty answer")
    b = _Budget(budget)
    pos = 16 + hlen
    built = {}
    order = []
    for rec in nodes:
        if not isinstance(rec, dict) or not isinstance(rec.get("n"), str) \
                or not isinstance(rec.get("a"), dict) or rec["n"] in built:
            raise Refused("the reader process sent a malformed node")
        attrs = rec["a"]
        for k, v in attrs.items():
            if not isinstance(v, (int, float, str)) or isinstance(v, bool):
                raise Refused("the reader process sent a malformed attribute")
        b.charge(NODE_COST * (1 + len(attrs)), rec["n"])
        if "c" in rec:
            if not isinstance(rec["c"], list) or not all(isinstance(c, str) for c in rec["c"]):
                raise Refused("the reader process sent a malformed group")
            node = Node(rec["n"], attrs, children={})
        elif "s" in rec:
            if not isinstance(rec["s"], str):
                raise Refused("the reader process sent a malformed string")
            node = Node(rec["n"], attrs, value=rec["s"])
        else:
            try:
                dt = np.dtype(str(rec["d"]))
                shape = tuple(int(d) for d in rec["sh"])
                nb = int(rec["nb"])
            except (KeyError, TypeError, ValueError):
                raise Refused("the reader process sent a malformed array") from None
            if dt.kind not in _NUMERIC + "U" or dt.fields or dt.shape or dt.itemsize == 0 \
                    or any(d < 0 for d in shape):
                raise Refused("the reader process sent an array of a bad dtype or shape")
            count = 1
            for d in shape:
                count *= d
            if count * dt.itemsize != nb:
                raise Refused("the reader process sent an array of inconsistent size")
            b.charge(nb, rec["n"])
            if pos + nb > len(buf):
                raise Refused("the reader process sent a truncated array")
            value = np.frombuffer(mv[pos:pos + nb], dtype=dt).reshape(shape) if nb else \
                np.empty(shape, dt)
            pos += nb
            node = Node(rec["n"], attrs, value=value)
        built[rec["n"]] = node
        order.append((node, rec.get("c")))
    if pos != len(buf):
        raise Refused("the reader process sent trailing bytes")
    for node, kids in order:
        if kids is not None:
            for k in kids:
                child = built.get(node.name.rstrip("/") + "/" + k)
                if child is None or k in node.children:
                    raise Refused("the reader process sent a broken tree")
                node.children[k] = child
    root = built.get("/")
    if root is None or root.children is None:
        raise Refused("the reader process sent no root group")
    tree = Tree(root)
    if len(tree.index) != len(built):
        raise Refused("the reader process sent nodes outside the tree")
    return tree


def child_main(argv):
    """Entry point of a spawned reader: ``argv = [path, budget, out_fd]``;
    writes ``b"T" + stream`` or ``b"E" + message`` to ``out_fd``."""
    import os
    path, budget, fd = argv[0], int(argv[1]), int(argv[2])
    apply_limits(budget, float(argv[3]))
    run_child(path, budget, fd)


def apply_limits(budget, cpu_seconds):
    """Limit this (child) process: address space to what it has now plus
    about twice the budget, CPU time to ``cpu_seconds``, no core dumps."""
    import os
    import resource
    try:
        with open("/proc/self/statm") as fh:
            vm = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        vm = 1 << 30
    lim = vm + 2 * int(budget) + (256 << 20)
    for what, value in ((resource.RLIMIT_AS, lim), (resource.RLIMIT_CORE, 0),
                        (resource.RLIMIT_CPU, max(1, int(cpu_seconds)))):
        try:
            soft, hard = resource.getrlimit(what)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(what, (value, hard if what != resource.RLIMIT_CPU else
                                      (value + 1 if hard == resource.RLIM_INFINITY
                                       else hard)))
        except (ValueError, OSError):
            pass


def run_child(path, budget, fd):
    """Read ``path`` and write the answer to ``fd`` (then the caller exits)."""
    import os

    pending = bytearray()

    def flush():
        mv = memoryview(pending)
        while mv:
            n = os.write(fd, mv[:1 << 22])
            mv = mv[n:]
        del mv
        pending.clear()

    def write(data):            # few, large writes: each wakes the parent
        pending.extend(memoryview(data).cast("B"))
        if len(pending) >= 1 << 22:
            flush()
    try:
        tree = read_file(path, budget)
    except Refused as e:
        write(b"E" + str(e).encode("utf-8", "replace"))
        flush()
        return
    except MemoryError:
        write(b"E" + b"reading it needed more memory than the limit allows")
        flush()
        return
    except Exception as e:     # anything h5py raises on a damaged file
        write(b"E" + f"malformed: {type(e).__name__}: {e}".encode("utf-8", "replace"))
        flush()
        return
    write(b"T")
    encode(tree, write)
    flush()
