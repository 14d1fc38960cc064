"""Short GPU training benchmark: knetpy on its CUDA kernels vs PyTorch CUDA.

Three models (float32, random data of the real shapes, so no download):
MLP 784-256-10 (SGD, batch 100), LeNet (conv 5x5 20, pool, conv 5x5 50, pool,
dense 500, dense 10; Adam, batch 100) and a character LSTM language model
(embedding 84->256, LSTM 256, dense 256->84; Adam, BPTT 100, batch 128).
Each round times ``--steps`` training steps of knetpy, then of torch, for
every model (alternating, so drifting clocks hit both), after one warm-up
step each; the report gives the median seconds per step and the ratio
knetpy/torch (below 1: knetpy is faster).

    python bench/gpu_bench.py                 # on a GPU: knetpy.gpu(0) and torch cuda
    python bench/gpu_bench.py --dry           # CPU check of this script: 2 steps on
                                              # knetpy's numpy backend, no torch
"""
import argparse
import statistics
import sys
import time

import numpy as np

HIDDEN, VOCAB, BPTT, BATCH_TEXT = 256, 84, 100, 128


def knetpy_models(dry):
    """{name: (setup() -> step function)} for knetpy; the step returns the loss."""
    import knetpy as K
    rng = np.random.default_rng(0)

    def dev(a):
        return a if dry else K.KnetArray(a)

    def image(conv):
        x = rng.standard_normal((100, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 100)
        if conv:
            from lenet_model import knetpy_lenet
            loss = knetpy_lenet(K)
            train = K.adam
        else:
            w = [K.param(256, 784), K.param0(256), K.param(10, 256), K.param0(10)]

            def loss(xb, yb):
                h = K.relu(K.mat(xb) @ w[0].T + w[1])
                return K.nll(h @ w[2].T + w[3], yb)
            train = K.sgd
        xb, yb = dev(x), y

        def steps(n):
            last = None
            for last in train(loss, [(xb, yb)] * n):
                pass
            return float(last)
        return steps

    def charlm():
        embed = K.param(VOCAB, HIDDEN)
        rnn = K.RNN(HIDDEN, HIDDEN, "lstm")
        wout, bout = K.param(VOCAB, HIDDEN), K.param0(VOCAB)
        ids = rng.integers(0, VOCAB, (BATCH_TEXT, BPTT + 1))
        xb, yb = ids[:, :-1], ids[:, 1:]

        def loss(xb, yb):
            h = rnn(embed[xb.T])
            return K.nll(K.mat(h, dims=1) @ wout.T + bout, yb.T.reshape(-1))

        def steps(n):
            last = None
            for last in K.adam(loss, [(xb, yb)] * n):
                pass
            return float(last)
        return steps
    return {"mlp": lambda: image(False), "lenet": lambda: image(True), "charlm": charlm}


def torch_models():
    """{name: (setup() -> step function)} for torch on CUDA."""
    import torch
    from torch import nn
    dev = torch.device("cuda")
    g = torch.Generator(device="cpu").manual_seed(0)

    def loop(model, opt, xb, yb):
        lossf = nn.CrossEntropyLoss()

        def steps(n):
            for _ in range(n):
                opt.zero_grad()
                s = model(xb)
                loss = lossf(s.reshape(-1, s.shape[-1]), yb.reshape(-1))
                loss.backward()
                opt.step()
            torch.cuda.synchronize()
            return float(loss)
        return steps

    def image(conv):
        if conv:
            m = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5),
                              nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 500),
                              nn.ReLU(), nn.Linear(500, 10)).to(dev)
            opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        else:
            m = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                              nn.Linear(256, 10)).to(dev)
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
        x = torch.randn((100, 1, 28, 28), generator=g).to(dev)
        return loop(m, opt, x, torch.randint(0, 10, (100,), generator=g).to(dev))

    def charlm():
        class CharLM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed, self.rnn = nn.Embedding(VOCAB, HIDDEN), nn.LSTM(HIDDEN, HIDDEN)
                self.out = nn.Linear(HIDDEN, VOCAB)

            def forward(self, xb):
                return self.out(self.rnn(self.embed(xb.T))[0])
        m = CharLM().to(dev)
        ids = torch.randint(0, VOCAB, (BATCH_TEXT, BPTT + 1), generator=g).to(dev)
        return loop(m, torch.optim.Adam(m.parameters(), lr=1e-3), ids[:, :-1], ids[:, 1:].T)
    return {"mlp": lambda: image(False), "lenet": lambda: image(True), "charlm": charlm}


def timed(steps, n):
    t = time.perf_counter()
    loss = steps(n)
    if not np.isfinite(loss):
        raise FloatingPointError(f"non-finite loss {loss}")
    return (time.perf_counter() - t) / n


def main(argv=None):
    """main(argv=None): run the benchmark (see the module docstring); returns
    {model: {framework: median seconds per step}}."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=20, help="steps per timed run")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    p.add_argument("--models", default="mlp,lenet,charlm")
    p.add_argument("--dry", action="store_true", help="2 steps on the numpy backend, no torch")
    a = p.parse_args(argv)
    import knetpy
    if a.dry:
        a.steps, a.rounds = 2, 1
    else:
        knetpy.gpu(0)
    names = a.models.split(",")
    fw = {"knetpy": knetpy_models(a.dry)}
    if not a.dry:
        fw["torch"] = torch_models()
    runs = {}
    for name in names:
        for f, models in fw.items():
            steps = models[name]()
            steps(1)                                   # warm-up: compile, allocate
            runs[name, f] = steps
    times = {(n, f): [] for n, f in runs}
    for _ in range(a.rounds):
        for name in names:
            for f in fw:
                times[name, f].append(timed(runs[name, f], a.steps))
    out = {n: {f: statistics.median(times[n, f]) for f in fw} for n in names}
    device = "numpy backend (dry run)" if a.dry else "GPU 0"
    print(f"{'model':8} {'knetpy ms/step':>15} {'torch ms/step':>14} {'knetpy/torch':>13}  ({device})")
    for n, r in out.items():
        k, t = r["knetpy"] * 1e3, r.get("torch")
        print(f"{n:8} {k:15.2f} " + (f"{t * 1e3:14.2f} {k / (t * 1e3):13.2f}" if t else
                                     f"{'-':>14} {'-':>13}"))
    return out


if __name__ == "__main__":
    main()
    sys.exit(0)
