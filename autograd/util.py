"""Small helpers: cat1d, numpy_method, and the module ``__getattr__`` of the numpy/scipy namespaces."""
import numpy as np


def cat1d(*arrays):
    """cat1d(*arrays): the flattened arrays joined into one vector (differentiable).

    >>> cat1d(np.ones((2, 2)), np.zeros(3)).shape
    (7,)
    """
    if not arrays:
        raise ValueError("cat1d: needs at least one array")
    return np.concatenate([np.ravel(a) for a in arrays])


def numpy_method(func):
    """numpy_method(func): ``func`` as a method, ``x.name(...) == func(x, ...)``,
    named after it (how array-like classes get ``x.sum()``, ``x.mean()``, ...).

    >>> class Box:
    ...     def __init__(self, a): self.a = a
    ...     def __array__(self, dtype=None, copy=None): return self.a
    ...     total = numpy_method(np.sum)
    >>> float(Box(np.ones(3)).total())
    3.0
    """
    def m(self, *args, **kw):
        return func(self, *args, **kw)
    m.__name__ = func.__name__
    m.__doc__ = f"Same as np.{func.__name__}(x, ...)."
    return m


def forward_getattr(module, name):
    """A module-level ``__getattr__`` for the module called ``name`` that looks
    every other attribute up in ``module`` (the numpy or scipy module it
    stands for)."""
    def __getattr__(attr):
        try:
            return getattr(module, attr)
        except AttributeError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None
    return __getattr__


def func(f):
    """func(f) -> f: HIPS autograd's no-op decorator (its examples mark functions with it).

    >>> func(abs)(-2)
    2
    """
    return f


def quick_grad_check(fun, arg0, extra_args=(), kwargs={}, verbose=True, eps=1e-4,
                     rtol=1e-4, atol=1e-6, rs=None):
    """quick_grad_check(fun, arg0, extra_args=(), kwargs={}): deprecated HIPS helper;
    checks the reverse-mode gradient of ``fun(arg0, *extra_args, **kwargs)`` in arg0
    against finite differences (AssertionError when they differ).  Use
    ``autograd.test_util.check_grads`` instead.

    >>> import warnings; warnings.simplefilter("ignore", DeprecationWarning)
    >>> quick_grad_check(lambda x, y: x ** 2 + y, 1.0, (2.0,))
    """
    import warnings
    warnings.warn("quick_grad_check is deprecated; use autograd.test_util.check_grads",
                  DeprecationWarning, stacklevel=2)
    from .test_util import check_grads
    check_grads(lambda x: fun(x, *extra_args, **kwargs), modes=["rev"], order=1)(arg0)
