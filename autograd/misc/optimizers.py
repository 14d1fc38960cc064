"""Gradient-based optimizers for nests of arrays (HIPS autograd's signatures).

Each takes ``grad(x, i)`` (the gradient at ``x`` on iteration ``i``), a
starting point ``x0`` that may be an array or any nest of tuples / lists /
dicts of arrays, and an optional ``callback(x, i, g)`` called before each
step; it returns the final point with the structure of ``x0``.  Inside they
work on one flat vector (``autograd.misc.flatten``).  The updates are plain
numpy expressions, so the optimizers can themselves be differentiated.
"""
import functools

import numpy as np

from .flatten import flatten

__all__ = ["sgd", "rmsprop", "adam", "unflatten_optimizer"]


def unflatten_optimizer(optimize):
    """Make an optimizer of flat vectors accept nests of arrays (decorator)."""
    @functools.wraps(optimize)
    def nested(grad, x0, callback=None, *args, **kwargs):
        flat0, unflatten = flatten(x0)

        def flat_grad(x, i):
            return flatten(grad(unflatten(x), i))[0]
        flat_callback = None if callback is None else \
            (lambda x, i, g: callback(unflatten(x), i, unflatten(g)))
        return unflatten(optimize(flat_grad, flat0, flat_callback, *args, **kwargs))
    return nested


@unflatten_optimizer
def sgd(grad, x, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """sgd(grad, x0, callback=None, num_iters=200, step_size=0.1, mass=0.9)

    Gradient descent with momentum: the velocity is an exponential average
    (weight ``mass``) of the negative gradients, and each step moves
    ``step_size`` times the velocity.

    >>> x = sgd(lambda p, i: {'w': 2 * p['w']}, {'w': np.array([1.0])}, num_iters=500)  # w**2
    >>> bool(abs(x['w'][0]) < 1e-6)
    True
    """
    velocity = np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@unflatten_optimizer
def rmsprop(grad, x, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=1e-8):
    """rmsprop(grad, x0, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=1e-8)

    Steps of the gradient divided by the root of a running average (weight
    ``gamma``, started at ones) of its square.
    """
    avg_sq_grad = np.ones(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        avg_sq_grad = avg_sq_grad * gamma + g ** 2 * (1 - gamma)
        x = x - step_size * g / (np.sqrt(avg_sq_grad) + eps)
    return x


@unflatten_optimizer
def adam(grad, x, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8):
    """adam(grad, x0, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8)

    Adam (Kingma & Ba): running averages of the gradient (``b1``) and of its
    square (``b2``), corrected for their start at zero, give each step
    ``step_size * m / (sqrt(v) + eps)``.
    """
    m = np.zeros(len(x))
    v = np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * g ** 2 + b2 * v
        mhat = m / (1 - b1 ** (i + 1))
        vhat = v / (1 - b2 ** (i + 1))
        x = x - step_size * mhat / (np.sqrt(vhat) + eps)
    return x
