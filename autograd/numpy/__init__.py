"""autograd.numpy: numpy for code written against HIPS autograd.

``import autograd.numpy as np`` gives numpy's whole namespace.  Most numpy
functions already record themselves when handed a Param or a recorded value
(through the array protocol), so they are numpy's own functions.  This module
adds the forms that numpy cannot dispatch on its own:

* ``np.array([...])`` / ``np.asarray([...])`` of lists holding recorded values,
* ``np.r_[...]`` / ``np.c_[...]`` without in-place writes,
* ``np.full(shape, x)`` / ``np.full_like(a, x)`` with a recorded fill value,
* ``column_stack``, ``dstack``, ``append``, ``select`` of recorded values,

and the submodules ``random``, ``linalg`` and ``fft``.

>>> import autograd.numpy as np
>>> from autograd import grad
>>> float(grad(lambda x: np.sum(np.array([x, 2 * x, x ** 2])))(3.0))
9.0
"""
import numpy as _np
from numpy import *  # noqa: F401,F403

from .. import rules as _rules  # noqa: F401  (registers the gradients)
from ..registry import lookup as _lookup, register as _register
from ..util import forward_getattr as _forward_getattr
from .creation import array, asarray, asanyarray, c_, full, full_like, r_  # noqa: F401
from .stacking import append, column_stack, dstack, row_stack, select  # noqa: F401
import importlib as _importlib  # noqa: E402
# the submodules themselves (``from . import linalg`` would find numpy's, set by the * import)
fft, linalg, random = [_importlib.import_module(f"{__name__}.{_m}") for _m in ("fft", "linalg", "random")]
from . import numpy_boxes  # noqa: F401,E402
from .hips_compat import make_diagonal, where, listable as _listable, _REDUCTIONS  # noqa: E402,F401
for _name in [n for n in _REDUCTIONS if "." not in n]:   # np.mean([x, x + 2]) keeps the tape
    globals()[_name] = _listable(getattr(_np, _name))
del _name

for _fn, _impl in [(_np.column_stack, column_stack), (_np.dstack, dstack),
                   (_np.append, append), (_np.select, select)]:
    if _lookup(_fn) is None:
        _register(_fn, _impl)      # plain numpy calls on recorded values too
del _fn, _impl


__getattr__ = _forward_getattr(_np, __name__)  # names numpy leaves out of ``__all__``
