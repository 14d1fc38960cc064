"""Compatibility home of Knet's convolution and pooling functions.

The ops live in ``knetpy.ops.conv`` (conv4, deconv4) and ``knetpy.ops.pool``
(pool, unpool); this module re-exports them for code that imports
``knetpy.conv``.

>>> from knetpy.conv import conv4, pool
"""
from .ops.conv import conv4, deconv4
from .ops.pool import pool, unpool

__all__ = ["conv4", "deconv4", "pool", "unpool"]
