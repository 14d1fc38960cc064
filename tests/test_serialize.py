"""Checkpoints: round trips, Params with optimizer state, models, safety, atomic writes."""
import glob
import hashlib
import math
import os
import signal
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest
import scipy.special

import knetpy
from autograd import Param
from knetpy import KnetArray, relu
from knetpy.optim import SGD, Adadelta, Adagrad, Adam, Momentum, Nesterov, Rmsprop
from knetpy.update import update_
from knetpy.serialize import CheckpointError, load, save
from knetpy.train import adam, minibatch


class Dense:
    def __init__(self, i, o, f=relu, seed=0):
        r = np.random.default_rng(seed)
        self.w = Param(r.standard_normal((i, o)) * 0.3)
        self.b = Param(np.zeros(o))
        self.f = f

    def __call__(self, x):
        return self.f(x @ self.w + self.b)


class MLP:
    def __init__(self, *sizes):
        self.layers = [Dense(a, b, relu if k < len(sizes) - 2 else (lambda z: z), seed=k)
                       for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.layers[-1].f = np.tanh
        self.meta = {"sizes": sizes, ("tuple", 1): None}

    def __call__(self, x, y):
        for layer in self.layers:
            x = layer(x)
        return np.mean((x - y) ** 2)


class Slotted:
    __slots__ = ("a", "b")


@pytest.fixture
def ck(tmp_path):
    return str(tmp_path / "ck.h5")


# ---------------------------------------------------------------- values
def test_round_trip_of_plain_values(ck):
    rng = np.random.default_rng(3)
    rng.standard_normal(5)
    vals = dict(
        f32=np.arange(6, dtype=np.float32).reshape(2, 3), i8=np.array([-1, 2], np.int8),
        b=np.array([True, False]), c=np.array([1 + 2j]), zero_d=np.array(2.5),
        empty=np.zeros((0, 3)), strs=np.array(["a", "héllo"]), f16=np.ones(2, np.float16),
        npscalar=np.float32(1.5), npint=np.int64(7), none=None, t=True, i=-3,
        big=2**80, x=0.1, z=1 - 1j, s="unicode ✓", by=b"\x00\x01", dt=np.dtype("float32"),
        sl=slice(1, None, 2), lst=[1, [2, (3, "4")]], st={1, 2}, fs=frozenset({"a"}),
        d={"a": 1, 2: "b", (1, 2): [3]}, fns=[relu, np.tanh, np.sum, scipy.special.erf,
                                               math.exp, float, Adam, knetpy.minibatch],
        rng=rng)
    save(ck, **vals)
    out = load(ck)
    assert list(out) == list(vals)
    for k, v in vals.items():
        got = out[k]
        if isinstance(v, np.ndarray):
            assert type(got) is np.ndarray and got.dtype == v.dtype and got.shape == v.shape
            np.testing.assert_array_equal(got, v)
        elif k == "rng":
            assert got.standard_normal(3).tolist() == v.standard_normal(3).tolist()
        elif k == "fns":
            assert all(a is b for a, b in zip(got, v))
        else:
            assert got == v and type(got) is type(v), k
    assert load(ck, "i") == -3
    assert load(ck, "s", "big") == ("unicode ✓", 2**80)


def test_knetarray_and_params_with_every_optimizer(ck):
    params = {}
    for cls in (SGD, Momentum, Nesterov, Adagrad, Rmsprop, Adadelta, Adam):
        p = Param(np.linspace(0, 1, 6).reshape(2, 3), cls(lr=0.01, gclip=2.0))
        for k in range(3):
            update_(p, np.full((2, 3), k + 1.0))
        params[cls.__name__] = p
    k = KnetArray(np.arange(3.0))
    save(ck, params=params, k=k, pk=Param(k, Adam()), scalar=Param(2.0))
    got, gk, pk, sc = load(ck, "params", "k", "pk", "scalar")
    assert isinstance(gk, KnetArray) and gk.to_numpy().tolist() == [0, 1, 2]
    assert isinstance(pk.value, KnetArray) and pk.opt.t == 0 and pk.opt.m is None
    assert sc.value == 2.0 and sc.opt is None
    for name, p in params.items():
        q = got[name]
        assert type(q.opt) is type(p.opt) and repr(q.opt) == repr(p.opt) and q.opt.t == p.opt.t
        np.testing.assert_array_equal(q.value, p.value)
        for s in p.opt.state:
            np.testing.assert_array_equal(getattr(q.opt, s), getattr(p.opt, s))
        g = np.full((2, 3), 0.5)               # the next update is the same
        update_(p, g)
        update_(q, g)
        np.testing.assert_array_equal(q.value, p.value)


def test_sharing_and_cycles_are_kept(ck):
    p = Param(np.ones(2), Adam())
    shared = np.zeros(3)
    loop = [1]
    loop.append(loop)
    d = {"self": None}
    d["self"] = d
    save(ck, a=[p, p, (p, shared)], b=shared, loop=loop, d=d)
    a, b, loop2, d2 = load(ck, "a", "b", "loop", "d")
    assert a[0] is a[1] is a[2][0]
    assert a[2][1] is b
    assert loop2[1] is loop2 and d2["self"] is d2


def test_models_need_to_be_allowed(ck):
    m = MLP(3, 4, 2)
    s = Slotted()
    s.a, s.b = m.layers[0].w, [1]
    save(ck, model=m, slotted=s)
    with pytest.raises(CheckpointError, match=r"test_serialize\.MLP.*allow=\[MLP, Dense\]"):
        load(ck, "model")
    m2 = load(ck, "model", allow=[MLP, Dense])
    assert type(m2) is MLP and type(m2.layers[0]) is Dense
    assert m2.layers[0].f is relu and m2.layers[1].f is np.tanh
    assert m2.meta == {"sizes": (3, 4, 2), ("tuple", 1): None}
    x, y = np.ones((5, 3)), np.zeros((5, 2))
    assert m2(x, y) == m(x, y)
    s2 = load(ck, "slotted", allow=[Slotted, MLP, Dense])
    assert type(s2) is Slotted and s2.b == [1]
    with pytest.raises(CheckpointError, match="Dense"):   # inner classes need allowing too
        load(ck, "model", allow=[MLP])


def test_loaded_model_continues_training_exactly(ck):
    r = np.random.default_rng(0)
    x, y = r.standard_normal((64, 3)), r.standard_normal((64, 2)) * 0.5
    data = list(minibatch(x, y, 16))
    m = MLP(3, 8, 2)
    for _ in adam(m, data, lr=0.01):
        pass
    save(ck, model=m, epoch=1)
    before = [float(l) for l in adam(m, data * 2, lr=0.01)]
    m2 = load(ck, "model", allow=[MLP, Dense])
    after = [float(l) for l in adam(m2, data * 2, lr=0.5)]    # keeps its saved Adam
    assert after == pytest.approx(before, rel=1e-12, abs=1e-12)
    assert m2.layers[0].w.opt.t == m.layers[0].w.opt.t == 12


# ---------------------------------------------------------------- no code from the file
def seal(path):
    """Give an HDF5 file made with a 512-byte user block a valid knetpy header."""
    data = open(path, "rb").read()
    header = b"KNETPY-CHECKPOINT sha256=" + hashlib.sha256(data[512:]).hexdigest().encode()
    with open(path, "r+b") as fh:
        fh.write(header)


def handmade(path):
    f = h5py.File(path, "w", userblock_size=512)
    f.attrs["format"], f.attrs["version"] = "knetpy-checkpoint", 1
    return f


def forge(path, module, qualname, kind="object"):
    with handmade(path) as f:
        g = f.create_group("x")
        g.attrs["kind"], g.attrs["module"], g.attrs["qualname"] = kind, module, qualname
        if kind == "object":
            d = g.create_group("dict")
            d.attrs["kind"], d.attrs["n"] = "dict", 0
    seal(path)


@pytest.mark.parametrize("module,qual,kind", [
    ("subprocess", "Popen", "object"), ("os", "system", "function"),
    ("builtins", "eval", "function"), ("builtins", "__import__", "function"),
    ("numpy", "load", "function"), ("knetpy.train", "np.load", "function"),
    ("knetpy.serialize", "os.system", "function"), ("knetpy.train", "itertools.chain", "class"),
    ("knetpy.optim", "Adam.__init__.__globals__", "function")])
def test_forged_names_are_refused(ck, module, qual, kind):
    forge(ck, module, qual, kind)
    with pytest.raises(CheckpointError):
        load(ck)


def test_knetpy_names_must_really_be_defined_there(ck):
    forge(ck, "knetpy.optim", "SGD", "class")
    assert load(ck, "x") is SGD
    forge(ck, "knetpy.nonexistent", "X", "class")
    with pytest.raises(CheckpointError, match="does not exist"):
        load(ck)


# ---------------------------------------------------------------- bad files and inputs
def test_malformed_files(tmp_path, ck):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"this is not hdf5" * 100)
    with pytest.raises(CheckpointError, match="without a knetpy checkpoint header"):
        load(junk)
    save(ck, w=np.arange(200000.0), v=[np.ones(3)] * 4)
    data = open(ck, "rb").read()
    cut = tmp_path / "cut.h5"
    for n in (len(data) // 2, len(data) - 1, 100):
        cut.write_bytes(data[:n])
        with pytest.raises(CheckpointError, match="corrupt or truncated|header"):
            load(cut)
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF                 # one damaged byte anywhere
    cut.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="checksum"):
        load(cut)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["a"] = 1
    with pytest.raises(CheckpointError, match="an HDF5 file without a knetpy"):
        load(tmp_path / "other.h5")
    with handmade(tmp_path / "nofmt.h5") as f:
        del f.attrs["format"]
    seal(tmp_path / "nofmt.h5")
    with pytest.raises(CheckpointError, match="not a knetpy checkpoint"):
        load(tmp_path / "nofmt.h5")
    with handmade(tmp_path / "bad.h5") as f:
        f.create_group("p").attrs["kind"] = "param"            # no value inside
        f.create_group("q").attrs["kind"] = "mystery"
    seal(tmp_path / "bad.h5")
    with pytest.raises(CheckpointError, match="'p' is malformed"):
        load(tmp_path / "bad.h5", "p")
    with pytest.raises(CheckpointError, match="unknown node kind 'mystery'"):
        load(tmp_path / "bad.h5", "q")
    with pytest.raises(KeyError, match=r"no item 'nope'.*\['w', 'v'\]"):
        load(ck, "nope")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.h5")


def test_unsavable_values_leave_the_old_file(ck, tmp_path):
    save(ck, a=1)
    with pytest.raises(TypeError, match="lambdas"):
        save(ck, a=2, f=lambda x: x)
    with pytest.raises(TypeError, match="dtype object"):
        save(ck, a=2, o=np.array([None, 1]))

    class Local:
        pass
    with pytest.raises(TypeError, match="local class"):
        save(ck, a=2, o=Local())
    with pytest.raises(ValueError, match="cannot be a checkpoint name"):
        save(ck, **{"a/b": 1})
    assert load(ck) == {"a": 1}
    assert glob.glob(str(tmp_path / ".*.tmp")) == []     # failed saves clean up


CHILD = textwrap.dedent("""
    import sys, time
    import h5py, numpy as np
    from knetpy.serialize import save
    orig = h5py.Group.create_dataset
    count = [0]
    def slow(self, *a, **k):
        count[0] += 1
        if count[0] == 3:                   # a few arrays written: stop in the middle
            print("WRITING", flush=True)
            time.sleep(60)
        return orig(self, *a, **k)
    h5py.Group.create_dataset = slow
    save(sys.argv[1], weights=[np.full(100000, 2.0) for _ in range(6)], step=2)
""")


def test_kill_during_save_keeps_the_previous_checkpoint(tmp_path, ck):
    save(ck, weights=[np.full(100000, 1.0)] * 2, step=1)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    root = os.path.dirname(os.path.dirname(knetpy.__file__))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, str(script), ck], stdout=subprocess.PIPE, env=env)
    try:
        assert child.stdout.readline().strip() == b"WRITING"
        tmps = glob.glob(str(tmp_path / ".ck.h5.*.tmp"))
        assert len(tmps) == 1                               # written next to the target
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    w, step = load(ck, "weights", "step")
    assert step == 1 and len(w) == 2 and w[0] is w[1] and np.all(w[0] == 1.0)
    save(ck, step=3)                                        # and the next save works
    assert load(ck) == {"step": 3}


def test_knetpy_layer_models_load_without_allow(ck):
    L = pytest.importorskip("knetpy.layers")
    knetpy.seed(0)
    m = L.Chain(L.Dense(3, 5, relu), L.Dropout(0.2), L.Dense(5, 2))
    x, y = np.ones((4, 3), np.float32), np.array([0, 1, 1, 0])
    data = [(x, y)] * 3
    for _ in adam(lambda a, b: knetpy.nll(m(a), b), data):
        pass
    save(ck, model=m)
    m2 = load(ck, "model")
    assert type(m2) is type(m)
    knetpy.seed(1)
    a = [float(v) for v in adam(lambda a, b: knetpy.nll(m(a), b), data)]
    knetpy.seed(1)
    b = [float(v) for v in adam(lambda a, b: knetpy.nll(m2(a), b), data)]
    assert a == b


class Scheduled(Adam):
    """A user optimizer: Adam whose learning rate decays every step."""
    decay = 0.5

    def _math(self, w, g, st, tmp, t):
        super()._math(w, g, st, tmp, t)
        self.lr = self.lr * self.decay


def test_user_optimizer_subclass_keeps_its_attributes(ck):
    p = Param(np.ones(3), Scheduled(lr=0.1))
    p.opt.decay = 0.25
    update_(p, np.ones(3))
    save(ck, p=p)
    with pytest.raises(CheckpointError, match="Scheduled"):
        load(ck)
    q = load(ck, "p", allow=[Scheduled])
    assert type(q.opt) is Scheduled and q.opt.decay == 0.25 and q.opt.lr == 0.025
    assert q.opt.t == 1 and np.array_equal(q.opt.m, p.opt.m)
    update_(p, np.ones(3))
    update_(q, np.ones(3))
    np.testing.assert_array_equal(q.value, p.value)
