"""The host backend: numpy arrays (see ``knetpy.backends`` for the contract).

The kernels at the end (softmax family, nll, batchnorm) are written only
with numpy functions, ufuncs and array methods, so they also run on any
array type that implements numpy's protocols.  Float16 inputs are computed
in float32 and the results cast back to float16.
"""
import numpy as np

name = "numpy"
xp = np

SELU_LAMBDA = 1.0507009873554805
SELU_ALPHA = 1.6732632423543778
GELU_C = float(np.sqrt(2 / np.pi))


def owns(a):
    """True for numpy arrays and numpy scalars."""
    return isinstance(a, (np.ndarray, np.generic))


def asarray(a, dtype=None):
    """``a`` as a numpy array (shares memory when it already is one)."""
    return np.asarray(a, dtype=dtype)


def copy(a, dtype=None):
    """A fresh numpy array holding ``a``'s values."""
    return np.array(a, dtype=dtype, copy=True)


def to_numpy(a):
    """A host copy of ``a``."""
    return np.array(a, copy=True)


# ------------------------------------------------------------- elementwise
def _sigm(x):
    e = np.exp(-np.abs(x))          # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(GELU_C * (x + 0.044715 * x * x * x)))


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "sigm": _sigm,
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "selu": lambda x: SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "gelu": _gelu,
    "invx": lambda x: 1 / x,
}


def _ufunc(fname, nin):
    f = getattr(np, fname, None)
    if not isinstance(f, np.ufunc) or f.nin != nin:
        raise ValueError(f"numpy backend: {fname!r} is not a {nin}-argument numpy ufunc")
    return f


def unary(fname, x):
    """One-argument ufunc (numpy name) or activation of ``x``."""
    act = ACTIVATIONS.get(fname)
    if act is not None:
        return act(x).astype(np.result_type(x), copy=False)
    return _ufunc(fname, 1)(x)


def binary(fname, a, b):
    """Two-argument ufunc (numpy name) of ``a`` and ``b`` with broadcasting."""
    return _ufunc(fname, 2)(a, b)


REDUCTIONS = {f.__name__: f for f in (np.sum, np.mean, np.prod, np.max, np.min, np.var,
                                      np.std, np.all, np.any)}


def reduce(fname, x, axis=None, keepdims=False):
    """Reduction ``fname`` of ``x`` over ``axis`` (argmax/argmin take one axis or None)."""
    if fname in ("argmax", "argmin"):
        return getattr(np, fname)(x, axis=axis, keepdims=keepdims)
    f = REDUCTIONS.get(fname)
    if f is None:
        raise ValueError(f"numpy backend: unknown reduction {fname!r}")
    return f(x, axis=axis, keepdims=keepdims)


def matmul(a, b):
    """Matrix product with numpy's matmul broadcasting rules."""
    return np.matmul(a, b)


def call(func, args, kw):
    """Any other numpy function (or bound ufunc method) on numpy arrays."""
    return func(*args, **kw)


# ------------------------------------------------------------- kernels
def _compute_dtype(x):
    dt = np.result_type(x)
    return np.dtype(np.float32) if dt == np.float16 else dt


def _shift(x, axis):
    """x minus its max over axis (keepdims); an all -inf slice shifts by 0."""
    m = np.max(x, axis=axis, keepdims=True)
    if not np.all(np.isfinite(m)):
        m = np.where(np.isfinite(m), m, 0)
    return x - m, m


def softmax(x, axis, algo):
    """exp(x) normalized over ``axis`` (None: all); algo 0 no max shift, 1 shifted,
    2 the log of it (logsoftmax)."""
    if algo == 2:
        return logsoftmax(x, axis)
    dt = np.result_type(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    z = np.exp(xc) if algo == 0 else np.exp(_shift(xc, axis)[0])
    z /= np.sum(z, axis=axis, keepdims=True)
    return z.astype(dt, copy=False)


def logsoftmax(x, axis):
    """x minus logsumexp(x) over ``axis`` (None: all)."""
    dt = np.result_type(x)
    z, _ = _shift(x.astype(_compute_dtype(x), copy=False), axis)
    z -= np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
    return z.astype(dt, copy=False)


def logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) over ``axis`` without overflow."""
    dt = np.result_type(x)
    z, m = _shift(x.astype(_compute_dtype(x), copy=False), axis)
    np.exp(z, out=z)
    with np.errstate(divide="ignore"):         # an all -inf slice gives -inf
        y = np.log(np.sum(z, axis=axis, keepdims=True)) + m
    if not keepdims:
        y = np.squeeze(y, axis=axis) if axis is not None else y.reshape(())
    return y.astype(dt, copy=False)


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
    xc = x.astype(_compute_dtype(x), copy=False)
    m = xc.max(axis=1, keepdims=True)
    if not np.isfinite(m).all():
        return None
    z = xc - m
    np.exp(z, out=z)
    mask = answers >= 0
    return xc, z, m, (answers if mask.all() else np.where(mask, answers, 0)), mask


def nll_forward(x, answers, axis):
    """Sum over non-negative ``answers`` of -log softmax(x)[answer] along ``axis``
    (answers has x's shape without ``axis``); a 0-d array of x's dtype."""
    dt = np.result_type(x)
    parts = _rows_softmax_parts(x, answers, axis)
    if parts is not None:                       # fast path: (N, C) scores
        xc, z, m, ans, mask = parts
        loss = np.log(z.sum(axis=1)) + m[:, 0] - xc[np.arange(len(ans)), ans]
        return np.asarray(loss.sum(where=mask), dtype=dt)
    xc = x.astype(_compute_dtype(x), copy=False)
    z, m = _shift(xc, axis)
    np.exp(z, out=z)
    lse = np.log(np.sum(z, axis=axis, keepdims=True)) + m
    idx, mask = _answer_index(answers, axis)
    loss = np.squeeze(lse - np.take_along_axis(xc, idx, axis), axis)
    return np.asarray(np.sum(loss, where=mask), dtype=dt)


def nll_backward(x, answers, axis):
    """softmax(x) - onehot(answers) along ``axis``, zero where answers < 0."""
    dt = np.result_type(x)
    parts = _rows_softmax_parts(x, answers, axis)
    if parts is not None:                       # fast path: (N, C) scores
        _, z, _, ans, mask = parts
        z /= z.sum(axis=1, keepdims=True)
        z[np.arange(len(ans)), ans] -= 1
        if not mask.all():
            z *= mask[:, None]
        return z.astype(dt, copy=False)
    z, _ = _shift(x.astype(_compute_dtype(x), copy=False), axis)
    np.exp(z, out=z)
    z /= np.sum(z, axis=axis, keepdims=True)
    idx, mask = _answer_index(answers, axis)
    np.put_along_axis(z, idx, np.take_along_axis(z, idx, axis) - 1, axis)
    if not np.all(mask):
        z *= np.expand_dims(mask, axis)
    return z.astype(dt, copy=False)


def _ncl(x, cd):
    """x viewed as (N, C, L) in the compute dtype (L = 1 for 2-D x)."""
    s = np.shape(x)
    return x.reshape(s[0], s[1], -1).astype(cd, copy=False)


def bn_stats(x):
    """(mean, biased variance) of x over every axis but 1, each of shape (C,)."""
    x3 = _ncl(x, _compute_dtype(x))
    n = x3.shape[0] * x3.shape[2]
    mean = x3.sum(axis=(0, 2)) / n
    xc = x3 - mean[:, None]
    return mean, np.einsum("ncl,ncl->c", xc, xc) / n


def bn_forward(x, mean, var, gamma, beta, eps):
    """(x - mean) / sqrt(var + eps) * gamma + beta per channel (axis 1);
    gamma/beta may be None (1 and 0)."""
    dt, cd = np.result_type(x), _compute_dtype(x)
    scale = 1 / np.sqrt(var.astype(cd) + eps)
    if gamma is not None:
        scale = scale * gamma.astype(cd)
    shift = -mean.astype(cd) * scale
    if beta is not None:
        shift = shift + beta.astype(cd)
    y = _ncl(x, cd) * scale[:, None]
    y += shift[:, None]
    return y.reshape(np.shape(x)).astype(dt, copy=False)


def bn_backward(dy, x, mean, var, gamma, eps, need_dx=True):
    """(dx, dgamma, dbeta) of bn_forward in training mode (mean and var are the
    batch statistics of x); dx is None when not ``need_dx``.

    dx = G*dy + B*(x - mean) + c per channel, with G = gamma/std,
    B = -G*dgamma/(n*std), c = -G*dbeta/n: four passes over the data."""
    dt, cd = np.result_type(x), _compute_dtype(x)
    x3, d3 = _ncl(x, cd), _ncl(dy, cd)
    n = x3.shape[0] * x3.shape[2]
    mean, inv = mean.astype(cd), 1 / np.sqrt(var.astype(cd) + eps)
    xc = x3 - mean[:, None]
    dbeta = d3.sum(axis=(0, 2))
    dgamma = inv * np.einsum("ncl,ncl->c", d3, xc)
    dx = None
    if need_dx:
        G = inv if gamma is None else inv * gamma.astype(cd)
        dx = d3 * G[:, None]
        xc *= (-G * inv * dgamma / n)[:, None]
        dx += xc
        dx += (-G * dbeta / n)[:, None]
        dx = dx.reshape(np.shape(x)).astype(dt, copy=False)
    return dx, dgamma.astype(dt, copy=False), dbeta.astype(dt, copy=False)
