"""HIPS autograd's tracer names, for code that imports them from here.

``isbox(x)`` tells whether ``x`` is being traced (a Param or a recorded
value), ``getval(x)`` strips the tracing and gives the plain array;
``primitive``, ``notrace_primitive`` and ``Box`` are those of
``autograd.extend``.

>>> from autograd.tracer import getval, isbox
>>> isbox(np.ones(2))
False
"""
from .core import Value, _raw
from .extend import Box, notrace_primitive, primitive  # noqa: F401

__all__ = ["isbox", "getval", "primitive", "notrace_primitive", "Box"]


def isbox(x):
    """isbox(x) -> True for a value being traced (a Param or a tape Result).

    >>> isbox(3.0)
    False
    """
    return isinstance(x, Value)


def getval(x):
    """getval(x) -> the plain value inside any levels of tracing (x itself otherwise).

    >>> getval(2.5)
    2.5
    """
    return _raw(x)


# ---------------------------------------------------------------- HIPS's Node and trace
class Node:
    """Base of HIPS autograd's trace nodes: ``trace`` builds one node per
    recorded operation with ``NodeClass(value, fun, args, kwargs,
    parent_argnums, parents)`` and the root with ``NodeClass.new_root(...)``
    (which calls ``initialize_root``).  Subclasses define both methods.

    >>> class Count(Node):
    ...     def __init__(self, value, fun, args, kwargs, argnums, parents):
    ...         self.n = 1 + sum(p.n for p in parents)
    ...     def initialize_root(self):
    ...         self.n = 0
    >>> trace(Count.new_root(), lambda x: np.sin(x) * x, 1.0)[1].n
    2
    """
    __slots__ = ()

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        raise NotImplementedError(f"{type(self).__name__} must define __init__")

    def initialize_root(self, *args, **kwargs):
        """Set up the root node (called by ``new_root``)."""
        raise NotImplementedError(f"{type(self).__name__} must define initialize_root")

    @classmethod
    def new_root(cls, *args, **kwargs):
        """new_root(*args, **kwargs) -> a root node, set up by ``initialize_root``."""
        root = cls.__new__(cls)
        root.initialize_root(*args, **kwargs)
        return root


def trace(start_node, fun, x):
    """trace(start_node, fun, x) -> (end_value, end_node)

    Run ``fun(x)`` recording it, then build a node (of ``start_node``'s class)
    for every recorded operation that depends on ``x``, in the order they ran:
    ``Node(value, primitive, args, kwargs, parent_argnums, parent_nodes)``.
    ``end_node`` is the node of the output (None when it does not depend on x).
    Operations that are not differentiated here (comparisons, shapes, ...)
    get no node.

    >>> class Names(Node):
    ...     def __init__(self, value, fun, args, kwargs, argnums, parents):
    ...         self.name = fun.__name__
    ...     def initialize_root(self):
    ...         self.name = "x"
    >>> trace(Names.new_root(), np.exp, 0.0)[1].name
    'exp'
    """
    from .core import record
    tape, out = record(fun, (x,), {}, 0)
    nodes = {id(tape.roots[0]): start_node}
    for r in tape.nodes:
        linked = [(i, nodes[id(p)]) for i, p in r.parents if id(p) in nodes]
        if linked:
            argnums, parents = zip(*linked)
            nodes[id(r)] = type(start_node)(r.value, r.prim, tuple(r.args), dict(r.kw or {}),
                                            argnums, list(parents))
    return out.value, nodes.get(id(out))


__all__ += ["Node", "trace"]
