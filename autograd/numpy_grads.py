"""Compatibility name: these rules now live in ``autograd.rules`` (elementwise, reductions, shapes, indexing, products and composites)."""
from .registry import defgrad  # noqa: F401
from .rules.common import _dtype, _fit, _shape  # noqa: F401
from .rules.composites import *  # noqa: F401,F403
from .rules.elementwise import *  # noqa: F401,F403
from .rules.indexing import *  # noqa: F401,F403
from .rules.products import *  # noqa: F401,F403
from .rules.products import _T, _matmul  # noqa: F401
from .rules.reductions import *  # noqa: F401,F403
from .rules.reductions import _np_sum  # noqa: F401
from .rules.shapes import *  # noqa: F401,F403
from .rules.statistics import *  # noqa: F401,F403
from . import rules as _rules  # noqa: F401,E402  (registers every table)
