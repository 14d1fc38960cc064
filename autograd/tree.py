"""Trees: the numbers and arrays inside nested tuples, lists and dicts.

``tree_flatten(x)`` gives the leaves and a tree; ``tree_unflatten(tree,
leaves)`` rebuilds the container.  Used by the differential operators (one
tape root per leaf) and by ``extend.vspace``.  (HIPS's
``autograd.misc.flatten.flatten``, which concatenates everything into one
vector, is a different function.)
"""
import numpy as np

from .boxes import Value

__all__ = ["LEAF", "tree_flatten", "tree_unflatten", "leaves_like", "same_tree"]

class _Node:
    """How to rebuild a container from its leaves (a flattened tree)."""
    __slots__ = ("kind", "keys", "children")

    def __init__(self, kind, keys, children):
        self.kind, self.keys, self.children = kind, keys, children


LEAF = None          # the tree of a single leaf


def _is_numeric(x):
    """Numbers and arrays (numpy's, or any array type with shape and dtype)."""
    if isinstance(x, (bool, np.bool_, str, bytes)):
        return False
    return isinstance(x, (Value, np.ndarray, np.generic, float, int, complex)) or \
        (hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, type))


def tree_flatten(x):
    """tree_flatten(x) -> (leaves, tree): the numbers and arrays inside nested
    tuples, lists and dicts, in a fixed order; ``tree_unflatten(tree, leaves)``
    rebuilds x.  Anything else (strings, None, functions) is kept as part of
    the tree and not differentiated (a gradient has None there).

    >>> leaves, tree = tree_flatten({'w': np.ones(2), 'b': (1.0, 'relu')})
    >>> len(leaves), tree_unflatten(tree, [np.zeros(2), 0.0])['b']
    (2, (0.0, 'relu'))
    """
    leaves = []
    return leaves, _flatten_into(x, leaves)


def _flatten_into(x, leaves):
    if isinstance(x, (tuple, list)) and not isinstance(x, Value):
        kind = type(x)
        return _Node(kind, len(x), [_flatten_into(v, leaves) for v in x])
    if isinstance(x, dict):
        keys = list(x)
        return _Node(type(x), keys, [_flatten_into(x[k], leaves) for k in keys])
    if _is_numeric(x):
        leaves.append(x)
        return LEAF
    return _Node("static", x, None)


def tree_unflatten(tree, leaves, static=True):
    """tree_unflatten(tree, leaves, static=True): the container described by
    ``tree`` with ``leaves`` put back in order; its non-numeric parts as they
    were (``static=True``) or None.

    >>> tree_unflatten(tree_flatten([1.0, 'a'])[1], [2.0], static=False)
    [2.0, None]
    """
    it = iter(leaves)
    return _build(tree, it, static)


def _build(tree, it, static=True):
    if tree is LEAF:
        return next(it)
    kind = tree.kind
    if kind == "static":
        return tree.keys if static else None
    if isinstance(kind, type) and issubclass(kind, dict):
        d = kind() if kind is not dict else {}
        for k, c in zip(tree.keys, tree.children):
            d[k] = _build(c, it, static)
        return d
    items = [_build(c, it, static) for c in tree.children]
    if kind is list:
        return items
    if kind is tuple:
        return tuple(items)
    if hasattr(kind, "_fields"):          # namedtuple
        return kind(*items)
    return kind(items)


def leaves_like(tree, value, what):
    """leaves_like(tree, value, what): the leaves of ``value``, which must have
    the structure ``tree`` (ValueError naming ``what`` otherwise).

    >>> leaves_like(tree_flatten((1.0, 2.0))[1], (3.0, 4.0), "vjp")
    [3.0, 4.0]
    """
    leaves, t = tree_flatten(value)
    if not same_tree(tree, t):
        raise ValueError(f"{what}: expected a value with the structure of the function's "
                         f"output/input, got {type(value).__name__}")
    return leaves


def same_tree(a, b):
    """same_tree(a, b): True when two trees describe the same structure.

    >>> same_tree(tree_flatten([1.0])[1], tree_flatten([2.0])[1])
    True
    """
    if a is LEAF or b is LEAF:
        return a is b
    if a.kind == "static" or b.kind == "static":
        return a.kind == b.kind
    if a.kind is not b.kind and not (_issubclass_safe(a.kind, dict) and _issubclass_safe(b.kind, dict)):
        return False
    if isinstance(a.keys, list) and a.keys != b.keys:
        return False
    return len(a.children) == len(b.children) and all(map(same_tree, a.children, b.children))


def _issubclass_safe(k, base):
    return isinstance(k, type) and issubclass(k, base)
