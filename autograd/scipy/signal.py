"""autograd.scipy.signal: N-dimensional convolution with gradients.

``convolve(A, B, axes=None, dot_axes=[(), ()], mode='full')`` has HIPS
autograd's signature: the axes in ``axes`` (a pair of lists, A's and B's)
are convolved, the axes in ``dot_axes`` are summed over (a tensor dot), and
the remaining axes of A and then of B are kept as outer-product axes.  The
result's axes are: A's kept axes, B's kept axes, the convolved axes.  With
the defaults every axis is convolved, which is ``scipy.signal.convolve``.
Modes 'full', 'valid' and 'same' (centred like scipy, relative to A) are
differentiable in both A and B.  Other scipy.signal functions are available
and refuse values being differentiated.

>>> import numpy as np
>>> convolve(np.array([1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
array([1., 3., 3., 2.])
"""
import numpy as np
import scipy.signal as _ss
from numpy.lib.stride_tricks import sliding_window_view

from ..core import Primitive, _raw
from ..util import forward_getattr
from ._wrap import reexport

__all__ = ["convolve"]


def _parse(a_ndim, b_ndim, axes, dot_axes):
    if axes is None:
        if a_ndim != b_ndim:
            raise ValueError(f"convolve: with axes=None both arrays need the same number of "
                             f"dimensions, got {a_ndim} and {b_ndim}")
        axes = (tuple(range(a_ndim)), tuple(range(a_ndim)))
    conv = (tuple(int(i) % a_ndim for i in axes[0]), tuple(int(i) % b_ndim for i in axes[1]))
    dot = (tuple(int(i) % a_ndim for i in dot_axes[0]), tuple(int(i) % b_ndim for i in dot_axes[1]))
    if len(conv[0]) != len(conv[1]) or len(dot[0]) != len(dot[1]):
        raise ValueError("convolve: axes and dot_axes must pair up the same number of axes "
                         f"of A and B, got axes={axes}, dot_axes={dot_axes}")
    keep = (tuple(i for i in range(a_ndim) if i not in conv[0] + dot[0]),
            tuple(i for i in range(b_ndim) if i not in conv[1] + dot[1]))
    return conv, dot, keep


def _valid(A, B, conv, dot, keep):
    """Valid convolution where A is no larger than B along every convolved axis."""
    windows = sliding_window_view(B, [A.shape[i] for i in conv[0]], axis=conv[1])
    flip = [slice(None)] * A.ndim
    for i in conv[0]:
        flip[i] = slice(None, None, -1)
    A = A[tuple(flip)]
    nb = B.ndim
    a_labels = [0] * A.ndim
    w_labels = list(range(windows.ndim))
    label = windows.ndim
    for k, (i, j) in enumerate(zip(*conv)):
        a_labels[i] = nb + k                    # summed against the window axes
    for i, j in zip(*dot):
        a_labels[i] = w_labels[j] = label      # tensor dot
        label += 1
    for i in keep[0]:
        a_labels[i] = label
        label += 1
    out = [a_labels[i] for i in keep[0]] + [w_labels[j] for j in keep[1]] + \
        [w_labels[j] for j in conv[1]]
    return np.einsum(A, a_labels, windows, w_labels, out)


def _convolve(A, B, axes=None, dot_axes=((), ()), mode="full"):
    A, B = np.asarray(A), np.asarray(B)
    conv, dot, keep = _parse(A.ndim, B.ndim, axes, dot_axes)
    sizes = [(A.shape[i], B.shape[j]) for i, j in zip(*conv)]
    if mode == "same":
        full = _convolve(A, B, axes, dot_axes, "full")
        return full[_same_slices(full.ndim, sizes)]
    if mode == "full":
        pad = [(0, 0)] * B.ndim
        for (na, _), j in zip(sizes, conv[1]):
            pad[j] = (na - 1, na - 1)
        return _valid(A, np.pad(B, pad), conv, dot, keep)
    if mode != "valid":
        raise ValueError(f"convolve: mode must be 'full', 'valid' or 'same', got {mode!r}")
    if all(na <= nb for na, nb in sizes):
        return _valid(A, B, conv, dot, keep)
    if all(na >= nb for na, nb in sizes):
        swapped = _valid(B, A, conv[::-1], dot[::-1], keep[::-1])
        nA, nB = len(keep[0]), len(keep[1])
        order = list(range(nB, nB + nA)) + list(range(nB)) + \
            list(range(nA + nB, swapped.ndim))
        return np.transpose(swapped, order)
    raise ValueError("convolve: in 'valid' mode one array must be at least as large as the "
                     f"other along every convolved axis, got sizes {sizes}")


def _same_slices(ndim, sizes):
    lead = ndim - len(sizes)
    idx = [slice(None)] * lead
    for na, nb in sizes:
        start = (nb - 1) // 2
        idx.append(slice(start, start + na))
    return tuple(idx)


def _conv_grad(argnum):
    def g(dy, y, A, B, axes=None, dot_axes=((), ()), mode="full"):
        shapes = (np.shape(_raw(A)), np.shape(_raw(B)))
        conv, dot, keep = _parse(len(shapes[0]), len(shapes[1]), axes, dot_axes)
        x, other = argnum, 1 - argnum
        Y = (A, B)[other]
        nA, nB = len(keep[0]), len(keep[1])
        out_keep_other = tuple(range(nA, nA + nB)) if other == 1 else tuple(range(nA))
        out_conv = tuple(range(nA + nB, nA + nB + len(conv[0])))
        sizes = [(shapes[x][i], shapes[other][j]) for i, j in zip(conv[x], conv[other])]
        if mode == "full":
            new_mode = "valid"
        elif mode == "valid":
            new_mode = "full" if any(nx > ny for nx, ny in sizes) else "valid"
        else:
            raise NotImplementedError("convolve: only modes 'full' and 'valid' have a "
                                      "direct gradient")
        flip = [slice(None)] * len(shapes[other])
        for j in conv[other]:
            flip[j] = slice(None, None, -1)
        r = _conv_prim(dy, Y[tuple(flip)], axes=(out_conv, conv[other]),
                       dot_axes=(out_keep_other, keep[other]), mode=new_mode)
        # r's middle axes are Y's dot axes in Y's order; name them by x's partners
        mid = tuple(dot[x][k] for k in np.argsort(dot[other], kind="stable"))
        return np.transpose(r, np.argsort(keep[x] + mid + conv[x]))
    return g


_conv_prim = Primitive(_convolve, (_conv_grad(0), _conv_grad(1)))


def convolve(A, B, axes=None, dot_axes=((), ()), mode="full"):
    """convolve(A, B, axes=None, dot_axes=[(), ()], mode='full'): N-D convolution
    over ``axes``, tensor dot over ``dot_axes``, outer product over the rest;
    differentiable in A and B.

    >>> convolve(np.ones((2, 3)), np.ones((2, 2)), mode='valid')
    array([[4., 4.]])
    """
    if mode == "same":
        shapes = (np.shape(_raw(A)), np.shape(_raw(B)))
        conv, _, _ = _parse(len(shapes[0]), len(shapes[1]), axes, dot_axes)
        full = _conv_prim(A, B, axes=axes, dot_axes=dot_axes, mode="full")
        sizes = [(shapes[0][i], shapes[1][j]) for i, j in zip(*conv)]
        return full[_same_slices(np.ndim(_raw(full)), sizes)]
    return _conv_prim(A, B, axes=axes, dot_axes=dot_axes, mode=mode)


reexport(_ss, "scipy.signal", globals())


__getattr__ = forward_getattr(_ss, __name__)  # every other name of scipy.signal
