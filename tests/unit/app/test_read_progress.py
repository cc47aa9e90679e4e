"""A first parse's progress: nothing for a quick one, then a line at once, at most every
interval and at the end, with the bytes read, the total and the time left."""

from __future__ import annotations

import io

from tui_recommender.app.read_progress import ReadProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_start_after_the_delay_then_every_interval_and_at_the_end() -> None:
    clock, lines = Clock(), []
    progress = ReadProgress("reading ml-32m", on_line=lines.append, interval_s=15, delay_s=2, clock=clock)
    total = 900_000_000
    for seconds, done in [(0, 1_000_000), (1, 10_000_000), (3, 30_000_000), (10, 100_000_000), (19, 190_000_000)]:
        clock.now = 100.0 + seconds
        progress(done, total)
    clock.now = 190.0
    progress(total, total)
    assert lines == [
        "reading ml-32m: 30 of 900 MB (3%), about 1 min 27 s left",
        "reading ml-32m: 190 of 900 MB (21%), about 1 min 11 s left",
        "reading ml-32m: 900 of 900 MB (100%)",
    ]


def test_a_quick_parse_shows_nothing_and_a_terminal_gets_a_bar() -> None:
    clock, lines = Clock(), []
    quick = ReadProgress(on_line=lines.append, clock=clock)
    quick(10, 100)
    clock.now += 0.5
    quick(100, 100)
    assert lines == []

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    with ReadProgress("reading ml-1m", stream=stream, delay_s=0, clock=clock) as bar:
        bar(50_000_000, 100_000_000)
        bar(100_000_000, 100_000_000)
    assert "reading ml-1m" in stream.getvalue() and "100M/100M" in stream.getvalue()
