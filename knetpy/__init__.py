"""knetpy: Knet.jl re-created in Python, on the ``autograd`` tape.

Arrays are batch-first (``(N, features)``, images ``(N, C, H, W)``), class
answers are 0-based, and reductions take numpy's ``axis=``.  The
differentiable operations live in ``knetpy.ops`` (one module per family);
their public names are exported here.
"""
# ---- import guard (first): `autograd` must be knetpy's, not HIPS autograd of the same name ----
import autograd as _autograd  # noqa: E402

if not getattr(_autograd, "__knetpy__", False):
    _where = getattr(_autograd, "__file__", None) or list(getattr(_autograd, "__path__", []))
    raise ImportError(
        f"knetpy: `import autograd` found {_where}, which is not knetpy's own `autograd` "
        f"package but another one of the same import name, most likely HIPS autograd "
        f"(`pip install autograd`). The two cannot share an environment: run "
        f"`pip uninstall -y autograd`, then `pip install --force-reinstall --no-deps knetpy` "
        f"(or `pip install -e .` in a knetpy checkout); if that path is a folder of your own, "
        f"rename it or take it off sys.path")
# ---- end of the import guard ----
from autograd import (Param, cat1d, diff, gcheck, grad, gradloss, params,  # noqa: F401,E402
                      training, value)
from .rnn import *  # noqa: F401,F403
from .device import *  # noqa: F401,F403
from .knetarray import *  # noqa: F401,F403
from .init import *  # noqa: F401,F403
from .ops.activations import *  # noqa: F401,F403
from .ops.softmax import *  # noqa: F401,F403
from .ops.losses import *  # noqa: F401,F403
from .ops.dropout import *  # noqa: F401,F403
from .ops.batchnorm import *  # noqa: F401,F403
from .ops.linear import *  # noqa: F401,F403
from . import datasets  # noqa: F401
from .ops.conv import *  # noqa: F401,F403
from .ops.pool import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
from .train import *  # noqa: F401,F403
from .progress import *  # noqa: F401,F403
from .serialize import *  # noqa: F401,F403
from .hyperopt import *  # noqa: F401,F403

# training modules
from .update import update_  # noqa: F401,E402
from .batches import epoch_of  # noqa: F401,E402
from . import distributed, schedules  # noqa: F401,E402
# names and state (SPEC §11): named_params, state_dict, load_state_, summary
from .state import *  # noqa: F401,F403,E402
