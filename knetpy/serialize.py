"""Checkpoints: ``save(path, **named)`` / ``load(path, *names)`` in HDF5 (h5py).

What can be saved: numpy arrays and scalars, KnetArrays, Params (with their
optimizer and its state), optimizers, models (any object whose attributes
are savable, found through ``__dict__`` and ``__slots__``), lists, tuples,
dicts (any savable keys), sets, None, bools, ints, floats, complex numbers,
strings, bytes, dtypes, slices, numpy random generators, and references to
module-level functions and classes (``relu``, ``np.tanh``, a layer class).
An object saved twice (a tied weight, a shared optimizer) is stored once
and comes back shared.

Loading never runs code from the file: there is no pickle.  Each node is
rebuilt by this module from plain data.  Classes and functions are named in
the file by module and name; they are looked up only in knetpy's own
modules (and, for functions, numpy's ufuncs and top-level functions,
scipy.special and math) or among the objects the caller passes in
``allow=``; an instance is made with ``cls.__new__`` and its attributes are
set directly (no ``__init__``).  Anything else is a ``CheckpointError``
naming the class.

Writing is atomic: the file is written under a temporary name in the same
folder, flushed and fsync'ed, then renamed over ``path``; a crash or a kill
in the middle leaves the previous checkpoint as it was (and possibly a
stale ``.<name>.*.tmp`` file next to it).

File layout: a 512-byte HDF5 user block at the start holds a magic string
and the SHA-256 of the rest of the file; ``load`` checks it before the HDF5
library reads a byte, so a truncated or damaged file is a clear
``CheckpointError`` (and never reaches the parser).  The HDF5 root holds one
node per saved name; every node carries an attribute ``kind`` (``ndarray``,
``param``, ``object``, ``list``, ...) and containers hold their items as
child nodes named ``0, 1, ...``.
"""
import hashlib
import importlib
import numbers
import os
import tempfile
import types

import numpy as np

from autograd.core import Param, Primitive, Value

from . import backends
from .knetarray import KnetArray
from .optim import Optimizer, optimizers

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "knetpy-checkpoint"
VERSION = 1
_HEADER = 512                     # HDF5 user block: magic + SHA-256 of the rest of the file
_MAGIC = b"KNETPY-CHECKPOINT sha256="
# what h5py and the rebuilding code raise on a damaged file (load reports a CheckpointError)
_MALFORMED = (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError, IndexError)


def _h5py():
    import h5py
    return h5py


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or rebuilt (malformed, truncated,
    or naming a class that may not be loaded)."""


# ---------------------------------------------------------------- what may be resolved
_SAFE_BUILTINS = {"float", "int", "bool", "complex", "str", "bytes", "list", "tuple", "dict",
                  "set", "frozenset", "abs", "min", "max", "sum", "len", "range", "slice",
                  "round", "pow", "object"}
_NUMPY_DENY = {"load", "save", "savez", "savez_compressed", "fromfile", "loadtxt", "savetxt",
               "genfromtxt", "memmap", "fromregex", "frombuffer", "DataSource", "lib",
               "ctypeslib", "testing", "f2py", "distutils", "show_config", "info", "source"}


def _origin(obj):
    """(module, qualname) naming a module-level function, primitive or class."""
    target = obj.__wrapped__ if isinstance(obj, Primitive) else obj
    module = getattr(target, "__module__", None)
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if module is None and isinstance(obj, np.ufunc):
        import scipy.special
        if getattr(scipy.special, obj.__name__, None) is obj:
            module = "scipy.special"
    return module, qual


def _module_allowed(module):
    top = module.split(".")[0]
    return top in ("knetpy", "autograd") or module in ("numpy", "scipy.special", "math",
                                                       "builtins")


def _name_allowed(module, qual, is_class):
    if module == "builtins":
        return qual in _SAFE_BUILTINS
    if module == "numpy":
        return qual not in _NUMPY_DENY and not qual.startswith("_")
    if module in ("scipy.special", "math"):
        return not is_class
    return True


def _resolve(module, qual, kind, allow, where):
    """The object (module, qual) names, if loading it is allowed."""
    key = (module, qual)
    if key in allow:
        return allow[key]
    what = "class" if kind == "class" else "function"
    hint = (f"; it is not part of knetpy, so it is rebuilt only when allowed: "
            f"load(path, allow=[{qual.split('.')[-1]}])")
    if not isinstance(module, str) or not isinstance(qual, str) or not _module_allowed(module) \
            or not _name_allowed(module, qual, kind == "class") or "<" in qual:
        raise CheckpointError(f"load: {where} is a {what} {module}.{qual}{hint}")
    try:
        obj = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
            if isinstance(obj, types.ModuleType):
                raise AttributeError(part)
    except (ImportError, AttributeError):
        raise CheckpointError(f"load: {where} names {what} {module}.{qual}, "
                              "which does not exist here") from None
    if _origin(obj) != (module, qual) or (kind == "class") != isinstance(obj, type):
        raise CheckpointError(f"load: {where} names {module}.{qual}, which is not a {what} "
                              "defined there")
    return obj


# ---------------------------------------------------------------- writing
class _Writer:
    def __init__(self):
        self.memo = {}        # id(obj) -> HDF5 path of its node
        self.keep = []        # keeps saved objects alive so ids stay unique

    def put(self, group, key, x, where):
        h5py = _h5py()
        if x is None:
            return self._group(group, key, "none")
        if isinstance(x, (bool, np.bool_)):
            return self._scalar(group, key, "bool", np.bool_(x))
        if isinstance(x, str):
            ds = group.create_dataset(key, data=x, dtype=h5py.string_dtype("utf-8"))
            ds.attrs["kind"] = "str"
            return ds
        if isinstance(x, np.generic):
            if x.dtype.kind not in "biufc":
                raise TypeError(f"save: {where} is a numpy scalar of dtype {x.dtype}, "
                                "which cannot be saved")
            return self._scalar(group, key, "npscalar", x)
        if isinstance(x, numbers.Integral):
            if -2**63 <= x < 2**63:
                return self._scalar(group, key, "int", np.int64(x))
            ds = group.create_dataset(key, data=str(int(x)), dtype=h5py.string_dtype("utf-8"))
            ds.attrs["kind"] = "bigint"
            return ds
        if isinstance(x, float):
            return self._scalar(group, key, "float", np.float64(x))
        if isinstance(x, complex):
            return self._scalar(group, key, "complex", np.complex128(x))
        if isinstance(x, bytes):
            ds = group.create_dataset(key, data=np.frombuffer(x, np.uint8))
            ds.attrs["kind"] = "bytes"
            return ds
        if isinstance(x, np.dtype):
            if x.kind not in "biufc" or x.fields:
                raise TypeError(f"save: {where} is dtype {x}; only numeric dtypes can be saved")
            ds = group.create_dataset(key, data=x.str, dtype=h5py.string_dtype("utf-8"))
            ds.attrs["kind"] = "dtype"
            return ds
        if id(x) in self.memo:
            g = self._group(group, key, "ref")
            g.attrs["target"] = self.memo[id(x)]
            return g
        self.keep.append(x)
        path = f"{group.name.rstrip('/')}/{key}"
        self.memo[id(x)] = path
        if isinstance(x, np.ndarray):
            return self._array(group, key, np.asarray(x), "ndarray", where)
        if isinstance(x, KnetArray):
            return self._array(group, key, x.to_numpy(), "knetarray", where)
        be = backends.of(x)
        if be is not backends.numpy_backend:     # a raw device array (e.g. optimizer state)
            return self._array(group, key, be.to_numpy(x), "ndarray", where)
        if isinstance(x, Param):
            g = self._group(group, key, "param")
            self.put(g, "value", x.value, f"{where}.value")
            self.put(g, "opt", x.opt, f"{where}.opt")
            return g
        if isinstance(x, Value):
            raise TypeError(f"save: {where} is a recorded value ({type(x).__name__}); "
                            "save the arrays or Params instead")
        if isinstance(x, Optimizer) and optimizers.get(type(x).__name__) is type(x):
            return self._optimizer(group, key, x, where)
        if isinstance(x, (list, tuple, set, frozenset)):
            kind = {list: "list", tuple: "tuple", set: "set", frozenset: "frozenset"}.get(type(x))
            if kind is None:
                if isinstance(x, tuple) and hasattr(x, "_fields"):
                    return self._object(group, key, x, where, namedtuple=True)
                kind = "list" if isinstance(x, list) else "tuple" if isinstance(x, tuple) else "set"
            g = self._group(group, key, kind)
            items = list(x)
            g.attrs["n"] = len(items)
            for i, v in enumerate(items):
                self.put(g, str(i), v, f"{where}[{i}]")
            return g
        if isinstance(x, dict):
            g = self._group(group, key, "dict")
            g.attrs["n"] = len(x)
            for i, (k, v) in enumerate(x.items()):
                self.put(g, f"k{i}", k, f"{where} key {k!r}")
                self.put(g, f"v{i}", v, f"{where}[{k!r}]")
            return g
        if isinstance(x, slice):
            g = self._group(group, key, "slice")
            for n in ("start", "stop", "step"):
                self.put(g, n, getattr(x, n), f"{where}.{n}")
            return g
        if isinstance(x, np.random.Generator):
            g = self._group(group, key, "rng")
            self.put(g, "state", x.bit_generator.state, f"{where}.state")
            return g
        if isinstance(x, (type, types.FunctionType, types.BuiltinFunctionType, np.ufunc,
                          Primitive)) or (callable(x) and hasattr(x, "__qualname__")):
            module, qual = _origin(x)
            if not module or not qual or "<" in qual:
                raise TypeError(f"save: {where} is {x!r}; only module-level functions and "
                                "classes can be saved (not lambdas or local functions)")
            g = self._group(group, key, "class" if isinstance(x, type) else "function")
            g.attrs["module"], g.attrs["qualname"] = module, qual
            return g
        return self._object(group, key, x, where)

    def _group(self, group, key, kind):
        g = group.create_group(key)
        g.attrs["kind"] = kind
        return g

    def _scalar(self, group, key, kind, v):
        ds = group.create_dataset(key, data=v)
        ds.attrs["kind"] = kind
        return ds

    def _array(self, group, key, a, kind, where):
        h5py = _h5py()
        if a.dtype.kind in "biufc" and not a.dtype.fields:
            ds = group.create_dataset(key, data=a)
        elif a.dtype.kind == "U":
            ds = group.create_dataset(key, data=a.astype(object), dtype=h5py.string_dtype("utf-8"))
            kind = "strarray"
        else:
            raise TypeError(f"save: {where} is an array of dtype {a.dtype}; only numeric, bool "
                            "and string arrays can be saved")
        ds.attrs["kind"] = kind
        return ds

    def _optimizer(self, group, key, opt, where):
        g = self._group(group, key, "optimizer")
        module, qual = _origin(type(opt))
        g.attrs["module"], g.attrs["qualname"] = module, qual
        for h in opt.hyper:
            g.attrs[f"hyper_{h}"] = float(getattr(opt, h))
        g.attrs["t"] = int(opt.t)
        for s in opt.state:
            self.put(g, f"state_{s}", getattr(opt, s), f"{where}.{s}")
        return g

    def _object(self, group, key, x, where, namedtuple=False):
        cls = type(x)
        module, qual = _origin(cls)
        if "<" in qual:
            raise TypeError(f"save: {where} is an instance of the local class {qual}; "
                            "define the class at module level to save it")
        if namedtuple:
            attrs, slots = None, None
        else:
            attrs = getattr(x, "__dict__", None)
            slots = {}
            for c in cls.__mro__:
                for s in getattr(c, "__slots__", ()) if not isinstance(
                        getattr(c, "__slots__", ()), str) else (c.__slots__,):
                    if s not in ("__dict__", "__weakref__") and hasattr(x, s) and s not in slots:
                        slots[s] = getattr(x, s)
            if attrs is None and not slots:
                raise TypeError(f"save: {where} is a {module}.{qual}, which has no attributes "
                                "to save (only arrays, containers and plain objects can be saved)")
        g = self._group(group, key, "object")
        g.attrs["module"], g.attrs["qualname"] = module, qual
        if namedtuple:
            self.put(g, "fields", list(x), f"{where}")
            return g
        if attrs is not None:
            if isinstance(x, Optimizer):          # scratch buffers are not state
                attrs = {k: v for k, v in attrs.items() if k != "_tmp"}
            if not all(isinstance(k, str) for k in attrs):
                raise TypeError(f"save: {where} has non-string attribute names")
            self.put(g, "dict", dict(attrs), f"{where}")
        if slots:
            self.put(g, "slots", slots, f"{where}")
        return g


def _fsync_dir(d):
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _digest(fh):
    """SHA-256 (hex) of an open file from byte _HEADER on."""
    h = hashlib.sha256()
    fh.seek(_HEADER)
    for block in iter(lambda: fh.read(1 << 22), b""):
        h.update(block)
    return h.hexdigest()


def _verify(path):
    """Check the header and checksum ``save`` wrote, before HDF5 reads anything
    (the HDF5 library does not survive every damaged file)."""
    with open(path, "rb") as fh:
        head = fh.read(_HEADER)
        if not head.startswith(_MAGIC):
            what = "an HDF5 file" if head.startswith(b"\x89HDF\r\n\x1a\n") else "a file"
            raise CheckpointError(f"load: {path} is {what} without a knetpy checkpoint header: "
                                  "not written by knetpy.save, or damaged")
        want = head[len(_MAGIC):len(_MAGIC) + 64].decode("ascii", "replace")
        if _digest(fh) != want:
            raise CheckpointError(f"load: {path} is corrupt or truncated (its checksum does "
                                  "not match its contents)")


def save(path, **named):
    """save(path, **named): write the named values to the HDF5 file ``path``.

    The write is atomic (temporary file in the same folder, fsync, rename):
    ``path`` holds either the previous or the new checkpoint, never a mix.
    Names may be any strings without "/".

    >>> import tempfile, os; d = tempfile.mkdtemp(); f = os.path.join(d, "ck.h5")
    >>> from knetpy import Adam
    >>> w = Param(np.ones(2), Adam()); save(f, w=w, step=3)
    >>> load(f, "step"), load(f, "w").opt
    (3, Adam(lr=0.001, gclip=0.0, beta1=0.9, beta2=0.999, eps=1e-08))
    """
    h5py = _h5py()
    path = os.fspath(path)
    for name in named:
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"save: {name!r} cannot be a checkpoint name (no '/', not empty)")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w", track_order=True, userblock_size=_HEADER) as f:
            f.attrs["format"] = FORMAT
            f.attrs["version"] = VERSION
            w = _Writer()
            for name, value in named.items():
                w.put(f, name, value, repr(name))
        with open(tmp, "rb+") as fh:
            digest = _digest(fh)
            fh.seek(0)
            fh.write(_MAGIC + digest.encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        _fsync_dir(folder)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------- reading
class _Reader:
    def __init__(self, f, allow, path):
        self.f = f
        self.allow = allow
        self.path = path
        self.memo = {}
        self.building = set()     # nodes being rebuilt that are not in memo yet

    def get(self, node, where):
        h5py = _h5py()
        kind = node.attrs.get("kind")
        if isinstance(kind, bytes):
            kind = kind.decode()
        if kind is None:
            raise CheckpointError(f"load: {where}: node {node.name} has no kind")
        name = node.name
        if isinstance(node, h5py.Dataset):
            return self._dataset(node, kind, where)
        if kind == "none":
            return None
        if kind == "ref":
            target = _s(node.attrs["target"])
            if target not in self.memo:
                if target in self.building or target not in self.f:
                    raise CheckpointError(f"load: {where}: reference to {target}, which cannot "
                                          "be rebuilt first (a cycle through a tuple, or a "
                                          "broken file)")
                self.get(self.f[target], target)      # an item that was not asked for
            return self.memo[target]
        if kind == "param":
            p = Param.__new__(Param)
            Param.__init__(p, np.zeros(0))
            self.memo[name] = p
            value = self.get(node["value"], f"{where}.value")
            if isinstance(value, Value) or not (isinstance(value, (np.ndarray, KnetArray))
                                                or isinstance(value, (numbers.Number, np.generic))):
                raise CheckpointError(f"load: {where}: a Param's value must be an array")
            p.value = value
            opt = self.get(node["opt"], f"{where}.opt")
            if opt is not None and not isinstance(opt, Optimizer):
                raise CheckpointError(f"load: {where}: a Param's opt must be an optimizer")
            p.opt = opt
            return p
        if kind == "optimizer":
            return self._optimizer(node, where)
        if kind in ("list", "set", "frozenset", "tuple"):
            n = int(node.attrs["n"])
            if kind == "list":
                out = []
                self.memo[name] = out
                out.extend(self.get(node[str(i)], f"{where}[{i}]") for i in range(n))
                return out
            self.building.add(name)
            items = [self.get(node[str(i)], f"{where}[{i}]") for i in range(n)]
            self.building.discard(name)
            out = {"set": set, "frozenset": frozenset, "tuple": tuple}[kind](items)
            self.memo[name] = out
            return out
        if kind == "dict":
            out = {}
            self.memo[name] = out
            for i in range(int(node.attrs["n"])):
                k = self.get(node[f"k{i}"], f"{where} key {i}")
                out[k] = self.get(node[f"v{i}"], f"{where}[{k!r}]")
            return out
        if kind == "slice":
            parts = [self.get(node[n], where) for n in ("start", "stop", "step")]
            out = self.memo[name] = slice(*parts)
            return out
        if kind == "rng":
            state = self.get(node["state"], f"{where}.state")
            bgname = state.get("bit_generator") if isinstance(state, dict) else None
            bgcls = getattr(np.random, bgname, None) if isinstance(bgname, str) else None
            if bgname not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64") or bgcls is None:
                raise CheckpointError(f"load: {where}: unknown bit generator {bgname!r}")
            bg = bgcls()
            bg.state = state
            out = self.memo[name] = np.random.Generator(bg)
            return out
        if kind in ("class", "function"):
            out = _resolve(_s(node.attrs["module"]), _s(node.attrs["qualname"]), kind,
                           self.allow, where)
            self.memo[name] = out
            return out
        if kind == "object":
            return self._object(node, where)
        raise CheckpointError(f"load: {where}: unknown node kind {kind!r}")

    def _dataset(self, ds, kind, where):
        if kind == "str":
            out = ds.asstr()[()]
        elif kind == "bigint":
            out = int(ds.asstr()[()])
        elif kind == "dtype":
            out = np.dtype(ds.asstr()[()])
            if out.kind not in "biufc":
                raise CheckpointError(f"load: {where}: bad dtype {out}")
        elif kind == "strarray":
            out = np.array(ds.asstr()[()], dtype=str)
        elif kind == "bytes":
            out = np.asarray(ds[()], np.uint8).tobytes()
        elif kind in ("ndarray", "knetarray"):
            a = ds[()]
            if not isinstance(a, np.ndarray):
                a = np.asarray(a)
            if a.dtype.kind not in "biufc":
                raise CheckpointError(f"load: {where}: array of unexpected dtype {a.dtype}")
            out = KnetArray(a) if kind == "knetarray" else a
        else:
            v = ds[()]
            if kind == "bool":
                out = bool(v)
            elif kind == "int":
                out = int(v)
            elif kind == "float":
                out = float(v)
            elif kind == "complex":
                out = complex(v)
            elif kind == "npscalar":
                out = v if isinstance(v, np.generic) else np.asarray(v)[()]
                if out.dtype.kind not in "biufc":
                    raise CheckpointError(f"load: {where}: numpy scalar of dtype {out.dtype}")
            else:
                raise CheckpointError(f"load: {where}: unknown dataset kind {kind!r}")
        self.memo[ds.name] = out
        return out

    def _optimizer(self, node, where):
        cls = _resolve(_s(node.attrs["module"]), _s(node.attrs["qualname"]), "class",
                       self.allow, where)
        if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
            raise CheckpointError(f"load: {where}: {cls.__name__} is not an optimizer")
        hyper = {h: float(node.attrs[f"hyper_{h}"]) for h in cls.hyper}
        try:
            opt = cls(**hyper)
            opt.t = int(node.attrs["t"])
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"load: {where}: bad optimizer settings: {e}") from None
        self.memo[node.name] = opt
        for s in cls.state:
            a = self.get(node[f"state_{s}"], f"{where}.{s}")
            if a is not None and not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
                raise CheckpointError(f"load: {where}.{s} must be a float array")
            object.__setattr__(opt, s, a)
        return opt

    def _object(self, node, where):
        cls = _resolve(_s(node.attrs["module"]), _s(node.attrs["qualname"]), "class",
                       self.allow, where)
        if "fields" in node:
            fields = self.get(node["fields"], where)
            out = cls(*fields)
            self.memo[node.name] = out
            return out
        try:
            obj = cls.__new__(cls)
        except TypeError as e:
            raise CheckpointError(f"load: {where}: cannot make a {cls.__qualname__} "
                                  f"without its constructor: {e}") from None
        self.memo[node.name] = obj
        for part in ("dict", "slots"):
            if part in node:
                attrs = self.get(node[part], where)
                if not isinstance(attrs, dict) or not all(isinstance(k, str) for k in attrs):
                    raise CheckpointError(f"load: {where}: attributes must be a dict of names")
                for k, v in attrs.items():
                    object.__setattr__(obj, k, v)
        return obj


def _s(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def load(path, *names, allow=()):
    """load(path, *names, allow=()) -> dict of everything, one value, or a tuple.

    With no names: a dict name -> value of the whole file; with one name:
    that value; with several: a tuple.  ``allow`` lists classes and
    functions outside knetpy that may be rebuilt (e.g. ``allow=[MyModel]``).

    Errors: ``FileNotFoundError``; ``KeyError`` for a missing name (listing
    the names present); ``CheckpointError`` for a file that is not a
    readable knetpy checkpoint or names a class that is not allowed.

    >>> import tempfile, os; f = os.path.join(tempfile.mkdtemp(), "ck.h5")
    >>> save(f, a=np.arange(3), b={"x": (1, "two")})
    >>> load(f, "b"), sorted(load(f))
    ({'x': (1, 'two')}, ['a', 'b'])
    """
    h5py = _h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    allowed = {}
    for a in (allow if isinstance(allow, (list, tuple, set, frozenset)) else (allow,)):
        if not (isinstance(a, type) or callable(a)):
            raise TypeError(f"load: allow must list classes or functions, got {a!r}")
        allowed[_origin(a)] = a
    _verify(path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise CheckpointError(f"load: {path} is not a readable HDF5 file (truncated or "
                              f"corrupt?): {e}") from None
    missing = None
    with f:
        try:
            out, missing = _read_all(f, names, allowed, path)
        except CheckpointError:
            raise
        except _MALFORMED as e:
            raise CheckpointError(f"load: {path} is malformed or truncated: "
                                  f"{type(e).__name__}: {e}") from None
    if missing is not None:
        raise KeyError(missing)
    if not names:
        return out
    return out[names[0]] if len(names) == 1 else tuple(out[n] for n in names)


def _read_all(f, names, allowed, path):
    """(values by name, None) or (None, message naming a missing item)."""
    fmt = f.attrs.get("format")
    if fmt is None or _s(fmt) != FORMAT:
        raise CheckpointError(f"load: {path} is an HDF5 file but not a knetpy checkpoint")
    version = f.attrs.get("version")
    if version is None or int(version) > VERSION:
        raise CheckpointError(f"load: {path} has checkpoint version {version}; this knetpy "
                              f"reads version {VERSION} or older")
    present = list(f.keys())
    for n in names:
        if not isinstance(n, str) or n not in present:
            return None, f"load: {path} has no item {n!r}; it has {present}"
    r = _Reader(f, allowed, path)
    out = {}
    for n in names or present:
        try:
            out[n] = r.get(f[n], repr(n))
        except CheckpointError:
            raise
        except _MALFORMED as e:
            raise CheckpointError(f"load: {path}: item {n!r} is malformed or truncated: "
                                  f"{type(e).__name__}: {e}") from None
    return out, None
