"""names: which classes and functions a checkpoint may name, and finding them.

Classes and functions are recorded by module and qualified name.  Loading
looks them up only in knetpy's and autograd's own modules (and, for
functions, numpy's top-level functions and ufuncs, scipy.special and math,
and a few harmless builtins), or among the objects passed in ``allow=``.
An allowed object matches by its module and qualified name, or by its
qualified name alone when the file recorded another module for it (a class
saved from a script's ``__main__`` and imported from a module elsewhere).
"""
import importlib
import types

import numpy as np

from autograd.core import Primitive

from .errors import CheckpointError

_SAFE_BUILTINS = {"float", "int", "bool", "complex", "str", "bytes", "list", "tuple", "dict",
                  "set", "frozenset", "abs", "min", "max", "sum", "len", "range", "slice",
                  "round", "pow", "object"}
_NUMPY_DENY = {"load", "save", "savez", "savez_compressed", "fromfile", "loadtxt", "savetxt",
               "genfromtxt", "memmap", "fromregex", "frombuffer", "DataSource", "lib",
               "ctypeslib", "testing", "f2py", "distutils", "show_config", "info", "source"}


def origin(obj):
    """(module, qualname) naming a module-level function, primitive or class."""
    target = obj.__wrapped__ if isinstance(obj, Primitive) else obj
    module = getattr(target, "__module__", None)
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if module is None and isinstance(obj, np.ufunc):
        import scipy.special
        if getattr(scipy.special, obj.__name__, None) is obj:
            module = "scipy.special"
    return module, qual


def builtin_allowed(module, qual, is_class):
    """True when (module, qual) may be loaded without ``allow=``."""
    if not isinstance(module, str) or not isinstance(qual, str) or "<" in qual:
        return False
    top = module.split(".")[0]
    if top in ("knetpy", "autograd"):
        return True
    if module == "builtins":
        return qual in _SAFE_BUILTINS
    if module == "numpy":
        return qual not in _NUMPY_DENY and not qual.startswith("_")
    if module in ("scipy.special", "math"):
        return not is_class
    return False


class Allowed:
    """The caller's ``allow=`` list, indexed by (module, qualname) and by qualname."""

    def __init__(self, allow):
        items = allow if isinstance(allow, (list, tuple, set, frozenset)) else (allow,)
        self.exact, self.by_qual = {}, {}
        for a in items:
            if not (isinstance(a, type) or callable(a)):
                raise TypeError(f"load: allow must list classes or functions, got {a!r}")
            key = origin(a)
            self.exact[key] = a
            self.by_qual.setdefault(key[1], []).append(a)

    def find(self, module, qual):
        """The allowed object for (module, qual), or None."""
        if (module, qual) in self.exact:
            return self.exact[(module, qual)]
        found = self.by_qual.get(qual, [])
        return found[0] if len(found) == 1 else None


def resolve(module, qual, kind, allowed, where, hint=None):
    """The object (module, qual) names, if loading it is allowed; ``hint``
    (a callable giving the list of every class the file needs) completes
    the error message."""
    what = "class" if kind == "class" else "function"
    a = allowed.find(module, qual)
    if a is not None:
        if (what == "class") != isinstance(a, type):
            raise CheckpointError(f"load: {where} is a {what} {module}.{qual}, but allow= "
                                  f"gives a {'class' if isinstance(a, type) else 'function'}")
        return a
    if not builtin_allowed(module, qual, kind == "class"):
        needed = hint() if hint is not None else [qual]
        raise CheckpointError(
            f"load: {where} is a {what} {module}.{qual}; it is not part of knetpy, so it is "
            f"rebuilt only when allowed (matched by qualified name, from any module): "
            f"load(path, allow=[{', '.join(needed)}])")
    try:
        obj = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
            if isinstance(obj, types.ModuleType):
                raise AttributeError(part)
    except (ImportError, AttributeError):
        raise CheckpointError(f"load: {where} names {what} {module}.{qual}, "
                              "which does not exist here") from None
    if origin(obj) != (module, qual) or (kind == "class") != isinstance(obj, type):
        raise CheckpointError(f"load: {where} names {module}.{qual}, which is not a {what} "
                              "defined there")
    return obj


def needed_names(tree, allowed, start):
    """Qualified names of every class/function reachable from node ``start``
    (following references) that is neither built-in-allowed nor in
    ``allowed`` (for the ``allow=`` hint), in file order."""
    out, seen, stack = [], set(), [start]
    while stack:
        node = stack.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        a = node.attrs
        for ref in (a.get("target"), a.get("opt")):
            if isinstance(ref, str) and ref in tree.index:
                stack.append(tree.index[ref])
        if node.children:
            stack.extend(reversed(list(node.children.values())))
        m, q, kind = a.get("module"), a.get("qualname"), a.get("kind")
        if m is None or q is None or kind not in ("object", "class", "function", "optimizer"):
            continue
        if allowed.find(m, q) is None and not builtin_allowed(m, q, kind != "function") \
                and str(q) not in out:
            out.append(str(q))
    return out
