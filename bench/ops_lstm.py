"""Forward+backward of one LSTM layer, knetpy vs torch.nn.LSTM on the CPU.

Sizes: sequence length 100, batch 128, input 256, hidden 256, float32.  The
loss is sum(y) for both; the knetpy time includes making the weight gradient
dense.  After a warm-up the two sides' repetitions alternate, so a busy
machine slows both alike; ``run`` gives each side's best, the script prints
every repetition (wall and process-CPU time) and its ratio.

    .venv/bin/python bench/ops_lstm.py
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/ops_lstm.py --threads 1
"""
import sys
import time

import numpy as np

T, B, X, H = 100, 128, 256, 256


def _pairs(k, t, reps):
    """[((knetpy wall, cpu), (torch wall, cpu))] of ``reps`` alternating runs."""
    k()
    t()
    out = []
    for _ in range(reps):
        pair = []
        for f in (k, t):
            w, c = time.perf_counter(), time.process_time()
            f()
            pair.append((time.perf_counter() - w, time.process_time() - c))
        out.append(tuple(pair))
    return out
def _knetpy_lstm():
    from autograd import Sparse, diff, grad
    from knetpy.rnn import RNN
    rnn = RNN(X, H, "lstm")
    x = np.random.randn(T, B, X).astype(np.float32)

    def step():
        y = diff(lambda: np.sum(rnn(x)))
        g = grad(y, rnn.w)
        return g.dense() if isinstance(g, Sparse) else g
    return step


def _torch_lstm():
    import torch
    lstm = torch.nn.LSTM(X, H)
    x = torch.randn(T, B, X)

    def step():
        lstm.zero_grad()
        y, _ = lstm(x)
        y.sum().backward()
    return step


NAME = f"lstm fwd+bwd T={T} B={B} X={X} H={H} float32"


def run(reps=5):
    """[(name, knetpy_seconds, torch_seconds)] for the LSTM layer above: each
    side's best wall time over alternating repetitions."""
    pairs = _pairs(_knetpy_lstm(), _torch_lstm(), reps)
    return [(NAME, min(p[0][0] for p in pairs), min(p[1][0] for p in pairs))]


def main(argv):
    import torch
    if "--threads" in argv:
        torch.set_num_threads(int(argv[argv.index("--threads") + 1]))
    print(f"{NAME}, torch threads {torch.get_num_threads()}")
    for j, ((kw, kc), (tw, tc)) in enumerate(_pairs(_knetpy_lstm(), _torch_lstm(), 5)):
        print(f"  run {j + 1}: knetpy {kw * 1e3:.1f} ms (cpu {kc * 1e3:.1f}), torch "
              f"{tw * 1e3:.1f} ms (cpu {tc * 1e3:.1f}); wall ratio {kw / tw:.2f}x, "
              f"cpu ratio {kc / tc:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
