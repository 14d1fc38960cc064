"""writer: turn Python values into the nodes of a checkpoint (format version 2).

Every node carries an attribute ``kind``.  Arrays are datasets; a Param is
the dataset of its value (``kind=param``), so h5py reads a weight directly;
its optimizer lives under ``/.knetpy/opt/<n>`` and the dataset's attribute
``opt`` holds that path.  Lists, tuples and sets are groups with children
``0, 1, ...``; dicts whose keys are all plain strings, and objects, are
groups whose children are named by the keys / attribute names
(``named=1``), so ``model/layers/0/weight`` is the weight of
``model.layers[0]``.  Other dicts store ``k<i>``/``v<i>`` pairs.  An object
saved twice is stored once; later places hold a ``ref`` node naming it.
"""
import numbers
import types

import numpy as np

from autograd.core import Param, Primitive, Value

from .. import backends
from ..knetarray import KnetArray
from ..optim import Optimizer, optimizers
from .names import origin

RESERVED = ".knetpy"


def plain_name(k):
    """True when ``k`` can be an HDF5 link name as it is."""
    return isinstance(k, str) and k not in ("", ".", "..") and "/" not in k and "\0" not in k


def _h5py():
    import h5py
    return h5py


class Writer:
    """Writer(root_file, check): ``put(group, key, value, where)`` writes one
    value; ``check()`` is called before each node (it raises on Ctrl-C)."""

    def __init__(self, root, check=lambda: None):
        self.root = root
        self.check = check
        self.memo = {}        # id(obj) -> (HDF5 path of its node, part)
        self.keep = []        # keeps saved objects alive so ids stay unique
        self.nopt = 0

    def put(self, group, key, x, where):
        self.check()
        h5py = _h5py()
        if x is None:
            return self._group(group, key, "none")
        if isinstance(x, (bool, np.bool_)):
            return self._scalar(group, key, "bool", np.bool_(x))
        if isinstance(x, str):
            if "\0" in x:       # HDF5 strings end at NUL: keep the exact bytes
                return self._scalar(group, key, "strbytes",
                                    np.frombuffer(x.encode("utf-8"), np.uint8))
            return self._scalar(group, key, "str", x, h5py.string_dtype("utf-8"))
        if isinstance(x, np.generic):
            if x.dtype.kind not in "biufc":
                raise TypeError(f"save: {where} is a numpy scalar of dtype {x.dtype}, "
                                "which cannot be saved")
            return self._scalar(group, key, "npscalar", x)
        if isinstance(x, numbers.Integral):
            if -2**63 <= x < 2**63:
                return self._scalar(group, key, "int", np.int64(x))
            return self._scalar(group, key, "bigint", str(int(x)), h5py.string_dtype("utf-8"))
        if isinstance(x, float):
            return self._scalar(group, key, "float", np.float64(x))
        if isinstance(x, complex):
            return self._scalar(group, key, "complex", np.complex128(x))
        if isinstance(x, bytes):
            return self._scalar(group, key, "bytes", np.frombuffer(x, np.uint8))
        if isinstance(x, np.dtype):
            if x.kind not in "biufc" or x.fields:
                raise TypeError(f"save: {where} is dtype {x}; only numeric dtypes can be saved")
            return self._scalar(group, key, "dtype", x.str, h5py.string_dtype("utf-8"))
        if id(x) in self.memo:
            g = self._group(group, key, "ref")
            g.attrs["target"], part = self.memo[id(x)]
            if part:
                g.attrs["part"] = part
            return g
        self.keep.append(x)
        path = f"{group.name.rstrip('/')}/{key}"
        self.memo[id(x)] = (path, "")
        if isinstance(x, np.ndarray):
            return self._array(group, key, np.asarray(x), "ndarray", where)
        if isinstance(x, KnetArray):
            return self._array(group, key, x.to_numpy(), "knetarray", where)
        be = backends.of(x)
        if be is not backends.numpy_backend:     # a raw device array (e.g. optimizer state)
            return self._array(group, key, be.to_numpy(x), "ndarray", where)
        if isinstance(x, Param):
            return self._param(group, key, x, path, where)
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
            g = self._group(group, key, "dict", ordered=True)
            self._mapping(g, x, where, lambda k: f"{where}[{k!r}]")
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
            module, qual = origin(x)
            if not module or not qual or "<" in qual:
                raise TypeError(f"save: {where} is {x!r}; only module-level functions and "
                                "classes can be saved (not lambdas or local functions)")
            g = self._group(group, key, "class" if isinstance(x, type) else "function")
            g.attrs["module"], g.attrs["qualname"] = module, qual
            return g
        return self._object(group, key, x, where)

    def _mapping(self, g, d, where, sub):
        """Items of ``d`` as children named by their keys, or as k<i>/v<i> pairs."""
        g.attrs["n"] = len(d)
        if all(plain_name(k) for k in d):
            g.attrs["named"] = 1
            for k, v in d.items():
                self.put(g, k, v, sub(k))
        else:
            for i, (k, v) in enumerate(d.items()):
                self.put(g, f"k{i}", k, f"{where} key {k!r}")
                self.put(g, f"v{i}", v, sub(k))

    def _group(self, group, key, kind, ordered=False):
        g = group.create_group(key, track_order=True) if ordered else group.create_group(key)
        g.attrs["kind"] = kind
        return g

    def _scalar(self, group, key, kind, v, dtype=None):
        ds = group.create_dataset(key, data=v, dtype=dtype)
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

    def _param(self, group, key, p, path, where):
        v = p.value
        if isinstance(v, Value) or not isinstance(v, (np.ndarray, KnetArray, numbers.Number,
                                                      np.generic)) and \
                backends.of(v) is backends.numpy_backend:
            raise TypeError(f"save: {where}.value is a {type(v).__name__}, not an array")
        if isinstance(v, KnetArray):
            vk, a = "knetarray", v.to_numpy()
        elif isinstance(v, np.ndarray):
            vk, a = "ndarray", v
        elif isinstance(v, (bool, np.bool_)):
            vk, a = "bool", np.bool_(v)
        elif isinstance(v, np.generic):
            vk, a = "npscalar", v
        elif isinstance(v, numbers.Integral):
            vk, a = "int", np.int64(v)
        elif isinstance(v, float):
            vk, a = "float", np.float64(v)
        elif isinstance(v, complex):
            vk, a = "complex", np.complex128(v)
        else:
            vk, a = "ndarray", backends.of(v).to_numpy(v)
        ds = self._array(group, key, np.asarray(a), "param", f"{where}.value")
        if ds.attrs["kind"] != "param":
            raise TypeError(f"save: {where}.value has dtype {a.dtype}; a Param holds numbers")
        ds.attrs["value"] = vk
        if id(v) not in self.memo and not isinstance(v, (numbers.Number, np.generic)):
            self.keep.append(v)
            self.memo[id(v)] = (path, "value")
        if p.opt is not None:
            if id(p.opt) in self.memo and not self.memo[id(p.opt)][1]:
                ds.attrs["opt"] = self.memo[id(p.opt)][0]
            else:
                box = self.root.require_group(RESERVED).require_group("opt")
                box.parent.attrs["kind"] = "reserved"
                name = str(self.nopt)
                self.nopt += 1
                self.put(box, name, p.opt, f"{where}.opt")
                ds.attrs["opt"] = f"{box.name}/{name}"
        return ds

    def _optimizer(self, group, key, opt, where):
        g = self._group(group, key, "optimizer")
        module, qual = origin(type(opt))
        g.attrs["module"], g.attrs["qualname"] = module, qual
        for h in opt.hyper:
            v = getattr(opt, h)
            if isinstance(v, numbers.Real) and not isinstance(v, bool):
                g.attrs[f"hyper_{h}"] = float(v)
            else:                                   # e.g. a schedule function
                self.put(g, f"hyper_{h}", v, f"{where}.{h}")
        g.attrs["t"] = int(opt.t)
        for s in opt.state:
            self.put(g, f"state_{s}", getattr(opt, s), f"{where}.{s}")
        return g

    def _object(self, group, key, x, where, namedtuple=False):
        cls = type(x)
        module, qual = origin(cls)
        if "<" in qual:
            raise TypeError(f"save: {where} is an instance of the local class {qual}; "
                            "define the class at module level to save it")
        attrs = {}
        if not namedtuple:
            d = getattr(x, "__dict__", None)
            if d is not None:
                attrs.update(d)
            for c in cls.__mro__:
                slots = getattr(c, "__slots__", ())
                for s in (slots,) if isinstance(slots, str) else slots:
                    if s not in ("__dict__", "__weakref__") and hasattr(x, s) and s not in attrs:
                        attrs[s] = getattr(x, s)
            if d is None and not attrs:
                raise TypeError(f"save: {where} is a {module}.{qual}, which has no attributes "
                                "to save (only arrays, containers and plain objects can be saved)")
            if not all(isinstance(k, str) for k in attrs):
                raise TypeError(f"save: {where} has non-string attribute names")
            if isinstance(x, Optimizer):          # scratch buffers are not state
                attrs.pop("_tmp", None)
        g = self._group(group, key, "object", ordered=True)
        g.attrs["module"], g.attrs["qualname"] = module, qual
        if namedtuple:
            self.put(g, "fields", list(x), f"{where}")
        else:
            self._mapping(g, attrs, where, lambda k: f"{where}.{k}")
        return g
