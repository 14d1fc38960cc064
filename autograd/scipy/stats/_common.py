"""Helpers shared by the distributions of autograd.scipy.stats."""
import numpy as np

from ...core import Param, Result, Value, _raw, training

LOG_2PI = float(np.log(2 * np.pi))


def recorded(x):
    """True when x is being recorded for differentiation right now."""
    if isinstance(x, Result):
        return x.tape.level >= 0
    return isinstance(x, Param) and training()


def no_grad(where, name, x):
    """Refuse a recorded argument whose gradient is not available (better than
    silently treating it as a constant)."""
    if recorded(x):
        raise NotImplementedError(f"{where}: the gradient with respect to {name} is not "
                                  f"supported; pass {name} as a constant")


def standardize(x, loc, scale):
    """(x - loc) / scale, skipping the arithmetic for the defaults."""
    z = x if _is_const(loc, 0) else x - loc
    return z if _is_const(scale, 1) else z / scale


def log_scale(scale):
    """log(scale), 0.0 for the default scale of 1."""
    return 0.0 if _is_const(scale, 1) else np.log(scale)


def _is_const(v, c):
    return not isinstance(v, Value) and np.ndim(v) == 0 and v == c


def inside(cond, value, outside):
    """value where the (constant) condition holds, else the constant ``outside``."""
    cond = np.asarray(_raw(cond))
    if cond.all():
        return value
    return np.where(cond, value, outside)


raw = _raw  # the plain array of a value (Param, recorded Result or constant)
