"""Random straight-line programs (tests/random_programs.py) against PyTorch float64: the
value, the gradients of every input in both forms (grad(f, argnum), Param + diff) and a
Hessian-vector product (second order) must agree with torch.autograd.  Seeded:
ORACLE_PROGRAMS_SEED (default 0), ORACLE_PROGRAMS_N programs (default 5000).  Each
failure is shrunk to its shortest failing program and printed with the seed that rebuilds
it (``generate(seed, index)``)."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from random_ops import FAMILIES  # noqa: E402
from random_programs import (autograd_grads, close, directions, env_int,  # noqa: E402
                             family_counts, hvp, run_programs, weights)

torch = pytest.importorskip("torch")
SEED = env_int("ORACLE_PROGRAMS_SEED", 0)
N = env_int("ORACLE_PROGRAMS_N", 5000)
RTOL, ATOL = 1e-7, 1e-9


def torch_run(prog):
    """(value, gradients, Hessian-vector product) of the program's loss in torch float64;
    the hvp uses the same direction as random_programs.hvp."""
    xs = [torch.tensor(np.array(x, dtype=np.float64), requires_grad=True)
          for x in prog.inputs]
    vals = list(xs)
    for op, p, args in prog.steps:
        vals.append(op.th(torch, p, *[vals[a] for a in args]))
    out = vals[-1]
    lo = (out * torch.as_tensor(weights(tuple(out.shape)))).sum()
    gs = torch.autograd.grad(lo, xs, create_graph=True, allow_unused=True,
                             materialize_grads=True)
    us = directions(prog, 1)[0]
    inner = sum((g * torch.as_tensor(u)).sum() for g, u in zip(gs, us))
    hs = torch.autograd.grad(inner, xs, allow_unused=True, materialize_grads=True) \
        if inner.requires_grad else [torch.zeros_like(x) for x in xs]
    return (lo.item(), [g.detach().numpy(force=True) for g in gs],
            [h.detach().numpy(force=True) for h in hs]), us


def check_torch(prog):
    """None when knetpy's autograd agrees with torch on the program; else what differs."""
    (tv, tg, th), us = torch_run(prog)
    scale = 1 + abs(tv)
    try:
        forms, v = autograd_grads(prog)
        hs = hvp(prog, us)
    except Exception as e:  # noqa: BLE001  (any exception of a valid program is a failure)
        return f"autograd raised {type(e).__name__}: {e}"
    if not close(v, tv, RTOL, ATOL * scale):
        return f"value {v!r} != torch {tv!r}"
    for form, gs in forms:
        for i, (g, t) in enumerate(zip(gs, tg)):
            if not close(g, t, RTOL, ATOL * scale):
                return f"{form}: gradient of v{i}\n  autograd {g.tolist()}\n  torch    {t.tolist()}"
    for i, (h, t) in enumerate(zip(hs, th)):
        if not close(h, t, 1e-6, 1e-8 * scale):
            return f"second order (Hessian-vector product) for v{i}\n  autograd {h.tolist()}\n" \
                   f"  torch    {t.tolist()}"
    return None


def test_random_programs_match_torch():
    progs, failures, seconds = run_programs(SEED, N, check_torch)
    counts = family_counts(progs)
    print(f"\n{N} random programs against torch (seed {SEED}) in "
          f"{seconds:.1f}s; programs per family: {counts}; "
          f"failures: {len(failures)}")
    assert not failures, f"{len(failures)} of {N} programs disagree with torch " \
        f"(seed {SEED}):\n\n" + "\n\n".join(failures[:8])
    assert set(counts) == set(FAMILIES)
