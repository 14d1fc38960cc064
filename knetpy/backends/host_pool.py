"""Numpy bodies of the pooling kernels: max and average pooling, their
gradients and the second-order gather of max pooling.

``PoolKernels`` is a part of ``knetpy.backends.base.Backend`` (the host
backend); the kernel backend overrides the methods with ``kernels/pool.cu``
(``kernel_conv``).  Rules (shared by both): arrays are ``(N, C, *S)`` with 2
or 3 spatial axes; every axis has a window ``k``, a stride ``s`` (the window
by default), a dilation ``d`` and a padding ``(lo, hi)``; the output length
is ``1 + (n + lo + hi - d*(k-1) - 1) // s`` and window ``o`` reads the input
cells ``o*s + i*d - lo`` for ``i < k`` that lie inside the input.  Padding
cells never take part: ``mode`` 0 is the max over the window's cells inside
the input, 1 the average dividing by the window size (padding counts as
zeros), 2 the average over the cells inside the input.  Max pooling skips
NaNs (``fmax``; a window is NaN only when all its cells are) unless
``nan_propagate``, where any NaN makes the window NaN.  Its gradient goes to
the first maximum of each window in row-major window order.  ``alpha``
scales the result.  float16 is computed in float32.

Separable passes.  Max and sum over a box window are separable: pooling
axis by axis (the first spatial axis first, so the later passes work on
smaller arrays; max pooling goes the other way round, see below) gives the
same result as pooling the box at once, with ``sum(k)`` instead of
``prod(k)`` array operations, each on contiguous rows or one strided view
(no padded copies, no gathers).  The first maximum of a window in row-major
order is found the same way: max pooling reduces the last axis first, so
that going back the first row whose maximum is the window's is picked
before the first cell of that row; the max backward pass routes the
gradient back through the passes in reverse.  Each pass is a short loop
over the ``k`` offsets of one axis; intermediates live in this thread's
work arrays (``host_scratch.scratch``).

>>> from knetpy.backends import numpy_backend as nb
>>> nb.pool(np.arange(16.).reshape(1, 1, 4, 4), 2)[0, 0].tolist()
[[5.0, 7.0], [13.0, 15.0]]
"""
import functools
import numbers

import numpy as np

from .host_conv import ntuple
from .host_scratch import array_module, lent, scratch, work_dtype

__all__ = ["PoolKernels", "Geometry", "pool_geometry", "check_pool_grad", "max_forward",
           "max_backward", "max_gather", "sum_forward", "sum_backward", "avg_scale"]


def _pads(padding, nd, fn):
    """padding as nd (lo, hi) pairs: an int, nd ints or nd pairs."""
    if isinstance(padding, numbers.Integral):
        return ((int(padding),) * 2,) * nd, True
    items = tuple(padding)
    if len(items) == nd and all(isinstance(a, (tuple, list)) for a in items):
        pairs = tuple(tuple(int(v) for v in a) for a in items)
        if all(len(a) == 2 and min(a) >= 0 for a in pairs):
            return pairs, False
        raise ValueError(f"{fn}: padding pairs must be (lo, hi) with lo, hi >= 0, got "
                         f"{padding!r}")
    return tuple((p, p) for p in ntuple(items, nd, "padding", fn, 0)), True


def pool_geometry(x_shape, window, padding, stride, mode, fn, dilation=1):
    """pool_geometry(x_shape, window, padding, stride, mode, fn, dilation=1) ->
    (window, pads, stride, dilation, out) of pooling an (N, C, *S) array (2 or
    3 spatial axes); ``padding`` is an int, one int per axis (each smaller
    than the window, as in Knet) or one ``(lo, hi)`` pair per axis; stride
    None means the window.  ValueError naming the bad argument.

    >>> pool_geometry((1, 1, 5, 5), 3, 1, 2, 0, "pool")[4]
    (3, 3)
    """
    nd = len(x_shape) - 2
    if nd not in (2, 3):
        raise ValueError(f"{fn}: x must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), "
                         f"got shape {tuple(x_shape)}")
    if mode not in (0, 1, 2) or isinstance(mode, bool):
        raise ValueError(f"{fn}: mode must be 0 (max), 1 (average with padding) or 2 (average "
                         f"without padding), got {mode!r}")
    k = ntuple(window, nd, "window", fn, 1)
    s = k if stride is None else ntuple(stride, nd, "stride", fn, 1)
    d = ntuple(dilation, nd, "dilation", fn, 1)
    pads, knet = _pads(padding, nd, fn)
    if knet and any(lo >= b for (lo, _), b in zip(pads, k)):
        raise ValueError(f"{fn}: padding must be smaller than the window on every axis, got "
                         f"padding {tuple(lo for lo, _ in pads)} and window {k}")
    out = tuple(1 + (n + lo + hi - dd * (b - 1) - 1) // c
                for n, b, (lo, hi), c, dd in zip(x_shape[2:], k, pads, s, d))
    if min(out) < 1:
        raise ValueError(f"{fn}: the window {k} is bigger than the padded input "
                         f"{tuple(x_shape[2:])} (padding {pads})")
    return k, pads, s, d, out


def check_pool_grad(x_shape, y, dy, out):
    """check_pool_grad(x_shape, y, dy, out): ValueError unless ``y`` (or None)
    and ``dy`` have pool's output shape."""
    want = tuple(x_shape[:2]) + tuple(out)
    if tuple(dy.shape) != want or (y is not None and tuple(y.shape) != want):
        raise ValueError(f"poolback: y and dy must have shape {want}, got "
                         f"{None if y is None else tuple(y.shape)} and {tuple(dy.shape)}")


class _Axis:
    """One spatial axis of a pooling geometry (see the module docstring)."""

    def __init__(self, n, k, s, d, lo, hi):
        self.n, self.k, self.s, self.d, self.lo, self.hi = n, k, s, d, lo, hi
        self.o = 1 + (n + lo + hi - d * (k - 1) - 1) // s
        # per offset i: (output slice a:b, input slice start:stop:s), empty ones left out
        self.offsets = []
        for i in range(k):
            t = i * d - lo
            a = max(0, -(t // s))                       # first o with o*s + t >= 0
            b = min(self.o, (n - 1 - t) // s + 1)       # one past the last with o*s + t < n
            if b > a:
                self.offsets.append((slice(a, b), slice(a * s + t, (b - 1) * s + t + 1, s)))
        self.full = [sl.start == 0 and sl.stop == self.o for sl, _ in self.offsets]
        self.assign = self._plan(self.offsets)
        # sums may take the offsets in any order: the whole ones first
        self.sum_offsets = ([o for o, f in zip(self.offsets, self.full) if f]
                            + [o for o, f in zip(self.offsets, self.full) if not f])
        self.sum_assign = self._plan(self.sum_offsets)

    def _plan(self, offsets):
        """Per offset (in the given order): True when the adjoint may assign
        its cells (no earlier offset wrote any of them), False to add.  All
        False (start from zeros) when some input cell is never read or an
        offset's cells were partly written before."""
        cover = np.zeros(max(self.n, 0), dtype=np.int64)
        plan, mixed = [], False
        for _, src in offsets:
            seen = cover[src].copy()
            plan.append(not seen.any())
            mixed |= bool(seen.any() and not seen.all())
            cover[src] += 1
        if mixed or not bool(cover.min(initial=1) >= 1):
            plan = [False] * len(offsets)
        return plan


class Geometry:
    """The pooling geometry of input spatial shape ``spatial``: ``axes`` (one
    ``_Axis`` each) and ``out``, the output spatial shape."""

    def __init__(self, spatial, window, pads, stride, dilation):
        self.axes = [_Axis(n, k, s, d, lo, hi) for n, k, s, d, (lo, hi) in
                     zip(spatial, window, stride, dilation, pads)]
        self.spatial = tuple(spatial)
        self.window = tuple(window)
        self.out = tuple(a.o for a in self.axes)


@functools.lru_cache(maxsize=256)
def geometry(spatial, window, pads, stride, dilation):
    """geometry(spatial, window, pads, stride, dilation) -> the (cached)
    ``Geometry``; ``pads`` holds one ``(lo, hi)`` pair per axis.

    >>> geometry((4, 4), (2, 2), ((0, 0), (0, 0)), (2, 2), (1, 1)).out
    (2, 2)
    """
    return Geometry(spatial, window, pads, stride, dilation)


def _at(ax, sl):
    """An index that applies slice ``sl`` on spatial axis number ``ax``."""
    return (slice(None),) * (2 + ax) + (sl,)


def _shape(shape, ax, n):
    s = list(shape)
    s[2 + ax] = n
    return tuple(s)


def _new(like, shape, dtype, name=None, zero=False):
    """A fresh array, or with ``name`` this thread's reusable work array of
    that name (``knetpy.ops._host_conv._scratch``: intermediates live there,
    so that no pass pays for faulting in new pages); zero-filled on request."""
    xp = array_module(like)
    if name is None:
        return (xp.zeros if zero else xp.empty)(shape, dtype=dtype)
    a = scratch(xp, "pool_" + name, shape, dtype)
    if zero:
        a.fill(0)
    return a


def _float(x):
    dt = work_dtype(x)
    return x if x.dtype == dt else x.astype(dt)


# ------------------------------------------------------------------ one axis at a time
def _reduce_axis(x, ax, A, op, fill, name=None):
    """Pool x over spatial axis ``ax`` with ``op`` (np.add, np.maximum or
    np.fmax); windows that miss some offset start from ``fill``.  The
    result is fresh, or the work array ``name``."""
    offs = A.sum_offsets                    # the whole ones first
    nfull = sum(A.full)
    t = _new(x, _shape(x.shape, ax, A.o), x.dtype, name)
    if nfull >= 2:
        op(x[_at(ax, offs[0][1])], x[_at(ax, offs[1][1])], out=t)
        rest = offs[2:]
    elif nfull == 1:
        t[...] = x[_at(ax, offs[0][1])]
        rest = offs[1:]
    else:
        t.fill(fill)
        rest = offs
    for osl, src in rest:
        dst = t[_at(ax, osl)]
        op(dst, x[_at(ax, src)], out=dst)
    return t


def _spread_axis(g, ax, A, shape, name=None):
    """The adjoint of a sum pass over axis ``ax``: an array of ``shape``
    whose input cells receive, from every window offset, the part of g over
    its output range, summed where windows overlap.  Cells written first by
    an offset are assigned, so no zero-filled array is needed when every
    cell is read (``A.sum_assign``).  The result is fresh, or the work
    array ``name``."""
    dx = _new(g, shape, g.dtype, name, zero=not any(A.sum_assign))
    for (osl, src), first in zip(A.sum_offsets, A.sum_assign):
        dst, part = dx[_at(ax, src)], g[_at(ax, osl)]
        if first:
            dst[...] = part
        else:
            np.add(dst, part, out=dst)
    return dx


def _has_nan(t):
    return t.size > 0 and t.dtype.kind == "f" and bool(np.isnan(t.min()))


def _first_max(x, t, ax, A):
    """For each offset of axis ``ax``: the boolean mask (over its output
    range) of the windows whose first maximum (x's value equal to the pooled
    t, or both NaN) sits at that offset."""
    nan = _has_nan(t)
    free = None                     # windows whose maximum is still to be found
    masks = []
    last = len(A.offsets) - 1
    for i, (osl, src) in enumerate(A.offsets):
        tv = t[_at(ax, osl)]
        if i == last and free is not None and not nan:
            masks.append(free[_at(ax, osl)])     # the maximum is attained somewhere
            break
        v = x[_at(ax, src)]
        e = np.equal(v, tv, out=_new(t, tv.shape, bool, f"mask{i}"))
        if nan:
            e |= np.isnan(v) & np.isnan(tv)
        if free is None:
            free = _new(t, t.shape, bool, "free")
            free.fill(True)
        fv = free[_at(ax, osl)]
        e &= fv
        if i < last:
            fv ^= e
        masks.append(e)
    return masks


def _max_spread_axis(g, xin, t, ax, A, name=None):
    """The max backward pass over axis ``ax``: g (shaped like the pooled t)
    sent to the first maximum of each window of xin, as an array shaped
    like xin (fresh, or the work array ``name``).

    What is left of each window's gradient (``rem``) goes to the first
    offset holding the maximum and is then zero, so later ties get nothing
    and the last offset takes the rest without a comparison."""
    nan = _has_nan(t)
    dx = _new(g, xin.shape, g.dtype, name, zero=not any(A.assign))
    K = len(A.offsets)
    two = K == 2 and A.full[0] and not nan    # rem after offset 0 is g - its share
    rem = g
    if K > 1 and not two:
        rem = _new(g, g.shape, g.dtype, "rem")
        rem[...] = g
    c0 = None
    for i, ((osl, src), first) in enumerate(zip(A.offsets, A.assign)):
        dst, r = dx[_at(ax, src)], rem[_at(ax, osl)]
        tmp = None if first else _new(g, r.shape, g.dtype, f"share{i % 2}")
        if i == K - 1 and K > 1 and not nan:
            if two:
                c = np.subtract(r, c0[_at(ax, osl)], out=dst if first else tmp)
            else:
                c = r
        else:
            v, tv = xin[_at(ax, src)], t[_at(ax, osl)]
            e = np.equal(v, tv, out=_new(t, tv.shape, bool, "eq"))
            if nan:
                e |= np.isnan(v) & np.isnan(tv)
            c = np.multiply(r, e, out=dst if first else tmp)
            if i == 0:
                c0 = c
            if i < K - 1 and not two:
                np.subtract(r, c, out=r)
        if first:
            if c is not dst:
                dst[...] = c
        else:
            np.add(dst, c, out=dst)
    return dx


def _max_chain(x, G, nan_propagate, y=None):
    """([x, t1, ..., y], axes): x max-pooled one axis after another, the last
    spatial axis first (so that, going back, the first axis picks the row:
    row-major first maxima)."""
    op, fill = (np.maximum, -np.inf) if nan_propagate else (np.fmax, np.nan)
    axes = list(reversed(range(len(G.axes))))
    ts = [x]
    for j, ax in enumerate(axes):
        final = j == len(axes) - 1
        if final and y is not None:
            ts.append(y)
        else:
            ts.append(_reduce_axis(ts[-1], ax, G.axes[ax], op, fill,
                                   None if final else f"chain{j}"))
    return ts, axes


# ------------------------------------------------------------------ the pooling passes
def max_forward(x, G, nan_propagate, alpha):
    """alpha * the maximum of every window of x (N, C, *S) -> (N, C, *out).

    >>> G = geometry((4,), (2,), ((0, 0),), (2,), (1,))
    >>> max_forward(np.array([[[1., 3., 2., 0.]]]), G, False, 1)
    array([[[3., 2.]]])
    """
    y = _max_chain(_float(x), G, nan_propagate)[0][-1]
    if alpha != 1:
        y *= y.dtype.type(alpha)
    return y.astype(x.dtype, copy=False)


def max_backward(dy, x, G, nan_propagate, alpha, y=None):
    """Gradient of ``max_forward`` w.r.t. x: alpha*dy routed to the first
    maximum (row-major) of each window, summed where windows overlap.
    ``y``, the forward result, saves a pass when alpha is 1."""
    xf = _float(x)
    ts, axes = _max_chain(xf, G, nan_propagate,
                          y if alpha == 1 and y is not None and y.dtype == xf.dtype else None)
    g = _float(dy)
    if alpha != 1:
        g = g * g.dtype.type(alpha)
    for j in reversed(range(len(axes))):
        ax = axes[j]
        A, xin, t = G.axes[ax], ts[j], ts[j + 1]
        g = _max_spread_axis(g, xin, t, ax, A, f"back{j}" if j else None)
    return g.astype(np.result_type(dy.dtype, x.dtype), copy=False)


def max_gather(gx, x, G, nan_propagate, alpha):
    """The adjoint of ``max_backward`` in dy: alpha * gx (shaped like x) read
    at the first maximum of each window -> (N, C, *out)."""
    ts, axes = _max_chain(_float(x), G, nan_propagate)
    g = _float(gx)
    for j, ax in enumerate(axes):
        A = G.axes[ax]
        masks = _first_max(ts[j], ts[j + 1], ax, A)
        acc = array_module(g).zeros(ts[j + 1].shape, dtype=g.dtype)
        for (osl, src), e in zip(A.offsets, masks):
            dst = acc[_at(ax, osl)]
            np.add(dst, g[_at(ax, src)], out=dst, where=e)   # select: a NaN elsewhere stays there
        g = acc
    if alpha != 1:
        g *= g.dtype.type(alpha)
    return g.astype(np.result_type(gx.dtype, x.dtype), copy=False)


def avg_scale(G, mode, alpha, dtype):
    """alpha / (cells per window): a number for mode 1 (the whole window,
    padding counted), an array of shape (1, 1, *out) for mode 2 (only the
    cells inside the input)."""
    if mode == 1:
        return dtype.type(alpha / np.prod(G.window))
    counts = np.ones((1, 1))
    for A in G.axes:
        c = np.zeros(A.o)
        for osl, _ in A.offsets:
            c[osl] += 1
        counts = counts[..., None] * c
    return (alpha / counts).astype(dtype)


def as_device(scale, like):
    """``scale`` (a number or a numpy array) on the array module of ``like``."""
    return scale if np.isscalar(scale) else array_module(like).asarray(scale)


def sum_forward(x, G, scale):
    """The sum of every window of x times ``scale`` (a number or an array
    broadcasting against the output) -> (N, C, *out), in x's dtype."""
    t = _float(x)
    scale = as_device(scale, x)
    last = len(G.axes) - 1
    for ax, A in enumerate(G.axes):
        t = _reduce_axis(t, ax, A, np.add, 0, None if ax == last else f"sum{ax}")
    np.multiply(t, scale, out=t)
    return t.astype(x.dtype, copy=False)


def sum_backward(dy, xshape, G, scale):
    """The adjoint of ``sum_forward``: every window's scaled dy added to each
    of its cells -> array of ``xshape``, in dy's dtype."""
    g = _float(dy)
    g = np.multiply(g, as_device(scale, dy), out=_new(g, g.shape, g.dtype, "scaled"))
    shape = list(g.shape)
    for ax in reversed(range(len(G.axes))):
        shape[2 + ax] = xshape[2 + ax]
        g = _spread_axis(g, ax, G.axes[ax], tuple(shape), name=f"spread{ax}" if ax else None)
    return g.astype(dy.dtype, copy=False)


def _plan(x_shape, window, padding, stride, mode, fn, dilation):
    k, pads, s, d, out = pool_geometry(x_shape, window, padding, stride, mode, fn, dilation)
    return geometry(tuple(int(n) for n in x_shape[2:]), k, pads, s, d), out


class PoolKernels:
    """Pooling kernels with numpy bodies (a part of ``Backend``)."""

    @lent
    def pool(self, x, window=2, padding=0, stride=None, mode=0, nan_propagate=False, alpha=1,
             dilation=1):
        """pool(x, window=2, padding=0, stride=None, mode=0, nan_propagate=False,
        alpha=1, dilation=1) -> y (N, C, *out): alpha times the max (mode 0) or
        average (modes 1, 2) of every window of x (N, C, *S); stride None is
        the window.  See the module docstring for the padding and NaN rules."""
        G, _ = _plan(x.shape, window, padding, stride, mode, "pool", dilation)
        if mode == 0:
            return max_forward(x, G, nan_propagate, alpha)
        return sum_forward(x, G, avg_scale(G, mode, alpha, work_dtype(x)))

    @lent
    def poolback(self, x, y, dy, window=2, padding=0, stride=None, mode=0, nan_propagate=False,
                 alpha=1, dilation=1):
        """poolback(x, y, dy, window=2, padding=0, stride=None, mode=0,
        nan_propagate=False, alpha=1, dilation=1) -> dx of x's shape: the
        gradient of ``pool`` given its output ``y`` (None, or pool's output,
        which may save a pass) and output gradient ``dy``.  Max pooling sends
        alpha*dy to the first maximum of each window (summed where windows
        overlap); averages spread the scaled dy over the window's cells and
        read only x's shape, so for modes 1 and 2 ``x`` may be given as its
        shape (a tuple)."""
        xshape = tuple(x) if isinstance(x, tuple) else tuple(x.shape)
        if mode == 0 and isinstance(x, tuple):
            raise ValueError("poolback: max pooling (mode 0) needs the array x, not its shape")
        G, out = _plan(xshape, window, padding, stride, mode, "poolback", dilation)
        check_pool_grad(xshape, y, dy, out)
        if mode == 0:
            return max_backward(dy, x, G, nan_propagate, alpha, y)
        return sum_backward(dy, xshape, G, avg_scale(G, mode, alpha, work_dtype(dy)))

    @lent
    def poolgather(self, g, x, window=2, padding=0, stride=None, nan_propagate=False, alpha=1,
                   dilation=1):
        """poolgather(g, x, window=2, padding=0, stride=None, nan_propagate=False,
        alpha=1, dilation=1) -> (N, C, *out): alpha times ``g`` (shaped like x)
        read at the first maximum of each window of x, the adjoint of max
        ``poolback`` in dy (its second-order gradient)."""
        G, _ = _plan(x.shape, window, padding, stride, 0, "poolgather", dilation)
        if tuple(g.shape) != tuple(x.shape):
            raise ValueError(f"poolgather: g must have x's shape {tuple(x.shape)}, "
                             f"got {tuple(g.shape)}")
        return max_gather(g, x, G, nan_propagate, alpha)
