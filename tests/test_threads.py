"""Tapes are per thread (SPEC §9): threads that each run diff/grad on their own
Params get exactly the gradients one thread gets."""
import sys
import threading
import time

import numpy as np
import pytest

from autograd import Param, diff, grad, training
from knetpy.ops.activations import relu
from knetpy.ops.losses import nll
from knetpy.train import adam, minibatch, sgd


@pytest.fixture(autouse=True)
def fast_switching():
    """Switch threads often, so that the threads' tapes really interleave."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def run_threads(targets):
    """Run each callable in its own thread, all started together; re-raise the
    first exception a thread raised."""
    errors = []
    start = threading.Barrier(len(targets))

    def wrap(fn):
        def run():
            try:
                start.wait()
                fn()
            except BaseException as e:      # handed to the main thread
                errors.append(e)
        return run
    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def pause(x):
    """x, after letting the other threads run (as I/O or a GIL-releasing call
    in the middle of a loss would), so that the threads' tapes interleave."""
    time.sleep(0)
    return x


def gradient(w, i):
    """The gradient of step i (a diff on odd steps, HIPS's grad(f) on even ones)."""
    c = float(i % 7)
    if i % 2:
        return grad(diff(lambda: np.sum(np.sin(w) * pause(w)) + c * np.sum(w * w)), w)
    return grad(lambda v: np.sum(np.sin(v) * pause(v)) + c * np.sum(v * v))(w.value)


def test_threads_hammering_diff_and_grad_get_exact_gradients():
    n_iter, n_threads = 1000, 4
    params = [Param(np.arange(1.0, 4.0) + 10 * k) for k in range(n_threads)]
    alone = [[gradient(w, i) for i in range(n_iter)] for w in params]   # one thread
    for w, gs in zip(params, alone):
        for i in (0, 1, 5):
            c = i % 7
            assert np.allclose(gs[i], np.cos(w.value) * w.value + np.sin(w.value)
                               + 2 * c * w.value, rtol=1e-14)
    bad = [[] for _ in range(n_threads)]

    def worker(k):
        def run():
            for i in range(n_iter):
                g = gradient(params[k], i)
                if g is None or not np.array_equal(g, alone[k][i]):
                    bad[k].append((i, g))
        return run
    run_threads([worker(k) for k in range(n_threads)])
    assert bad == [[] for _ in range(n_threads)]


def test_training_flag_is_per_thread():
    inside, seen = threading.Event(), []
    leave = threading.Event()
    w = Param(np.ones(2))

    def recorder():
        def f():
            inside.set()
            leave.wait(10)
            return np.sum(w * w)
        diff(f)

    def observer():
        inside.wait(10)
        seen.append(training())
        seen.append(type(w * 2).__name__)   # no tape in this thread: a plain array
        leave.set()
    run_threads([recorder, observer])
    assert seen == [False, "ndarray"]


def make_mlp(seed):
    r = np.random.default_rng(seed)
    return [Param(r.standard_normal((8, 16)) * 0.3), Param(np.zeros(16)),
            Param(r.standard_normal((16, 3)) * 0.3), Param(np.zeros(3))]


def mlp_loss(ps):
    w1, b1, w2, b2 = ps
    return lambda x, y: nll(pause(relu(x @ w1 + b1)) @ w2 + b2, y)


def data(seed):
    r = np.random.default_rng(100 + seed)
    x = r.standard_normal((60, 8))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    return x, y


def train(trainer, seed, epochs=15):
    ps = make_mlp(seed)
    x, y = data(seed)
    losses = []
    for _ in range(epochs):
        losses.extend(float(l) for l in trainer(mlp_loss(ps), minibatch(x, y, 20)))
    return losses, [p.value.copy() for p in ps]


def test_two_threads_train_their_own_mlp_as_one_thread_does():
    runs = {"sgd": lambda f, d: sgd(f, d, lr=0.1), "adam": lambda f, d: adam(f, d, lr=0.01)}
    alone = {name: train(t, seed) for seed, (name, t) in enumerate(runs.items())}
    together = {}

    def worker(seed, name, t):
        return lambda: together.__setitem__(name, train(t, seed))
    run_threads([worker(seed, name, t) for seed, (name, t) in enumerate(runs.items())])
    for name in runs:
        losses, weights = together[name]
        assert losses == alone[name][0], name
        assert losses[-1] < losses[0]
        for a, b in zip(weights, alone[name][1]):
            assert np.array_equal(a, b)
