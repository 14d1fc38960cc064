"""Compatibility name: these rules now live in ``autograd.rules`` (complex)."""
from .rules.common import is_complex, match  # noqa: F401
from .rules.complex import *  # noqa: F401,F403
from . import rules as _rules  # noqa: F401
