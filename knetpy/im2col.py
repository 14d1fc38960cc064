"""Compatibility name of the host convolution kernels, now in
``knetpy.ops._host_conv`` (``knetpy.conv_device`` imports ``_flip`` and
``compute_dtype`` from here).

>>> from knetpy.im2col import out_size
>>> out_size(5, 3, 0, 1, 1)
3
"""
from .ops._host_conv import *  # noqa: F401,F403
from .ops._host_conv import _flip, compute_dtype  # noqa: F401
