"""knetpy.layers: Lux's layer catalog in Knet's style.

A layer is a callable object whose weights are ``Param`` attributes, found by
``autograd.params(model)``.  Arrays are batch-first (images NCHW).  Training
behaviour follows ``training()`` unless forced with ``trainmode``/``testmode``.
"""
from .base import *  # noqa: F401,F403
