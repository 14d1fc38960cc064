"""Where one knetpy MLP training step spends its time (784-256-10, batch 100, SGD).

Runs the MLP of ``bench/train.py`` (Fashion-MNIST, or random data of the same
shape when the dataset is missing) for ``--steps`` steps under cProfile and
prints the top functions by total and by cumulative time; with ``--time``
it instead times knetpy and the hand-written numpy step alternately (best of
``--rounds``, wall and process CPU time).  Set OPENBLAS_NUM_THREADS before running to fix the thread count.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/mlp_step.py --steps 300
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/mlp_step.py --time --steps 200
"""
import argparse
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from train import knetpy_mlp, mnist_data, numpy_mlp  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--time", action="store_true", help="time knetpy vs hand numpy instead")
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args(argv)
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
