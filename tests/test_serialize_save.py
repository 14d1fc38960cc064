"""Saving safely (SPEC §9): mode kept, no temporary files left, Ctrl-C not swallowed."""
import glob
import os
import signal
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import knetpy
from knetpy.serialize import atomic, load, save


@pytest.fixture(autouse=True)
def own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("KNETPY_KEY_DIR", str(tmp_path / "key"))


def temps(folder):
    return glob.glob(os.path.join(str(folder), ".*.tmp"))


def test_resave_keeps_the_mode(tmp_path):
    f = tmp_path / "ck.h5"
    save(f, a=1)
    os.chmod(f, 0o600)
    save(f, a=2)
    assert os.stat(f).st_mode & 0o777 == 0o600 and load(f, "a") == 2
    os.chmod(f, 0o640)
    save(f, a=3)
    assert os.stat(f).st_mode & 0o777 == 0o640
    old = os.umask(0o027)
    try:
        save(tmp_path / "new.h5", a=1)
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "new.h5").st_mode & 0o777 == 0o640


def test_keyboard_interrupt_mid_save_cleans_up_and_propagates(tmp_path, monkeypatch):
    f = tmp_path / "ck.h5"
    save(f, step=1)
    orig = h5py.Group.create_dataset
    count = [0]

    def interrupted(self, *a, **k):
        count[0] += 1
        if count[0] == 2:
            signal.raise_signal(signal.SIGINT)     # a real SIGINT, as from the terminal
        return orig(self, *a, **k)
    monkeypatch.setattr(h5py.Group, "create_dataset", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(f, weights=[np.ones(3)] * 5, step=2)
    assert count[0] == 2                           # stopped at the next item
    assert temps(tmp_path) == [] and load(f) == {"step": 1}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


CHILD = textwrap.dedent("""
    import sys, time
    import h5py, numpy as np
    from knetpy.serialize import save
    orig = h5py.Group.create_dataset
    def slow(self, *a, **k):
        print("WRITING", flush=True)
        time.sleep(0.05)
        return orig(self, *a, **k)
    h5py.Group.create_dataset = slow
    for i in range(1000):
        save(sys.argv[1], weights=[np.full(1000, 2.0) for _ in range(50)], step=i)
    print("LOOP WENT ON", flush=True)
""")


def _env():
    root = os.path.dirname(os.path.dirname(knetpy.__file__))
    return dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))


def test_ctrl_c_in_a_saving_process_is_never_swallowed(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    f = str(tmp_path / "ck.h5")
    for _ in range(3):
        child = subprocess.Popen([sys.executable, str(script), f], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=_env())
        for _ in range(3):
            assert child.stdout.readline().strip() == b"WRITING"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
        assert child.returncode != 0 and b"LOOP WENT ON" not in out
        assert b"KeyboardInterrupt" in err and b"Exception ignored" not in err, err[-2000:]
        assert temps(tmp_path) == []


def test_leftovers_of_a_killed_save_go_on_the_next_save(tmp_path):
    f = tmp_path / "ck.h5"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".ck.h5.knetpy-{dead.pid}-abc123.tmp"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".ck.h5.knetpy-{os.getppid()}-def456.tmp"   # a living pid
    live.write_bytes(b"y")
    other = tmp_path / ".notours.tmp"
    other.write_bytes(b"z")
    # a dead pid whose file another live process still holds locked: kept
    locked = tmp_path / f".ck.h5.knetpy-{dead.pid}-0abc.tmp"
    locked.write_bytes(b"w")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         "fd = os.open(sys.argv[1], os.O_RDONLY); fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "print('LOCKED', flush=True); time.sleep(60)", str(locked)],
        stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"LOCKED"
        save(f, a=1)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert not stale.exists()
    assert live.exists() and other.exists() and locked.exists()
    save(f, a=2)                                  # the lock is gone now
    assert not locked.exists() and load(f, "a") == 2


def test_temp_name_carries_the_pid_and_is_locked(tmp_path):
    path, fd = atomic.new_temp(str(tmp_path), "ck.h5")
    try:
        assert f"knetpy-{os.getpid()}-" in path
        atomic.clean_leftovers(str(tmp_path))     # our own pid: never touched
        assert os.path.exists(path)
    finally:
        os.close(fd)
        os.unlink(path)


def test_save_onto_a_directory_is_a_clear_error(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        save(tmp_path, a=1)
    with pytest.raises(ValueError, match="reserved|cannot be a checkpoint name"):
        save(tmp_path / "x.h5", **{".knetpy": 1})


def test_loading_one_item_of_an_own_file_reads_only_its_arrays(tmp_path, monkeypatch):
    f = tmp_path / "ck.h5"
    save(f, big=np.ones(1_000_000), small=np.arange(3.0), step=7)
    reads = []
    orig = h5py.Dataset.read_direct
    monkeypatch.setattr(h5py.Dataset, "read_direct",
                        lambda self, out, *a: reads.append(self.name) or orig(self, out, *a))
    assert load(f, "step") == 7 and reads == ["/step"]
    assert load(f, "small").tolist() == [0, 1, 2] and "/big" not in reads
