"""Write-protection of the arrays a tape holds for its backward sweep.

While ``diff`` records, the numpy arrays that the backward sweep will read and
that the user can reach -- a Param's value, a constant operand of a recorded
operation, a root given to ``grad(f)``, a recorded value taken out with
``value(r)`` -- are flagged read-only (numpy's ``writeable`` flag), so that a
write into one of them raises instead of making the gradient silently wrong.
``release`` puts the flags back when the sweep is over (also when the
function or the sweep raised).  Only numpy arrays have the flag; CuPy arrays
and other array types are not protected.

The arrays the primitives compute are not flagged one by one (that would
cost about a tenth of the tape's time per operation): they are reachable only
through ``value(r)`` / ``raw(r)``, and ``value`` flags what it hands out
(``boxes.value``), while every write through a Param or Result itself
(``r[i] = ...``, ``out=r``, ``np.add.at(r, ...)``) raises before it happens.

>>> import numpy as np
>>> class T: held = []
>>> a = np.ones(2); hold(T, a); a.flags.writeable
False
>>> release(T); a.flags.writeable
True
"""
import linecache

import numpy as np

__all__ = ["hold", "hold_all", "release", "HeldArrayError", "held_write_error"]


def hold(tape, a):
    """hold(tape, a): flag numpy array ``a`` read-only until ``release(tape)``
    (a no-op for anything else, and for an array already read-only, whose
    flag ``release`` then leaves alone).  Example: ``hold(tape, p.value)``."""
    if a.__class__ is np.ndarray and a.flags.writeable:
        a.setflags(False)
        tape.held.append(a)


def hold_all(tape, values):
    """hold_all(tape, values): ``hold`` each numpy array in ``values``, also
    inside lists and tuples (the operands of one recorded call).
    Example: ``hold_all(tape, (x, [c, d]))``."""
    for a in values:
        c = a.__class__
        if c is np.ndarray:
            if a.flags.writeable:
                a.setflags(False)
                tape.held.append(a)
        elif c is list or c is tuple:
            hold_all(tape, a)


def release(tape):
    """release(tape): make the arrays ``tape`` flagged writeable again, those
    owning their memory first (a view can only be made writeable while its
    base is).  A view whose base meanwhile became read-only stays read-only.
    Example: ``release(tape)`` at the end of ``diff``."""
    held = tape.held
    if not held:
        return
    tape.held = []
    views = []
    for a in held:
        if a.base is None:
            a.setflags(True)
        else:
            views.append(a)
    for a in views:
        try:
            a.setflags(True)
        except ValueError:      # its base is read-only (held by another tape or the user)
            pass


class HeldArrayError(ValueError, TypeError):
    """A write into an array that a tape holds for its backward sweep, or into
    a recorded value; a ValueError (and a TypeError, as HIPS autograd's boxes
    raise for item assignment)."""


def held_write_error(e):
    """held_write_error(e) -> HeldArrayError or None: numpy's read-only
    ValueError ``e`` explained (what was written, where, and why; with e's
    traceback); None for any other exception.
    Example: ``raise held_write_error(e) or e`` in ``diff``."""
    msg = str(e)
    if not isinstance(e, ValueError) or isinstance(e, HeldArrayError) or "read-only" not in msg:
        return None
    where = ""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        code = tb.tb_frame.f_code
        line = linecache.getline(code.co_filename, tb.tb_lineno).strip()
        where = (f" `{line}` ({code.co_filename}, line {tb.tb_lineno})" if line else
                 f" at {code.co_filename}, line {tb.tb_lineno}")
    err = HeldArrayError(
        f"diff: the write{where} goes into an array that the tape holds for the backward "
        f"sweep (a Param's value, an operand of a recorded operation, or a recorded value), "
        f"which would make the gradient wrong; it is read-only until diff returns "
        f"(numpy: {msg}). Write into a copy (a = a.copy()) or build a new array instead")
    err.__suppress_context__ = True     # the message carries numpy's
    return err.with_traceback(e.__traceback__)
