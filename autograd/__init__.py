"""autograd: tape-based automatic differentiation of numpy code (AutoGrad.jl in Python).

>>> import numpy as np
>>> from autograd import Param, diff, grad
>>> x = Param(np.array([1., 2., 3.]))
>>> y = diff(lambda: np.sum(x * x))
>>> grad(y, x)
array([2., 4., 6.])
"""
from .core import (Param, Primitive, Result, Value, diff, grad, gradloss, params,  # noqa: F401
                   raw, training, value)
from .registry import primitive, zerograd  # noqa: F401
from . import array as _array  # noqa: F401  (installs the numpy protocol on Value)
from . import rules as _rules  # noqa: F401  (registers the gradients)
from .sparse import Sparse  # noqa: F401
from .gcheck import gcheck  # noqa: F401
from .util import cat1d  # noqa: F401
# HIPS autograd's functional API (``from autograd import grad, jacobian, ...``)
from .differential_operators import (checkpoint, deriv, elementwise_grad,  # noqa: F401
                                     grad_and_aux, grad_named, hessian, hessian_tensor_product,
                                     hessian_vector_product, holomorphic_grad, jacobian,
                                     make_ggnvp, make_hvp, make_jvp, make_vjp, multigrad_dict,
                                     tensor_jacobian_product, value_and_grad,
                                     vector_jacobian_product)
from . import extend as _extend  # noqa: F401  (HIPS's names in autograd.core)
from .builtins import dict, isinstance, list, tuple, type  # noqa: F401,A001  (HIPS names)

__all__ = ["Param", "Result", "Sparse", "diff", "grad", "gradloss", "value", "params",
           "primitive", "zerograd", "raw", "gcheck", "cat1d", "training",
           "checkpoint", "deriv", "elementwise_grad", "grad_and_aux", "grad_named", "hessian",
           "hessian_tensor_product", "hessian_vector_product", "holomorphic_grad", "jacobian",
           "make_ggnvp", "make_hvp", "make_jvp", "make_vjp", "multigrad_dict",
           "tensor_jacobian_product", "value_and_grad", "vector_jacobian_product"]
