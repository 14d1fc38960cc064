"""The backend contract: ``Backend``, with a numpy body for every method.

A backend knows one kind of array memory and computes every numeric kernel
knetpy's ops need on it.  ``Backend`` states the whole contract; its bodies
are written with numpy functions (which also dispatch to any array type that
implements numpy's protocols), so ``Backend()`` *is* the host backend
(``knetpy.backends.numpy_backend``).  The kernel backend
(``knetpy.backends.kernel_backend.KernelBackend``: CuPy, or the CPU emulator)
subclasses it and overrides what its CUDA kernels compute.  Every method
exists on every backend, so an op never asks ``hasattr(backend, ...)``.

The contract, by topic (each method's docstring gives its exact rules):

=================  ==========================================================
array basics       ``owns, asarray, copy, to_numpy, unary, binary, reduce,
                   matmul, call`` (here)
softmax family     ``softmax, logsoftmax, logsumexp, nll_forward,
                   nll_backward`` (here)
activations        ``activation_back`` (here)
batchnorm          ``bn_stats, bn_forward, bn_backward`` (``host_nn``)
dropout            ``dropout_mask, dropout, dropback`` (``host_nn``)
recurrent cells    ``lstm, lstmback, gru, gruback`` (``host_nn``)
convolution        ``im2col, col2im, conv_forward, conv_backward_w,
                   conv_backward_x`` (``host_conv``)
pooling            ``pool, poolback, poolgather`` (``host_pool``)
training           ``sgd_, momentum_, nesterov_, adagrad_, rmsprop_,
                   adadelta_, adam_, scatter_add`` (``host_train``)
=================  ==========================================================

Float16 inputs of the softmax family and batchnorm are computed in float32
and cast back.  ``device_kernels`` is False here and True on a backend whose
kernels run on a device.

>>> be = Backend()
>>> be.name, be.unary("relu", np.array([-1.0, 2.0])).tolist()
('numpy', [0.0, 2.0])
"""
import numpy as np

from .host_conv import ConvKernels
from .host_nn import NNKernels
from .host_pool import PoolKernels
from .host_train import TrainKernels
from .kernel_table import ACTIVATION_GRADS, ACTIVATIONS, GELU_C, SELU_ALPHA, SELU_LAMBDA

__all__ = ["Backend", "SELU_LAMBDA", "SELU_ALPHA", "GELU_C", "ACTIVATIONS", "REDUCTIONS",
           "compute_dtype"]

REDUCTIONS = {f.__name__: f for f in (np.sum, np.mean, np.prod, np.max, np.min, np.var,
                                      np.std, np.all, np.any)}


def compute_dtype(x):
    """compute_dtype(x) -> x's dtype, float16 widened to float32.

    >>> compute_dtype(np.ones(1, np.float16))
    dtype('float32')
    """
    dt = np.result_type(x)
    return np.dtype(np.float32) if dt == np.float16 else dt


def _shift(x, axis):
    """x minus its max over axis (keepdims); an all -inf slice shifts by 0."""
    m = np.max(x, axis=axis, keepdims=True)
    if not np.all(np.isfinite(m)):
        m = np.where(np.isfinite(m), m, 0)
    return x - m, m


def _answer_index(answers, axis):
    mask = answers >= 0
    return np.expand_dims(np.where(mask, answers, 0), axis), mask


def _rows_softmax_parts(x, answers, axis):
    """For the common (N, C) scores with classes on the last axis: (x in the
    compute dtype, exp(x - rowmax), rowmax, answers with negatives as 0, mask of
    answered rows); None for any other layout or non-finite row maxima."""
    if not (type(x) is np.ndarray and x.ndim == 2 and axis in (1, -1)
            and type(answers) is np.ndarray and answers.shape == x.shape[:1]):
        return None
    xc = x.astype(compute_dtype(x), copy=False)
    m = xc.max(axis=1, keepdims=True)
    if not np.isfinite(m).all():
        return None
    z = xc - m
    np.exp(z, out=z)
    mask = answers >= 0
    return xc, z, m, (answers if mask.all() else np.where(mask, answers, 0)), mask


def _ufunc(fname, nin):
    f = getattr(np, fname, None)
    if not isinstance(f, np.ufunc) or f.nin != nin:
        raise ValueError(f"numpy backend: {fname!r} is not a {nin}-argument numpy ufunc")
    return f


class Backend(NNKernels, ConvKernels, PoolKernels, TrainKernels):
    """Backend(): the backend contract with numpy bodies (the host backend).

    Attributes: ``name`` (``"numpy"``), ``xp`` (the array module, ``numpy``),
    ``device_kernels`` (False: computed by numpy on the host).

    >>> float(Backend().reduce("sum", np.ones(3), None, False))
    3.0
    """
    name = "numpy"
    xp = np
    device_kernels = False

    def __repr__(self):
        return f"<knetpy backend {self.name!r}>"

    # ------------------------------------------------------------ array basics
    def owns(self, a):
        """owns(a) -> True when ``a`` is an array of this backend (numpy arrays
        and numpy scalars here)."""
        return isinstance(a, (np.ndarray, np.generic))

    def asarray(self, a, dtype=None):
        """asarray(a, dtype=None) -> ``a`` as an array of this backend (no copy
        when it already is one of ``dtype``)."""
        return np.asarray(a, dtype=dtype)

    def copy(self, a, dtype=None):
        """copy(a, dtype=None) -> a fresh array of this backend holding ``a``'s values."""
        return np.array(a, dtype=dtype, copy=True)

    def to_numpy(self, a):
        """to_numpy(a) -> a host numpy copy of ``a``."""
        return np.array(a, copy=True)

    def unary(self, fname, x):
        """unary(fname, x) -> one-argument function ``fname`` of ``x``: a numpy
        ufunc by name (``"exp"``) or an activation (``"relu", "sigm", "elu",
        "selu", "gelu", "invx"``); ValueError for any other name."""
        act = ACTIVATIONS.get(fname)
        if act is not None:
            return act(x).astype(np.result_type(x), copy=False)
        return _ufunc(fname, 1)(x)

    def binary(self, fname, a, b):
        """binary(fname, a, b) -> two-argument numpy ufunc ``fname`` (``"add"``)
        of ``a`` and ``b`` with broadcasting; either may be a scalar."""
        return _ufunc(fname, 2)(a, b)

    def reduce(self, fname, x, axis=None, keepdims=False):
        """reduce(fname, x, axis=None, keepdims=False) -> reduction ``fname``
        ("sum", "mean", "prod", "max", "min", "var", "std", "all", "any",
        "argmax", "argmin"; the arg-reductions take one axis or None)."""
        if fname in ("argmax", "argmin"):
            return getattr(np, fname)(x, axis=axis, keepdims=keepdims)
        f = REDUCTIONS.get(fname)
        if f is None:
            raise ValueError(f"{self.name} backend: unknown reduction {fname!r}")
        return f(x, axis=axis, keepdims=keepdims)

    def matmul(self, a, b):
        """matmul(a, b) -> matrix product with numpy's matmul broadcasting rules."""
        return np.matmul(a, b)

    def call(self, func, args, kw):
        """call(func, args, kw) -> ``func(*args, **kw)``: any other numpy function
        or bound ufunc method on arrays of this backend (the general fallback)."""
        return func(*args, **kw)

    def activation_back(self, act, dy, v):
        """activation_back(act, dy, v) -> dy times the derivative of activation
        ``act`` (a key of ``kernel_table.ACTIVATION_BACK``), computed from the
        output ``v = act(x)`` (from the input ``x`` for gelu); ``dy`` and ``v``
        have one shape and dtype.

        >>> Backend().activation_back("relu", np.ones(2), np.array([0.0, 2.0])).tolist()
        [0.0, 1.0]
        """
        if act not in ACTIVATION_GRADS:
            raise ValueError(f"activation_back: act must be one of {sorted(ACTIVATION_GRADS)}, "
                             f"got {act!r}")
        reads, f = ACTIVATION_GRADS[act]
        if np.shape(dy) != np.shape(v):
            raise ValueError(f"activation_back: dy and the {reads} array must have one shape, "
                             f"got {np.shape(dy)} and {np.shape(v)}")
        return f(dy, v).astype(np.result_type(dy, v), copy=False)

    # ------------------------------------------------------------ softmax family
    def softmax(self, x, axis, algo):
        """softmax(x, axis, algo) -> exp(x) normalized over ``axis`` (None: all);
        ``algo`` 0 no max shift, 1 shifted, 2 the log of it (logsoftmax)."""
        if algo not in (0, 1, 2):
            raise ValueError(f"softmax: algo must be 0, 1 or 2, got {algo!r}")
        if algo == 2:
            return self.logsoftmax(x, axis)
        dt = np.result_type(x)
        xc = x.astype(compute_dtype(x), copy=False)
        z = np.exp(xc) if algo == 0 else np.exp(_shift(xc, axis)[0])
        z /= np.sum(z, axis=axis, keepdims=True)
        return z.astype(dt, copy=False)

    def logsoftmax(self, x, axis):
        """logsoftmax(x, axis) -> x minus logsumexp(x) over ``axis`` (None: all)."""
        dt = np.result_type(x)
        z, _ = _shift(x.astype(compute_dtype(x), copy=False), axis)
        z -= np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
        return z.astype(dt, copy=False)

    def logsumexp(self, x, axis, keepdims):
        """logsumexp(x, axis, keepdims) -> log(sum(exp(x))) over ``axis`` without
        overflow (an all -inf slice gives -inf)."""
        dt = np.result_type(x)
        z, m = _shift(x.astype(compute_dtype(x), copy=False), axis)
        np.exp(z, out=z)
        with np.errstate(divide="ignore"):
            y = np.log(np.sum(z, axis=axis, keepdims=True)) + m
        if not keepdims:
            y = np.squeeze(y, axis=axis) if axis is not None else y.reshape(())
        return y.astype(dt, copy=False)

    def nll_forward(self, x, answers, axis):
        """nll_forward(x, answers, axis) -> sum over non-negative ``answers`` of
        -log softmax(x)[answer] along ``axis`` (answers has x's shape without
        ``axis``); a 0-d array of x's dtype."""
        dt = np.result_type(x)
        parts = _rows_softmax_parts(x, answers, axis)
        if parts is not None:                       # fast path: (N, C) scores
            xc, z, m, ans, mask = parts
            loss = np.log(z.sum(axis=1)) + m[:, 0] - xc[np.arange(len(ans)), ans]
            return np.asarray(loss.sum(where=mask), dtype=dt)
        xc = x.astype(compute_dtype(x), copy=False)
        z, m = _shift(xc, axis)
        np.exp(z, out=z)
        lse = np.log(np.sum(z, axis=axis, keepdims=True)) + m
        idx, mask = _answer_index(answers, axis)
        loss = np.squeeze(lse - np.take_along_axis(xc, idx, axis), axis)
        return np.asarray(np.sum(loss, where=mask), dtype=dt)

    def nll_backward(self, x, answers, axis):
        """nll_backward(x, answers, axis) -> softmax(x) - onehot(answers) along
        ``axis``, zero where answers < 0."""
        dt = np.result_type(x)
        parts = _rows_softmax_parts(x, answers, axis)
        if parts is not None:                       # fast path: (N, C) scores
            _, z, _, ans, mask = parts
            z /= z.sum(axis=1, keepdims=True)
            z[np.arange(len(ans)), ans] -= 1
            if not mask.all():
                z *= mask[:, None]
            return z.astype(dt, copy=False)
        z, _ = _shift(x.astype(compute_dtype(x), copy=False), axis)
        np.exp(z, out=z)
        z /= np.sum(z, axis=axis, keepdims=True)
        idx, mask = _answer_index(answers, axis)
        np.put_along_axis(z, idx, np.take_along_axis(z, idx, axis) - 1, axis)
        if not np.all(mask):
            z *= np.expand_dims(mask, axis)
        return z.astype(dt, copy=False)
