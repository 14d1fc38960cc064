"""DLPack on Param, Result and KnetArray (SPEC §11), and what a Param may hold."""
import numpy as np
import pytest

from autograd import Param, diff, grad, value
from knetpy import KnetArray
from knetpy.backends.emulator import emulated_backend


def test_numpy_from_dlpack_of_a_param_shares_its_array():
    w = Param(np.arange(6.0).reshape(2, 3))
    a = np.from_dlpack(w)
    assert a.shape == (2, 3) and np.array_equal(a, w.value)
    assert np.shares_memory(a, w.value)
    assert w.__dlpack_device__() == (1, 0)


def test_numpy_from_dlpack_of_a_number_param():
    assert np.from_dlpack(Param(2.5)) == 2.5


def test_result_of_diff_and_a_finished_intermediate():
    w = Param(np.array([1.0, 2.0]))
    kept = []

    def f():
        h = w * 3
        kept.append(h)
        with pytest.raises(TypeError, match="gradient"):   # while recorded: refused
            np.from_dlpack(h)
        return np.sum(h)
    y = diff(f)
    assert np.from_dlpack(y) == 9.0
    assert np.array_equal(np.from_dlpack(kept[0]), [3.0, 6.0])
    assert np.array_equal(grad(y, w), [3.0, 3.0])


def test_knetarray_numpy_backend():
    k = KnetArray(np.arange(4.0))
    a = np.from_dlpack(k)
    assert np.shares_memory(a, k.data) and a.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert k.__dlpack_device__() == (1, 0)


def test_knetarray_emulator_backend_is_host_memory():
    be = emulated_backend(block=64, max_blocks=4)
    k = KnetArray._of(np.arange(3.0), be)
    assert k.backend is be and (k * 2).backend is be
    assert np.array_equal(np.from_dlpack(k), [0.0, 1.0, 2.0])
    assert k.__dlpack_device__() == (1, 0)


def test_torch_from_dlpack_of_knetarray_param_and_result():
    torch = pytest.importorskip("torch")
    k = KnetArray(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    t = torch.from_dlpack(k)
    assert t.dtype == torch.float32 and t.tolist() == [1.0, 2.0, 3.0]
    t[0] = 10.0                                        # shared memory, no copy
    assert k.to_numpy()[0] == 10.0
    p = Param(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert torch.from_dlpack(p).sum().item() == 10.0
    y = diff(lambda: np.sum(p * p))
    assert torch.from_dlpack(y).item() == 30.0
    # and back: a torch tensor becomes a Param through np.from_dlpack
    q = Param(np.from_dlpack(torch.ones(3, dtype=torch.float64)))
    assert np.array_equal(grad(diff(lambda: np.sum(q * q)), q), [2.0, 2.0, 2.0])


def test_param_refuses_a_torch_tensor_naming_np_from_dlpack():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"torch\.Tensor.*np\.from_dlpack"):
        Param(torch.ones(3))


@pytest.mark.parametrize("bad, hint", [
    ([1.0, 2.0], r"got list; make an array of it first"),
    ((1.0,), r"got tuple"),
    ("abc", r"got str"),
    ({"a": 1}, r"got dict"),
    (None, r"got NoneType"),
    (object(), r"got object"),
])
def test_param_refuses_what_is_not_an_array_or_number(bad, hint):
    with pytest.raises(TypeError, match=r"Param: value must be a numpy or CuPy array, a "
                                        r"KnetArray or a number, " + hint):
        Param(bad)


def test_param_refuses_another_value():
    with pytest.raises(TypeError, match="cannot wrap another Param"):
        Param(Param(np.ones(2)))


@pytest.mark.parametrize("good", [np.ones(2), np.float32(1.5), 2, 2.5, 1j, True,
                                  np.ones((2, 2)).view(np.matrix)])
def test_param_accepts_arrays_and_numbers(good):
    assert value(Param(good)) is good


def test_param_accepts_a_knetarray():
    k = KnetArray(np.ones(3))
    w = Param(k)
    assert grad(diff(lambda: np.sum(w * w)), w).to_numpy().tolist() == [2.0, 2.0, 2.0]
