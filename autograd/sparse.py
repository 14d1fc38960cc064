"""Sparse gradients: what reading a few entries of a large array gives back.

The gradient of ``x[index]`` is zero except where ``index`` read.  A
``Sparse`` keeps the (index, values) pairs instead of a full array, adds
repeated indices correctly when made dense, and lets optimizers update just
the rows that were touched (``rows()``).
"""
import numpy as np


class Sparse:
    """Sparse(shape, dtype, pairs): the sum of ``values`` scattered at ``index``
    for each (index, values) pair, into zeros of ``shape``.

    >>> g = Sparse((4, 2), np.float64, [([0, 0], np.ones((2, 2)))])
    >>> g.dense()[0]
    array([2., 2.])
    """
    __slots__ = ("shape", "dtype", "pairs")
    __array_priority__ = 100

    def __init__(self, shape, dtype, pairs):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.pairs = list(pairs)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape)))

    def __repr__(self):
        return f"Sparse(shape={self.shape}, dtype={self.dtype}, {len(self.pairs)} writes)"

    def dense(self):
        """The full array (allocated only now)."""
        out = np.zeros(self.shape, self.dtype)
        self.scatter_into(out)
        return out

    def scatter_into(self, out):
        """Add this gradient into the array ``out`` in place; returns ``out``."""
        for index, vals in self.pairs:
            if _is_basic(index):              # slices and ints: no repeated cells
                out[index] += vals
            elif isinstance(index, np.ndarray) and index.dtype.kind in "iu" and index.size:
                _add_rows(out, index, vals)
            else:
                np.add.at(out, index, vals)
        return out

    def add(self, other):
        """self + other, staying sparse when other is Sparse too."""
        if isinstance(other, Sparse):
            return Sparse(self.shape, np.result_type(self.dtype, other.dtype),
                          self.pairs + other.pairs)
        if type(other) is not np.ndarray and not np.isscalar(other):
            return other + self.dense()     # a recorded value: keep it on its tape
        out = np.array(np.broadcast_to(other, self.shape),
                       dtype=np.result_type(self.dtype, np.asarray(other).dtype))
        return self.scatter_into(out)

    __add__ = __radd__ = add

    def scale(self, c):
        """c * self, still sparse."""
        return Sparse(self.shape, self.dtype, [(i, v * c) for i, v in self.pairs])

    # Arithmetic with anything but a scalar factor densifies, so a gradient
    # function written for arrays (``dy * cos(x)``, ``dy[i]``, ``dy / b``)
    # works unchanged when it receives a Sparse.
    def __mul__(self, c):
        return self.scale(c) if np.isscalar(c) else self.dense() * c

    def __rmul__(self, c):
        return self.scale(c) if np.isscalar(c) else c * self.dense()

    def __truediv__(self, c):
        return self.scale(1 / c) if np.isscalar(c) else self.dense() / c

    def __rtruediv__(self, c):
        return c / self.dense()

    def __sub__(self, other):
        return self.add(-other)

    def __rsub__(self, other):
        return self.scale(-1).add(other)

    def __pow__(self, c):
        return self.dense() ** c

    def __matmul__(self, other):
        return self.dense() @ other

    def __rmatmul__(self, other):
        return other @ self.dense()

    def __getitem__(self, index):
        return self.dense()[index]

    def __neg__(self):
        return self.scale(-1)

    def reshape(self, *shape):
        """The dense gradient reshaped."""
        return self.dense().reshape(*shape)

    def __array__(self, dtype=None, copy=None):
        d = self.dense()
        return d if dtype is None else d.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        inputs = [x.dense() if isinstance(x, Sparse) else x for x in inputs]
        return getattr(ufunc, method)(*inputs, **kw)

    def __array_function__(self, func, types, args, kwargs):
        return func(*[_densified(a) for a in args], **kwargs)

    def astype(self, dtype):
        """The same gradient with its values cast to dtype (still sparse)."""
        return Sparse(self.shape, dtype, [(i, np.asarray(v).astype(dtype)) for i, v in self.pairs])

    def rows(self):
        """(rows, values): the sorted distinct rows (indices along axis 0) that
        were written and the summed gradient of each, shape (len(rows),
        *shape[1:]).  None when an index does not select along axis 0 first
        (then use ``dense()``)."""
        n = self.shape[0] if self.shape else 0
        parts = []
        for index, vals in self.pairs:
            index = index if isinstance(index, tuple) else (index,)
            first, rest = (index[0], index[1:]) if index else (slice(None), ())
            if first is None or first is Ellipsis or (
                    isinstance(first, np.ndarray) and first.dtype == bool and first.ndim != 1):
                return None
            if isinstance(first, slice) and any(
                    isinstance(r, (list, np.ndarray)) for r in rest):
                return None
            parts.append((first, rest, vals))
        if not parts:
            return np.zeros(0, np.intp), np.zeros((0,) + self.shape[1:], self.dtype)
        touched = np.zeros(n, bool)         # one flag per row, never a dense gradient
        for first, _, _ in parts:
            touched[first] = True
        rows = np.flatnonzero(touched)
        if len(rows) == n:                  # every row written: the dense form is as small
            return rows, self.dense()
        position = np.cumsum(touched) - 1   # row -> its place in ``rows``
        compact = Sparse((len(rows),) + self.shape[1:], self.dtype,
                         [((position[first],) + rest if rest else position[first], vals)
                          for first, rest, vals in parts])
        return rows, compact.dense()


def _densified(a):
    """a with every Sparse in it (also inside lists and tuples) made dense."""
    if isinstance(a, Sparse):
        return a.dense()
    if isinstance(a, (list, tuple)):
        return [_densified(b) for b in a]
    return a


def _is_basic(index):
    """True for an index of slices and integers only (it selects each cell once)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, int, np.integer)) for i in parts)


def _add_rows(out, index, vals):
    """out[index] += vals along axis 0 with repeated rows summed: np.add.at, but by
    sorting the rows and summing runs with np.add.reduceat, which is much faster
    for blocks of rows (embedding gradients)."""
    vals = np.broadcast_to(vals, index.shape + out.shape[1:]).reshape((index.size,) + out.shape[1:])
    index = index.ravel() % out.shape[0]     # -1 and n-1 are the same row
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    out[ordered[starts]] += np.add.reduceat(vals[order], starts, axis=0)
