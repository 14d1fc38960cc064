"""knetpy.layers: Lux's layer catalog in Knet's style.

A layer is a callable object whose weights are ``Param`` attributes, found by
``autograd.params(model)``.  Arrays are batch-first (images NCHW).  Training
behaviour follows ``training()`` unless forced with ``trainmode``/``testmode``.

The functional forms with LuxLib's arguments are attributes of this package.
``dropout`` and ``batchnorm`` are left out of ``__all__``, so that
``from knetpy.layers import *`` does not replace ``knetpy.dropout`` and
``knetpy.batchnorm``; call them as ``knetpy.layers.dropout(...)``.
"""
from . import base as _base, containers as _containers, basic as _basic, conv as _conv, \
    pooling as _pooling, dropout as _dropout, misc as _misc, normalization as _normalization, \
    recurrent as _recurrent, attention as _attention
from .base import *  # noqa: F401,F403
from .containers import *  # noqa: F401,F403
from .basic import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .misc import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403

_CLASHES = {"dropout", "batchnorm"}     # same names as knetpy's own functions
__all__ = [n for m in (_base, _containers, _basic, _conv, _pooling, _dropout, _misc,
                       _normalization, _recurrent, _attention)
           for n in m.__all__ if n not in _CLASHES] + ["alpha_dropout"]

# functional forms (after the star imports: ``dropout`` is also a submodule's name)
from .dropout import alpha_dropout, dropout  # noqa: E402,F401,F811
