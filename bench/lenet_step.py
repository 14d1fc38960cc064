"""LeNet training steps, knetpy vs PyTorch CPU, at 1 and 2 threads (issue 12's LeNet row).

Model: conv 5x5 1->20, relu, maxpool 2; conv 5x5 20->50, relu, maxpool 2;
dense 800->500 relu; dense 500->10; float32, batch 100, plain SGD lr=0.1, on
random 28x28 images (the timing does not depend on the values).

- time: for each thread count a fresh child process (OPENBLAS/OMP threads and
  ``torch.set_num_threads`` set to it) builds both models and runs
  ``--reps`` rounds, each ``--steps`` knetpy steps then ``--steps`` torch
  steps (alternating, after one warm-up step each); it reports the wall clock
  and the process CPU time of every round and their knetpy/torch ratios.
- memory: each framework in a fresh child at 1 thread: the process's peak
  RSS (VmHWM, reset after setup) minus its RSS before the first step, i.e.
  what training itself adds (scratch buffers and the tape included).
- malloc: importing knetpy tunes glibc's malloc for the whole process
  (``knetpy.backends.host_scratch.tune_malloc``), so in the time children
  torch runs with the same allocator settings as knetpy; the torch memory
  child never imports knetpy.  ``KNETPY_MALLOC_TUNE=0`` turns it off.
- ``--profile``: cProfile of ``--steps`` knetpy steps at 2 threads, top 20
  functions by total time.

    .venv/bin/python bench/lenet_step.py                       # 20 steps x 5 rounds
    .venv/bin/python bench/lenet_step.py --steps 50 --reps 3
    .venv/bin/python bench/lenet_step.py --profile --steps 50
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

BATCH = 100


def _data(nsteps):
    r = np.random.default_rng(0)
    x = r.random((nsteps * BATCH, 1, 28, 28), dtype=np.float32)
    return x, r.integers(0, 10, nsteps * BATCH)


def knetpy_model(x, y):
    """(run(nsteps) -> last loss) for knetpy."""
    import knetpy as K
    from lenet_model import knetpy_lenet
    loss = knetpy_lenet(K)

    def run(nsteps):
        last = None
        for last in K.sgd(loss, K.minibatch(x[:nsteps * BATCH], y[:nsteps * BATCH], BATCH),
                          lr=0.1):
            pass
        return float(last)
    return run


def torch_model(x, y):
    """(run(nsteps) -> last loss) for torch."""
    import torch
    from torch import nn
    model = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    lossf = nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def run(nsteps):
        last = None
        for i in range(0, nsteps * BATCH, BATCH):
            opt.zero_grad()
            last = lossf(model(tx[i:i + BATCH]), ty[i:i + BATCH])
            last.backward()
            opt.step()
        return float(last)
    return run


MODELS = {"knetpy": knetpy_model, "torch": torch_model}


def _timed(run, nsteps):
    w, c = time.perf_counter(), time.process_time()
    run(nsteps)
    return time.perf_counter() - w, time.process_time() - c


def _status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child_time(threads, nsteps, reps):
    import torch
    torch.set_num_threads(threads)
    x, y = _data(nsteps)
    runs = {k: f(x, y) for k, f in MODELS.items()}
    for run in runs.values():
        run(1)
    rounds = []
    for _ in range(reps):
        rounds.append({k: _timed(run, nsteps) for k, run in runs.items()})
    return rounds


def child_mem(framework, nsteps):
    if framework == "torch":
        import torch
        torch.set_num_threads(1)
    x, y = _data(nsteps)
    run = MODELS[framework](x, y)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    rss0 = _status("VmRSS")
    run(nsteps)
    return {"train_MB": _status("VmHWM") - rss0, "peak_MB": _status("VmHWM")}


def child_profile(nsteps):
    import cProfile
    import pstats
    x, y = _data(nsteps)
    run = knetpy_model(x, y)
    run(1)
    prof = cProfile.Profile()
    w = time.perf_counter()
    prof.enable()
    run(nsteps)
    prof.disable()
    print(f"knetpy {nsteps} steps, 2 threads: {time.perf_counter() - w:.3f} s wall (profiled)")
    pstats.Stats(prof).sort_stats("tottime").print_stats(20)


def _spawn(args, threads):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), KNETPY_THREADS=str(threads))
    out = subprocess.run([sys.executable, os.path.abspath(__file__)] + args, env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--child", choices=["time", "mem"])
    ap.add_argument("--framework", default="knetpy")
    a = ap.parse_args(argv)
    if a.child == "time":
        print(json.dumps(child_time(a.threads[0], a.steps, a.reps)))
        return
    if a.child == "mem":
        print(json.dumps(child_mem(a.framework, a.steps)))
        return
    if a.profile:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", KNETPY_THREADS="2")
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, "
                        f"{os.path.dirname(os.path.abspath(__file__))!r}); import lenet_step; "
                        f"lenet_step.child_profile({a.steps})"], env=env, check=True)
        return
    print(f"LeNet, batch {BATCH}, SGD, {a.steps} steps per round, {a.reps} rounds, "
          f"knetpy then torch in each round")
    for t in a.threads:
        rounds = _spawn(["--child", "time", "--threads", str(t), "--steps", str(a.steps),
                         "--reps", str(a.reps)], t)
        print(f"\n{t} thread(s)   knetpy wall/cpu s    torch wall/cpu s    ratio wall  ratio cpu")
        ratios = []
        for r in rounds:
            (kw, kc), (tw, tc) = r["knetpy"], r["torch"]
            ratios.append((kw / tw, kc / tc))
            print(f"            {kw:8.3f} {kc:8.3f}    {tw:8.3f} {tc:8.3f}    {kw / tw:8.2f}"
                  f"  {kc / tc:8.2f}")
        med = np.median(np.array(ratios), axis=0)
        print(f"  median ratio: wall {med[0]:.2f}, cpu {med[1]:.2f}   (goal: wall <= 0.9)")
    if not a.no_memory:
        mem = {f: _spawn(["--child", "mem", "--framework", f, "--steps", str(a.steps)], 1)
               for f in MODELS}
        print(f"\nmemory (1 thread): training adds knetpy {mem['knetpy']['train_MB']:.1f} MB, "
              f"torch {mem['torch']['train_MB']:.1f} MB: ratio "
              f"{mem['knetpy']['train_MB'] / mem['torch']['train_MB']:.2f} (goal <= 1.0); "
              f"process peaks {mem['knetpy']['peak_MB']:.0f} / {mem['torch']['peak_MB']:.0f} MB")


if __name__ == "__main__":
    main()
