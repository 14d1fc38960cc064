"""Random straight-line programs over every op family (random_ops.OPS), gradients checked
by central differences in float64, in both forms (grad(f, argnum) and Param + diff);
elementwise programs also to second order.  Seeded: RANDOM_PROGRAMS_SEED (default 0),
RANDOM_PROGRAMS_N programs (default 800).  A failing program is shrunk (steps dropped
while it still fails) and printed with the seed that rebuilds it."""
import pytest

from random_ops import FAMILIES
from random_programs import check_numeric, env_int, family_counts, generate, run_programs, shrink

SEED = env_int("RANDOM_PROGRAMS_SEED", 0)
N = env_int("RANDOM_PROGRAMS_N", 800)


def test_random_programs_match_central_differences():
    progs, failures, seconds = run_programs(SEED, N, check_numeric)
    counts = family_counts(progs)
    print(f"\n{N} random programs (seed {SEED}) in {seconds:.1f}s; "
          f"programs per family: {counts}; failures: {len(failures)}")
    assert not failures, f"{len(failures)} of {N} programs disagree (seed {SEED}):\n\n" + \
        "\n\n".join(failures[:5])
    assert set(counts) == set(FAMILIES), f"families never drawn: {set(FAMILIES) - set(counts)}"
    assert sum(p.elementwise for p in progs) >= N // 4   # the second-order share


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_shrink_finds_the_guilty_step():
    # a check that fails whenever a 'cumprod' step is present: shrinking keeps one step
    prog = next(p for p in (generate(SEED, i) for i in range(10 ** 4))
                if len(p.steps) >= 4 and any(o.name == "cumprod" for o, _, _ in p.steps))

    def check(p):
        return "has cumprod" if any(o.name == "cumprod" for o, _, _ in p.steps) else None
    small, msg = shrink(prog, check)
    assert msg == "has cumprod" and len(small.steps) < len(prog.steps)
    assert small.steps[-1][0].name == "cumprod" and "cumprod(" in str(small)
