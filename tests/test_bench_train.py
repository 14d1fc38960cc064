"""bench/train.py's report logic (no timing here: the benchmark itself never
runs in the test suite)."""
import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "_bench_train", os.path.join(HERE, "..", "bench", "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _timing(model, times, real=True):
    return {"kind": "time", "model": model, "threads": 2, "steps": 10, "times": times,
            "loss": {fw: 1.0 for fw in times}, "real_data": real}


def test_time_ratios_use_the_best_run_of_each_and_check_the_goals(bench):
    r = _timing("mlp", {"numpy": [(1.0, 0.9), (0.8, 0.8)], "knetpy": [(0.85, 0.86), (0.9, 0.9)],
                        "torch": [(1.0, 1.0), (1.2, 1.1)]})
    text = "\n".join(bench.time_lines(r))
    assert "knetpy/numpy  wall  1.06x  CPU  1.07x  (goal <= 1.1x: ok)" in text
    assert "knetpy/torch  wall  0.85x  CPU  0.86x  (goal <= 0.9x: ok)" in text
    assert "per round: 0.85 1.12" in text          # vs numpy, round by round
    r = _timing("lenet", {"knetpy": [(1.0, 1.0)], "torch": [(1.0, 1.0)]}, real=False)
    text = "\n".join(bench.time_lines(r))
    assert "goal <= 0.9x: MISSED" in text and "RANDOM data" in text


def test_memory_ratio_against_torch(bench):
    rows = [{"kind": "memory", "model": m, "framework": fw, "threads": 1, "steps": 3,
             "train_mb": mb, "peak_mb": 100.0, "real_data": True}
            for m, fw, mb in (("charlm", "knetpy", 90.0), ("charlm", "torch", 100.0),
                              ("lenet", "knetpy", 30.0), ("lenet", "torch", 15.0))]
    rows.append({"error": "boom", "args": {"model": "mlp"}, "threads": 1})
    text = "\n".join(bench.memory_lines(rows))
    assert "charlm  knetpy/torch train memory  0.90x (1 thread(s); goal <= 1.0x: ok)" in text
    assert "lenet   knetpy/torch train memory  2.00x" in text and "MISSED" in text
    assert "memory FAILED" in text


def test_thread_count_comes_from_the_blas_variables(bench, monkeypatch):
    for var in bench.THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert bench.blas_threads() == 3
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert bench.blas_threads() == 2
