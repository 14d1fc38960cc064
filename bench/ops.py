"""Forward+backward of knetpy's conv4, pool and LSTM layer against PyTorch CPU.

Each row times one training step of a single operation (the loss is sum(y);
gradients w.r.t. every input are computed), knetpy and torch in the same run,
as the best of several repetitions after a warm-up (conv and pool alternate
knetpy and torch repetitions, so a busy machine slows both alike), and prints
the ratios knetpy time / torch time (below 1 means knetpy is faster) of wall
time and of process CPU time.  By default every row runs twice, in a child
process with 1 thread each (OpenBLAS and torch) and in one with 2 threads
each (thread counts must be fixed before numpy loads OpenBLAS).

    .venv/bin/python bench/ops.py              # all rows, 1 and 2 threads
    .venv/bin/python bench/ops.py conv pool    # some rows (conv, pool, lstm)
    .venv/bin/python bench/ops.py --threads 1 pool   # one thread count only

Sizes: conv 64x3x32x32 input, 64x3x5x5 filters (cross-correlation, as torch);
pool 64x64x28x28 input, 2x2 max and 3x3/stride 2/padding 1 average; LSTM
from bench/ops_lstm.py (T=100, B=128, X=H=256).  All float32.
"""
import os
import sys
import time

THREADS = None
if "--one-thread" in sys.argv:       # the older spelling of --threads 1
    _i = sys.argv.index("--one-thread")
    sys.argv[_i:_i + 1] = ["--threads", "1"]
if "--threads" in sys.argv:          # must be set before numpy loads OpenBLAS
    THREADS = int(sys.argv[sys.argv.index("--threads") + 1])
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = str(THREADS)

import subprocess  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _clock():
    return time.perf_counter(), time.process_time()


def _best_pair(k, t, reps):
    """((best knetpy wall, best knetpy CPU), (best torch wall, best torch CPU)),
    the two alternating so that a busy machine slows both alike."""
    k()
    t()
    bk = [float("inf")] * 2
    bt = [float("inf")] * 2
    for _ in range(reps):
        c0 = _clock()
        k()
        c1 = _clock()
        t()
        c2 = _clock()
        bk = [min(b, e - s) for b, s, e in zip(bk, c0, c1)]
        bt = [min(b, e - s) for b, s, e in zip(bt, c1, c2)]
    return tuple(bk), tuple(bt)


def _knetpy_step(fn, *arrays):
    from autograd import Param, diff, grad
    ps = [Param(a) for a in arrays]

    def step():
        r = diff(lambda: np.sum(fn(*ps)))
        return [grad(r, p) for p in ps]
    return step


def _torch_step(fn, *arrays):
    import torch
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]

    def step():
        for t in ts:
            t.grad = None
        fn(*ts).sum().backward()
    return step


def conv_rows(reps=10):
    import torch.nn.functional as F
    from knetpy import conv4
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3, 32, 32), dtype=np.float32)
    w = rng.standard_normal((64, 3, 5, 5), dtype=np.float32)
    rows = [("conv4 fwd+bwd x 64x3x32x32, w 64x3x5x5 float32",
             _knetpy_step(lambda w, x: conv4(w, x, mode=1), w, x),
             _torch_step(lambda w, x: F.conv2d(x, w), w, x)),
            ("conv4 fwd+bwd same, padding=2 stride=2",
             _knetpy_step(lambda w, x: conv4(w, x, padding=2, stride=2, mode=1), w, x),
             _torch_step(lambda w, x: F.conv2d(x, w, padding=2, stride=2), w, x))]
    return [(name, *_best_pair(k, t, reps)) for name, k, t in rows]


def pool_rows(reps=10):
    import torch.nn.functional as F
    from knetpy import pool
    x = np.random.default_rng(1).standard_normal((64, 64, 28, 28), dtype=np.float32)
    rows = [("pool max 2x2 fwd+bwd x 64x64x28x28 float32",
             _knetpy_step(lambda x: pool(x), x),
             _torch_step(lambda x: F.max_pool2d(x, 2), x)),
            ("pool avg 3x3 stride 2 padding 1 fwd+bwd (mode 1)",
             _knetpy_step(lambda x: pool(x, window=3, stride=2, padding=1, mode=1), x),
             _torch_step(lambda x: F.avg_pool2d(x, 3, 2, 1), x))]
    return [(name, *_best_pair(k, t, reps)) for name, k, t in rows]


def lstm_rows(reps=5):
    import ops_lstm
    return [(name, (k, k), (t, t)) for name, k, t in ops_lstm.run(reps)]


ROWS = {"conv": conv_rows, "pool": pool_rows, "lstm": lstm_rows}


def run(which=("conv", "pool", "lstm")):
    """[(name, (knetpy wall, CPU), (torch wall, CPU))] for the chosen groups of rows."""
    out = []
    for key in which:
        out += ROWS[key]()
    return out


def _report(which):
    import torch
    torch.set_num_threads(THREADS)
    print(f"== {THREADS} thread(s) each: torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), numpy {np.__version__}", flush=True)
    for name, k, t in run(which):
        print(f"{name}: knetpy {k[0] * 1e3:.1f} ms, torch {t[0] * 1e3:.1f} ms, wall ratio "
              f"{k[0] / t[0]:.2f}x, CPU ratio {k[1] / t[1]:.2f}x", flush=True)


def main(argv):
    args = list(argv)
    if "--threads" in args:
        i = args.index("--threads")
        del args[i:i + 2]
    which = args or list(ROWS)
    bad = [w for w in which if w not in ROWS]
    if bad:
        raise SystemExit(f"bench/ops.py: unknown rows {bad}; choose from {list(ROWS)}")
    if THREADS is not None:
        _report(which)
        return
    for n in (1, 2):
        subprocess.run([sys.executable, os.path.abspath(__file__), "--threads", str(n)] + which,
                       check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
