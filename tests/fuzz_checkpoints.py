"""Fuzz ``load`` with resealed byte mutations of a real checkpoint.

    python tests/fuzz_checkpoints.py [N] [SEED]      (``make fuzz`` runs 5,000)

Each mutation changes 1-16 random bytes after the header and recomputes the
SHA-256 header (as an attacker can; there is no key, so ``load`` treats the
file as foreign).  Each load runs in a forked process with a 2 GiB memory
limit and a 60 s timeout.  Outcomes: loaded (the bytes were unused),
refused (CheckpointError), crash (a signal), hang (timeout), other error
(any other exception).  Exit status 1 unless crashes, hangs and other
errors are all 0.
"""
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_attacks import in_child, mutate  # noqa: E402


def base_checkpoint(path):
    """A small checkpoint with many node kinds: a layer, Adam state, dicts, strings."""
    import knetpy
    from knetpy import layers as L
    knetpy.seed(0)
    m = L.Chain(L.Dense(3, 2, knetpy.relu))
    for p in knetpy.params(m):
        p.opt = knetpy.Adam()
        knetpy.update_(p, np.ones_like(p.value))
    knetpy.save(path, model=m, meta={"epoch": 3, 7: (1.5, "two")}, words=np.array(["a", "bc"]))


def run(n, seed=0, timeout=60.0, mem=2 << 30, log=None):
    """run(n, seed) -> dict of outcome counts over ``n`` mutations."""
    from knetpy import load
    work = tempfile.mkdtemp(prefix="knetpy-fuzz-")
    base = os.path.join(work, "base.h5")
    base_checkpoint(base)
    data = open(base, "rb").read()
    target = os.path.join(work, "m.h5")
    counts = {"loaded": 0, "refused": 0, "crash": 0, "hang": 0, "other": 0,
              "reader_died": 0, "reader_timed_out": 0}
    examples = []
    rng = np.random.default_rng(seed)
    for i in range(n):
        with open(target, "wb") as fh:
            fh.write(mutate(data, rng))
        how, what = in_child(lambda: load(target, timeout=10) and "loaded", mem, timeout)
        if how == "ok":
            key = "loaded"
        elif how == "raised":
            key = "refused" if what.startswith("CheckpointError") else "other"
        else:
            key = how
        counts[key] += 1
        if key == "refused" and "made the HDF5 reader fail" in what:
            counts["reader_died"] += 1             # HDF5 crashed in the isolated child
        if key == "refused" and "took more than" in what:
            counts["reader_timed_out"] += 1
        if key in ("crash", "hang", "other") and len(examples) < 20:
            bad = os.path.join(work, f"bad-{i}.h5")
            os.replace(target, bad)
            examples.append(f"{key}: {what} ({bad})")
        if log and (i + 1) % 500 == 0:
            log(f"  {i + 1}/{n}: {counts}")
    for e in examples:
        print(e)
    return counts


def main(argv):
    n = int(argv[1]) if len(argv) > 1 else 5000
    seed = int(argv[2]) if len(argv) > 2 else 0
    t0 = time.time()
    c = run(n, seed, log=print)
    print(f"fuzz: {n} resealed mutations in {time.time() - t0:.0f} s: {c['loaded']} loaded, "
          f"{c['refused']} refused (CheckpointError; of these the isolated HDF5 reader died "
          f"{c['reader_died']} times and timed out {c['reader_timed_out']} times); "
          f"crashes {c['crash']}, hangs {c['hang']}, other errors {c['other']}")
    return 0 if c["crash"] == c["hang"] == c["other"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
