"""Sparse gradients: the object itself and gradients that receive one as dy."""
import numpy as np
import pytest

from autograd import Param, Sparse, diff, gcheck, grad, primitive


def dense(g):
    return g.dense() if isinstance(g, Sparse) else np.asarray(g)


# ------------------------------------------------------------ the object
def test_dense_adds_repeated_indices():
    g = Sparse((5, 2), np.float64, [(np.array([1, 1, 3]), np.ones((3, 2)))])
    np.testing.assert_array_equal(g.dense(), [[0, 0], [2, 2], [0, 0], [1, 1], [0, 0]])


def test_sum_of_sparses_stays_sparse_and_adds_dense():
    a = Sparse((4,), np.float64, [(np.array([0]), np.array([1.0]))])
    b = Sparse((4,), np.float64, [(np.array([0, 2]), np.array([2.0, 3.0]))])
    c = a + b
    assert isinstance(c, Sparse) and len(c.pairs) == 2
    np.testing.assert_array_equal(c.dense(), [3, 0, 3, 0])
    np.testing.assert_array_equal(c + np.ones(4), [4, 1, 4, 1])
    np.testing.assert_array_equal(np.ones(4) + c, [4, 1, 4, 1])


def test_arithmetic_densifies_except_scalar_scaling():
    g = Sparse((3,), np.float64, [(np.array([1]), np.array([2.0]))])
    assert isinstance(2 * g, Sparse) and isinstance(g / 2, Sparse) and isinstance(-g, Sparse)
    np.testing.assert_array_equal((g / 2).dense(), [0, 1, 0])
    np.testing.assert_array_equal(g * np.array([1, 2, 3.]), [0, 4, 0])
    np.testing.assert_array_equal(g / np.array([1, 4, 1.]), [0, 0.5, 0])
    np.testing.assert_array_equal(1 / (g + 1), [1, 1 / 3, 1])
    np.testing.assert_array_equal(g - np.ones(3), [-1, 1, -1])
    np.testing.assert_array_equal(np.ones(3) - g, [1, -1, 1])
    np.testing.assert_array_equal(g ** 2, [0, 4, 0])
    np.testing.assert_array_equal(g[1:], [2, 0])
    np.testing.assert_array_equal(np.cos(g), [1, np.cos(2), 1])
    np.testing.assert_array_equal(np.reshape(g, (3, 1)), [[0], [2], [0]])
    np.testing.assert_array_equal(np.asarray(g), [0, 2, 0])
    assert g.astype(np.float32).dense().dtype == np.float32


def test_rows_of_a_sparse_with_slices_and_column_reads():
    g = Sparse((6, 3), np.float64, [((np.array([4, 1]), slice(None)), np.ones((2, 3))),
                                    ((2, 1), np.float64(5.0))])
    rows, vals = g.rows()
    np.testing.assert_array_equal(rows, [1, 2, 4])
    np.testing.assert_array_equal(vals, [[1, 1, 1], [0, 5, 0], [1, 1, 1]])
    np.testing.assert_array_equal(g.dense()[rows], vals)


# ------------------------------------------------------------ Sparse dy reaching gradients
# Each function's output is indexed, so the gradient it receives is a Sparse.
SPARSE_DY_CASES = {
    "add_broadcast": lambda a, b: (a + b)[0],
    "sub_broadcast": lambda a, b: (a - b)[1:, 2],
    "mul_broadcast": lambda a, b: (a * b)[[0, 0, 2]],
    "div_scalar": lambda a, b: (a / 2.0)[1] + b[0, 1],
    "rdiv": lambda a, b: (2.0 / (a + 3))[2] * b[0, 0],
    "concatenate": lambda a, b: np.concatenate([a * b, b], axis=0)[1:3],
    "concatenate_flat": lambda a, b: np.concatenate([a, b], axis=None)[[1, 4]],
    "stack": lambda a, b: np.stack([a * b, a * b * 2])[1, 0],
    "broadcast_to": lambda a, b: np.broadcast_to(a, (3, 4))[0] + b[0],
    "pad": lambda a, b: np.pad(a * b, 1)[2],
    "reshape": lambda a, b: np.reshape(a * b, (12,))[[3, 3, 5]],
    "transpose": lambda a, b: (a * b).T[1],
    "sum_keepdims": lambda a, b: np.sum(a * b, axis=1, keepdims=True)[0],
    "mean": lambda a, b: np.mean(a * b, axis=0)[2],
    "matmul": lambda a, b: (a @ b)[1],
    "exp": lambda a, b: np.exp(a * b)[0, 1],
    "where": lambda a, b: np.where(a > 0, a, b)[1],
    "maximum": lambda a, b: np.maximum(a, b)[0],
    "remainder": lambda a, b: np.remainder(a + 10, b + 5)[0],
    "repeat": lambda a, b: np.repeat(a, 2, axis=0)[1:4] * b,
    "roll": lambda a, b: np.roll(a * b, 1, axis=1)[2],
    "getitem_of_getitem": lambda a, b: (a * b)[1:][0, 1:],
}


@pytest.mark.parametrize("name", sorted(SPARSE_DY_CASES))
def test_gradients_accept_a_sparse_dy(name):
    rng = np.random.default_rng(3)
    a = Param(rng.uniform(0.5, 1.5, (3, 1)))
    b = Param(rng.uniform(0.5, 1.5, (1, 4)))
    f = SPARSE_DY_CASES[name]
    assert gcheck(lambda: f(a, b))
    y = diff(lambda: np.sum(f(a, b)))
    for p in (a, b):
        g = grad(y, p)
        assert g is None or dense(g).shape == p.shape


def test_user_primitive_with_passthrough_gradient_gets_a_usable_sparse():
    @primitive(lambda dy, y, x: dy * 3.0, lambda dy, y, x: dy / 2.0)
    def lin(x):
        return 3.0 * x

    x = Param(np.arange(5.0))
    y = diff(lambda: np.sum(lin(x)[[1, 1]]))
    np.testing.assert_array_equal(dense(grad(y, x)), [0, 6, 0, 0, 0])


def test_user_primitive_passing_a_sparse_dy_to_a_broadcast_input():
    from autograd import grad, primitive

    @primitive(lambda dy, y, a, b: dy, lambda dy, y, a, b: dy)
    def plus(a, b):
        return a + b
    g = grad(lambda b: np.sum(plus(np.ones((4, 3)), b)[1:3]))(np.zeros(3))
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])


def test_dense_sums_repeated_rows_given_with_both_signs():
    from autograd import Sparse
    vals = np.arange(12.0).reshape(4, 3)
    g = Sparse((5, 3), np.float64, [(np.array([-1, 4, 0, 4]), vals)])
    expected = np.zeros((5, 3))
    np.add.at(expected, np.array([4, 4, 0, 4]), vals)
    np.testing.assert_array_equal(g.dense(), expected)
    rows, summed = g.rows()
    np.testing.assert_array_equal(rows, [0, 4])
    np.testing.assert_array_equal(summed, expected[[0, 4]])
