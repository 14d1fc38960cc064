"""charLM training steps, knetpy vs PyTorch CPU, alternating in one process.

The model of ``examples/charlm.py`` / ``bench/train.py``: embedding 84->256,
LSTM 256, dense 256->84, nll loss, Adam; BPTT 100, batch 128, float32, random
character ids.  For each thread count (``--threads``, default 1 and 2) a fresh
subprocess sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before numpy loads and
``torch.set_num_threads``; in it both frameworks warm up, then their runs of
``--steps`` training steps alternate (knetpy, torch, knetpy, ...) ``--reps``
times.  Every run is printed (wall and process-CPU seconds per step) with its
pair's ratio, then the median ratio.

    .venv/bin/python bench/charlm_step.py                     # 1 and 2 threads, 3 reps of 5 steps
    .venv/bin/python bench/charlm_step.py --threads 1 --reps 5 --steps 3
    .venv/bin/python bench/charlm_step.py --profile 5         # cProfile of 5 knetpy steps
"""
import argparse
import json
import os
import subprocess
import sys
import time

VOCAB, EMBED, HIDDEN, BPTT, BATCH = 84, 256, 256, 100, 128


def _batches(nsteps, seed=0):
    import numpy as np
    r = np.random.default_rng(seed)
    ids = r.integers(0, VOCAB, (BATCH, BPTT + 1)).astype(np.int64)
    return [(ids[:, :BPTT], ids[:, 1:]) for _ in range(nsteps)]


def knetpy_model():
    """(steps(n) -> last loss): n Adam steps of the knetpy charLM."""
    import knetpy as K
    K.seed(1)
    embed = K.param(VOCAB, EMBED)
    rnn = K.RNN(EMBED, HIDDEN, "lstm")
    wout, bout = K.param(VOCAB, HIDDEN), K.param0(VOCAB)

    def loss(xb, yb):                         # xb, yb: (B, T) ids
        h = rnn(embed[xb.T])                  # (T, B, H) time-major
        return K.nll(K.mat(h, dims=1) @ wout.T + bout, yb.T.reshape(-1))

    def steps(n):
        last = None
        for last in K.adam(loss, _batches(n)):
            pass
        return float(last)
    return steps


def torch_model():
    """(steps(n) -> last loss): n Adam steps of the same model in torch."""
    import torch
    from torch import nn
    torch.manual_seed(1)

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.rnn = nn.LSTM(EMBED, HIDDEN)
            self.out = nn.Linear(HIDDEN, VOCAB)

        def forward(self, xb):                # (B, T) -> (T, B, V)
            h, _ = self.rnn(self.embed(xb.T))
            return self.out(h)

    model = CharLM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()

    def steps(n):
        last = None
        for xb, yb in _batches(n):
            xb, yb = torch.from_numpy(xb), torch.from_numpy(yb)
            opt.zero_grad()
            scores = model(xb)
            last = lossf(scores.reshape(-1, VOCAB), yb.T.reshape(-1))
            last.backward()
            opt.step()
        return float(last)
    return steps


def _timed(f, n):
    w, c = time.perf_counter(), time.process_time()
    f(n)
    return (time.perf_counter() - w) / n, (time.process_time() - c) / n


def child(threads, steps, reps):
    """Alternate the frameworks' runs in this process; print one JSON line."""
    import torch
    torch.set_num_threads(threads)
    k, t = knetpy_model(), torch_model()
    k(1), t(1)                                # warm-up
    runs = []
    for _ in range(reps):
        runs.append((_timed(k, steps), _timed(t, steps)))
    print(json.dumps({"threads": threads, "runs": runs}))


def profile(steps):
    """cProfile of knetpy steps (after a warm-up), the top 25 by internal time."""
    import cProfile
    import pstats
    k = knetpy_model()
    k(1)
    pr = cProfile.Profile(time.process_time)
    pr.enable()
    k(steps)
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(25)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--steps", type=int, default=5, help="training steps per run")
    p.add_argument("--reps", type=int, default=3, help="alternating run pairs")
    p.add_argument("--profile", type=int, default=0, help="profile N knetpy steps instead")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    o = p.parse_args(argv)
    if o.child:
        return child(o.child, o.steps, o.reps)
    if o.profile:
        return profile(o.profile)
    print(f"charLM step: embedding {VOCAB}->{EMBED}, LSTM {HIDDEN}, BPTT {BPTT}, batch {BATCH}, "
          f"Adam, float32; {o.reps} alternating runs of {o.steps} steps")
    for n in (int(s) for s in o.threads.split(",")):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(n), OMP_NUM_THREADS=str(n),
                   MKL_NUM_THREADS=str(n))
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--steps",
                              str(o.steps), "--reps", str(o.reps)], env=env, check=True,
                             capture_output=True, text=True).stdout
        res = json.loads(out.strip().splitlines()[-1])
        ratios, cratios = [], []
        for j, ((kw, kc), (tw, tc)) in enumerate(res["runs"]):
            ratios.append(kw / tw)
            cratios.append(kc / tc)
            print(f"  {n} thread(s) run {j + 1}: knetpy {kw * 1e3:7.1f} ms/step "
                  f"(cpu {kc * 1e3:7.1f}), torch {tw * 1e3:7.1f} ms/step (cpu {tc * 1e3:7.1f}); "
                  f"wall ratio {kw / tw:.2f}x, cpu ratio {kc / tc:.2f}x")
        ratios.sort(), cratios.sort()
        print(f"{n} thread(s): median knetpy/torch wall {ratios[len(ratios) // 2]:.2f}x, "
              f"cpu {cratios[len(cratios) // 2]:.2f}x")


if __name__ == "__main__":
    main()
