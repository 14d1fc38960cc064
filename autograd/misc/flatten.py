"""One vector from a nest of tuples, lists and dicts of arrays, and back."""
import numpy as np

from ..core import _raw

__all__ = ["flatten", "flatten_func"]


def flatten(value):
    """flatten(value) -> (vector, unflatten)

    All the numbers in ``value`` (arrays and scalars inside any nesting of
    tuples, lists and dicts; dicts in the order of their sorted keys) as one
    1-D array, and the function ``unflatten(vector)`` that rebuilds the nest
    from such a vector (arrays of the original shapes; scalars come back as
    0-d arrays).  Both directions are differentiable, so a loss of the nest
    can be optimized as a function of the vector.

    >>> v, unflatten = flatten({'w': np.ones((2, 2)), 'b': [0.5]})
    >>> v
    array([0.5, 1. , 1. , 1. , 1. ])
    >>> unflatten(2 * v)['w']
    array([[2., 2.],
           [2., 2.]])
    """
    parts = []
    spec = _spec(value, parts)
    flat = np.concatenate([np.ravel(p) for p in parts]) if parts else np.zeros(0)

    def unflatten(vector):
        if np.ndim(_raw(vector)) != 1 or np.shape(_raw(vector))[0] != _size(spec):
            raise ValueError(f"unflatten: expected a vector of length {_size(spec)}, got shape "
                             f"{np.shape(_raw(vector))}")
        return _build(spec, vector, [0])
    return flat, unflatten


def _spec(x, parts):
    if isinstance(x, (list, tuple)):
        return (type(x), [_spec(v, parts) for v in x])
    if isinstance(x, dict):
        keys = sorted(x)
        return (dict, keys, [_spec(x[k], parts) for k in keys])
    parts.append(x)
    return ("leaf", np.shape(_raw(x)))


def _size(spec):
    if spec[0] == "leaf":
        return int(np.prod(spec[1]))
    return sum(_size(s) for s in spec[-1])


def _build(spec, vector, pos):
    if spec[0] == "leaf":
        n = int(np.prod(spec[1]))
        out = np.reshape(vector[pos[0]:pos[0] + n], spec[1])
        pos[0] += n
        return out
    if spec[0] is dict:
        return {k: _build(s, vector, pos) for k, s in zip(spec[1], spec[2])}
    items = [_build(s, vector, pos) for s in spec[1]]
    return items if spec[0] is list else tuple(items) if spec[0] is tuple else spec[0](*items)


def flatten_func(func, example):
    """flatten_func(func, example) -> (flat_func, unflatten, flat_example)

    ``flat_func(vector, *args)`` is ``func`` applied to the nest that
    ``vector`` unflattens to (same structure as ``example``), with the output
    flattened too: for optimizers that work on one vector.

    >>> f, unflatten, x = flatten_func(lambda p: {'w': 2 * p['w']}, {'w': np.ones(2)})
    >>> f(x)
    array([2., 2.])
    """
    flat_example, unflatten = flatten(example)

    def flat_func(vector, *args, **kw):
        return flatten(func(unflatten(vector), *args, **kw))[0]
    return flat_func, unflatten, flat_example
