"""Compatibility name: these rules now live in ``autograd.rules`` (special)."""
from .rules.special import *  # noqa: F401,F403
from .rules.special import PYTHON_FUNCTIONS  # noqa: F401
from . import rules as _rules  # noqa: F401
