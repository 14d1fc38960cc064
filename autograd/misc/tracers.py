"""const_graph: record a function once, then replay the recorded operations.

>>> import numpy as np
>>> f = const_graph(lambda x, y: np.sin(x) * y)
>>> float(f(0.5, 2.0)) == float(f(0.5, 2.0)) == float(np.sin(0.5) * 2.0)
True
"""
import functools

from ..core import _raw, record

__all__ = ["const_graph"]


def const_graph(fun, *args, **kwargs):
    """const_graph(fun, *args, **kwargs) -> fast_fun

    HIPS autograd's ``const_graph``: ``args`` / ``kwargs`` are fixed, the
    remaining positional arguments vary.  The first call of ``fast_fun`` runs
    ``fun`` and records the operations that depend on the varying arguments;
    later calls replay only those operations on the new values, without
    running ``fun``'s Python code again.  Use it for functions whose
    operations do not depend on the values (no branches on them); values
    that reach the output only through operations that are not
    differentiated here (comparisons, rounding, ...) are frozen at the first
    call.  Replays are recorded too, so ``fast_fun`` can be differentiated.

    >>> import numpy as np
    >>> g = const_graph(lambda a, x: a * x ** 2, 3.0)
    >>> float(g(2.0)), float(g(1.0))
    (12.0, 3.0)
    """
    partial = functools.partial(fun, *args, **kwargs)
    graph = []

    @functools.wraps(fun)
    def fast_fun(*xs):
        if not graph:
            tape, out = record(partial, xs, {}, tuple(range(len(xs))))
            if not tape.nodes or out.tape is not tape or out.prim is None:
                raise ValueError("const_graph: the output does not depend on the arguments")
            graph.append((list(tape.roots), list(tape.nodes), out))
            return out.value
        roots, nodes, out = graph[0]
        if len(xs) != len(roots):
            raise TypeError(f"const_graph: expected {len(roots)} arguments, got {len(xs)}")
        vals = {id(r): x for r, x in zip(roots, xs)}
        for node in nodes:
            a = list(node.args)
            for i, p in node.parents:
                a[i] = vals.get(id(p), p.value)
            vals[id(node)] = node.prim(*a, **(node.kw or {}))
        return vals[id(out)]
    return fast_fun
