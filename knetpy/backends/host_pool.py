"""Numpy bodies of the pooling kernels: max and average pooling of
(N, C, *S) arrays (2 or 3 spatial axes), their gradients and the
second-order gather of max pooling.

``PoolKernels`` is a part of ``knetpy.backends.base.Backend``; the kernel
backend overrides the methods with ``kernels/pool.cu``.  Rules (shared by
both): the window of output cell o on an axis covers input cells
``o*stride - padding .. o*stride - padding + window - 1``; ``mode`` 0 is max
(padding is -inf, so it never wins), 1 average dividing by the window size
(padding counts as zeros), 2 average over the cells inside the input.  Max
pooling skips NaNs (``fmax``; a window is NaN only when all its cells are)
unless ``nan_propagate``, where any NaN makes the window NaN.  Its gradient
goes to the first maximum of each window in row-major window order.
``alpha`` scales the result.  float16 is computed in float32.

Polyphase layout.  Window offset i of an axis with stride s reads padded
position ``o*s + i = (o + i//s)*s + i%s``, so the padded input is split once
into ``s`` phases per axis and every window offset is a contiguous shifted
slice of one phase (no loop over pixels).

>>> from knetpy.backends import numpy_backend as nb
>>> nb.pool(np.arange(16.).reshape(1, 1, 4, 4), 2)[0, 0].tolist()
[[5.0, 7.0], [13.0, 15.0]]
"""
import itertools
import math

import numpy as np

from .host_conv import ntuple

__all__ = ["PoolKernels", "pool_geometry", "check_pool_grad"]


def _xp(a):
    if isinstance(a, np.ndarray):
        return np
    if type(a).__module__.split(".")[0] == "cupy":
        import cupy
        return cupy
    return np


def pool_geometry(x_shape, window, padding, stride, mode, fn):
    """(window, padding, stride, out) tuples of pooling an (N, C, *S) array
    (2 or 3 spatial axes; stride None means the window); ValueError naming
    the bad argument."""
    nd = len(x_shape) - 2
    if nd not in (2, 3):
        raise ValueError(f"{fn}: x must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), "
                         f"got shape {tuple(x_shape)}")
    if mode not in (0, 1, 2) or isinstance(mode, bool):
        raise ValueError(f"{fn}: mode must be 0 (max), 1 or 2 (average), got {mode!r}")
    k = ntuple(window, nd, "window", fn, 1)
    s = k if stride is None else ntuple(stride, nd, "stride", fn, 1)
    p = ntuple(padding, nd, "padding", fn, 0)
    if any(a >= b for a, b in zip(p, k)):
        raise ValueError(f"{fn}: padding must be smaller than the window on every axis, got "
                         f"padding {p} and window {k}")
    out = tuple(1 + (n + 2 * a - b) // c for n, b, a, c in zip(x_shape[2:], k, p, s))
    if min(out) < 1:
        raise ValueError(f"{fn}: the window {k} is bigger than the padded input "
                         f"{tuple(x_shape[2:])}")
    return k, p, s, out


def check_pool_grad(x, y, dy, out):
    """ValueError unless ``y`` (or None) and ``dy`` have pool's output shape."""
    want = tuple(x.shape[:2]) + tuple(out)
    if tuple(dy.shape) != want or (y is not None and tuple(y.shape) != want):
        raise ValueError(f"poolback: y and dy must have shape {want}, got "
                         f"{None if y is None else tuple(y.shape)} and {tuple(dy.shape)}")


def _float(x):
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _window_max(views, nan_propagate):
    xp = _xp(views[0])
    op = xp.maximum if nan_propagate else xp.fmax
    m = views[0].copy()
    for v in views[1:]:
        op(m, v, out=m)
    return m


class _Phases:
    """The polyphase split of one pooling geometry (see the module docstring).

    ``classes``: one entry per phase that some window offset reads, as
    ``(grid, src, dst)``: the phase's spatial shape, and the slices that map
    its cells inside the input (``phase[src]``) to the input (``x[dst]``).
    ``offsets``: every window offset in row-major order as ``(phase index,
    slices of the phase giving that offset's (N, C, *out) view)``.
    """

    def __init__(self, spatial, window, padding, stride):
        self.spatial = tuple(spatial)
        self.padding, self.stride = tuple(padding), tuple(stride)
        self.out = tuple(1 + (n + 2 * p - k) // s
                         for n, k, p, s in zip(spatial, window, padding, stride))
        axes = []
        for n, k, p, s, o in zip(spatial, window, padding, stride, self.out):
            ax = []
            for r in range(min(s, k)):
                M = o + (k - 1 - r) // s             # phase cells read by some window
                lo = max(0, -((r - p) // s))          # first cell inside the input
                hi = min(M, (n - 1 + p - r) // s + 1)
                inside = hi > lo
                ax.append((M, slice(lo, hi) if inside else slice(0, 0),
                           slice(lo * s + r - p, (hi - 1) * s + r - p + 1, s) if inside
                           else slice(0, 0)))
            axes.append(ax)
        combos = list(itertools.product(*[range(len(a)) for a in axes]))
        index = {c: j for j, c in enumerate(combos)}
        self.classes = [(tuple(axes[a][r][0] for a, r in enumerate(c)),
                         (slice(None), slice(None)) + tuple(axes[a][r][1] for a, r in enumerate(c)),
                         (slice(None), slice(None)) + tuple(axes[a][r][2] for a, r in enumerate(c)))
                        for c in combos]
        self.offsets = []
        self.uses = [0] * len(combos)
        for off in np.ndindex(*window):
            j = index[tuple(i % s for i, s in zip(off, stride))]
            sl = (slice(None), slice(None)) + tuple(slice(i // s, i // s + o)
                                                    for i, s, o in zip(off, stride, self.out))
            self.offsets.append((j, sl))
            self.uses[j] += 1

    def split(self, x, fill):
        """The phases of x padded with ``fill`` (a list, one per class).  A
        phase read by a single offset and lying inside x stays a strided view
        of x (copying it would cost more than the one strided read)."""
        xp = _xp(x)
        out = []
        for j, (grid, src, dst) in enumerate(self.classes):
            whole = all(a.start == 0 and a.stop == m for a, m in zip(src[2:], grid))
            if whole and self.uses[j] == 1:
                out.append(x[dst])
                continue
            ph = xp.full(x.shape[:2] + grid, fill, dtype=x.dtype)
            ph[src] = x[dst]
            out.append(ph)
        return out

    def views(self, phases):
        """The (N, C, *out) view of every window offset, row-major."""
        return [phases[j][sl] for j, sl in self.offsets]

    def merge(self, contributions, shape, dtype, xp):
        """The input gradient of ``shape``: sum of ``contributions`` (one per
        window offset, shaped (N, C, *out), consumed one at a time) placed at
        the cells they came from."""
        dx = (xp.empty if self._covers() else xp.zeros)(tuple(shape), dtype=dtype)
        acc = [None] * len(self.classes)
        for (j, sl), c in zip(self.offsets, contributions):
            grid, src, dst = self.classes[j]
            if self.uses[j] == 1 and grid == self.out:
                dx[dst] = c[src]              # the only offset of its phase covers it all
                continue
            if acc[j] is None:
                acc[j] = xp.zeros(tuple(shape[:2]) + grid, dtype=dtype)
            acc[j][sl] += c
        for (grid, src, dst), a in zip(self.classes, acc):
            if a is not None:
                dx[dst] = a[src]
        return dx

    def _covers(self):
        """True when the phases together reach every input cell."""
        for a, n in enumerate(self.spatial):
            seen = set()
            for _, _, dst in self.classes:
                seen.update(range(*dst[2 + a].indices(n)))
            if len(seen) != n:
                return False
        return True


def _first_max_masks(x, window, padding, stride, nan_propagate):
    """(phases geometry, masks): masks[k] marks the windows whose first
    maximum sits at window offset k."""
    xp = _xp(x)
    ph = _Phases(x.shape[2:], window, padding, stride)
    views = ph.views(ph.split(_float(x), -np.inf))
    m = _window_max(views, nan_propagate)
    mnan = xp.isnan(m)
    check_nan = bool(mnan.any())
    free = None
    masks = []
    for k, v in enumerate(views):
        e = xp.equal(v, m)
        if check_nan:
            e |= xp.isnan(v) & mnan
        if free is None:
            free = ~e
        else:
            e &= free
            if k < len(views) - 1:
                free ^= e
        masks.append(e)
    return ph, masks


def _avg_scale(ph, window, mode, alpha, dtype, xp):
    """alpha / (cells per window): a number for mode 1, an array of shape
    (1, 1, *out) for mode 2, which counts only the cells inside the input."""
    if mode == 1:
        return dtype.type(alpha / math.prod(window))
    counts = np.ones((1, 1), dtype=np.float64)
    for n, k, p, s, o in zip(ph.spatial, window, ph.padding, ph.stride, ph.out):
        start = np.arange(o) * s - p
        c = np.minimum(start + k, n) - np.maximum(start, 0)
        counts = counts[..., None] * c
    return xp.asarray((alpha / counts).astype(dtype))


class PoolKernels:
    """Pooling kernels with numpy bodies (a part of ``Backend``)."""

    def pool(self, x, window=2, padding=0, stride=None, mode=0, nan_propagate=False, alpha=1):
        """pool(x, window=2, padding=0, stride=None, mode=0, nan_propagate=False,
        alpha=1) -> y (N, C, *out): alpha times the max (mode 0) or average
        (modes 1, 2) of every window of x (N, C, *S); stride None is the window.
        See the module docstring for the padding and NaN rules."""
        k, p, s, _ = pool_geometry(x.shape, window, padding, stride, mode, "pool")
        ph = _Phases(x.shape[2:], k, p, s)
        xf = _float(x)
        if mode == 0:
            m = _window_max(ph.views(ph.split(xf, -np.inf)), nan_propagate)
            if alpha != 1:
                m *= m.dtype.type(alpha)
            return m.astype(x.dtype, copy=False)
        views = ph.views(ph.split(xf, 0))
        acc = views[0].copy()
        for v in views[1:]:
            acc += v
        acc *= _avg_scale(ph, k, mode, alpha, xf.dtype, self.xp)
        return acc.astype(x.dtype, copy=False)

    def poolback(self, x, y, dy, window=2, padding=0, stride=None, mode=0, nan_propagate=False,
                 alpha=1):
        """poolback(x, y, dy, window=2, padding=0, stride=None, mode=0,
        nan_propagate=False, alpha=1) -> dx of x's shape: the gradient of
        ``pool`` given its output ``y`` (None or pool's output; its shape is
        checked, the maxima are recomputed from x) and output gradient ``dy``.  Max pooling sends alpha*dy to the first
        maximum of each window (summed where windows overlap); averages spread
        the scaled dy over the window's cells."""
        k, p, s, out = pool_geometry(x.shape, window, padding, stride, mode, "poolback")
        check_pool_grad(x, y, dy, out)
        g = _float(dy)
        if mode == 0:
            ph, masks = _first_max_masks(x, k, p, s, nan_propagate)
            if alpha != 1:
                g = g * g.dtype.type(alpha)
            zero = g.dtype.type(0)       # select, not multiply: a NaN elsewhere stays there
            dx = ph.merge((self.xp.where(e, g, zero) for e in masks), x.shape, g.dtype, self.xp)
            return dx.astype(np.result_type(dy.dtype, x.dtype), copy=False)
        ph = _Phases(x.shape[2:], k, p, s)
        g = g * _avg_scale(ph, k, mode, alpha, g.dtype, self.xp)
        dx = ph.merge([g] * len(ph.offsets), x.shape, g.dtype, self.xp)
        return dx.astype(dy.dtype, copy=False)

    def poolgather(self, g, x, window=2, padding=0, stride=None, nan_propagate=False, alpha=1):
        """poolgather(g, x, window=2, padding=0, stride=None, nan_propagate=False,
        alpha=1) -> (N, C, *out): alpha times ``g`` (shaped like x) read at the
        first maximum of each window of x, the adjoint of max ``poolback`` in
        dy (its second-order gradient); 0 where that maximum is padding."""
        k, p, s, _ = pool_geometry(x.shape, window, padding, stride, 0, "poolgather")
        if tuple(g.shape) != tuple(x.shape):
            raise ValueError(f"poolgather: g must have x's shape {tuple(x.shape)}, "
                             f"got {tuple(g.shape)}")
        ph, masks = _first_max_masks(x, k, p, s, nan_propagate)
        views = ph.views(ph.split(_float(g), 0))
        zero = views[0].dtype.type(0)
        acc = self.xp.where(masks[0], views[0], zero)
        for v, e in zip(views[1:], masks[1:]):
            acc += self.xp.where(e, v, zero)
        if alpha != 1:
            acc *= acc.dtype.type(alpha)
        return acc.astype(np.result_type(g.dtype, x.dtype), copy=False)
