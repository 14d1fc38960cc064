"""Re-exporting a scipy namespace whose functions do not dispatch on arrays.

scipy's Python functions turn their arguments into arrays, which would
silently drop recorded values.  ``guard`` wraps such a function so that a
recorded argument raises a clear error instead, and everything else runs
scipy's function on the plain arrays.
"""
import functools

from ..core import Param, Result, _raw, training


def _recorded(x):
    if isinstance(x, Result):
        return x.tape.level >= 0
    if isinstance(x, Param):
        return training()
    if isinstance(x, (list, tuple)):
        return any(_recorded(v) for v in x)
    if isinstance(x, dict):
        return any(_recorded(v) for v in x.values())
    return False


def _unbox(x):
    if isinstance(x, (list, tuple)):
        return type(x)(_unbox(v) for v in x)
    return _raw(x)


def guard(fn, where):
    """fn that refuses recorded arguments (no gradient) and unboxes Params."""
    @functools.wraps(fn)
    def wrapper(*args, **kw):
        if _recorded(args) or _recorded(kw):
            raise TypeError(f"{where}.{fn.__name__} has no gradient in autograd; its "
                            "arguments must not depend on what is being differentiated")
        return fn(*_unbox(args), **{k: _unbox(v) for k, v in kw.items()})
    return wrapper


def reexport(module, where, namespace, skip=()):
    """Put guarded versions of module's public callables into ``namespace``
    (names already defined there are kept)."""
    for name in dir(module):
        if name.startswith("_") or name in namespace or name in skip:
            continue
        obj = getattr(module, name)
        if callable(obj) and not isinstance(obj, type):
            namespace[name] = guard(obj, where)
        elif not callable(obj) or isinstance(obj, type):
            namespace[name] = obj
