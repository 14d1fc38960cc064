"""The backward sweep of a finished tape, and how gradients are summed.

``sweep`` walks a tape's Results in reverse, calls each primitive's gradient
functions and adds the contributions into the parents; ``unbroadcast`` sums
a gradient back to the shape of its input; ``add_grads`` adds two
contributions, either of which may be ``Sparse``.
"""
import math

import numpy as np

from .boxes import Result, Value, raw as _raw
from .sparse import Sparse

__all__ = ["unbroadcast", "add_grads", "sweep", "check_scalar", "NonScalarOutput"]


_REAL_SCALARS = (np.float64, np.float32, float)


class NonScalarOutput(ValueError, TypeError):
    """A gradient was asked of a function whose output is not one number; both a
    ValueError (AutoGrad.jl's ``diff``) and a TypeError (HIPS autograd's ``grad``)."""


def check_scalar(out, real=False):
    """check_scalar(out, real=False): raise unless Result ``out`` holds one
    number (a real one with ``real``), as the sweep from dy = 1 needs.
    Example: ``check_scalar(out)`` before ``sweep(tape, out)``."""
    v = out.value
    if v.__class__ in _REAL_SCALARS:      # the common case: nothing to check
        return
    v = _raw(v)
    shape = v.shape if hasattr(v, "shape") else np.shape(v)
    if math.prod(shape) != 1:
        raise NonScalarOutput(f"diff: the function must return a scalar (one element) to be "
                              f"differentiated, but it returned an array of shape {shape}")
    if real and (v.dtype.kind == "c" if hasattr(v, "dtype") else isinstance(v, complex)):
        raise TypeError("grad only applies to real scalar-output functions; use "
                        "holomorphic_grad, or differentiate np.real(f(x)) or np.abs(f(x))")


def unbroadcast(g, x):
    """unbroadcast(g, x): gradient ``g`` summed down to the shape (and float
    dtype) of input ``x``, undoing numpy's broadcasting.

    >>> unbroadcast(np.ones((2, 3)), np.zeros((1, 3)))
    array([[2., 2., 2.]])
    """
    xs = np.shape(x) if not isinstance(x, np.ndarray) else x.shape
    if g.__class__ is Sparse:
        if g.shape != xs:                  # a sparse gradient that was broadcast
            g = g.dense()
        else:
            xd = getattr(x, "dtype", None)
            if xd is not None and xd.kind == "f" and g.dtype.kind == "c":
                g = Sparse(xs, xd, [(i, np.real(v)) for i, v in g.pairs])
            return g
    gs = np.shape(g) if not isinstance(g, np.ndarray) else g.shape
    if gs != xs:
        lead = len(gs) - len(xs)
        axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(xs)
                                          if n == 1 and gs[i + lead] != 1)
        if axes:
            g = np.sum(g, axis=axes)
        if np.shape(g) != xs:
            g = np.reshape(g, xs)
    xd = getattr(x, "dtype", None)
    if xd is not None and xd.kind in "fc":
        gd = getattr(g, "dtype", None)
        if gd is not xd and gd is not None and gd != xd:
            if not isinstance(g, Value):
                g = g.astype(xd) if xd.kind == "c" or gd.kind != "c" else g.real.astype(xd)
            elif gd.kind == "c" and xd.kind != "c":
                g = np.real(g)       # a real input's gradient is real (recorded case)
            elif xd.kind == "c" and gd.kind != "c":
                g = g * (1 + 0j)     # and a complex input's gradient complex
    elif xd is None and isinstance(x, (float, int, complex)):
        # a Python number: a real one gets a real gradient, a complex one a complex gradient
        if isinstance(x, complex):
            if not np.iscomplexobj(_raw(g)):
                g = g * (1 + 0j)
        elif np.iscomplexobj(_raw(g)):
            g = np.real(g)
    return g


def add_grads(a, b):
    """add_grads(a, b): the sum of two gradient contributions (either may be
    Sparse or recorded).

    >>> add_grads(np.ones(2), np.ones(2))
    array([2., 2.])
    """
    if a.__class__ is Sparse:
        return a.add(b)
    if b.__class__ is Sparse:
        return b.add(a)
    return a + b


def sweep(tape, out, dy=None, keep=False):
    """Run the backward pass of a finished ``tape`` from its Result ``out``
    with output gradient ``dy`` (ones when None).  ``out`` may also be a
    list of Results of the tape with ``dy`` the list of their gradients
    (None entries are skipped).

    Afterwards ``tape.grads`` maps id(Param or root) to (it, gradient).  With
    ``keep=True`` the tape can be swept again (with another ``dy``);
    otherwise its intermediates are dropped.
    """
    tape.grads = {}
    if out.__class__ is not Result:      # several outputs: out and dy are lists
        for r, d in zip(out, dy):
            if d is not None:
                r.outgrad = d if r.outgrad is None else add_grads(r.outgrad, d)
    else:
        if dy is None:
            v = out.value
            if isinstance(v, Value):
                v = _raw(v)
            dy = np.ones_like(v) if v.__class__ is np.ndarray else \
                v.dtype.type(1) if isinstance(v, np.generic) else 1.0
        out.outgrad = dy
    for node in reversed(tape.nodes):
        dy = node.outgrad
        if dy is None:
            continue
        node.outgrad = None
        prim, y, args, kw = node.prim, node.value, node.args, node.kw
        grads = prim.grads
        ng = len(grads)
        for i, parent in node.parents:
            if i < ng:
                g = grads[i](dy, y, *args, **kw)
            else:
                g = prim.nary_grad(i, dy, y, *args, **kw)
            if g is None:
                continue
            pv = parent.value
            # unbroadcast, except in the common case of a gradient that already fits
            if not (g.__class__ is np.ndarray and pv.__class__ is np.ndarray
                    and g.shape == pv.shape and g.dtype == pv.dtype):
                g = unbroadcast(g, pv)
            parent.outgrad = g if parent.outgrad is None else add_grads(parent.outgrad, g)
        if not keep:
            node.args = node.kw = node.parents = node.prim = None
    for p, box in tape.pboxes.values():
        if box.outgrad is not None:
            tape.grads[id(p)] = (p, box.outgrad)
            box.outgrad = None
    for r in tape.roots:
        tape.grads[id(r)] = (r, r.outgrad)
        r.outgrad = None
    if not keep:
        tape.nodes = []
        tape.pboxes = {}
    return tape.grads
