"""fixed_point: differentiate through the limit of an iteration (implicit function).

>>> import numpy as np
>>> from autograd import grad
>>> newton = lambda a: lambda x: 0.5 * (x + a / x)           # converges to sqrt(a)
>>> dist = lambda x, y: np.abs(x - y)
>>> round(float(grad(lambda a: fixed_point(newton, a, 1.0, dist, 1e-10))(2.0)), 6)
0.353553
"""
from ..differential_operators import make_vjp
from ..extend import defvjp, primitive, vspace

__all__ = ["fixed_point"]


@primitive
def fixed_point(f, a, x0, distance, tol):
    """fixed_point(f, a, x0, distance, tol) -> x* with x* = f(a)(x*)

    Iterates ``x <- f(a)(x)`` from ``x0`` until ``distance(x, x_prev) <= tol``.
    Differentiable in ``a``: the gradient solves the adjoint fixed point
    ``v = g + (df(a)/dx)^T v`` by the same iteration and then applies
    ``(df(a)/da)^T`` (no differentiation through the iterations).

    >>> import numpy as np
    >>> round(float(fixed_point(lambda a: lambda x: np.cos(x) * a, 1.0, 0.0,
    ...                         lambda x, y: abs(x - y), 1e-12)), 6)
    0.739085
    """
    step = f(a)
    x_prev, x = x0, step(x0)
    while distance(x, x_prev) > tol:
        x_prev, x = x, step(x)
    return x


def _fixed_point_vjp(ans, f, a, x0, distance, tol):
    vjp_a, _ = make_vjp(lambda a_, x_: f(a_)(x_))(a, ans)

    def adjoint(params):
        a_, x_star, g = params
        vjp_x, _ = make_vjp(f(a_))(x_star)
        space = vspace(x_star)
        return lambda v: space.add(vjp_x(v), g)

    return lambda g: vjp_a(fixed_point(adjoint, (a, ans, g), vspace(x0).zeros(), distance, tol))


defvjp(fixed_point, None, _fixed_point_vjp, None)
