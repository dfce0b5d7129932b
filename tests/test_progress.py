"""The one progress bar (used by the mnist command, the download and the trainer)."""
import io

import pytest

from purenn.progress import Progress


def _bar(total=10, **kw):
    out = io.StringIO()
    return Progress(total, "images", out=out, width=10, **kw), out


@pytest.mark.parametrize("count, drawn", [(5, "[#####-----] 5/10 images  50%"),
                                          (10, "[##########] 10/10 images 100%")])
def test_the_bar_fills_with_the_share_done(count, drawn):
    bar, out = _bar()
    bar.update(count)
    assert out.getvalue().split("\r")[-1] == drawn


def test_a_prefix_and_a_note_stand_around_the_bar():
    bar, out = _bar(prefix="epoch 1/2")
    bar.update(10, note="loss 0.5")
    assert out.getvalue().split("\r")[-1] == "epoch 1/2 [##########] 10/10 images 100% loss 0.5"


def test_an_unknown_total_shows_a_count():
    bar, out = _bar(total=None)
    bar.update(3)
    assert out.getvalue() == "\r3 images"


def test_redraws_are_limited_to_ten_a_second_but_the_end_is_drawn():
    bar, out = _bar(total=1000)
    for _ in range(1000):
        bar.update(1)
    assert out.getvalue().count("\r") < 100 and out.getvalue().endswith("1000/1000 images 100%")


def test_clear_wipes_the_bar_and_done_ends_the_line():
    bar, out = _bar()
    bar.update(10)
    bar.clear()
    assert out.getvalue().endswith("\r" + " " * len(bar.text()) + "\r")
    bar.update(0)
    bar.done()
    assert out.getvalue().endswith("\n")
