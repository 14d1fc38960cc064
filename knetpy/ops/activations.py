"""Elementwise activations, each one differentiable primitive.

Forward values come from the backend's ``unary`` kernels (``knetpy.backends``),
so the same call runs on numpy arrays, KnetArrays and recorded values;
gradients are written with numpy calls, so they are differentiable again
(higher order).  Every activation is declared by one ``_activation`` line:
its kernel name, its gradient and its docstring.

The SELU and GELU constants have one home, ``knetpy.backends.kernel_table``
(which also writes them into the CUDA sources); ``ALPHA_SELU`` = -λα is the
negative saturation value that alpha dropout uses.
"""
import numpy as np

from autograd.core import raw, primitive

from ..backends.kernel_table import ACTIVATIONS, GELU_C, GELU_K, SELU_ALPHA, SELU_LAMBDA
from ..knetarray import run

__all__ = ["relu", "elu", "selu", "sigm", "gelu", "invx"]

ALPHA_SELU = -SELU_LAMBDA * SELU_ALPHA


def check_float(x, fname, arg="x"):
    """check_float(x, fname, arg='x'): raise TypeError naming ``fname`` and
    ``arg`` unless ``x`` (array, KnetArray or recorded value) holds floats.

    >>> check_float(np.ones(2), "relu")
    """
    r = raw(x)
    dt = r.dtype if r.__class__ is np.ndarray else np.result_type(r)
    if dt.kind != "f":
        raise TypeError(f"{fname}: {arg} must hold floats (float16/32/64), got dtype {dt}")


def _activation(name, grad, doc):
    """The public function ``name``: float check, then one primitive whose forward
    is the backend's ``unary`` kernel ``name`` and whose gradient is ``grad(dy, y, x)``.
    A numpy array goes straight to the numpy backend's function (the same
    arithmetic, without the dispatch)."""
    host = ACTIVATIONS[name]

    def forward(x):
        if x.__class__ is np.ndarray:
            return host(x).astype(x.dtype, copy=False)
        return run("unary", name, x)
    forward.__name__ = forward.__qualname__ = name
    prim = primitive(grad)(forward)

    def op(x):
        check_float(x, name)
        return prim(x)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _gelu_grad(dy, y, x):
    t = np.tanh(GELU_C * (x + GELU_K * x * x * x))
    return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_K * x * x))


relu = _activation("relu", lambda dy, y, x: dy * np.greater(raw(x), 0), """relu(x) = max(0, x), elementwise.

    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """)

elu = _activation("elu", lambda dy, y, x: np.where(np.greater(raw(x), 0), dy, dy * (y + 1)),
                  """elu(x) = x if x > 0 else exp(x) - 1, elementwise (Clevert et al. 2015).

    >>> elu(np.array([0.0, 1.0]))
    array([0., 1.])
    """)

selu = _activation("selu", lambda dy, y, x: np.where(np.greater(raw(x), 0), dy * SELU_LAMBDA,
                                                     dy * (y + SELU_LAMBDA * SELU_ALPHA)),
                   """selu(x) = λ·(x if x > 0 else α·(exp(x) - 1)) with λ = 1.0507009873554805,
    α = 1.6732632423543778 (Klambauer et al. 2017).

    >>> float(selu(np.array(1.0)))
    1.0507009873554805
    """)

sigm = _activation("sigm", lambda dy, y, x: dy * y * (1 - y),
                   """sigm(x) = 1 / (1 + exp(-x)), elementwise, without overflow for large |x|.

    >>> sigm(np.array([0.0]))
    array([0.5])
    """)

gelu = _activation("gelu", _gelu_grad,
                   """gelu(x) = 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))), the tanh form that
    Knet/NNlib use (PyTorch's ``gelu(approximate='tanh')``).

    >>> float(gelu(np.array(0.0)))
    0.0
    """)

invx = _activation("invx", lambda dy, y, x: -dy * y * y, """invx(x) = 1 / x, elementwise.

    >>> invx(np.array([2.0, 4.0]))
    array([0.5 , 0.25])
    """)
