"""progress: output format, message, update cadence, unknown lengths."""
import io
import re

import numpy as np
import pytest

from autograd import Param
from knetpy.progress import Progress, progress, progress_
from knetpy.train import ncycle, sgd, take


def frames(out):
    """The successive states of the line (tqdm redraws with carriage returns)."""
    return [f.strip() for f in out.getvalue().split("\r") if f.strip()]


def test_known_length_line_has_percent_count_time_rate_and_loss_at_the_end():
    out = io.StringIO()
    vals = list(progress([3.0, 2.0, 1.5, 1.25], steps=1, file=out, ncols=90))
    assert vals == [3.0, 2.0, 1.5, 1.25]
    last = frames(out)[-1]
    m = re.fullmatch(r"100\.00%\|#+\| 4/4 \[(\d\d:\d\d)<(\d\d:\d\d), ([\d.?]+(it/s|s/it))\] 1\.25",
                     last)
    assert m, last
    assert any(f.startswith(" 50.00%") or f.startswith("50.00%") for f in frames(out))
    assert out.getvalue().endswith("\n")


def test_message_follows_the_values_and_callable_msg():
    out = io.StringIO()
    progress_([0.123456789, np.float32(2.5), np.array(7.0)], steps=1, file=out)
    shown = [f.split("] ")[-1] for f in frames(out) if "] " in f]
    assert "0.123457" in shown and "2.5" in shown and shown[-1] == "7"
    out = io.StringIO()
    progress_(range(5), msg=lambda p: f"item {p.curriter}: {p.currval}", steps=2, file=out)
    assert frames(out)[-1].endswith("item 5: 4")
    out = io.StringIO()
    progress_(["a", "b"], msg="training {braces} ok", file=out)
    assert frames(out)[-1].endswith("training {braces} ok")
    out = io.StringIO()
    progress_([np.ones(3)], file=out)                  # not a number: no message
    assert frames(out)[-1].endswith("]")


def test_updates_every_steps():
    out = io.StringIO()
    seen = []
    p = progress(range(10), steps=4,
                 msg=lambda p: seen.append(p.curriter) or str(p.curriter), file=out)
    list(p)
    assert seen == [1, 4, 8, 10]             # first, every 4th and the last
    assert [f.split("] ")[-1] for f in frames(out) if "] " in f][-1] == "10"


def test_updates_every_seconds():
    seen = []
    note = lambda p: seen.append(p.curriter) or ""
    progress_(range(50), seconds=3600, msg=note, file=io.StringIO())
    assert seen == [1, 50]                   # nothing in between within the hour
    seen.clear()
    progress_(range(5), seconds=0, msg=note, file=io.StringIO())
    assert seen == [1, 2, 3, 4, 5]


def test_unknown_length():
    out = io.StringIO()
    gen = (x * 0.5 for x in range(6))
    assert list(progress(gen, steps=1, file=out)) == [0, 0.5, 1, 1.5, 2, 2.5]
    last = frames(out)[-1]
    assert re.fullmatch(r"6 \[\d\d:\d\d, [\d.?]+(it/s|s/it)\] 2\.5", last), last
    assert "%" not in last
    out = io.StringIO()
    progress_((x for x in range(3)), total=3, file=out)
    assert frames(out)[-1].startswith("100.00%")


def test_with_an_optimizer_iterator_and_break():
    w = Param(np.array([2.0]))
    out = io.StringIO()
    p = progress(sgd(lambda: np.sum(w * w), take(ncycle([()]), 20), lr=0.1), steps=5, file=out)
    assert len(p) == 20
    for i, loss in enumerate(p):
        assert p.currval is loss
        if i == 9:
            break
    del loss
    import gc
    gc.collect()
    last = frames(out)[-1]
    assert " 10/20 " in last                  # closed at the break with the final count
    assert last.endswith(f"{float(w.value[0] / 0.8) ** 2:.6g}")
    assert isinstance(p, Progress)


def test_errors():
    with pytest.raises(ValueError, match="steps"):
        progress([], steps=0)
    with pytest.raises(ValueError, match="seconds"):
        progress([], seconds=-1)
    with pytest.raises(TypeError, match="iterable"):
        progress(5)
    with pytest.raises(ValueError, match="total"):
        progress([], total=-2)
    assert progress_([], file=io.StringIO()) is None
