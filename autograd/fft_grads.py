"""Compatibility name: these rules now live in ``autograd.rules`` (fft)."""
from .rules.fft import *  # noqa: F401,F403
from . import rules as _rules  # noqa: F401
