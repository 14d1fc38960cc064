"""Array kernels of pooling: max and average pooling, their backward passes.

Like ``knetpy.im2col`` these work on bare arrays (N, C, *S) with S of 2 or
3 spatial sizes and record nothing; ``knetpy.conv`` makes them
differentiable.  float16 input is computed in float32.

Polyphase layout.  Window offset i of an axis with stride s reads padded
position ``o*s + i = (o + i//s)*s + i%s``.  So the padded input is split once
into ``s`` phases per axis (phase r holds positions r, r+s, r+2s, ...,
contiguous), and then every window offset is a *contiguous* shifted slice
``phase[i%s][o + i//s]`` of one phase.  Forward passes combine these slices,
one per window offset (no loop over pixels, no strided inner loops); backward
passes add the output gradient into the phases with the same shifted slices
and write each phase back into the input gradient with one strided
assignment (the phases partition the input, so nothing is added twice).

Max pooling pads with -inf, so padding never wins a window; its gradient
goes to the first maximum of each window (in row-major window order), as
PyTorch's does.  With ``nan_propagate=False`` NaNs are skipped (``fmax``)
and a window is NaN only when all of its cells are; with True any NaN makes
the window NaN.
"""
import itertools

import numpy as np

from .im2col import array_module, compute_dtype

__all__ = ["pool_out_size", "max_forward", "max_backward", "max_gather", "avg_forward",
           "avg_backward"]


def pool_out_size(size, window, padding, stride):
    """Output length of one axis: 1 + (size + 2*padding - window) // stride."""
    return 1 + (size + 2 * padding - window) // stride


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
        self.out = tuple(pool_out_size(n, k, p, s)
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
        xp = array_module(x)
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


def _float(x):
    dt = compute_dtype(x)
    return x if x.dtype == dt else x.astype(dt)


def _window_max(views, nan_propagate):
    xp = array_module(views[0])
    op = xp.maximum if nan_propagate else xp.fmax
    m = views[0].copy()
    for v in views[1:]:
        op(m, v, out=m)
    return m


def max_forward(x, window, padding, stride, nan_propagate, alpha):
    """alpha * the maximum of every window of x (N, C, *S) -> (N, C, *out)."""
    ph = _Phases(x.shape[2:], window, padding, stride)
    m = _window_max(ph.views(ph.split(_float(x), -np.inf)), nan_propagate)
    if alpha != 1:
        m *= m.dtype.type(alpha)
    return m.astype(x.dtype, copy=False)


def _first_max_masks(x, y, window, padding, stride, nan_propagate, alpha):
    """(phases geometry, masks): masks[k] marks the windows whose first
    maximum sits at window offset k."""
    xp = array_module(x)
    ph = _Phases(x.shape[2:], window, padding, stride)
    views = ph.views(ph.split(_float(x), -np.inf))
    if alpha == 1 and y is not None:
        m = _float(y)         # y holds the exact window maxima (in x's precision)
    else:
        m = _window_max(views, nan_propagate)
    mnan = xp.isnan(m)
    check_nan = bool(mnan.any())
    free = None                  # windows whose first maximum is still to be found
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


def max_backward(dy, x, y, window, padding, stride, nan_propagate, alpha):
    """Gradient of ``max_forward`` w.r.t. x: alpha*dy routed to the first
    maximum of each window (summed where windows overlap); ``y`` is the
    forward output (or None)."""
    xp = array_module(dy)
    ph, masks = _first_max_masks(x, y, window, padding, stride, nan_propagate, alpha)
    g = _float(dy)
    if alpha != 1:
        g = g * g.dtype.type(alpha)
    dx = ph.merge((g * e for e in masks), x.shape, g.dtype, xp)
    return dx.astype(np.result_type(dy.dtype, x.dtype), copy=False)


def max_gather(g, x, y, window, padding, stride, nan_propagate, alpha):
    """The adjoint of ``max_backward`` in dy: alpha * g (shaped like x) read
    at the first maximum of each window of x -> (N, C, *out)."""
    ph, masks = _first_max_masks(x, y, window, padding, stride, nan_propagate, alpha)
    views = ph.views(ph.split(_float(g), 0))
    acc = views[0] * masks[0]
    for v, e in zip(views[1:], masks[1:]):
        acc += v * e
    if alpha != 1:
        acc *= acc.dtype.type(alpha)
    return acc.astype(np.result_type(g.dtype, x.dtype), copy=False)


def _avg_scale(ph, window, padding, stride, mode, alpha, dtype, xp):
    """alpha / (cells per window): a number for mode 1, an array of shape
    (1, 1, *out) for mode 2, which counts only the cells inside the input."""
    if mode == 1:
        return dtype.type(alpha / np.prod(window))
    counts = np.ones((1, 1), dtype=np.float64)
    for n, k, p, s, o in zip(ph.spatial, window, padding, stride, ph.out):
        start = np.arange(o) * s - p
        c = np.minimum(start + k, n) - np.maximum(start, 0)
        counts = counts[..., None] * c
    return xp.asarray((alpha / counts).astype(dtype))


def avg_forward(x, window, padding, stride, mode, alpha):
    """alpha * the mean of every window of x: mode 1 divides by the window
    size (padding counts as zeros), mode 2 by the cells inside x."""
    xf = _float(x)
    ph = _Phases(x.shape[2:], window, padding, stride)
    views = ph.views(ph.split(xf, 0))
    acc = views[0].copy()
    for v in views[1:]:
        acc += v
    acc *= _avg_scale(ph, window, padding, stride, mode, alpha, xf.dtype, array_module(x))
    return acc.astype(x.dtype, copy=False)


def avg_backward(dy, xshape, window, padding, stride, mode, alpha):
    """Gradient of ``avg_forward`` w.r.t. x (the input shape is ``xshape``):
    each window spreads its scaled dy over its cells."""
    xp = array_module(dy)
    ph = _Phases(tuple(xshape[2:]), window, padding, stride)
    g = _float(dy)
    g = g * _avg_scale(ph, window, padding, stride, mode, alpha, g.dtype, xp)
    dx = ph.merge([g] * len(ph.offsets), xshape, g.dtype, xp)
    return dx.astype(dy.dtype, copy=False)
