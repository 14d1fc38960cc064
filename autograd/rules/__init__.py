"""The gradient rules, one table per topic; importing this package registers them all.

Where a new rule goes: an elementwise ufunc in ``elementwise``, a reduction in
``reductions``, a shape function in ``shapes``, indexing in ``indexing``, a product in
``products``, numpy.linalg in ``linalg``, scipy.special in ``special``, a complex-only
rule in ``complex``, numpy.fft in ``fft``; a numpy function written through other
registered functions (no rule of its own) in ``composites`` (``statistics``
for the statistics and signal functions).  Each rule is one
``defgrad(np.fn, g1, g2, ...)`` line (``gi(dy, y, *args, **kw)`` the gradient of
argument i); registering a function twice raises unless ``override=True``.
"""
from . import elementwise, reductions, shapes, indexing, products  # noqa: F401
from . import composites, statistics  # noqa: F401
from . import linalg  # noqa: F401
from . import special  # noqa: F401
from . import complex  # noqa: F401  (complex inputs: extends some real rules, override=True)
from . import fft  # noqa: F401
