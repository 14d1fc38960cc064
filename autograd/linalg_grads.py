"""Compatibility name: these rules now live in ``autograd.rules`` (linalg)."""
from .rules.linalg import *  # noqa: F401,F403
from . import rules as _rules  # noqa: F401
