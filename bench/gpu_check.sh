#!/usr/bin/env bash
# gpu_check.sh: the one prepared check of knetpy on a machine with an NVIDIA GPU.
# Expects Python 3.12 with CuPy (cupy-cuda13x), torch, h5py, scipy and tqdm installed;
# finishes in about 8 minutes or less:
#   1. pip install --no-deps -e .          (knetpy itself, no dependency changes)
#   2. python -m pytest -m gpu -q          (the kernels on the real GPU vs numpy)
#   3. python bench/gpu_bench.py           (MLP, LeNet, charLM steps vs torch CUDA, ratios)
# Usage: bash bench/gpu_check.sh [--dry]   (--dry: no install, no GPU tests, a 2-step
#                                          benchmark on the numpy backend: a CPU smoke run)
set -u -o pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
DRY=0
[ "${1:-}" = "--dry" ] && DRY=1
status=0

step() { echo; echo "=== $* ($(date +%T))"; }

step "environment"
"$PY" --version
"$PY" - <<'PYEOF' || status=1
import importlib
for m in ("numpy", "cupy", "torch", "scipy", "h5py", "tqdm"):
    try:
        mod = importlib.import_module(m)
        print(f"{m:6} {getattr(mod, '__version__', '?')}")
    except Exception as e:                      # report and go on: the steps below say more
        print(f"{m:6} MISSING ({type(e).__name__}: {e})")
try:
    import cupy
    n = cupy.cuda.runtime.getDeviceCount()
    p = cupy.cuda.runtime.getDeviceProperties(0) if n else {}
    print("GPUs:", n, p.get("name", b"").decode() if p else "")
except Exception as e:
    print("no CUDA device:", e)
PYEOF

if [ "$DRY" = 0 ]; then
    step "pip install --no-deps -e ."
    timeout 120 "$PY" -m pip install --no-deps -q -e . || status=1

    step "pytest -m gpu"
    timeout 300 "$PY" -m pytest -m gpu -q -p no:cacheprovider tests || status=1

    step "GPU training benchmark (knetpy vs torch CUDA, alternating)"
    timeout 180 "$PY" bench/gpu_bench.py --steps 20 --rounds 3 || status=1
else
    step "dry benchmark (numpy backend, 2 steps, no torch)"
    timeout 300 "$PY" bench/gpu_bench.py --dry || status=1
fi

step "done: status $status"
exit $status
