"""HIPS autograd's box class name for code that checks for it.

Here a value being differentiated is a ``Param`` or a recorded ``Result``;
both derive from ``autograd.core.Value``, which ``ArrayBox`` names.

>>> import numpy as np
>>> from autograd import Param
>>> isinstance(Param(np.ones(2)), ArrayBox)
True
"""
from ..core import Value as ArrayBox  # noqa: F401

__all__ = ["ArrayBox"]
