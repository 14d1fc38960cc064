"""Forward+backward of one LSTM layer, knetpy vs torch.nn.LSTM on the CPU.

Sizes: sequence length 100, batch 128, input 256, hidden 256, float32.  The
loss is sum(y) for both; the knetpy time includes making the weight gradient
dense.  Each side is timed as the best of a few repetitions after a warm-up.

    .venv/bin/python bench/ops_lstm.py
"""
import time

import numpy as np

T, B, X, H = 100, 128, 256, 256


def _best(f, reps):
    f()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


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


def run(reps=5):
    """[(name, knetpy_seconds, torch_seconds)] for the LSTM layer above."""
    return [(f"lstm fwd+bwd T={T} B={B} X={X} H={H} float32",
             _best(_knetpy_lstm(), reps), _best(_torch_lstm(), reps))]


if __name__ == "__main__":
    for name, k, t in run():
        print(f"{name}: knetpy {k * 1e3:.1f} ms, torch {t * 1e3:.1f} ms, ratio {k / t:.2f}x")
