"""atomic: how ``save`` replaces a file safely.

* The new file is written as ``.<name>.knetpy-<pid>-<random>.tmp`` in the
  target's folder, locked (``flock``) by the writing process, fsync'ed, given
  the mode of the file it replaces (or 0666 less the umask for a new file),
  and renamed over the target: the target always holds a whole checkpoint.
* On an exception or Ctrl-C the temporary file is removed at once.
* A process killed while saving leaves its temporary file behind; the next
  save to that folder removes it, but only when its lock is free and its
  pid is gone, so a save still running in another process is never touched.
* Ctrl-C (SIGINT) is deferred while the file is written and closed (HDF5
  runs cleanup callbacks where a KeyboardInterrupt would be swallowed): the
  write stops at the next item, cleans up and raises ``KeyboardInterrupt``.
"""
import os
import re
import secrets
import signal
import stat
import threading

try:
    import fcntl
except ImportError:          # not POSIX: no locks, leftovers are judged by pid alone
    fcntl = None

_LEFTOVER = re.compile(r"^\..+\.knetpy-(\d+)-[0-9a-f]+\.tmp$")


def new_temp(folder, base):
    """new_temp(folder, base) -> (path, fd) of a fresh, locked, empty temporary file."""
    name = f".{base}.knetpy-{os.getpid()}-{secrets.token_hex(6)}.tmp"
    path = os.path.join(folder, name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    return path, fd


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(folder):
    """Remove the temporary files of killed saves in ``folder`` (see the module docstring)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = _LEFTOVER.match(name)
        if not m or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
            continue
        path = os.path.join(folder, name)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                continue
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue                   # a live writer holds it
            now = os.stat(path, follow_symlinks=False)
            if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(fd)


def target_mode(path):
    """The mode the new file gets: that of the file it replaces, else 0666 & ~umask."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def fsync_dir(folder):
    """fsync a folder (makes a rename durable); errors are ignored."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class DeferSigint:
    """Context manager: SIGINT is recorded instead of raised; ``check()``
    raises KeyboardInterrupt at a safe point, and leaving the block re-sends a
    signal that arrived and was not raised yet.  Outside the main thread (or
    with a non-Python handler) it does nothing."""

    def __init__(self):
        self.pending = False
        self.old = None

    def _handler(self, signum, frame):
        self.pending = True

    def check(self):
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            old = signal.getsignal(signal.SIGINT)
            if callable(old) or old == signal.SIG_DFL:
                self.old = old
                signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
            self.old = None
            if self.pending:
                self.pending = False
                signal.raise_signal(signal.SIGINT)
        return False
