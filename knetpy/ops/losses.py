"""Loss functions: nll, accuracy, zeroone, bce, logistic.

Class scores are batch-first: ``scores`` has the classes along ``axis``
(default -1, so ``(N, C)``), and ``answers`` has the shape of ``scores``
without that axis, holding class indices ``0..C-1``; a negative answer skips
its instance.  ``average=False`` returns ``(total, count)``.

``nll`` is one fused primitive: the forward computes each instance's
logsumexp and picks the answer's score (one pass of ``exp``); the gradient
is ``softmax - onehot`` from one backend kernel, itself a primitive whose
gradient is the softmax's (so higher orders work).
"""
import math

import numpy as np

from autograd.core import Value, raw, primitive, zerograd

from .softmax import normalize_axis, softmax
from ..knetarray import KnetArray, run

__all__ = ["nll", "accuracy", "zeroone", "bce", "logistic"]


def _is_model(f):
    return callable(f) and not isinstance(f, (np.ndarray, Value, KnetArray))


def _check_scores(scores, fname, scalar_ok=False):
    x = raw(scores)
    dt = np.result_type(x)
    if dt.kind != "f":
        raise TypeError(f"{fname}: scores must hold floats, got dtype {dt}")
    if np.ndim(x) == 0 and not scalar_ok:
        raise ValueError(f"{fname}: scores must have at least one dim (the classes), got a scalar")
    return x


def _check_answers(scores, answers, axis, fname):
    """answers as a host int array shaped like scores without ``axis`` (validated)."""
    shape = np.shape(scores)
    ax = normalize_axis(axis, len(shape), fname, allow_none=False)
    if len(ax) != 1:
        raise ValueError(f"{fname}: axis must be a single int, got {axis!r}")
    ax = ax[0]
    a = np.asarray(raw(answers))
    if a.dtype.kind not in "iu":
        raise TypeError(f"{fname}: answers must be integer class indices (0..C-1, negative = "
                        f"skip), got dtype {a.dtype}")
    want = shape[:ax] + shape[ax + 1:]
    if a.shape != want:
        if a.size != int(np.prod(want)):
            raise ValueError(f"{fname}: answers must have shape {want} (scores {shape} without "
                             f"axis {ax}), got {a.shape}")
        a = a.reshape(want)
    C = shape[ax]
    if a.size and a.max() >= C:
        raise ValueError(f"{fname}: answers must be in 0..{C - 1} (negative = skip), "
                         f"got {a.max()}")
    return a, ax


def _nll_back_grad(ddy, y, x, answers, axis):
    t = ddy * np.expand_dims(np.greater_equal(answers, 0), axis)
    s = softmax(x, axis)
    return s * (t - np.sum(t * s, axis=axis, keepdims=True))


@primitive(_nll_back_grad)
def _nll_back(x, answers, axis):
    return run("nll_backward", x, answers, axis)


@primitive(lambda dy, y, x, answers, axis: dy * _nll_back(x, answers, axis))
def _nll_sum(x, answers, axis):
    return run("nll_forward", x, answers, axis)


# ------------------------------------------------------------ fast path
# The commonest call, nll(scores, answers) with (N, C) float32/float64 numpy
# scores and N valid answers, is one primitive that computes the mean itself
# (the same arithmetic as the backend's nll kernels, without the dispatch and
# the checks already made) and one primitive for its gradient: no separate
# division on the tape.  Rows whose maximum is not finite go to the kernels.
_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_max, _sum = np.maximum.reduce, np.add.reduce     # the ufuncs' reductions, no wrappers


def _exp_shifted(x):
    """(exp(x - rowmax), rowmax) of an (N, C) array; None when a row maximum is
    not finite (or their sum overflows: the kernels then decide)."""
    m = _max(x, axis=1, keepdims=True)
    if not math.isfinite(_sum(m, axis=None)):
        return None
    z = x - m
    np.exp(z, out=z)
    return z, m


def _nll_rows_back_grad(ddy, y, x, answers):
    return _nll_back_grad(ddy, y, x, answers, 1)


@primitive(_nll_rows_back_grad, None)
def _nll_rows_back(x, answers):
    """softmax(x) - onehot(answers) for (N, C) x and valid answers."""
    zm = _exp_shifted(x)
    if zm is None:
        return run("nll_backward", x, answers, 1)
    z = zm[0]
    z /= _sum(z, axis=1, keepdims=True)
    z[np.arange(len(answers)), answers] -= 1
    return z


def _nll_rows_mean_grad(dy, y, x, answers):
    return _nll_rows_back(x, answers) * (dy / x.shape[0])


@primitive(_nll_rows_mean_grad, None)
def _nll_rows_mean(x, answers):
    """The mean over the rows of logsumexp(x[i]) - x[i, answers[i]]; IndexError
    for an answer >= C (``nll`` then reports it)."""
    picked = x[np.arange(len(answers)), answers]
    zm = _exp_shifted(x)
    if zm is None:
        total = run("nll_forward", x, answers, 1)
    else:
        z, m = zm
        loss = np.log(_sum(z, axis=1)) + m[:, 0] - picked
        total = np.asarray(_sum(loss), dtype=x.dtype)
    return total / x.shape[0]


def _fast_answers(x, answers, axis):
    """True when nll(x, answers, axis) may take the fast path."""
    return (x.__class__ is np.ndarray and x.ndim == 2 and (axis == -1 or axis == 1)
            and answers.__class__ is np.ndarray and answers.ndim == 1
            and answers.dtype.kind in "iu" and answers.shape[0] == x.shape[0] > 0
            and x.shape[1] > 0 and x.dtype in _FAST_DTYPES
            and (answers.dtype.kind == "u" or np.minimum.reduce(answers) >= 0))


def _no_keywords(o, fname):
    """The scores form takes no extra keywords (they are the model's, in the
    model form): a misspelt keyword such as ``avarage=`` is a TypeError."""
    if o:
        raise TypeError(f"{fname}: unexpected keyword argument(s) {', '.join(map(repr, o))} "
                        f"(extra keywords are passed to the model only in the form "
                        f"{fname}(model, data, ...))")


def _over_data(fn, model, data, axis, average, o, fname):
    total, count = 0, 0
    for batch in data:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(f"{fname}: data must yield (inputs, answers) pairs")
        x, y = batch
        t, c = fn(model(x, **o), y, axis=axis, average=False)
        total, count = total + t, count + c
    if not average:
        return total, count
    if count == 0:
        raise ValueError(f"{fname}: no instance to average over (data is empty or every "
                         "answer is negative)")
    return total / count


def nll(scores, answers, axis=-1, average=True, **o):
    """nll(scores, answers, axis=-1, average=True) or nll(model, data, axis=-1,
    average=True, **o): negative log likelihood of the answers.

    First form: ``scores`` are unnormalized log probabilities with classes
    along ``axis``; ``answers`` (ints, shape of scores without ``axis``) pick
    the right class, negative ones are skipped.  Returns the mean over the
    instances not skipped, or ``(total, count)`` with ``average=False``.
    Second form: sums ``nll(model(x, **o), y)`` over ``(x, y)`` in ``data``.

    >>> s = np.array([[12.2, 2.0, 0.0], [0.3, 21.5, -21.0]])
    >>> round(float(nll(s, np.array([0, 1]))), 10)
    2.11003e-05
    """
    if _is_model(scores):
        return _over_data(nll, scores, answers, axis, average, o, "nll")
    _no_keywords(o, "nll")
    if average and _fast_answers(raw(scores), raw(answers), axis):
        try:
            return _nll_rows_mean(scores, raw(answers))
        except IndexError:      # an answer >= C: the checks below say so
            pass
    _check_scores(scores, "nll")
    a, ax = _check_answers(raw(scores), answers, axis, "nll")
    total = _nll_sum(scores, a, ax)
    count = int(np.count_nonzero(a >= 0))
    if not average:
        return total, count
    if count == 0:
        raise ValueError("nll: every answer is negative (skipped): nothing to average")
    return total / count


@zerograd
def _ncorrect(scores, answers, ax):
    pred = np.asarray(np.argmax(scores, axis=ax))
    return int(np.count_nonzero((pred == answers) & (answers >= 0)))


def accuracy(scores, answers, axis=-1, average=True, **o):
    """accuracy(scores, answers, axis=-1, average=True) or accuracy(model, data, ...):
    the fraction of instances whose answer has the highest score.

    Negative answers are skipped; ``average=False`` gives ``(ncorrect, count)``.
    The second form runs ``model(x, **o)`` on every ``(x, y)`` in ``data``.

    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
    0.5
    """
    if _is_model(scores):
        return _over_data(accuracy, scores, answers, axis, average, o, "accuracy")
    _no_keywords(o, "accuracy")
    x = _check_scores(scores, "accuracy")
    a, ax = _check_answers(x, answers, axis, "accuracy")
    correct, count = _ncorrect(x, a, ax), int(np.count_nonzero(a >= 0))
    if not average:
        return correct, count
    if count == 0:
        raise ValueError("accuracy: every answer is negative (skipped): nothing to average")
    return correct / count


def zeroone(scores, answers, axis=-1, average=True, **o):
    """zeroone(...) = 1 - accuracy(...), same arguments and both forms;
    ``average=False`` gives ``(nwrong, count)``.

    >>> zeroone(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
    0.5
    """
    if not _is_model(scores):
        _no_keywords(o, "zeroone")
    if average:
        return 1 - accuracy(scores, answers, axis=axis, average=True, **o)
    correct, count = accuracy(scores, answers, axis=axis, average=False, **o)
    return count - correct, count


def _binary_answers(scores, answers, fname, allowed):
    x = _check_scores(scores, fname, scalar_ok=True)
    y = raw(answers)
    if np.shape(y) != np.shape(x):
        raise ValueError(f"{fname}: answers must have the shape of scores {np.shape(x)}, "
                         f"got {np.shape(y)}")
    yh = np.asarray(y)
    if not np.all(np.isin(yh, allowed)):
        raise ValueError(f"{fname}: answers must be in {set(allowed)}, got values "
                         f"{np.unique(yh[~np.isin(yh, allowed)])[:5]}")
    return y


def _reduce_loss(loss, average):
    count = int(np.size(raw(loss)))
    if not average:
        return np.sum(loss), count
    return np.mean(loss)


def bce(scores, answers, average=True):
    """bce(scores, answers, average=True): binary cross entropy
    -(y·log p + (1-y)·log(1-p)) with p = sigm(scores), averaged (or
    ``(total, count)``), computed stably as softplus(s) - y·s.

    ``answers`` are 0/1 with the shape of ``scores``.

    >>> round(float(bce(np.array([0.0]), np.array([1]))), 6)
    0.693147
    """
    y = _binary_answers(scores, answers, "bce", (0, 1))
    y = y.astype(np.result_type(raw(scores)))
    return _reduce_loss(np.logaddexp(0, scores) - y * scores, average)


def logistic(scores, answers, average=True):
    """logistic(scores, answers, average=True): log(1 + exp(-y·s)) averaged (or
    ``(total, count)``), with answers ``y`` in {-1, 1}.

    >>> round(float(logistic(np.array([0.0]), np.array([-1]))), 6)
    0.693147
    """
    y = _binary_answers(scores, answers, "logistic", (-1, 1))
    y = y.astype(np.result_type(raw(scores)))
    return _reduce_loss(np.logaddexp(0, -y * scores), average)

