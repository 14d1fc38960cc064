"""reader: rebuild Python values from a checkpoint tree (format versions 1 and 2).

Nothing here runs code named by the file: classes come from ``names.resolve``
(knetpy's own or the caller's ``allow=``), instances are made with
``cls.__new__`` and their attributes set directly, optimizers get their
hyperparameters through their checked setters, and namedtuples are filled
with ``tuple.__new__``.  No constructor is called with values from the file.
"""
import numbers

import numpy as np

from autograd.core import Param, Value

from ..knetarray import KnetArray
from ..optim import Optimizer
from .errors import CheckpointError
from .names import needed_names, resolve


def s(v):
    """An attribute value as str."""
    return v.decode() if isinstance(v, bytes) else str(v)


_SCALARS = {"bool": bool, "int": int, "float": float, "complex": complex}


class Reader:
    """Reader(tree, allowed, version).get(node, where) -> the value of a node."""

    def __init__(self, tree, allowed, version):
        self.tree = tree
        self.allowed = allowed
        self.version = version
        self.memo = {}
        self.building = set()     # nodes being rebuilt that are not in memo yet
        self.item = None          # the top-level node being read (for the allow= hint)

    def resolve(self, node, kind, where):
        start = self.item if self.item is not None else node
        return resolve(s(node.attrs["module"]), s(node.attrs["qualname"]), kind, self.allowed,
                       where, lambda: needed_names(self.tree, self.allowed, start))

    def get(self, node, where):
        kind = node.attrs.get("kind")
        if kind is None:
            raise CheckpointError(f"load: {where}: node {node.name} has no kind")
        kind = s(kind)
        name = node.name
        if name in self.memo:
            return self.memo[name]
        if node.is_dataset:
            out = self._dataset(node, kind, where)
            self.memo[name] = out
            return out
        if kind == "none":
            return None
        if kind == "ref":
            target = s(node.attrs["target"])
            if target not in self.memo:
                if target in self.building or target not in self.tree.index:
                    raise CheckpointError(f"load: {where}: reference to {target}, which cannot "
                                          "be rebuilt first (a cycle through a tuple, or a "
                                          "broken file)")
                self.get(self.tree.lookup(target), target)   # an item that was not asked for
            out = self.memo[target]
            if s(node.attrs.get("part", "")) == "value":
                if not isinstance(out, Param):
                    raise CheckpointError(f"load: {where}: reference to a value of a non-Param")
                out = out.value
            return out
        if kind == "param":                           # version 1: a group
            p = self._new_param(name)
            self._set_value(p, self.get(node["value"], f"{where}.value"), where)
            self._set_opt(p, self.get(node["opt"], f"{where}.opt"), where)
            return p
        if kind == "optimizer":
            return self._optimizer(node, where)
        if kind in ("list", "set", "frozenset", "tuple"):
            n = int(node.attrs["n"])
            if n != len(node.keys()):
                raise CheckpointError(f"load: {where}: a {kind} of {n} items has "
                                      f"{len(node.keys())} nodes")
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
            self._mapping(node, out, where, lambda k: f"{where}[{k!r}]")
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
            out = self.resolve(node, kind, where)
            self.memo[name] = out
            return out
        if kind == "object":
            return self._object(node, where)
        raise CheckpointError(f"load: {where}: unknown node kind {kind!r}")

    def _mapping(self, node, out, where, sub):
        """Fill dict ``out`` from named children (version 2) or k<i>/v<i> pairs."""
        if int(node.attrs.get("named", 0)):
            for k in node.keys():
                out[k] = self.get(node[k], sub(k))
            return
        n = int(node.attrs["n"])
        if 2 * n != len(node.keys()):
            raise CheckpointError(f"load: {where}: a mapping of {n} items has "
                                  f"{len(node.keys())} nodes")
        for i in range(n):
            k = self.get(node[f"k{i}"], f"{where} key {i}")
            out[k] = self.get(node[f"v{i}"], sub(k))

    def _new_param(self, name):
        p = Param.__new__(Param)
        Param.__init__(p, np.zeros(0))
        self.memo[name] = p
        return p

    @staticmethod
    def _set_value(p, value, where):
        if isinstance(value, Value) or not isinstance(value, (np.ndarray, KnetArray,
                                                              numbers.Number, np.generic)):
            raise CheckpointError(f"load: {where}: a Param's value must be an array")
        p.value = value

    @staticmethod
    def _set_opt(p, opt, where):
        if opt is not None and not isinstance(opt, Optimizer):
            raise CheckpointError(f"load: {where}: a Param's opt must be an optimizer")
        p.opt = opt

    def _dataset(self, ds, kind, where):
        v = ds.value
        if kind in ("str", "bigint", "dtype"):
            if not isinstance(v, str):
                raise CheckpointError(f"load: {where}: a {kind} node holds no string")
            if kind == "str":
                return v
            if kind == "bigint":
                return int(v)
            out = np.dtype(v)
            if out.kind not in "biufc" or out.fields:
                raise CheckpointError(f"load: {where}: bad dtype {out}")
            return out
        if not isinstance(v, np.ndarray):
            raise CheckpointError(f"load: {where}: a {kind} node holds a string")
        if kind == "strarray":
            if v.dtype.kind != "U":
                raise CheckpointError(f"load: {where}: a string array holds {v.dtype}")
            return v
        if v.dtype.kind not in "biufc":
            raise CheckpointError(f"load: {where}: {kind} of unexpected dtype {v.dtype}")
        if kind in ("bytes", "strbytes"):
            if v.dtype != np.uint8 or v.ndim != 1:
                raise CheckpointError(f"load: {where}: bytes stored as {v.dtype}{v.shape}")
            return v.tobytes() if kind == "bytes" else v.tobytes().decode("utf-8")
        if kind in ("ndarray", "knetarray"):
            return KnetArray(v) if kind == "knetarray" else v
        if kind == "param":
            p = self._new_param(ds.name)
            vk = s(ds.attrs.get("value", "ndarray"))
            self._set_value(p, self._scalar(v, vk, where), where)
            opt = None
            if "opt" in ds.attrs:
                opt = self.get(self.tree.lookup(s(ds.attrs["opt"])), f"{where}.opt")
            self._set_opt(p, opt, where)
            return p
        return self._scalar(v, kind, where)

    @staticmethod
    def _scalar(v, kind, where):
        if kind == "ndarray":
            return v
        if kind == "knetarray":
            return KnetArray(v)
        if v.shape != ():
            raise CheckpointError(f"load: {where}: a {kind} scalar has shape {v.shape}")
        if kind in _SCALARS:
            return _SCALARS[kind](v[()])
        if kind == "npscalar":
            return v[()]
        raise CheckpointError(f"load: {where}: unknown dataset kind {kind!r}")

    def _optimizer(self, node, where):
        cls = self.resolve(node, "class", where)
        if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
            raise CheckpointError(f"load: {where}: {cls.__name__} is not an optimizer")
        opt = cls.__new__(cls)
        self.memo[node.name] = opt
        try:
            for h in cls.hyper:
                key = f"hyper_{h}"
                v = node.attrs[key] if key in node.attrs else \
                    self.get(node[key], f"{where}.{h}")
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    v = float(v)
                setattr(opt, h, v)                      # the class's own checks apply
            for name in cls.state:
                object.__setattr__(opt, name, None)
            object.__setattr__(opt, "t", int(node.attrs["t"]))
            object.__setattr__(opt, "_tmp", None)
        except (TypeError, ValueError, KeyError) as e:
            raise CheckpointError(f"load: {where}: bad optimizer settings: {e}") from None
        for st in cls.state:
            a = self.get(node[f"state_{st}"], f"{where}.{st}")
            if a is not None and not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
                raise CheckpointError(f"load: {where}.{st} must be a float array")
            object.__setattr__(opt, st, a)
        return opt

    def _object(self, node, where):
        cls = self.resolve(node, "class", where)
        if "fields" in node and not int(node.attrs.get("named", 0)):
            if not (issubclass(cls, tuple) and hasattr(cls, "_fields")):
                raise CheckpointError(f"load: {where}: {cls.__qualname__} is not a namedtuple")
            self.building.add(node.name)
            fields = self.get(node["fields"], where)
            self.building.discard(node.name)
            if not isinstance(fields, list) or len(fields) != len(cls._fields):
                raise CheckpointError(f"load: {where}: {cls.__qualname__} needs "
                                      f"{len(cls._fields)} fields")
            out = tuple.__new__(cls, fields)        # no constructor runs
            self.memo[node.name] = out
            return out
        try:
            obj = cls.__new__(cls)
        except TypeError as e:
            raise CheckpointError(f"load: {where}: cannot make a {cls.__qualname__} "
                                  f"without its constructor: {e}") from None
        self.memo[node.name] = obj
        attrs = {}
        if self.version >= 2:
            self._mapping(node, attrs, where, lambda k: f"{where}.{k}")
        else:
            for part in ("dict", "slots"):
                if part in node:
                    got = self.get(node[part], where)
                    if not isinstance(got, dict):
                        raise CheckpointError(f"load: {where}: attributes must be a dict")
                    attrs.update(got)
        if not all(isinstance(k, str) for k in attrs):
            raise CheckpointError(f"load: {where}: attribute names must be strings")
        for k, v in attrs.items():
            object.__setattr__(obj, k, v)
        return obj
