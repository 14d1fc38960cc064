"""Cost of the tape itself: knetpy's autograd vs PyTorch CPU vs HIPS autograd.

Two figures per framework, both forward + backward on 10-element float64
arrays, where the arithmetic is negligible and only the bookkeeping counts:

* per op: a chain of K = 100 elementwise ops (sin, tanh, multiply by a
  constant, add a constant, in turn); (time(K=100) - time(K=1)) / 99.
* fixed cost: one gradient call of a function with K = 1 op.

HIPS autograd has the same import name as ours, so it runs in its own venv
(``bench/.hips-venv``, made here with ``pip install autograd`` on first use)
in a subprocess that runs this file with ``--hips``.

    .venv/bin/python bench/tape.py
    .venv/bin/python bench/tape.py --knetpy-only   # our two rows only (no torch, no HIPS)

``--knetpy-only`` is for comparing two versions of the tape: run this file with
``PYTHONPATH`` pointing at the other checkout, alternating the two.  ``--cpu``
times with the process's CPU clock instead of the wall clock (steadier on a
busy machine: time spent waiting for a core is not counted).

``--ab DIR [ROUNDS]`` compares the tape of another checkout DIR (e.g. made with
``git worktree add /tmp/base HEAD~3`` or ``git archive``) with this one inside
one process: both ``autograd`` packages are copied under other names (their
absolute imports rewritten), and the two rows are timed back to back on the
CPU clock in ROUNDS (default 40) short rounds, alternating which goes first;
it prints the medians and the quartiles of the per-round ratios new/base.
On a shared machine this pairs every measurement with one taken under the
same load, which separate runs cannot do.
"""
import os
import subprocess
import sys
import time

import numpy as np

N, K = 10, 100
HERE = os.path.dirname(os.path.abspath(__file__))
HIPS_VENV = os.path.join(HERE, ".hips-venv")


def chain(np_, x, k):
    """k cheap elementwise ops in turn, then a sum (the same code for every numpy-like module)."""
    for i in range(k):
        r = i % 4
        x = np_.sin(x) if r == 0 else np_.tanh(x) if r == 1 else x * 1.01 if r == 2 else x + 0.1
    return np_.sum(x)


CLOCK = time.process_time if "--cpu" in sys.argv else time.perf_counter


def best_per_call(f, min_time=0.2, reps=5):
    """Best over ``reps`` rounds of the mean time of one call of f()."""
    f()
    n, t = 1, 0.0
    while t < min_time / reps:            # calibrate the number of calls per round
        n *= 2
        t0 = CLOCK()
        for _ in range(n):
            f()
        t = CLOCK() - t0
    best = t / n
    for _ in range(reps - 1):
        t0 = CLOCK()
        for _ in range(n):
            f()
        best = min(best, (CLOCK() - t0) / n)
    return best


def costs(make_step):
    """(seconds per op, fixed seconds per gradient call) from steps of K and 1 ops."""
    t_k, t_1 = best_per_call(make_step(K)), best_per_call(make_step(1))
    return (t_k - t_1) / (K - 1), t_1


def knetpy_step(k):
    from autograd import grad
    g = grad(lambda x: chain(np, x, k))
    x = np.linspace(0.1, 1.0, N)
    return lambda: g(x)


def knetpy_param_step(k):
    from autograd import Param, diff, grad
    w = Param(np.linspace(0.1, 1.0, N))
    return lambda: grad(diff(lambda: chain(np, w, k)), w)


def torch_step(k):
    import torch
    torch.set_num_threads(1)
    x = torch.linspace(0.1, 1.0, N, dtype=torch.float64, requires_grad=True)

    def step():
        x.grad = None
        chain(torch, x, k).backward()
        return x.grad
    return step


def hips_step(k):
    import autograd
    import autograd.numpy as anp
    g = autograd.grad(lambda x: chain(anp, x, k))
    x = np.linspace(0.1, 1.0, N)
    return lambda: g(x)


def hips_costs():
    """Run this file under the HIPS venv; None when it cannot be made."""
    py = os.path.join(HIPS_VENV, "bin", "python")
    if not os.path.exists(py):
        try:
            subprocess.run([sys.executable, "-m", "venv", HIPS_VENV], check=True)
            subprocess.run([py, "-m", "pip", "install", "-q", "autograd", "numpy"], check=True)
        except (subprocess.CalledProcessError, OSError) as e:
            print(f"HIPS autograd unavailable ({e}); skipped")
            return None
    # cwd=/ so that our own `autograd` folder is not on the path
    out = subprocess.run([py, os.path.abspath(__file__), "--hips"], cwd="/",
                         capture_output=True, text=True)
    if out.returncode:
        print(f"HIPS autograd run failed:\n{out.stderr}")
        return None
    per_op, fixed = map(float, out.stdout.split())
    return per_op, fixed


def _renamed_copy(src, name, dest):
    """Copy package folder ``src`` (an ``autograd``) to ``dest/name`` with its
    absolute ``autograd`` imports pointing at ``name``; returns ``name``."""
    import re
    import shutil
    target = os.path.join(dest, name)
    shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
    pattern = re.compile(r"^(\s*)(from|import) autograd\b", re.M)
    for root, _, files in os.walk(target):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(root, f)
                with open(path) as fh:
                    text = fh.read()
                with open(path, "w") as fh:
                    fh.write(pattern.sub(lambda m: f"{m[1]}{m[2]} {name}", text))
    return name


def ab(base_dir, rounds=40):
    """ab(base_dir, rounds=40): paired comparison of the tape in checkout
    ``base_dir`` (base) and this checkout (new), both in this process (see the
    module docstring).  Example: ``python bench/tape.py --ab /tmp/base 40``."""
    import importlib
    import statistics
    import tempfile
    global CLOCK
    CLOCK = time.process_time
    tmp = tempfile.mkdtemp(prefix="tape-ab-")
    mods = {}
    for label, src in (("base", os.path.join(base_dir, "autograd")),
                       ("new", os.path.join(HERE, os.pardir, "autograd"))):
        sys.path.insert(0, tmp)
        mods[label] = importlib.import_module(_renamed_copy(src, f"autograd_{label}", tmp))

    def grad_step(m, k):
        g = m.grad(lambda x: chain(np, x, k))
        x = np.linspace(0.1, 1.0, N)
        return lambda: g(x)

    def param_step(m, k):
        w = m.Param(np.linspace(0.1, 1.0, N))
        return lambda: m.grad(m.diff(lambda: chain(np, w, k)), w)

    def per_call(f, n):
        t0 = CLOCK()
        for _ in range(n):
            f()
        return (CLOCK() - t0) / n
    print(f"paired rounds, process CPU time; base {base_dir}, new {os.path.dirname(HERE)}")
    for name, make in (("grad(f)(x)", grad_step), ("diff + Param", param_step)):
        fs = {lab: (make(m, K), make(m, 1)) for lab, m in mods.items()}
        op = {"base": [], "new": []}
        fixed = {"base": [], "new": []}
        for r in range(rounds):
            for lab in ("base", "new") if r % 2 == 0 else ("new", "base"):
                tk, t1 = per_call(fs[lab][0], 60), per_call(fs[lab][1], 600)
                op[lab].append((tk - t1) / (K - 1))
                fixed[lab].append(t1)
        for what, d, unit in (("per op", op, 1e6), ("fixed", fixed, 1e6)):
            ratio = [n / b for b, n in zip(d["base"], d["new"])]
            q = statistics.quantiles(ratio, n=4)
            print(f"{name:13s}{what:7s} base {statistics.median(d['base']) * unit:6.2f} µs, "
                  f"new {statistics.median(d['new']) * unit:6.2f} µs; new/base median "
                  f"{statistics.median(ratio):.3f} (quartiles {q[0]:.3f}-{q[2]:.3f})")


def main(knetpy_only=False):
    """Measure and print the table (only knetpy's rows with ``knetpy_only``)."""
    rows = [("knetpy grad(f)(x)", costs(knetpy_step)),
            ("knetpy diff + Param", costs(knetpy_param_step))]
    if knetpy_only:
        import autograd
        print(f"autograd from {os.path.dirname(autograd.__file__)}")
        for name, (op, fixed) in rows:
            print(f"{name:22s}{op * 1e6:8.2f} µs/op{fixed * 1e6:10.1f} µs fixed")
        return
    try:
        rows.append(("torch CPU", costs(torch_step)))
    except ImportError:
        print("torch not installed (pip install torch==2.13.0); skipped")
    hips = hips_costs()
    if hips:
        rows.append(("HIPS autograd", hips))
    ref = dict(rows)
    print(f"chain of {K} elementwise ops on {N}-element float64 arrays, forward + backward")
    print(f"{'':22s}{'µs/op':>8s}{'fixed µs':>10s}{'op/torch':>10s}{'fixed/torch':>13s}{'op/HIPS':>9s}")
    for name, (op, fixed) in rows:
        line = f"{name:22s}{op * 1e6:8.2f}{fixed * 1e6:10.1f}"
        if "torch CPU" in ref:
            t_op, t_fixed = ref["torch CPU"]
            line += f"{op / t_op:10.2f}{fixed / t_fixed:13.2f}"
        if hips:
            line += f"{op / hips[0]:9.2f}"
        print(line)


if __name__ == "__main__":
    if "--ab" in sys.argv:
        i = sys.argv.index("--ab")
        rest = [a for a in sys.argv[i + 1:] if not a.startswith("--")]
        ab(rest[0], int(rest[1]) if len(rest) > 1 else 40)
    elif "--hips" in sys.argv:
        print(*costs(hips_step))
    else:
        main(knetpy_only="--knetpy-only" in sys.argv)
