"""Where one knetpy MLP training step spends its time (784-256-10, batch 100, SGD).

Runs the MLP of ``bench/train.py`` (Fashion-MNIST, or random data of the same
shape when the dataset is missing) for ``--steps`` steps under cProfile and
prints the top functions by total and by cumulative time; with ``--time``
it instead times knetpy and the hand-written numpy step alternately (best of
``--rounds``, wall and process CPU time).  Set OPENBLAS_NUM_THREADS before running to fix the thread count.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/mlp_step.py --steps 300
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/mlp_step.py --time --steps 200
    .venv/bin/python bench/mlp_step.py --tape     # bench/tape.py's rows, alternating

``--tape`` measures the two tape rows of ``bench/tape.py`` (per op of a 100-op
chain, fixed cost of a 1-op gradient call) for knetpy and torch in turn,
``--rounds`` times, the frameworks alternating so that a busy machine slows
both alike; it prints every round's ratios and those of the best times.
"""
import argparse
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from train import knetpy_mlp, mnist_data, numpy_mlp  # noqa: E402


def tape_rows(rounds):
    """bench/tape.py's per-op and fixed costs, knetpy and torch alternating."""
    import tape
    makers = {"knetpy grad(f)(x)": tape.knetpy_step, "knetpy diff + Param": tape.knetpy_param_step,
              "torch": tape.torch_step}
    steps = {name: (make(tape.K), make(1)) for name, make in makers.items()}
    got = {name: [] for name in makers}
    for r in range(rounds):
        for name, (fk, f1) in steps.items():
            tk = tape.best_per_call(fk, min_time=0.1, reps=3)
            t1 = tape.best_per_call(f1, min_time=0.1, reps=3)
            got[name].append(((tk - t1) / (tape.K - 1), t1))
        line = "  ".join(f"{n}: {got[n][-1][0] / got['torch'][-1][0]:.2f} / "
                         f"{got[n][-1][1] / got['torch'][-1][1]:.2f}" for n in makers if n != "torch")
        print(f"round {r + 1}: per op / fixed vs torch  {line}", flush=True)
    best = {n: (min(v[0] for v in vals), min(v[1] for v in vals)) for n, vals in got.items()}
    for n, (op, fixed) in best.items():
        print(f"{n:22s} best per op {op * 1e6:6.2f} us  fixed {fixed * 1e6:6.1f} us  "
              f"per op / torch {op / best['torch'][0]:.2f}  fixed / torch "
              f"{fixed / best['torch'][1]:.2f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--time", action="store_true", help="time knetpy vs hand numpy instead")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--tape", action="store_true", help="bench/tape.py's rows, alternating")
    a = p.parse_args(argv)
    if a.tape:
        tape_rows(a.rounds)
        return
    x, y, real = mnist_data((a.steps + 1) * 100)
    print(f"data: {'Fashion-MNIST' if real else 'RANDOM (dataset missing)'}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    warm, run = knetpy_mlp(x, y, 100)
    warm()
    if a.time:
        step, nrun = numpy_mlp(x, y, 100)
        step(0)
        best = {"knetpy": [], "numpy": []}
        for _ in range(a.rounds):
            for name, f in (("knetpy", run), ("numpy", nrun)):
                t0, c0 = time.perf_counter(), time.process_time()
                f(a.steps)
                best[name].append((time.perf_counter() - t0, time.process_time() - c0))
        for i, clock in enumerate(("wall", "CPU")):
            k = min(t[i] for t in best["knetpy"])
            n = min(t[i] for t in best["numpy"])
            print(f"{clock:4s}: knetpy {k / a.steps * 1e3:.3f} ms/step  numpy "
                  f"{n / a.steps * 1e3:.3f} ms/step  ratio {k / n:.2f}  (rounds knetpy "
                  f"{[round(t[i], 3) for t in best['knetpy']]}, numpy "
                  f"{[round(t[i], 3) for t in best['numpy']]})")
        return
    prof = cProfile.Profile()
    prof.enable()
    run(a.steps)
    prof.disable()
    st = pstats.Stats(prof)
    st.sort_stats("tottime").print_stats(a.top)
    st.sort_stats("cumulative").print_stats(a.top)


if __name__ == "__main__":
    main()
