"""Checkpoints: ``save(path, **named)`` / ``load(path, *names)`` in HDF5 (h5py).

What can be saved: numpy arrays and scalars, KnetArrays, Params (with their
optimizer and its state), optimizers, models (any object whose attributes
are savable, found through ``__dict__`` and ``__slots__``), lists, tuples,
dicts (any savable keys), sets, None, bools, ints, floats, complex numbers,
strings, bytes, dtypes, slices, numpy random generators, and references to
module-level functions and classes (``relu``, ``np.tanh``, a layer class).
An object saved twice (a tied weight, a shared optimizer) is stored once
and comes back shared.

The layout (``writer``) stores every array under its name: the weight
``model.layers[0].weight`` is the dataset ``/model/layers/0/weight``.  The
file starts with a sealed header (``seal``); ``load`` reads this user's own
files in-process and every other file in an isolated child process
(``isolate``), refuses links and storage outside the file and data out of
proportion to the file (``h5tree``), and rebuilds objects without running
their constructors (``reader``).  Saving is atomic and clean (``atomic``).
"""
import os
import stat

from . import atomic, h5tree, isolate, seal
from .errors import CheckpointError
from .names import Allowed
from .reader import Reader, s
from .writer import RESERVED, Writer

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "knetpy-checkpoint"
VERSION = 2
MIN_BUDGET = 64 << 20          # max_bytes default: max(MIN_BUDGET, BUDGET_FACTOR * file size)
BUDGET_FACTOR = 4
# what h5py and the rebuilding code raise on a damaged file (load reports a CheckpointError)
_MALFORMED = (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError, IndexError,
              MemoryError, h5tree.Refused)


def _h5py():
    import h5py
    return h5py


def _check_name(name):
    if not isinstance(name, str) or not name or name in (".", "..", RESERVED):
        raise ValueError(f"save: {name!r} cannot be a checkpoint name (no '/', not empty, "
                         f"not {RESERVED!r})")
    if "\0" in name:
        raise ValueError(f"save: the name {name!r} contains a NUL character, which HDF5 "
                         "would cut there; choose a name without it")
    if "/" in name:
        raise ValueError(f"save: {name!r} cannot be a checkpoint name (no '/', not empty)")


def save(path, **named):
    """save(path, **named): write the named values to the HDF5 file ``path``.

    The write is atomic (temporary file in the same folder, fsync, rename):
    ``path`` holds either the previous or the new checkpoint, never a mix.
    The new file keeps the mode of the one it replaces; no temporary file
    stays behind after an error or Ctrl-C (which is re-raised), and those of
    killed saves are removed by the next save to the folder.  Names may be
    any strings without "/" or NUL.

    >>> import tempfile, os; d = tempfile.mkdtemp(); f = os.path.join(d, "ck.h5")
    >>> import numpy as np; from knetpy import Adam, Param
    >>> w = Param(np.ones(2), Adam()); save(f, w=w, step=3)
    >>> load(f, "step"), load(f, "w").opt
    (3, Adam(lr=0.001, gclip=0.0, beta1=0.9, beta2=0.999, eps=1e-08))
    """
    h5py = _h5py()
    path = os.fspath(path)
    for name in named:
        _check_name(name)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder {folder} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path} is a directory")
    mode = atomic.target_mode(path)
    atomic.clean_leftovers(folder)
    with atomic.DeferSigint() as sigint:
        tmp, fd = atomic.new_temp(folder, os.path.basename(path))
        try:
            with h5py.File(tmp, "w", track_order=True, userblock_size=seal.HEADER,
                           locking=False) as f:
                f.attrs["format"] = FORMAT
                f.attrs["version"] = VERSION
                w = Writer(f, sigint.check)
                for name, value in named.items():
                    w.put(f, name, value, repr(name))
            sigint.check()
            seal.write_header(fd)
            os.fsync(fd)
            os.fchmod(fd, mode)
            os.replace(tmp, path)
            tmp = None
            atomic.fsync_dir(folder)
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            os.close(fd)


def _open_regular(path):
    """An fd of ``path`` opened without blocking, after checking it is a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file: {path}") from None
    except IsADirectoryError:
        raise CheckpointError(f"load: {path} is a directory, not a checkpoint file") from None
    except OSError as e:
        raise CheckpointError(f"load: cannot open {path}: {e.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        what = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise CheckpointError(f"load: {path} is {what}, not a checkpoint file")
    return fd, st.st_size


def load(path, *names, allow=(), max_bytes=None, timeout=None):
    """load(path, *names, allow=(), max_bytes=None, timeout=None) -> dict, one value or a tuple.

    With no names: a dict name -> value of the whole file; with one name:
    that value; with several: a tuple.  ``allow`` lists classes and
    functions outside knetpy that may be rebuilt (e.g. ``allow=[MyModel]``),
    matched by qualified name even when the file names another module.
    ``max_bytes`` caps the decoded size of all the file's data (default:
    the larger of 64 MiB and 4 times the file's size).  ``timeout``: seconds
    the isolated reader of a foreign file may take (default 20 s + 1 s per 20 MB).

    Errors: ``FileNotFoundError``; ``KeyError`` for a missing name (listing
    the names present); ``CheckpointError`` for everything else that is
    wrong with the file (not a checkpoint, damaged, crafted, too large, not
    a regular file, a class that is not allowed).

    >>> import tempfile, os, numpy as np; f = os.path.join(tempfile.mkdtemp(), "ck.h5")
    >>> save(f, a=np.arange(3), b={"x": (1, "two")})
    >>> load(f, "b"), sorted(load(f))
    ({'x': (1, 'two')}, ['a', 'b'])
    """
    path = os.fspath(path)
    allowed = Allowed(allow)
    fd, size = _open_regular(path)
    try:
        budget = max(MIN_BUDGET, BUDGET_FACTOR * size) if max_bytes is None else int(max_bytes)
        own = seal.check(fd, path)
        proc = f"/proc/self/fd/{fd}"
        src = proc if os.path.exists(proc) else path       # the very file that was checked

        def rebuild(tree):
            return _rebuild(tree, names, allowed, path)
        if own:                    # arrays are read as the items asked for need them
            try:
                out, missing = h5tree.read_file(src, budget, use=rebuild)
            except CheckpointError:
                raise
            except h5tree.Refused as e:
                raise CheckpointError(f"load: {path}: {e}") from None
            except _MALFORMED as e:
                raise CheckpointError(f"load: {path} is malformed: {type(e).__name__}: "
                                      f"{e}") from None
        else:
            t = isolate.default_timeout(size) if timeout is None else float(timeout)
            out, missing = rebuild(isolate.read_isolated(src, budget, t, path))
    except MemoryError:
        raise CheckpointError(f"load: {path}: not enough memory to read it") from None
    finally:
        os.close(fd)
    if missing is not None:
        raise KeyError(missing)
    if not names:
        return out
    return out[names[0]] if len(names) == 1 else tuple(out[n] for n in names)


def _rebuild(tree, names, allowed, path):
    """(values by name, None) or (None, message naming a missing item)."""
    attrs = tree.root.attrs
    if s(attrs.get("format", "")) != FORMAT:
        raise CheckpointError(f"load: {path} is an HDF5 file but not a knetpy checkpoint")
    version = attrs.get("version")
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        raise CheckpointError(f"load: {path} has checkpoint version {version}; this knetpy "
                              f"reads versions 1 to {VERSION}")
    present = [k for k in tree.root.keys() if k != RESERVED]
    for n in names:
        if not isinstance(n, str) or n not in present:
            return None, f"load: {path} has no item {n!r}; it has {present}"
    r = Reader(tree, allowed, version)
    out = {}
    for n in names or present:
        try:
            r.item = tree.root[n]
            out[n] = r.get(tree.root[n], repr(n))
        except CheckpointError:
            raise
        except RecursionError:
            raise CheckpointError(f"load: {path}: item {n!r} is nested too deeply") from None
        except _MALFORMED as e:
            raise CheckpointError(f"load: {path}: item {n!r} is malformed or truncated: "
                                  f"{type(e).__name__}: {e}") from None
    return out, None
