"""Random straight-line programs over random_ops.OPS: generate, run, check, shrink, show.

A program has 1-2 float64 inputs ``v0, v1`` and steps ``v_k = op(p, v_i[, v_j])`` (any
earlier value may be used again, so gradients accumulate); its loss is
``sum(v_last * W)`` with fixed weights W.  Program ``(seed, i)`` is rebuilt exactly by
``generate(seed, i)``.  Used by test_random_programs.py (central differences) and
oracle/test_random_torch.py (PyTorch); only public API is used: grad, Param, diff.

>>> prog = generate(0, 0)
>>> np.isfinite(loss(prog, *prog.inputs))
True
"""
import os
import time
import warnings

import numpy as np

from autograd import Param, diff, grad
from random_ops import GAP, OPS

MAX_ABS = 1e3      # programs whose values grow past this are regenerated
MAX_SIZE = 48


def env_int(name, default):
    """The integer in environment variable ``name``, or ``default``."""
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


class Program:
    """inputs (list of arrays) and steps [(op, params, arg indices)]; seed names it."""

    def __init__(self, inputs, steps, seed=None):
        self.inputs, self.steps, self.seed = inputs, steps, seed

    @property
    def elementwise(self):
        return all(op.elementwise for op, _, _ in self.steps)

    def __str__(self):
        lines = [f"# program {self.seed}  (rebuild: generate{self.seed})"]
        for i, x in enumerate(self.inputs):
            lines.append(f"v{i} = np.array({np.round(x, 4).tolist()!r})")
        n = len(self.inputs)
        for k, (op, p, args) in enumerate(self.steps):
            ps = ", ".join(f"{a}={_short(v)}" for a, v in p.items())
            lines.append(f"v{n + k} = {op.name}({', '.join(f'v{a}' for a in args)}"
                         f"{', ' if ps else ''}{ps})")
        lines.append(f"loss = sum(v{n + len(self.steps) - 1} * W)")
        return "\n".join(lines)


def _short(v):
    if isinstance(v, np.ndarray):
        return f"np.array({v.tolist()!r})"
    return repr(v)


def weights(shape):
    """The fixed, uneven weights W of the loss for an output of this shape."""
    n = int(np.prod(shape))
    return np.cos(np.arange(n) * 1.7 + 0.3).reshape(shape)


def run(prog, *xs):
    """All values of the program on inputs xs (plain arrays, Params or recorded values)."""
    vals = list(xs)
    for op, p, args in prog.steps:
        vals.append(op.fn(p, *[vals[a] for a in args]))
    return vals


def loss(prog, *xs):
    """The program's scalar loss sum(v_last * W)."""
    out = run(prog, *xs)[-1]
    return np.sum(out * weights(np.shape(out) if not hasattr(out, "shape") else out.shape))


def _valid_step(op, p, vals):
    """The op's value on plain arrays, or None when it fails, is not finite, grows too large
    or comes near a kink."""
    try:
        with np.errstate(all="raise"):
            y = np.asarray(op.fn(p, *vals), dtype=float)
        good = op.ok(p, *vals)
    except (ValueError, TypeError, IndexError, FloatingPointError, np.linalg.LinAlgError):
        return None
    if not good or y.size > MAX_SIZE or not np.all(np.isfinite(y)) or \
            (y.size and np.max(np.abs(y)) > MAX_ABS):
        return None
    return y


def valid(prog):
    """True when every step of prog runs on plain arrays within bounds and away from kinks."""
    vals = list(prog.inputs)
    for op, p, args in prog.steps:
        if any(a >= len(vals) for a in args):
            return False
        y = _valid_step(op, p, [vals[a] for a in args])
        if y is None:
            return False
        vals.append(y)
    return len(prog.steps) > 0


def _input_shapes(rng):
    rank = int(rng.choice([0, 1, 2, 2, 3]))
    a = tuple(int(d) for d in rng.integers(1, 5, rank))
    if rank == 3:
        a = a[:2] + (min(a[2], 2),)
    if rank >= 2 and rng.random() < 0.5:     # square matrices, for linalg
        a = a[:-1] + (a[-2],)
    kind = rng.integers(4)
    if kind == 0 or not a:
        b = a
    elif kind == 1:        # broadcastable: some dims 1, maybe fewer of them
        b = tuple(1 if rng.random() < 0.4 else d for d in a)[int(rng.integers(len(a))):]
    elif kind == 2:        # matrix-compatible
        b = (a[-1], int(rng.integers(1, 4)))
    else:
        b = a[::-1]
    return [a] if rng.random() < 0.3 else [a, b]


def generate(seed, index, max_ops=8, elementwise=False, ops=OPS):
    """Program number ``index`` of ``seed``: 1..max_ops valid steps drawn from ``ops``
    (only elementwise ones when ``elementwise``)."""
    rng = np.random.default_rng([seed, index, int(elementwise)])
    pool = [o for o in ops if o.elementwise] if elementwise else list(ops)
    fams = sorted({o.family for o in pool})
    by_fam = {f: [o for o in pool if o.family == f] for f in fams}
    while True:
        shapes = _input_shapes(rng)
        if elementwise:
            shapes = [shapes[0]] * len(shapes)
        inputs = [rng.standard_normal(s) * 1.5 for s in shapes]
        vals, steps = list(inputs), []
        for _ in range(int(rng.integers(1, max_ops + 1))):
            for _attempt in range(30):
                # half the time a family first (small families get their share), half
                # the time an op (each op of the big families gets its share)
                ops_f = by_fam[fams[int(rng.integers(len(fams)))]] if rng.random() < 0.5 \
                    else pool
                op = ops_f[int(rng.integers(len(ops_f)))]
                args = [_pick(rng, len(vals)) for _ in range(op.arity)]
                try:
                    p = op.gen(rng, *[np.shape(vals[a]) for a in args])
                except ValueError:         # e.g. an index drawn for an axis of length 0
                    p = None
                if p is None:
                    continue
                y = _valid_step(op, p, [vals[a] for a in args])
                if y is not None:
                    steps.append((op, p, args))
                    vals.append(y)
                    break
        if steps and np.size(vals[-1]):
            return Program(inputs, steps, (seed, index))


def _pick(rng, n):
    """An earlier value, most often the latest one."""
    return n - 1 if rng.random() < 0.6 else int(rng.integers(n))


def dense(g, like):
    """A gradient from grad(result, param) as a plain array (None -> zeros, Sparse -> dense)."""
    if g is None:
        return np.zeros_like(like)
    return np.asarray(g.dense() if hasattr(g, "dense") else g, dtype=float)


def autograd_grads(prog):
    """[(form, gradients)] from ``grad(f, argnum)`` and from Param + diff."""
    xs = prog.inputs
    f = lambda *a: loss(prog, *a)  # noqa: E731
    by_argnum = [dense(grad(f, i)(*xs), xs[i]) for i in range(len(xs))]
    ps = [Param(np.array(x)) for x in xs]
    y = diff(lambda: loss(prog, *ps))
    by_param = [dense(grad(y, p), x) for p, x in zip(ps, xs)]
    return [("grad(f, argnum)", by_argnum), ("Param+diff", by_param)], float(np.sum(y.value))


def hvp(prog, us):
    """Second order: for each input j, d/dx_j of sum_i <grad(f, i)(x), u_i>."""
    xs = prog.inputs
    f = lambda *a: loss(prog, *a)  # noqa: E731

    def inner(*a):
        return sum(np.sum(grad(f, i)(*a) * u) for i, u in enumerate(us))
    return [dense(grad(inner, j)(*xs), xs[j]) for j in range(len(xs))]


def directions(prog, k):
    """k fixed random directions (one array per input) for directional derivatives."""
    rng = np.random.default_rng([*prog.seed, 99])
    return [[rng.uniform(-1, 1, np.shape(x)) for x in prog.inputs] for _ in range(k)]


def _richardson(phi, h=1e-3):
    """phi'(0) by central differences with one Richardson step (error O(h^4))."""
    d1 = (phi(h) - phi(-h)) / (2 * h)
    d2 = (phi(h / 2) - phi(-h / 2)) / h
    return (4 * d2 - d1) / 3


def _numeric(phi):
    """phi'(0), or None when two step sizes disagree (the differences are not reliable)."""
    a, b = _richardson(phi, 1e-3), _richardson(phi, 2e-4)
    return b if close(a, b, 1e-6, 1e-9) else None


def close(a, b, rtol=1e-6, atol=1e-7):
    """Elementwise |a - b| <= atol + rtol * max(|a|, |b|)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.maximum(
        np.abs(a), np.abs(b))))


def check_numeric(prog):
    """None when values, gradients (both forms) and, for elementwise programs, second order
    agree with central differences in float64; otherwise a one-line description."""
    xs = prog.inputs
    try:
        forms, val = autograd_grads(prog)
    except Exception as e:  # noqa: BLE001  (any exception of a valid program is a failure)
        return f"autograd raised {type(e).__name__}: {e}"
    plain = float(loss(prog, *xs))
    if not close(val, plain, 1e-12, 1e-12):
        return f"value {val} != plain numpy {plain}"
    scale = 1 + abs(plain)
    for v in directions(prog, 2):
        num = _numeric(lambda t: float(loss(prog, *[x + t * d for x, d in zip(xs, v)])))
        if num is None:
            return None        # too curved for central differences here: nothing to judge
        for form, gs in forms:
            an = sum(float(np.sum(g * d)) for g, d in zip(gs, v))
            if not close(an, num, 1e-5, 1e-8 * scale):
                return f"{form}: directional derivative {an!r} != central differences {num!r}"
    if prog.elementwise:
        f = lambda *a: loss(prog, *a)  # noqa: E731
        for u, v in zip(directions(prog, 1), directions(prog, 2)[1:]):
            try:
                hs = hvp(prog, u)
            except Exception as e:  # noqa: BLE001
                return f"second order raised {type(e).__name__}: {e}"

            def gu(t):
                pts = [x + t * d for x, d in zip(xs, v)]
                return sum(float(np.sum(grad(f, i)(*pts) * ui)) for i, ui in enumerate(u))
            num = _numeric(gu)
            if num is None:
                return None
            an = sum(float(np.sum(h * d)) for h, d in zip(hs, v))
            if not close(an, num, 1e-5, 1e-8 * scale):
                return f"second order: {an!r} != central differences of the gradient {num!r}"
    return None


def _candidates(prog):
    """Smaller programs: truncated after step k, or step k dropped (its uses redirected to
    its first argument)."""
    n, steps = len(prog.inputs), prog.steps
    for k in range(len(steps) - 1):
        yield Program(prog.inputs, steps[:k + 1], prog.seed)
    for k in range(len(steps)):
        var = n + k

        def remap(a, k=k, var=var):
            a = steps[k][2][0] if a == var else a
            return a - 1 if a > var else a
        yield Program(prog.inputs, [(o, p, [remap(a) for a in args])
                                    for o, p, args in steps[:k] + steps[k + 1:]], prog.seed)


def shrink(prog, check):
    """The shortest program (greedy: drop steps) for which ``check`` still reports failure;
    returns (program, message)."""
    msg = check(prog)
    improved = True
    while improved and len(prog.steps) > 1:
        improved = False
        for cand in _candidates(prog):
            if valid(cand):
                m = check(cand)
                if m is not None:
                    prog, msg, improved = cand, m, True
                    break
    return prog, msg


def family_counts(progs):
    """How many programs used each op family."""
    counts = {}
    for prog in progs:
        for fam in {op.family for op, _, _ in prog.steps}:
            counts[fam] = counts.get(fam, 0) + 1
    return counts


__all__ = ["Program", "generate", "run", "loss", "valid", "check_numeric", "shrink", "close",
           "autograd_grads", "hvp", "directions", "dense", "weights", "env_int",
           "family_counts", "GAP"]


def run_programs(seed, n, check):
    """run_programs(seed, n, check) -> (progs, failures, seconds): generate n
    programs (every fourth elementwise, for second order), check each with
    ``check(prog)`` (None when right, else a message), shrink every failing one
    to its shortest failing form (message and program, one string each)."""
    t0 = time.perf_counter()
    progs, failures = [], []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for i in range(n):
            prog = generate(seed, i, elementwise=i % 4 == 3)
            progs.append(prog)
            if check(prog) is not None:
                small, msg = shrink(prog, check)
                failures.append(f"{msg}\n{small}")
    return progs, failures, time.perf_counter() - t0
