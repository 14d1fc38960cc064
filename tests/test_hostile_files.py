"""Hostile checkpoint files (SPEC §9): every load runs in a forked process with a
2 GiB memory limit and a timeout, and must end in a CheckpointError (or load)."""
import os
import sys

import numpy as np
import pytest

import checkpoint_attacks as A
import knetpy
from knetpy.serialize import CheckpointError, load, save

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("KNETPY_KEY_DIR", str(tmp_path / "key"))


def refused(path, match, **kw):
    """Load ``path`` in a limited child; assert a CheckpointError matching ``match``."""
    how, what = A.in_child(lambda: load(path, **kw), mem_bytes=2 << 30, timeout=60)
    assert how == "raised" and what.startswith("CheckpointError"), (how, what)
    assert match in what, what
    return what


def test_external_storage_on_a_secret_file(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_bytes(b"root:x:0:0:secret:/root:/bin/bash\n" * 10)
    A.external_storage(tmp_path / "x.h5", str(secret), 100)
    refused(tmp_path / "x.h5", "external files")


def test_external_storage_on_dev_zero(tmp_path):
    A.external_storage(tmp_path / "x.h5", "/dev/zero", 4 << 30)
    refused(tmp_path / "x.h5", "external files")


def test_external_link(tmp_path):
    A.external_link(tmp_path / "x.h5", str(tmp_path / "other.h5"))
    refused(tmp_path / "x.h5", "ExternalLink")


def test_soft_link_and_hard_link_cycle(tmp_path):
    A.soft_link(tmp_path / "s.h5")
    refused(tmp_path / "s.h5", "SoftLink")
    A.hard_alias(tmp_path / "h.h5")
    refused(tmp_path / "h.h5", "reached twice")


def test_virtual_dataset(tmp_path):
    A.virtual_dataset(tmp_path / "x.h5", str(tmp_path / "other.h5"))
    refused(tmp_path / "x.h5", "virtual dataset")


def test_fill_value_bomb(tmp_path):
    A.fill_bomb(tmp_path / "x.h5")
    assert os.path.getsize(tmp_path / "x.h5") < 100_000
    refused(tmp_path / "x.h5", "max_bytes")


def test_gzip_bomb(tmp_path):
    A.gzip_bomb(tmp_path / "x.h5")
    assert os.path.getsize(tmp_path / "x.h5") < 2_000_000
    refused(tmp_path / "x.h5", "max_bytes")


def test_raised_budget_hits_the_memory_limit_not_the_process(tmp_path):
    A.fill_bomb(tmp_path / "x.h5", nbytes=3 << 30)
    refused(tmp_path / "x.h5", "memory", max_bytes=1 << 40)


def test_directory_fifo_and_device(tmp_path):
    refused(tmp_path, "is a directory")
    os.mkfifo(tmp_path / "fifo")
    refused(tmp_path / "fifo", "is a FIFO")
    refused("/dev/zero", "is a device")


def test_constructor_abuse(tmp_path, monkeypatch):
    monkeypatch.setenv("COSTLY_MARK", str(tmp_path / "mark"))
    A.object_node(tmp_path / "f.h5", "checkpoint_attacks", "Costly", fields=[20000, 20000])
    refused(tmp_path / "f.h5", "allow=[Costly]")
    refused(tmp_path / "f.h5", "not a namedtuple", allow=[A.Costly])
    A.object_node(tmp_path / "o.h5", "checkpoint_attacks", "Costly")
    how, what = A.in_child(lambda: load(tmp_path / "o.h5", "x", allow=[A.Costly]).size)
    assert (how, what) == ("ok", "20000")        # built with __new__, attributes set
    assert not (tmp_path / "mark").exists()


def test_nul_in_a_name_is_refused_and_nul_in_values_survives(tmp_path):
    f = tmp_path / "n.h5"
    with pytest.raises(ValueError, match="NUL"):
        save(f, **{"a\x00b": 1})
    assert not f.exists()
    save(f, s="a\x00b", d={"k\x00ey": 1, "plain": 2})
    assert load(f) == {"s": "a\x00b", "d": {"k\x00ey": 1, "plain": 2}}


def test_forged_header_without_key_is_parsed_in_isolation(tmp_path, monkeypatch):
    f = tmp_path / "m.h5"
    save(f, w=np.arange(5.0))
    A.reseal(f)                                       # valid checksum, no hmac
    from knetpy.serialize import isolate
    calls = []
    real = isolate.read_isolated
    monkeypatch.setattr(isolate, "read_isolated", lambda *a: calls.append(a) or real(*a))
    assert load(f, "w").tolist() == [0, 1, 2, 3, 4]
    assert len(calls) == 1
    save(f, w=np.arange(5.0))                         # our own seal: no child
    assert load(f, "w").tolist() == [0, 1, 2, 3, 4] and len(calls) == 1


def test_another_users_checkpoint_loads(tmp_path, monkeypatch):
    f = tmp_path / "theirs.h5"
    monkeypatch.setenv("KNETPY_KEY_DIR", str(tmp_path / "their-key"))
    knetpy.seed(0)
    import knetpy.layers as L
    m = L.Chain(L.Dense(3, 2))
    save(f, model=m)
    monkeypatch.setenv("KNETPY_KEY_DIR", str(tmp_path / "my-key"))
    m2 = load(f, "model")
    np.testing.assert_array_equal(m2.layers["layer_0"].weight.value,
                                  m.layers["layer_0"].weight.value)
    monkeypatch.setenv("KNETPY_ISOLATION", "spawn")   # the fresh-interpreter child too
    assert load(f, "model").layers["layer_0"].weight.value.shape == (2, 3)


def test_unsafe_key_file_is_not_used(tmp_path, monkeypatch):
    from knetpy.serialize import seal
    d = tmp_path / "loose"
    d.mkdir()
    (d / "checkpoint.key").write_bytes(b"k" * 32)
    os.chmod(d / "checkpoint.key", 0o644)
    monkeypatch.setenv("KNETPY_KEY_DIR", str(d))
    assert seal.user_key() is None


def test_old_version_1_files_still_load(tmp_path):
    f = tmp_path / "v1.h5"
    with A.handmade(f, version=1) as h:
        g = h.create_group("d")
        g.attrs["kind"], g.attrs["n"] = "dict", 1
        h5k = g.create_dataset("k0", data="w", dtype=A.h5py.string_dtype("utf-8"))
        h5k.attrs["kind"] = "str"
        p = g.create_group("v0")
        p.attrs["kind"] = "param"
        p.create_dataset("value", data=np.arange(3.0)).attrs["kind"] = "ndarray"
        p.create_group("opt").attrs["kind"] = "none"
    data = open(f, "rb").read()
    import hashlib
    open(f, "r+b").write(b"KNETPY-CHECKPOINT sha256=" + hashlib.sha256(data[512:]).hexdigest()
                         .encode())
    d = load(f, "d")
    assert d["w"].value.tolist() == [0, 1, 2] and d["w"].opt is None


def test_300_resealed_mutations():
    import fuzz_checkpoints
    c = fuzz_checkpoints.run(300, seed=13)
    assert c["crash"] == c["hang"] == c["other"] == 0, c
    assert c["refused"] > 100


@pytest.mark.parametrize("how,match", [("segfault", "killed by SIGSEGV"),
                                       ("hang", "took more than"),
                                       ("spin", "killed by SIGXCPU|took more than"),
                                       ("garble", "no valid answer")])
def test_a_reader_that_crashes_hangs_or_garbles_is_a_checkpoint_error(tmp_path, monkeypatch, how,
                                                                      match):
    import signal
    import time

    from knetpy.serialize import h5tree
    f = tmp_path / "m.h5"
    save(f, w=np.arange(3.0))
    A.reseal(f)

    def bad_reader(path, budget, use=None):
        if how == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        if how == "hang":
            time.sleep(60)
        if how == "spin":
            while True:
                pass
        return None
    monkeypatch.setattr(h5tree, "read_file", bad_reader)
    if how == "garble":
        monkeypatch.setattr(h5tree, "encode", lambda tree, write: write(b"junk" * 10))
        monkeypatch.setattr(h5tree, "read_file", lambda path, budget, use=None: "tree")
    t = time.monotonic()
    with pytest.raises(CheckpointError, match=match):
        load(f, timeout=2)
    assert time.monotonic() - t < 30
