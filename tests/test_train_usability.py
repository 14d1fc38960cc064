"""What a new user meets first: the no-Param error, minibatch's errors,
misspelt keywords, the labelled progress bar, hyperopt progress, plots."""
import io
import re

import numpy as np
import pytest

from autograd import Param
from knetpy import (adam, epoch_of, goldensection, hyperband, minibatch, minimize, ncycle,
                    nll, param, progress, progress_, sgd, take, update_)
from knetpy.optim import SGD


def data(n=30):
    r = np.random.default_rng(0)
    return r.standard_normal((n, 4)), np.arange(n) % 3


def test_a_loss_without_params_fails_on_the_first_step_naming_the_cause():
    x, y = data()
    w = np.random.randn(3, 4)                      # not a Param: a constant to the tape
    itr = adam(lambda a, b: nll(a @ w.T, b), minibatch(x, y, 10))
    with pytest.raises(ValueError, match="uses no Param.*param\\(...\\) or Param\\(array\\)"):
        next(itr)
    p, q = Param(np.ones(2)), Param(np.ones(2))
    with pytest.raises(ValueError, match="does not depend on any of the 1 Params given"):
        next(minimize(lambda: np.sum(p * p), [()], params=[q]))
    assert np.all(q.value == 1) and p.opt is None and q.opt is None


def test_minibatch_names_its_argument_in_every_error():
    with pytest.raises(TypeError, match=r"minibatch: x must be an array.*generator"):
        minibatch(v for v in range(10))
    with pytest.raises(TypeError, match=r"minibatch: y must be an array.*range_iterator.*read only once"):
        minibatch(np.arange(10), iter(range(10)))
    with pytest.raises(TypeError, match=r"minibatch: xtype='notadtype' is not a dtype"):
        minibatch(np.arange(10), xtype="notadtype")
    with pytest.raises(TypeError, match=r"minibatch: ytype='f9' is not a dtype"):
        minibatch(np.arange(10), np.arange(10), ytype="f9")
    with pytest.raises(ValueError, match="minibatch: x must have an instance axis 0"):
        minibatch(np.float64(3.0))
    with pytest.raises(TypeError, match="x must be an array.*got a object|got a dict"):
        minibatch({"a": 1})


@pytest.mark.parametrize("call", [
    lambda: minibatch(np.arange(4), batchsze=2),
    lambda: adam(lambda: 0, [()], lrr=0.1),
    lambda: sgd(lambda: 0, [()], gama=0.1),
    lambda: minimize(lambda: 0, [()], optimiser=SGD()),
    lambda: update_(np.zeros(1), np.zeros(1), lrate=0.1),
    lambda: SGD(lr=0.1, momentum=0.9),
    lambda: progress([1], step=1),
    lambda: progress_([1], mesage="x"),
    lambda: ncycle([1], times=2),
    lambda: take([1], count=1),
    lambda: hyperband(lambda: 0, lambda c, r: 0, max_resource=9),
    lambda: goldensection(lambda x: 0, 1, verbos=True),
])
def test_misspelt_keywords_raise_type_error(call):
    with pytest.raises(TypeError):
        call()


def last_frame(out):
    return [f.strip() for f in out.getvalue().split("\r") if f.strip()][-1]


def test_progress_labels_the_loss_with_its_average_and_the_epoch():
    x, y = data()
    w = param(3, 4)
    out = io.StringIO()
    p = progress(adam(lambda a, b: nll(a @ w.T, b), ncycle(minibatch(x, y, 10), 4)),
                 steps=1, file=out)
    frames = []
    for loss in p:
        frames.append(last_frame(out))
    m = re.search(r"\] epoch (\d)/4 ema ([\d.]+) loss ([\d.]+)$", frames[-1])
    assert m, frames[-1]
    assert m.group(1) == "4" and "epoch 1/4" in frames[0] and "epoch 2/4" in frames[3]
    h = np.array(p.itr.history)
    ema = w_ = 0.0
    for v in h:
        ema, w_ = 0.9 * ema + 0.1 * v, 0.9 * w_ + 0.1
    assert p.ema == pytest.approx(ema / w_) and float(m.group(2)) == pytest.approx(p.ema, 1e-3)
    assert float(m.group(3)) == pytest.approx(h[-1], 1e-5)


def test_epoch_of_take_and_plain_data():
    mb = minibatch(np.arange(10), 2)                 # 5 batches an epoch
    t = take(ncycle(mb), 12)
    it = iter(t)
    seen = [(next(it), epoch_of(t))[1] for _ in range(12)]
    assert seen[0] == (1, 3) and seen[5] == (2, 3) and seen[-1] == (3, 3)
    assert epoch_of([1, 2]) is None and epoch_of(ncycle([1, 2], 2)) is None
    w = Param(np.ones(1))
    out = io.StringIO()
    progress_(sgd(lambda: np.sum(w * w), [()] * 3), steps=1, file=out)
    assert re.search(r"\] ema [\d.]+ loss [\d.]+$", last_frame(out))      # no epoch: not a minibatch


def test_hyperband_and_goldensection_report_progress_when_asked(capsys):
    rs = np.random.default_rng(0)
    hyperband(lambda: rs.uniform(-5, 5), lambda c, r: (c - 1) ** 2 + 1 / r, maxresource=9)
    assert capsys.readouterr().out == ""
    best = hyperband(lambda: rs.uniform(-5, 5), lambda c, r: (c - 1) ** 2 + 1 / r,
                     maxresource=9, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("hyperband: bracket s=2, round 1/3: 9 configurations with "
                               "resource 1,")
    assert lines[-1].startswith(f"hyperband: done: best loss {best[0]:.6g}")
    assert len(lines) == 3 + 2 + 1 + 1
    goldensection(lambda x: float((x[0] - 1) ** 2), 1, verbose=True)
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("goldensection: done after") and "fmin=0" in out[-1]


def test_training_iterators_record_the_loss_history():
    w = Param(np.array([2.0]))
    itr = sgd(lambda: np.sum(w * w), [()] * 4, lr=0.25)
    losses = [float(v) for v in itr]
    assert itr.history == losses and len(losses) == 4
