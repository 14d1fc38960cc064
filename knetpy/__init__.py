"""knetpy: Knet.jl re-created in Python, on the ``autograd`` tape.

Arrays are batch-first (``(N, features)``, images ``(N, C, H, W)``), class
answers are 0-based, and reductions take numpy's ``axis=``.
"""
from autograd import (Param, cat1d, diff, gcheck, grad, gradloss, params,  # noqa: F401
                      training, value)
from .rnn import *  # noqa: F401,F403
from .device import *  # noqa: F401,F403
from .knetarray import *  # noqa: F401,F403
from .init import *  # noqa: F401,F403
from .activations import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .batchnorm import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
from . import datasets  # noqa: F401
from .conv import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
from .train import *  # noqa: F401,F403
from .progress import *  # noqa: F401,F403
from .serialize import *  # noqa: F401,F403
from .hyperopt import *  # noqa: F401,F403

# ---- names and state (SPEC §11): named_params, state_dict, load_state_, summary
# (added by the serialize branch; kept as a separate block for the merge)
from .state import *  # noqa: F401,F403,E402
