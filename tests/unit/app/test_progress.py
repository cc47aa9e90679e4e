"""EpochProgress: training progress with the total and the time left, a bar on a terminal
and plain lines at most every interval elsewhere; format_duration."""

from __future__ import annotations

import io
import itertools
import re
import time

import pytest

import tui_recommender.app.progress as progress_module
from tui_recommender.app.progress import EpochProgress, format_duration
from tui_recommender.engine.lightgcn.training import EpochStats


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def epochs(progress: EpochProgress, clock: Clock, total: int, count: int, seconds: float = 2.0) -> None:
    for epoch in range(1, count + 1):
        clock.now += seconds
        progress(EpochStats(epoch, loss=0.5, seconds=seconds, total=total))


def test_plain_lines_carry_the_total_and_time_left_at_most_every_interval():
    stream, clock = io.StringIO(), Clock()
    with EpochProgress(stream=stream, interval_s=10.0, clock=clock) as progress:
        epochs(progress, clock, total=50, count=20)  # early stopping ends at epoch 20
        epochs(progress, clock, total=15, count=15)  # the refit: 15 epochs
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines[0] == "training: epoch 1 of at most 50, loss 0.5000, 2.00 s/epoch, about 1 min 38 s left"
    # One line per 10 s at 2 s per epoch, plus each phase's first and last epoch.
    assert [int(re.search(r"epoch (\d+)", line).group(1)) for line in lines] == [1, 6, 11, 16, 21, 26, 31, 35]
    assert lines[4] == "training (refit on every rating): epoch 21 of 35, loss 0.5000, 2.00 s/epoch, about 28 s left"
    assert lines[-1].endswith("epoch 35 of 35, loss 0.5000, 2.00 s/epoch, about 0 s left")


def test_on_a_terminal_a_bar_shows_the_total_and_grows_it_for_the_refit():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream, clock = Terminal(), Clock()
    with EpochProgress(stream=stream, clock=clock) as progress:
        epochs(progress, clock, total=8, count=3, seconds=0.0)
        assert progress._bar.total == 8
        epochs(progress, clock, total=2, count=2, seconds=0.0)
        assert progress._bar.total == 5 and progress._bar.n == 5
    text = stream.getvalue()
    assert "\r" in text and "0/8" in text and "5/5" in text and "refit" in text


def test_on_line_receives_the_lines_instead_of_a_stream():
    lines, clock = [], Clock()
    progress = EpochProgress("training a model (once)", on_line=lines.append, interval_s=0.0, clock=clock)
    epochs(progress, clock, total=3, count=3)
    assert len(lines) == 3 and lines[-1].startswith("training a model (once): epoch 3 of at most 3")


@pytest.mark.parametrize(("seconds", "text"), [(0.4, "0 s"), (42, "42 s"), (185, "3 min 05 s"), (3720, "1 h 02 min")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_steps_inside_an_epoch_show_at_once_then_at_most_every_interval():
    stream, clock = io.StringIO(), Clock()
    with EpochProgress(stream=stream, interval_s=15.0, clock=clock) as progress:
        for step in range(9):  # 7 s per step: a line as training starts, then every 15 s at most
            progress.on_step(1, step, 8)
            clock.now += 7.0
        progress(EpochStats(1, loss=0.5, seconds=56.0, total=10))
        progress.on_step(2, 1, 8)
    lines = stream.getvalue().splitlines()
    assert lines[:4] == [
        "training: epoch 1, step 0 of 8",
        "training: epoch 1, step 3 of 8",
        "training: epoch 1, step 6 of 8",
        "training: epoch 1 of at most 10, loss 0.5000, 56.00 s/epoch, about 8 min 24 s left",
    ]
    assert len(lines) == 4  # the step right after the epoch's line waits for the interval


def test_a_step_longer_than_the_interval_still_shows_a_line_within_it(monkeypatch):
    monkeypatch.setattr(progress_module, "HEARTBEAT_S", 0.1)
    stream, shown = io.StringIO(), []
    monkeypatch.setattr(
        progress_module, "print", lambda text, **_: shown.append((time.monotonic(), text)), raising=False
    )
    with EpochProgress(stream=stream, interval_s=1.0) as progress:
        time.sleep(1.3)  # reading and building the graph: other displays' business
        assert shown == []
        progress.on_step(1, 0, 8)
        progress.on_step(1, 3, 8)  # within the interval: no line
        time.sleep(2.5)  # one long step
    times, lines = zip(*shown, strict=True)
    assert lines[0] == "training: epoch 1, step 0 of 8"
    assert set(lines[1:]) == {"training: epoch 1, still working after step 3 of 8"}
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 1 <= len(gaps) <= 3 and all(gap >= 0.8 for gap in gaps)  # about once per interval
    assert gaps[0] <= 1.5  # the first well before two intervals (1.0 s, checked every 0.1 s)


def test_the_heartbeat_stops_with_the_display():
    with EpochProgress(stream=io.StringIO(), interval_s=1.0) as progress:
        assert progress._heartbeat.is_alive()
        thread = progress._heartbeat
    assert not thread.is_alive()
