"""HIPS autograd's functional API on our tape.

Every operator here takes a function and returns a function with the same
arguments; ``argnum`` (an int, or a tuple of ints for a tuple of
derivatives) picks the argument differentiated.  The argument may be an
array, a number, or a tuple / list / dict of them (nested): each leaf is a
root of the tape and the result has the argument's structure.

All of them record one tape (``core.record``) and sweep it backwards
(``core.sweep``) as many times as needed, so the work they do is itself
recorded when an enclosing gradient is being taken: ``hessian``,
``make_hvp`` and ``check_grads`` of higher orders just nest.
"""
import inspect
import warnings
from collections import OrderedDict

import numpy as np

from .boxes import Param, raw as _raw
from .core import NonScalarOutput, Primitive, grad
from .forward import make_jvp_unary
from .functional import Trace as _Trace, nary as _nary, ones_like as _ones_like
from .functional import zeros_like as _zeros_like
from .sparse import Sparse
from .tree import LEAF as _LEAF, tree_flatten, tree_unflatten

__all__ = ["grad", "value_and_grad", "elementwise_grad", "grad_and_aux", "jacobian", "hessian",
           "hessian_tensor_product", "hessian_vector_product", "tensor_jacobian_product",
           "vector_jacobian_product", "make_vjp", "make_jvp", "make_hvp", "make_ggnvp",
           "make_jvp_reversemode", "deriv", "holomorphic_grad", "grad_named", "checkpoint",
           "multigrad_dict"]


# ---------------------------------------------------------------- the operators
def _make_vjp(fun, x):
    """make_vjp(fun, argnum=0)(*args, **kw) -> (vjp, ans)

    Runs the function once and returns its value ``ans`` and a function
    ``vjp(g)`` giving the vector-Jacobian product: the gradient of
    ``<g, fun(x)>`` with respect to the argument, for any ``g`` shaped like
    ``ans``.  ``vjp`` may be called many times; the tape is kept.

    >>> vjp, ans = make_vjp(np.sin)(np.array([0., 1.]))
    >>> vjp(np.array([1., 2.]))          # [cos(0), 2 cos(1)]
    array([1.        , 1.08060461])
    """
    t = _Trace(fun, x)
    return t.vjp, t.ans


make_vjp = _nary(_make_vjp, "make_vjp")


def _value_and_grad(fun, x):
    """value_and_grad(fun, argnum=0)(*args, **kw) -> (value, gradient)

    The function's scalar value and its gradient from one forward and one
    backward pass (the form ``scipy.optimize.minimize(..., jac=True)``
    expects).

    >>> value_and_grad(lambda w: np.sum(w ** 2))(np.array([1., 2.]))
    (np.float64(5.0), array([2., 4.]))
    """
    t = _Trace(fun, x)
    t.scalar_ans("value_and_grad")
    return t.ans, t.vjp(_ones_like(t.ans))


value_and_grad = _nary(_value_and_grad, "value_and_grad")


def _elementwise_grad(fun, x):
    """elementwise_grad(fun, argnum=0)(*args, **kw) -> array shaped like the argument

    The vector-Jacobian product with a vector of ones: the sum of the
    Jacobian's rows in one backward pass.  For a function applied
    elementwise (a diagonal Jacobian) this is the derivative of every entry;
    it nests for higher derivatives.

    >>> elementwise_grad(np.tanh)(np.array([0., 1.]))     # 1 - tanh(x)**2
    array([1.        , 0.41997434])
    """
    t = _Trace(fun, x)
    if t.out_tree is not _LEAF:
        raise TypeError("elementwise_grad: the function must return one array, "
                        f"got {type(t.ans).__name__}")
    if np.iscomplexobj(_raw(t.ans)):
        raise TypeError("elementwise_grad only applies to real-output functions "
                        "(use holomorphic_grad, or differentiate np.real(f(x)))")
    return t.vjp(_ones_like(t.ans))


elementwise_grad = _nary(_elementwise_grad, "elementwise_grad")


def _grad_and_aux(fun, x):
    """grad_and_aux(fun, argnum=0)(*args, **kw) -> (gradient, aux)

    For a function returning ``(loss, aux)``: the gradient of the scalar
    ``loss`` and ``aux`` itself (any value, not differentiated).

    >>> grad_and_aux(lambda w: (np.sum(w * w), 'note'))(np.array([1., 2.]))
    (array([2., 4.]), 'note')
    """
    t = _Trace(lambda v: _pair(fun(v)), x)
    ans, aux = t.ans
    if np.size(_raw(ans)) != 1:
        raise NonScalarOutput("grad_and_aux: the first output must be a scalar, got shape "
                              f"{np.shape(_raw(ans))}")
    gl = [None] * len(t.out_leaves)
    gl[0] = _ones_like(ans) if tree_flatten(ans)[1] is _LEAF else None
    return t.vjp_leaves(gl), aux


def _pair(out):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError("grad_and_aux: the function must return a pair (loss, aux), got "
                        f"{type(out).__name__}")
    return tuple(out)


grad_and_aux = _nary(_grad_and_aux, "grad_and_aux")


def _jacobian(fun, x):
    """jacobian(fun, argnum=0)(*args, **kw) -> array of shape out.shape + in.shape

    The full Jacobian of an array (or number) valued function with respect
    to an array (or number) argument, one backward pass per output entry on
    one recorded tape.  ``J[i..., j...] = d out[i...] / d in[j...]``.

    >>> jacobian(lambda x: x ** 2)(np.array([1., 2.]))
    array([[2., 0.],
           [0., 4.]])
    """
    if isinstance(x, (tuple, list, dict)):
        raise TypeError("jacobian: the argument must be an array or a number, got "
                        f"{type(x).__name__} (use make_vjp for containers)")
    t = _Trace(fun, x)
    if t.out_tree is not _LEAF:
        raise TypeError(f"jacobian: the function must return an array, got {type(t.ans).__name__}")
    out = _raw(t.ans)
    out_shape, in_shape = np.shape(out), np.shape(_raw(x))
    dtype = np.result_type(out) if np.result_type(out).kind in "fc" else np.float64
    n = int(np.prod(out_shape))
    if n == 0:
        return np.zeros(out_shape + in_shape, np.result_type(_raw(x), np.float64))
    rows = []
    for k in range(n):
        e = np.zeros(n, dtype)
        e[k] = 1
        rows.append(t.vjp(e.reshape(out_shape) if out_shape else e[0]))
    return np.reshape(np.stack(rows), out_shape + in_shape)


jacobian = _nary(_jacobian, "jacobian")


def _hessian(fun, x):
    """hessian(fun, argnum=0)(*args, **kw) -> array of shape in.shape + in.shape

    The exact matrix of second derivatives of a scalar function:
    ``jacobian(jacobian(fun))``.

    >>> hessian(lambda x: np.sum(x ** 3))(np.array([1., 2.]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return _jacobian(lambda v: _jacobian(fun, v), x)


hessian = _nary(_hessian, "hessian")


def _make_hvp(fun, x):
    """make_hvp(fun, argnum=0)(*args, **kw) -> (hvp, gradient)

    The gradient of a scalar function at a point and a function ``hvp(v)``
    giving the Hessian-vector product there; the forward and first backward
    passes are done once, each ``hvp(v)`` costs one more backward pass.

    >>> hvp, g = make_hvp(lambda x: np.sum(x ** 3))(np.array([1., 2.]))
    >>> hvp(np.array([1., 1.]))
    array([ 6., 12.])
    """
    return _make_vjp(lambda v: _grad_unary(fun, v), x)


def _grad_unary(fun, x):
    t = _Trace(fun, x)
    t.scalar_ans("grad")
    return t.vjp(_ones_like(t.ans))


make_hvp = _nary(_make_hvp, "make_hvp")


def hessian_tensor_product(fun, argnum=0):
    """hessian_tensor_product(fun, argnum=0) -> function(*args, tensor, **kw)

    The product of the Hessian of scalar ``fun`` (with respect to argument
    ``argnum``) with ``tensor`` (shaped like that argument), contracting all
    of the tensor's axes, without forming the Hessian.  Also named
    ``hessian_vector_product``.

    >>> hvp = hessian_tensor_product(lambda x: np.sum(x ** 3))
    >>> hvp(np.array([1., 2.]), np.array([1., 0.]))
    array([6., 0.])
    """
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args, **kw):
        args, vector = args[:-1], args[-1]
        return np.tensordot(fun_grad(*args, **kw), vector, np.ndim(_raw(vector)))
    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun, argnum=0):
    """tensor_jacobian_product(fun, argnum=0) -> function(*args, tensor, **kw)

    ``tensor`` (shaped like fun's output, or like its leading axes)
    contracted with the Jacobian of ``fun``: a vector-Jacobian product for a
    fixed function of the arguments.  Also named ``vector_jacobian_product``.

    >>> vjp = tensor_jacobian_product(lambda x: x ** 2)
    >>> vjp(np.array([1., 2.]), np.array([1., 1.]))
    array([2., 4.])
    """
    def vector_dot_fun(*args, **kw):
        args, vector = args[:-1], args[-1]
        return np.tensordot(vector, fun(*args, **kw), axes=np.ndim(_raw(vector)))
    return jacobian(vector_dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


def _make_jvp_reversemode(fun, x):
    """make_jvp_reversemode(fun, argnum=0)(*args, **kw) -> jvp

    A Jacobian-vector product built from two reverse passes: ``jvp(v)``
    is the vector-Jacobian product of the (linear) map g -> vjp(g) in the
    direction v.  Prefer ``make_jvp``; this form needs no forward rules.

    >>> make_jvp_reversemode(np.sin)(np.array([0.]))(np.array([2.]))
    array([2.])
    """
    t = _Trace(fun, x)
    if t.out_tree is not _LEAF:
        raise TypeError("make_jvp_reversemode: the function must return one array")
    vjp_vjp, _ = _make_vjp(t.vjp, _zeros_like(t.ans))
    return vjp_vjp


make_jvp_reversemode = _nary(_make_jvp_reversemode, "make_jvp_reversemode")


def make_ggnvp(f, g=None, f_argnum=0):
    """make_ggnvp(f, g=lambda y: 0.5 * np.sum(y ** 2, axis=-1), f_argnum=0)(*args, **kw) -> ggnvp

    Generalized Gauss-Newton products for the composition g(f(x)):
    ``ggnvp(v) = J_f^T H_g J_f v`` with J_f the Jacobian of f at x and H_g
    the Hessian of the scalar g at f(x).  With the default g (half the
    squared norm) this is ``J^T J v``.

    >>> ggnvp = make_ggnvp(lambda x: 2 * x)(np.ones(2))
    >>> ggnvp(np.array([1., 0.]))
    array([4., 0.])
    """
    if g is None:
        def g(y):
            return 0.5 * np.sum(y ** 2, axis=-1)

    def unary(f, x):
        f_vjp, f_x = _make_vjp(f, x)
        g_hvp, grad_g_x = _make_vjp(lambda y: _grad_unary(g, y), f_x)
        f_jvp, _ = _make_vjp(f_vjp, _zeros_like(grad_g_x))

        def ggnvp(v):
            return f_vjp(g_hvp(f_jvp(v)))
        return ggnvp
    return _nary(unary, "make_ggnvp")(f, f_argnum)


def _make_jvp(fun, x):
    """make_jvp(fun, argnum=0)(*args, **kw) -> jvp;  jvp(v) -> (ans, J v)

    Forward mode: the function's value and its directional derivative in the
    direction ``v`` (shaped like the argument).  See ``autograd.forward``.

    >>> make_jvp(np.sin)(0.0)(2.0)
    (np.float64(0.0), np.float64(2.0))
    """
    return make_jvp_unary(fun, x)


make_jvp = _nary(_make_jvp, "make_jvp")


def _deriv(fun, x):
    """deriv(fun, argnum=0)(*args, **kw) -> the forward derivative in the direction of ones

    For a function of one real number: its derivative.  For arrays: the
    Jacobian-vector product with a vector of ones (for complex arguments
    HIPS's ``vspace(x).ones()``, which is 1+1j).

    >>> float(deriv(np.sin)(0.0))
    1.0
    """
    return _make_jvp(fun, x)(_ones_tree(x))[1]


def _ones_tree(x):
    """HIPS's vspace(x).ones(): ones, and 1+1j for complex leaves."""
    leaves, tree = tree_flatten(x)
    return tree_unflatten(tree, [_ones_like(v) * (1 + 1j) if np.iscomplexobj(_raw(v)) else
                            _ones_like(v) for v in leaves])


deriv = _nary(_deriv, "deriv")


def _holomorphic_grad(fun, x):
    """holomorphic_grad(fun, argnum=0)(*args, **kw) -> f'(z)

    The complex derivative of a holomorphic scalar function: the gradient of
    its real part under HIPS's convention (d Re f/dx - i d Re f/dy), which
    for holomorphic f equals f'(z).  Warns when the argument is not complex.

    >>> complex(holomorphic_grad(lambda z: z ** 2)(1 + 2j))
    (2+4j)
    """
    if not np.iscomplexobj(_raw(x)):
        warnings.warn("holomorphic_grad: the input is not complex")
    return _grad_unary(lambda v: np.real(fun(v)), x)


holomorphic_grad = _nary(_holomorphic_grad, "holomorphic_grad")


def grad_named(fun, argname):
    """grad_named(fun, argname) -> gradient function with respect to the
    parameter called ``argname`` (not for ``*args`` / ``**kwargs``).

    >>> float(grad_named(lambda x, y: x * y, 'y')(3.0, 4.0))
    3.0
    """
    names = list(inspect.signature(fun).parameters)
    if argname not in names:
        raise ValueError(f"grad_named: {getattr(fun, '__name__', 'fun')} has no parameter "
                         f"{argname!r} (it has {names})")
    return grad(fun, names.index(argname))


def multigrad_dict(fun):
    """multigrad_dict(fun) -> function returning an OrderedDict name -> gradient

    Gradients with respect to every parameter of ``fun`` at once (defaults
    included; ``*args`` gives a tuple, ``**kw`` a dict), keyed by name.

    >>> g = multigrad_dict(lambda x, y=2.0: x * y)(3.0)
    >>> list(g.items())
    [('x', np.float64(2.0)), ('y', np.float64(3.0))]
    """
    sig = inspect.signature(fun)
    P = inspect.Parameter

    def call(dct):
        args, kw = [], {}
        for name, p in sig.parameters.items():
            if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD):
                args.append(dct[name])
            elif p.kind is P.VAR_POSITIONAL:
                args.extend(dct[name])
            elif p.kind is P.KEYWORD_ONLY:
                kw[name] = dct[name]
            else:
                kw.update(dct[name])
        return fun(*args, **kw)

    def gradfun(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        argdict = OrderedDict(bound.arguments)
        g = _grad_unary(call, dict(argdict))
        return OrderedDict((name, g[name]) for name in argdict)
    gradfun.__name__ = f"multigrad_dict_of_{getattr(fun, '__name__', 'f')}"
    return gradfun


def checkpoint(fun):
    """checkpoint(fun) -> fun as one primitive whose intermediates are not kept

    The returned function computes the same values, but an enclosing
    gradient records it as one step and runs ``fun`` again in the backward
    pass to get its vector-Jacobian products: memory traded for time.

    >>> f = checkpoint(lambda x: np.sin(np.cos(x)))
    >>> grad(lambda x: np.sum(f(x)))(np.ones(2))      # -cos(cos 1) sin 1
    array([-0.72160615, -0.72160615])
    """
    def rerun_vjp(i, dy, y, *args, **kw):
        return make_vjp(fun, i)(*args, **kw)[0](dy)
    p = Primitive(fun, (), nary_grad=rerun_vjp)
    p.__name__ = f"checkpoint({getattr(fun, '__name__', 'f')})"
    return p


del Param, Sparse
