"""containers: layers that combine other layers (Lux's container layers).

Positional sub-layers are named ``layer_0, layer_1, ...`` (0-based, so
``m[i] is m.layer_i``); keyword sub-layers keep their keyword.  Plain
functions given where a layer is expected are wrapped in ``WrappedFunction``.
"""
import numpy as np

from autograd import Param
from autograd.core import Value, raw

from .base import Layer, sublayers
from .misc import as_layer

__all__ = ["Chain", "Parallel", "BranchLayer", "PairwiseFusion", "SkipConnection",
           "RepeatedLayer", "AlternatePrecision"]


def _collect(fname, layers, named, nonempty=False):
    """Ordered dict name -> layer from positional and keyword layers (at least
    one when ``nonempty``)."""
    if layers and named:
        raise TypeError(f"{fname}: give the layers either positionally or as keywords, not both")
    out = {}
    if named:
        for k, v in named.items():
            out[k] = as_layer(v)
    else:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, v in enumerate(layers):
            out[f"layer_{i}"] = as_layer(v)
    if nonempty and not out:
        raise ValueError(f"{fname}: needs at least one layer")
    return out


class _Container(Layer):
    """Shared machinery: ``self.layers`` is an ordered dict name -> layer."""

    def named_children(self):
        kids = list(self.layers.items())
        for extra in ("connection", "fusion"):
            c = self.__dict__.get(extra)
            if isinstance(c, Layer):
                kids.append((extra, c))
        return kids

    def __getattr__(self, name):
        layers = self.__dict__.get("layers")
        if layers is not None and name in layers:
            return layers[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or layer {name!r}")

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers.values())

    def __getitem__(self, i):
        vals = list(self.layers.values())
        if isinstance(i, str):
            return self.layers[i]
        if isinstance(i, (int, np.integer)):
            if not -len(vals) <= i < len(vals):
                raise IndexError(f"{type(self).__name__}: index {i} out of range for "
                                 f"{len(vals)} layers")
            return vals[i]
        raise TypeError(f"{type(self).__name__}: index must be an int or a layer name, "
                        f"got {type(i).__name__}")


def _fuse(f, ys):
    """Apply a connection/fusion: a Layer receives the tuple, a function the elements."""
    return f(ys) if isinstance(f, Layer) else f(*ys)


class Chain(_Container):
    """Chain(*layers, name=None) or Chain(name=None, **layers): apply layers in order.

    Functions are wrapped in ``WrappedFunction``.  ``m[i]`` (0-based), ``m[a:b]``
    and ``m[[i, j]]`` index the layers (slices give a new Chain sharing the
    layers), ``m.layer_0`` or ``m.<keyword>`` access them by name, ``len(m)``
    counts them.

    >>> from knetpy.layers import Dense
    >>> m = Chain(Dense(2, 3, np.tanh), Dense(3, 1))
    >>> m(np.ones((5, 2), np.float32)).shape, m[1] is m.layer_1
    ((5, 1), True)
    """

    def __init__(self, *layers, name=None, **named):
        self.layers = _collect("Chain", layers, named)
        self.name = name

    def __call__(self, x):
        for lay in self.layers.values():
            x = lay(x)
        return x

    def __getitem__(self, i):
        if isinstance(i, slice) or isinstance(i, (list, tuple, np.ndarray)):
            items = list(self.layers.items())
            picked = items[i] if isinstance(i, slice) else [items[int(j)] for j in i]
            return Chain(name=self.name, **dict(picked)) if picked else Chain(name=self.name)
        return super().__getitem__(i)


def _connected(obj, fname, connection, layers, named, name, none_ok):
    """Set ``connection``, ``layers`` and ``name`` of a container that joins
    its layers' outputs with ``connection`` (checked: callable, or None when
    ``none_ok``)."""
    if not callable(connection) and not (none_ok and connection is None):
        what = "None, a function or a Layer" if none_ok else "a function or a Layer"
        raise TypeError(f"{fname}: connection must be {what}, got {type(connection).__name__}")
    obj.connection = connection
    obj.layers = _collect(fname, layers, named, nonempty=True)
    obj.name = name


class Parallel(_Container):
    """Parallel(connection, *layers, name=None) or Parallel(connection, **layers).

    A non-tuple input goes to every layer; a tuple input gives one element
    to each layer (its length must equal the number of layers).  The outputs
    are combined by ``connection``: ``None`` returns the tuple of outputs, a
    function is called as ``connection(y_0, y_1, ...)``, a Layer receives the
    tuple.

    >>> import numpy as np
    >>> from knetpy.layers import Dense
    >>> m = Parallel(None, Dense(2, 1), Dense(2, 1))
    >>> [y.shape for y in m((np.ones((1, 2), np.float32), np.ones((1, 2), np.float32)))]
    [(1, 1), (1, 1)]
    """

    def __init__(self, connection, *layers, name=None, **named):
        _connected(self, "Parallel", connection, layers, named, name, none_ok=True)

    def __call__(self, x):
        lays = list(self.layers.values())
        if isinstance(x, tuple):
            if len(x) != len(lays):
                raise ValueError(f"Parallel: a tuple input must have one element per layer "
                                 f"({len(lays)}), got {len(x)}")
            ys = tuple(lay(xi) for lay, xi in zip(lays, x))
        else:
            ys = tuple(lay(x) for lay in lays)
        return ys if self.connection is None else _fuse(self.connection, ys)

    def extra_repr(self):
        c = self.connection
        return "" if c is None or isinstance(c, Layer) else getattr(c, "__name__", repr(c))


class BranchLayer(_Container):
    """BranchLayer(*layers, fusion=None, name=None): send one input to every layer.

    Returns the tuple of outputs, or ``fusion(tuple)`` when ``fusion`` (a
    function or Layer taking the tuple) is given.  Unlike ``Parallel`` a tuple
    input is passed whole to each layer.

    >>> from knetpy.layers import NoOpLayer
    >>> BranchLayer(NoOpLayer(), NoOpLayer())(np.ones(2))
    (array([1., 1.]), array([1., 1.]))
    """

    def __init__(self, *layers, fusion=None, name=None, **named):
        if fusion is not None and not callable(fusion):
            raise TypeError(f"BranchLayer: fusion must be None, a function or a Layer, "
                            f"got {type(fusion).__name__}")
        self.layers = _collect("BranchLayer", layers, named, nonempty=True)
        self.fusion = fusion
        self.name = name

    def __call__(self, x):
        ys = tuple(lay(x) for lay in self.layers.values())
        return ys if self.fusion is None else self.fusion(ys)


class PairwiseFusion(_Container):
    """PairwiseFusion(connection, *layers, name=None): fuse running output with inputs.

    With a tuple input ``(x_0, ..., x_N)`` for N layers:
    ``y = x_0``, then ``y = connection(x_{i+1}, layers[i](y))`` for each layer.
    Any other input ``x``: ``y = x``, then ``y = connection(x, layers[i](y))``.
    A function connection is called with two arguments, a Layer with the pair.

    >>> import numpy as np
    >>> from knetpy.layers import NoOpLayer
    >>> PairwiseFusion(np.add, NoOpLayer(), NoOpLayer())((np.ones(1), np.ones(1), np.ones(1)))
    array([3.])
    """

    def __init__(self, connection, *layers, name=None, **named):
        _connected(self, "PairwiseFusion", connection, layers, named, name, none_ok=False)

    def __call__(self, x):
        lays = list(self.layers.values())
        if isinstance(x, tuple):
            if len(x) != len(lays) + 1:
                raise ValueError(f"PairwiseFusion: a tuple input must have {len(lays) + 1} "
                                 f"elements (layers + 1), got {len(x)}")
            y = x[0]
            for lay, xi in zip(lays, x[1:]):
                y = _fuse(self.connection, (xi, lay(y)))
        else:
            y = x
            for lay in lays:
                y = _fuse(self.connection, (x, lay(y)))
        return y

    def extra_repr(self):
        c = self.connection
        return "" if isinstance(c, Layer) else getattr(c, "__name__", repr(c))


class SkipConnection(Layer):
    """SkipConnection(layer, connection, name=None): ``connection(layer(x), x)``.

    ``connection`` is a two-argument function (``np.add`` gives a ResNet
    block) or a Layer, which receives the pair ``(layer(x), x)``.

    >>> from knetpy.layers import Dense
    >>> m = SkipConnection(Dense(3, 3), np.add)
    >>> m(np.ones((2, 3), np.float32)).shape
    (2, 3)
    """

    def __init__(self, layer, connection, name=None):
        if not callable(connection):
            raise TypeError(f"SkipConnection: connection must be a function or a Layer, "
                            f"got {type(connection).__name__}")
        self.layers = as_layer(layer)
        self.connection = connection
        self.name = name

    def __call__(self, x):
        return _fuse(self.connection, (self.layers(x), x))

    def extra_repr(self):
        c = self.connection
        return "" if isinstance(c, Layer) else getattr(c, "__name__", repr(c))


class RepeatedLayer(Layer):
    """RepeatedLayer(model, repeats=10, input_injection=False): apply ``model`` repeatedly.

    ``y = x`` then ``repeats`` times ``y = model(y)``; with ``input_injection``
    the model receives ``(y, x)`` instead, so the original input is fed in
    at every step.  The same parameters are used at every repetition.

    >>> from knetpy.layers import WrappedFunction
    >>> RepeatedLayer(WrappedFunction(lambda x: 2 * x), repeats=3)(np.ones(1))
    array([8.])
    """

    def __init__(self, model, repeats=10, input_injection=False):
        if not isinstance(repeats, (int, np.integer)) or repeats < 0:
            raise ValueError(f"RepeatedLayer: repeats must be a non-negative int, got {repeats!r}")
        self.model = as_layer(model)
        self.repeats = int(repeats)
        self.input_injection = bool(input_injection)

    def __call__(self, x):
        y = x
        for _ in range(self.repeats):
            y = self.model((y, x)) if self.input_injection else self.model(y)
        return y

    def extra_repr(self):
        return f"repeats={self.repeats}, input_injection={self.input_injection}"


class AlternatePrecision(Layer):
    """AlternatePrecision(dtype, layer): run ``layer`` in another float precision.

    The input and the Params held by the layer's sub-tree are converted to
    ``dtype`` for the call (the conversion is recorded, so gradients reach the
    original Params in their own dtype) and the output is converted back to
    the input's dtype.

    >>> from knetpy.layers import Dense
    >>> m = AlternatePrecision(np.float64, Dense(2, 2))
    >>> y = m(np.ones((1, 2), np.float32)); y.dtype
    dtype('float32')
    """

    def __init__(self, dtype, layer):
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"AlternatePrecision: dtype must be a float type, got {dt}")
        self.dtype = dt
        self.layer = as_layer(layer)

    def __call__(self, x):
        in_dt = np.result_type(raw(x))
        swapped = []
        try:
            for lay in sublayers(self.layer):
                for k, v in list(vars(lay).items()):
                    if isinstance(v, Param) and v.dtype != self.dtype:
                        swapped.append((lay, k, v))
                        setattr(lay, k, v.astype(self.dtype))
            y = self.layer(_cast(x, self.dtype))
        finally:
            for lay, k, v in reversed(swapped):
                setattr(lay, k, v)
        return _cast(y, in_dt)

    def extra_repr(self):
        return f"{self.dtype.name}"

    def named_children(self):
        return [("layer", self.layer)]


def _cast(x, dt):
    if isinstance(x, tuple):
        return tuple(_cast(e, dt) for e in x)
    if isinstance(x, (Value, np.ndarray)) and np.result_type(raw(x)).kind == "f" \
            and np.result_type(raw(x)) != dt:
        return x.astype(dt)
    return x
