"""Indexing recorded values: every numpy index kind, and the Sparse gradient of reads."""
import numpy as np
import pytest

from autograd import Param, Sparse, diff, gcheck, grad

X = np.random.default_rng(0).standard_normal((4, 5, 3))
MASK = X[:, :, 0] > 0

# index -> description; each is checked against numpy's own x[index]
INDEXES = {
    "int": 2,
    "negative int": -1,
    "slice": slice(1, 3),
    "step slice": slice(None, None, 2),
    "negative step": slice(None, None, -1),
    "negative bounds": slice(-3, -1),
    "ellipsis": (Ellipsis, 1),
    "None": (None, 1),
    "None between": (slice(None), None, 2),
    "int array with repeats": np.array([0, 2, 2, 3, 0]),
    "negative int array": np.array([-1, -4, -1]),
    "2-D int array": np.array([[0, 1], [1, 1]]),
    "list": [3, 3, 1],
    "boolean mask 1-D": np.array([True, False, True, True]),
    "boolean mask 2-D": MASK,
    "boolean full mask": X > 0.5,
    "tuple of ints": (1, 2, 0),
    "tuple int and slice": (1, slice(None, None, -2)),
    "tuple of arrays": (np.array([0, 0, 3]), np.array([4, 4, 1])),
    "arrays around a slice": (np.array([0, 3, 3]), slice(None), np.array([2, 0, 2])),
    "array after slice": (slice(1, 3), np.array([4, 0, 4])),
    "mask and slice": (np.array([True, False, True, True]), slice(1, 4)),
    "ellipsis and array": (Ellipsis, np.array([1, 1])),
    "0-d array": np.array(2),
    "empty array": np.array([], dtype=int),
}


def dense(g):
    return g.dense() if isinstance(g, Sparse) else np.asarray(g)


def reference_grad(index, weights):
    """d/dx sum(w * x[index]): scatter-add w at index (numpy's add.at)."""
    g = np.zeros_like(X)
    np.add.at(g, index, weights)
    return g


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_index_value_and_gradient(name):
    index = INDEXES[name]
    x = Param(X.copy())
    expected = X[index]
    w = np.random.default_rng(1).standard_normal(np.shape(expected))
    seen = []
    y = diff(lambda: (seen.append(x[index]), np.sum(w * seen[-1]))[1])
    np.testing.assert_array_equal(seen[0].value, expected)
    np.testing.assert_allclose(dense(grad(y, x)), reference_grad(index, w))
    if np.size(expected):
        assert gcheck(lambda: x[index] * w, nsample=8)


def test_read_of_a_few_rows_is_sparse_and_holds_only_those_rows():
    table = Param(np.random.default_rng(0).standard_normal((100_000, 8)))
    ids = np.array([5, 99_999, 5, 17])
    y = diff(lambda: np.sum(table[ids] ** 2))
    g = grad(y, table)
    assert isinstance(g, Sparse) and g.shape == (100_000, 8)
    stored = sum(np.size(v) for _, v in g.pairs)
    assert stored == ids.size * 8                  # 32 numbers, not 800,000
    rows, vals = g.rows()
    np.testing.assert_array_equal(rows, [5, 17, 99_999])
    np.testing.assert_allclose(vals[0], 4 * table.value[5])      # read twice: added
    np.testing.assert_allclose(vals[1], 2 * table.value[17])
    full = g.dense()
    assert full.shape == (100_000, 8)
    np.testing.assert_allclose(full[5], 4 * table.value[5])
    assert np.count_nonzero(np.any(full != 0, axis=1)) == 3


def test_two_reads_stay_sparse_and_a_dense_use_densifies():
    e = Param(np.arange(12.0).reshape(6, 2))
    y = diff(lambda: np.sum(e[[1]]) + np.sum(e[4:5] * 3))
    g = grad(y, e)
    assert isinstance(g, Sparse) and len(g.pairs) == 2
    np.testing.assert_array_equal(g.dense(), [[0, 0], [1, 1], [0, 0], [0, 0], [3, 3], [0, 0]])
    y = diff(lambda: np.sum(e[[1, 1]]) + np.sum(e * 2))
    g = grad(y, e)
    assert not isinstance(g, Sparse)
    np.testing.assert_array_equal(g, [[2, 2], [4, 4], [2, 2], [2, 2], [2, 2], [2, 2]])


def test_functional_grad_returns_dense_arrays_for_reads():
    g = grad(lambda x: np.sum(x[[0, 0, 2]]))(np.zeros(4))
    assert type(g) is np.ndarray
    np.testing.assert_array_equal(g, [2, 0, 1, 0])


def test_index_given_as_recorded_values():
    x = Param(np.array([3.0, -1.0, 5.0, 2.0]))
    y = diff(lambda: x[np.argmax(x)] * 2 + np.sum(x[x > 2.5]))
    np.testing.assert_array_equal(dense(grad(y, x)), [1, 0, 3, 0])
    idx = Param(np.array([1, 1]))            # an integer Param used as an index
    y = diff(lambda: np.sum(x[idx]))
    np.testing.assert_array_equal(dense(grad(y, x)), [0, 2, 0, 0])


def test_iteration_and_take_of_rows():
    x = Param(np.arange(6.0).reshape(3, 2))
    y = diff(lambda: sum(np.sum(r * k) for k, r in enumerate(x)))
    np.testing.assert_array_equal(dense(grad(y, x)), [[0, 0], [1, 1], [2, 2]])
    y = diff(lambda: np.sum(np.take(x, [2, 2, 0], axis=0)))
    np.testing.assert_array_equal(dense(grad(y, x)), [[1, 1], [0, 0], [2, 2]])


def test_second_order_through_indexing():
    # f(x) = sum(x[idx]^3): the Hessian is diagonal with 6 x_i * count_i
    x0 = np.array([0.5, -1.0, 2.0, 1.5])
    idx = np.array([0, 2, 2, 3])
    f = lambda x: np.sum(x[idx] ** 3)             # noqa: E731
    count = np.bincount(idx, minlength=4)
    hess = np.stack([grad(lambda x: grad(f)(x)[i])(x0) for i in range(4)])
    np.testing.assert_allclose(hess, np.diag(6 * x0 * count))
    assert gcheck(lambda x: grad(f)(x)[idx], Param(x0))


def test_rows_of_reads_that_do_not_start_at_axis_0():
    e = Param(np.ones((4, 3)))
    g = grad(diff(lambda: np.sum(e[1:3, 2])), e)
    rows, vals = g.rows()
    np.testing.assert_array_equal(rows, [1, 2])
    np.testing.assert_array_equal(vals, [[0, 0, 1]] * 2)
    g = grad(diff(lambda: np.sum(e[:, [0, 2]])), e)
    assert isinstance(g, Sparse) and g.rows() is None    # columns read: use dense()
    np.testing.assert_array_equal(g.dense(), [[1, 0, 1]] * 4)
    g = grad(diff(lambda: np.sum(e[None, 1])), e)
    assert g.rows() is None                      # None first: only dense() applies
    np.testing.assert_array_equal(g.dense(), [[0] * 3, [1] * 3, [0] * 3, [0] * 3])


def test_out_of_range_index_is_numpys_error():
    x = Param(np.ones(3))
    with pytest.raises(IndexError):
        diff(lambda: np.sum(x[[0, 5]]))
