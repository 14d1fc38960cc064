"""base: the ``Layer`` class every knetpy layer derives from.

Contract for layer authors
--------------------------
* A layer is a callable object: subclass ``Layer`` and define ``__call__``.
  Weights are ``Param`` attributes (directly, or inside lists/tuples/dicts held
  by attributes); ``autograd.params(model)`` finds them, so nothing has to be
  registered.
* Sub-layers are ``Layer`` attributes (or sit in lists/tuples/dicts held by
  attributes).  ``children()`` finds them in attribute order; a container may
  override ``named_children()`` to choose the names shown by ``repr``.
* Non-trainable state (running statistics, dropout masks, carried RNN state)
  lives in plain array attributes whose names are listed in the class
  attribute ``_state`` (a tuple of strings).  ``nstates`` counts their
  elements; ``None`` entries count as 0.
* Training behaviour: call ``self.istraining()``.  It returns the layer's
  ``mode`` when that was forced by ``trainmode``/``testmode`` and otherwise
  ``autograd.training()`` (True only while ``diff`` records).
* ``repr``: a leaf layer shows ``Name(<extra_repr()>)``; override
  ``extra_repr`` to list the constructor arguments (e.g. ``"2 => 3, relu"``).
  Layers with children print as an indented tree with per-layer parameter
  counts and a total, as Lux does.
"""
import numpy as np

from autograd import Param, training
from autograd.core import Value, raw

__all__ = ["Layer", "trainmode", "testmode", "automode", "nparams", "nstates", "sublayers"]


class Layer:
    """Layer(): base class of knetpy layers (see the module docstring).

    >>> class Double(Layer):
    ...     def __call__(self, x):
    ...         return 2 * x
    >>> Double()(np.ones(2))
    array([2., 2.])
    """
    _state = ()
    mode = None      # None: follow training(); True/False: forced by trainmode/testmode
    name = None      # shown by repr instead of the class name when set

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    # ----- mode
    def istraining(self):
        """istraining() -> bool: the forced mode of this layer, or training()."""
        return training() if self.mode is None else bool(self.mode)

    # ----- structure
    def named_children(self):
        """named_children() -> list of (name, layer) for the direct sub-layers."""
        out, seen = [], set()
        for key, v in vars(self).items():
            if key.startswith("__"):
                continue
            for name, lay in _layers_in(v, key):
                if id(lay) not in seen:
                    seen.add(id(lay))
                    out.append((name, lay))
        return out

    def children(self):
        """children() -> iterator over the direct sub-layers."""
        return (lay for _, lay in self.named_children())

    def own_params(self):
        """own_params() -> the Params held by this layer itself, not by sub-layers."""
        found, seen = [], set()
        stack = [v for k, v in vars(self).items() if k not in self._state]
        while stack:
            o = stack.pop()
            if id(o) in seen or isinstance(o, Layer):
                continue
            seen.add(id(o))
            if isinstance(o, Param):
                found.append(o)
            elif isinstance(o, dict):
                stack.extend(o.values())
            elif isinstance(o, (list, tuple)):
                stack.extend(o)
        return found

    def own_nparams(self):
        """own_nparams() -> number of trainable elements held by this layer itself."""
        return sum(int(np.size(raw(p))) for p in self.own_params())

    def own_nstates(self):
        """own_nstates() -> number of elements in this layer's ``_state`` arrays."""
        n = 0
        for s in self._state:
            v = getattr(self, s, None)
            if v is not None and not callable(v):
                n += int(np.size(raw(v)))
        return n

    def nparams(self):
        """nparams() -> trainable elements of the whole sub-tree (shared Params once)."""
        return nparams(self)

    def nstates(self):
        """nstates() -> non-trainable state elements of the whole sub-tree."""
        return nstates(self)

    # ----- printing
    def extra_repr(self):
        """extra_repr() -> the argument text shown inside ``Name(...)``."""
        return ""

    def _title(self):
        return self.name if self.name is not None else type(self).__name__

    def _line(self):
        return f"{self._title()}({self.extra_repr()})"

    def __repr__(self):
        if not self.named_children():
            return self._line()
        lines = _tree(self, "", None)
        lines[-1] += f"  # Total: {_fmt(nparams(self))} parameters, plus {_fmt(nstates(self))} states."
        return "\n".join(lines)


def _layers_in(v, key):
    """(name, layer) pairs inside attribute value v (not descending into layers)."""
    if isinstance(v, Layer):
        return [(key, v)]
    if isinstance(v, (list, tuple)):
        out = []
        for i, e in enumerate(v):
            out.extend(_layers_in(e, f"{key}[{i}]"))
        return out
    if isinstance(v, dict):
        out = []
        for k, e in v.items():
            out.extend(_layers_in(e, f"{key}[{k!r}]"))
        return out
    return []


def _fmt(n):
    return f"{n:_}"


def _counts(lay):
    own_p, own_s = nparams(lay), nstates(lay)
    txt = f"# {_fmt(own_p)} parameters"
    if own_s:
        txt += f", plus {_fmt(own_s)} non-trainable"
    return txt, own_p, own_s


def _tree(lay, indent, label):
    """Lines of the indented tree for lay (label = its name in the parent)."""
    head = f"{indent}{label} = " if label is not None else indent
    kids = lay.named_children()
    if not kids:
        txt, _, _ = _counts(lay)
        return [f"{head}{lay._line()},  {txt}"]
    extra = lay.extra_repr()
    lines = [f"{head}{lay._title()}(" + (f"{extra}; " if extra else "")]
    if extra:
        lines[0] = lines[0].rstrip("; ").rstrip() + ","
    sub = indent + "    "
    i = 0
    while i < len(kids):
        name, k = kids[i]
        # runs of identical leaf layers print once, as layer_(a-b)
        j = i
        if not k.named_children() and name.startswith("layer_"):
            while (j + 1 < len(kids) and kids[j + 1][0].startswith("layer_")
                   and not kids[j + 1][1].named_children()
                   and kids[j + 1][1]._line() == k._line()
                   and nstates(kids[j + 1][1]) == nstates(k)
                   and nparams(kids[j + 1][1]) == nparams(k)):
                j += 1
        if j > i:
            n = j - i + 1
            first, last = name[len("layer_"):], kids[j][0][len("layer_"):]
            p, s = nparams(k), nstates(k)
            txt = f"# {_fmt(p * n)} ({_fmt(p)} x {n}) parameters"
            if s:
                txt += f", plus {_fmt(s * n)} non-trainable"
            lines.append(f"{sub}layer_({first}-{last}) = {k._line()},  {txt}")
        else:
            lines.extend(_tree(k, sub, name))
        i = j + 1
    own = lay.own_nparams()
    close = f"{indent})"
    if label is not None:
        close += ","
    if own or lay.own_nstates():
        close += f"  # {_fmt(own)} own parameters"
        if lay.own_nstates():
            close += f", plus {_fmt(lay.own_nstates())} non-trainable"
    lines.append(close)
    return lines


def sublayers(model):
    """sublayers(model) -> list of model and every layer below it (pre-order, each once).

    ``model`` may also be a list/tuple/dict holding layers.

    >>> from knetpy.layers import Chain, Dense
    >>> [type(l).__name__ for l in sublayers(Chain(Dense(2, 3), Dense(3, 1)))]
    ['Chain', 'Dense', 'Dense']
    """
    out, seen = [], set()

    def visit(o):
        if isinstance(o, Layer):
            if id(o) in seen:
                return
            seen.add(id(o))
            out.append(o)
            for k in o.children():
                visit(k)
        else:
            for _, lay in _layers_in(o, ""):
                visit(lay)
    visit(model)
    return out


def nparams(model):
    """nparams(model) -> number of trainable elements (shared Params counted once).

    >>> from knetpy.layers import Dense
    >>> nparams(Dense(2, 3))
    9
    """
    from autograd import params
    return sum(int(np.size(raw(p))) for p in params(model))


def nstates(model):
    """nstates(model) -> number of non-trainable state elements in every layer of model."""
    return sum(lay.own_nstates() for lay in sublayers(model))


def _setmode(model, mode, fname):
    if not isinstance(model, (Layer, list, tuple, dict)):
        raise TypeError(f"{fname}: model must be a Layer (or a list/tuple/dict of layers), "
                        f"got {type(model).__name__}")
    for lay in sublayers(model):
        lay.mode = mode
    return model


def trainmode(model):
    """trainmode(model) -> model, with every layer in it forced into training behaviour.

    Dropout drops and batch statistics are used even outside ``diff``.  Apply
    it to one sub-layer to affect only that branch; ``automode`` undoes it.

    >>> from knetpy.layers import Dropout
    >>> trainmode(Dropout(0.5)).istraining()
    True
    """
    return _setmode(model, True, "trainmode")


def testmode(model):
    """testmode(model) -> model, with every layer in it forced into inference behaviour.

    >>> from knetpy.layers import Dropout
    >>> testmode(Dropout(0.5)).istraining()
    False
    """
    return _setmode(model, False, "testmode")


testmode.__test__ = False      # not a pytest test when imported into a test module


def automode(model):
    """automode(model) -> model, every layer again following ``training()``."""
    return _setmode(model, None, "automode")


def is_value(x):
    """True for arrays, Params and recorded values (anything array-like, not tuples)."""
    return isinstance(x, (Value, np.ndarray, np.generic)) or hasattr(x, "__array__")
