"""Memory: a finished tape keeps no intermediates, and repeated diff calls do not grow RSS."""
import gc
import os
import weakref

import numpy as np

from autograd import Param, Result, diff, grad, primitive

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    """Resident set size now (second field of /proc/self/statm, in pages)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def small_model():
    rng = np.random.default_rng(0)
    w1, b1 = Param(rng.standard_normal((16, 8))), Param(np.zeros(16))
    w2 = Param(rng.standard_normal((4, 16)))
    x, labels = rng.standard_normal((8, 32)), rng.integers(0, 4, 32)

    def loss():
        z = w2 @ np.tanh(w1 @ x + b1[:, None])
        return np.mean(z[labels, np.arange(32)] ** 2)
    return loss, (w1, b1, w2)


def test_ten_thousand_diff_calls_leave_rss_flat():
    loss, ps = small_model()
    for _ in range(2000):
        y = diff(loss)
    gc.collect()
    after_2000 = rss_bytes()
    for _ in range(8000):
        y = diff(loss)
    gc.collect()
    after_10000 = rss_bytes()
    # one tape of this model holds ~40 KB of intermediates; a leak of even a
    # few hundred bytes per call would add megabytes over 8,000 calls
    assert after_10000 - after_2000 < 4 * 2 ** 20, (after_2000, after_10000)
    assert all(grad(y, p) is not None for p in ps)


def test_finished_tape_holds_no_intermediate_arrays():
    loss, ps = small_model()
    y = diff(loss)
    assert y.tape.nodes == [] and y.tape.pboxes == {}
    assert y.args is None and y.parents is None and y.prim is None and y.kw is None
    # what the Result can still reach: its scalar value and the Params' gradients
    reachable, stack, seen = [], [y], set()
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, type):
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            reachable.append(o)
            continue
        if isinstance(o, Param):
            continue                       # the model's own arrays are not intermediates
        stack.extend(gc.get_referents(o))
    # no array with the batch axis (32) survives, and nothing beyond gradient-sized data
    assert not any(32 in a.shape for a in reachable if a.dtype == np.float64), \
        [a.shape for a in reachable]
    grad_bytes = sum(p.value.nbytes for p in ps)
    assert sum(a.nbytes for a in reachable) <= grad_bytes + 1024


def test_intermediate_arrays_are_freed_after_the_sweep():
    alive = []

    @primitive(lambda dy, y, x: dy * 2.0)
    def tracked(x):
        out = x * 2.0
        alive.append(weakref.ref(out))
        return out

    w = Param(np.ones((50, 50)))
    y = diff(lambda: np.sum(np.tanh(tracked(w)) ** 2))
    gc.collect()
    assert isinstance(y, Result) and len(alive) == 1
    assert alive[0]() is None              # the 50x50 intermediate is gone
    g = grad(lambda v: np.sum(tracked(v) * 3.0))(np.ones(4))
    gc.collect()
    assert g.tolist() == [6.0] * 4 and all(r() is None for r in alive)


def test_nested_gradients_free_their_tapes():
    alive = []

    @primitive(lambda dy, y, x: dy * np.cos(x))
    def tsin(x):
        out = np.sin(x)
        alive.append(weakref.ref(out) if isinstance(out, np.ndarray) else None)
        return out

    x = np.linspace(0, 1, 7)
    h = grad(lambda v: np.sum(grad(lambda u: np.sum(tsin(u)))(v)))(x)
    gc.collect()
    np.testing.assert_allclose(h, -np.sin(x))
    assert all(r is None or r() is None for r in alive)
