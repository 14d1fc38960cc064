"""state: Params and layer state by name (SPEC §11).

Names are dotted paths of attribute names, list/tuple indices and dict keys,
found by the same search as ``params`` (so ``named_params(m).values()`` is
``params(m)``, each Param once, under the first path that reaches it)::

    named_params(model)   -> {"layers.0.weight": Param, ...}
    state_dict(model)     -> {"layers.0.weight": array, ..., "layers.1.running_mean": array}
    load_state_(model, state, strict=True)
    summary(model)        -> a table of every named Param and the total

Layer state other than Params is what a class lists in ``_state`` (e.g.
BatchNorm's ``running_mean``/``running_var``) when it holds an array.
"""
import numbers
import types

import numpy as np

from autograd import Param

from . import backends
from .knetarray import KnetArray

__all__ = ["named_params", "state_dict", "load_state_", "summary"]

_LEAF = (str, bytes, np.ndarray, np.generic, int, float, complex, type)


def _walk(model):
    """Yield (path, obj) in ``params`` order: preorder, each object once."""
    seen = set()
    stack = [("", model)]
    while stack:
        path, o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        yield path, o
        if isinstance(o, Param) or isinstance(o, _LEAF) or o is None \
                or callable(o) and not hasattr(o, "__dict__"):
            continue
        sub = lambda k: f"{path}.{k}" if path else str(k)  # noqa: E731
        if isinstance(o, dict):
            kids = [(sub(k), v) for k, v in o.items()]
        elif isinstance(o, (list, tuple, set, frozenset)):
            kids = [(sub(i), v) for i, v in enumerate(o)]
        else:
            kids = []
            if hasattr(o, "__dict__") and not isinstance(o, (type, types.ModuleType,
                                                               types.FunctionType,
                                                               types.BuiltinFunctionType,
                                                               types.MethodType)):
                kids.extend((sub(k), v) for k, v in vars(o).items())
            for cls in type(o).__mro__:
                slots = getattr(cls, "__slots__", ())
                for s in (slots,) if isinstance(slots, str) else slots:
                    if s not in ("__dict__", "__weakref__") and hasattr(o, s):
                        kids.append((sub(s), getattr(o, s)))
        stack.extend(reversed(kids))


def named_params(model):
    """named_params(model) -> dict dotted name -> Param, in ``params(model)`` order.

    >>> from knetpy.layers import Chain, Dense
    >>> list(named_params(Chain(Dense(2, 3), Dense(3, 1))))
    ['layers.layer_0.weight', 'layers.layer_0.bias', 'layers.layer_1.weight', 'layers.layer_1.bias']
    """
    return {path: o for path, o in _walk(model) if isinstance(o, Param)}


def _is_array(v):
    return isinstance(v, (np.ndarray, KnetArray)) or (
        v is not None and not isinstance(v, (numbers.Number, str, Param))
        and backends.of(v) is not backends.numpy_backend)


def _state_slots(model):
    """(name, owner, attribute) for every attribute a class lists in ``_state``."""
    out = []
    for path, o in _walk(model):
        names = getattr(type(o), "_state", ())
        if isinstance(names, tuple) and not isinstance(o, type) and all(
                isinstance(n, str) for n in names):
            for n in names:
                out.append((f"{path}.{n}" if path else n, o, n))
    return out


def state_dict(model):
    """state_dict(model) -> dict name -> array: the Params' values and the
    layers' other array state (``_state``), by name.  The arrays are the
    model's own (not copies): copy them to keep a snapshot while training.

    >>> from knetpy.layers import BatchNorm
    >>> sorted(state_dict(BatchNorm(3)))
    ['bias', 'running_mean', 'running_var', 'scale']
    """
    out = {name: p.value for name, p in named_params(model).items()}
    for name, owner, attr in _state_slots(model):
        v = getattr(owner, attr, None)
        if _is_array(v) and name not in out:
            out[name] = v
    return out


def _shape(v):
    return tuple(np.shape(v)) if not isinstance(v, KnetArray) else tuple(v.shape)


def _to_numpy(v):
    if isinstance(v, KnetArray):
        return v.to_numpy()
    be = backends.of(v)
    return be.to_numpy(v) if be is not backends.numpy_backend else np.asarray(v)


def _like(old, new):
    """``new`` as the same kind of array as ``old`` (device and dtype kept)."""
    a = _to_numpy(new)
    dtype = getattr(old, "dtype", None)
    if dtype is not None:
        a = a.astype(dtype, copy=True)
    if isinstance(old, KnetArray):
        return KnetArray(a)
    be = backends.of(old)
    if old is not None and be is not backends.numpy_backend:
        return be.asarray(a)
    if isinstance(old, np.ndarray):
        return a.copy() if not a.flags.writeable else a
    return a if np.ndim(a) else a[()]


def load_state_(model, state, strict=True):
    """load_state_(model, state, strict=True) -> (missing, unexpected): copy a
    ``state_dict`` back into ``model``.

    Strict: a name of the model that ``state`` lacks, a name of ``state``
    the model does not have, or a shape that differs is an error naming them
    all.  Not strict: what matches is loaded, and the missing and unexpected
    names are returned (shapes must still agree).

    >>> from knetpy.layers import Dense
    >>> a, b = Dense(2, 3), Dense(2, 3)
    >>> load_state_(b, state_dict(a))
    ([], [])
    >>> bool((b.weight.value == a.weight.value).all())
    True
    """
    if not isinstance(state, dict):
        raise TypeError(f"load_state_: state must be a dict name -> array, got "
                        f"{type(state).__name__}")
    if not isinstance(strict, bool):
        raise TypeError(f"load_state_: strict must be True or False, got {strict!r}")
    params = named_params(model)
    slots = {name: (owner, attr) for name, owner, attr in _state_slots(model)
             if name not in params}
    required = set(params) | {n for n, (o, a) in slots.items() if getattr(o, a, None) is not None}
    missing = [n for n in list(params) + list(slots) if n in required and n not in state]
    unexpected = [n for n in state if n not in params and n not in slots]
    bad = []
    for n, v in state.items():
        old = params[n].value if n in params else getattr(*slots[n]) if n in slots else None
        if old is not None and (n in params or _is_array(old)) and _shape(old) != _shape(v):
            bad.append(f"{n}: model {_shape(old)}, state {_shape(v)}")
    problems = []
    if strict and missing:
        problems.append(f"missing from the state: {missing}")
    if strict and unexpected:
        problems.append(f"not in the model: {unexpected}")
    if bad:
        problems.append("shapes differ: " + "; ".join(bad))
    if problems:
        raise ValueError("load_state_: " + "; ".join(problems))
    for n, v in state.items():
        if n in params:
            params[n].value = _like(params[n].value, v)
        elif n in slots:
            owner, attr = slots[n]
            setattr(owner, attr, _like(getattr(owner, attr, None), v))
    return missing, unexpected


class Summary:
    """The table ``summary`` returns: ``rows`` (name, shape, dtype, count),
    ``total``; ``str()``/``repr()`` give the table."""

    def __init__(self, rows):
        self.rows = rows
        self.total = sum(r[3] for r in rows)

    def __str__(self):
        head = ("name", "shape", "dtype", "count")
        body = [(n, str(s), str(d), f"{c:,}") for n, s, d, c in self.rows]
        w = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(head)]
        line = "  ".join("-" * x for x in w)
        fmt = lambda r: "  ".join(  # noqa: E731
            r[i].rjust(w[i]) if i == 3 else r[i].ljust(w[i]) for i in range(4)).rstrip()
        out = [fmt(head), line] + [fmt(r) for r in body] + [line]
        out.append(f"total: {self.total:,} parameters in {len(self.rows)} Params")
        return "\n".join(out)

    __repr__ = __str__


def summary(model):
    """summary(model) -> Summary: every named Param with its shape, dtype and
    element count, and the total; for any object (layers or plain classes).

    >>> from knetpy.layers import Dense
    >>> print(summary(Dense(2, 3)))               # doctest: +NORMALIZE_WHITESPACE
    name    shape   dtype    count
    ------  ------  -------  -----
    weight  (3, 2)  float32      6
    bias    (3,)    float32      3
    ------  ------  -------  -----
    total: 9 parameters in 2 Params
    """
    rows = []
    for name, p in named_params(model).items():
        v = p.value
        rows.append((name or "<model>", _shape(v), np.dtype(getattr(v, "dtype", type(v))),
                     int(np.prod(_shape(v), dtype=np.int64))))
    return Summary(rows)
