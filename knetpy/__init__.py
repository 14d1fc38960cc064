"""knetpy: Knet.jl re-created in Python, on the ``autograd`` tape.

Arrays are batch-first (``(N, features)``, images ``(N, C, H, W)``), class
answers are 0-based, and reductions take numpy's ``axis=``.
"""
from autograd import (Param, cat1d, diff, gcheck, grad, gradloss, params,  # noqa: F401
                      training, value)
from .rnn import *  # noqa: F401,F403
