"""Progress of a dataset's first parse, in bytes: a tqdm bar with total and ETA on a
terminal; elsewhere (a pipe, a log, `--json`, the TUI's status line) a plain line, then at
most every `LINE_INTERVAL_S` seconds and at the end. A parse over within `DELAY_S` (every
small dataset) shows nothing."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from tui_recommender.app.progress import LINE_INTERVAL_S, format_duration

DELAY_S = 2.0


class ReadProgress:
    """The `on_read(done, total)` callback of `data.cache.open_dataset`, shown on `stream`
    (default stderr) or, with `on_line`, as lines passed there. Use it as a context manager
    (or `close()` it): it shows nothing until the parse reports."""

    def __init__(
        self,
        what: str = "reading the dataset",
        stream: TextIO | None = None,
        on_line: Callable[[str], None] | None = None,
        interval_s: float = LINE_INTERVAL_S,
        delay_s: float = DELAY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.on_line = on_line
        self.interval_s = interval_s
        self.delay_s = delay_s
        self.clock = clock
        self._started: float | None = None
        self._last_line = float("-inf")
        self._bar = None

    def __enter__(self) -> ReadProgress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self._started is None:
            self._started = now
        if now - self._started < self.delay_s and self._bar is None and self._last_line == float("-inf"):
            return
        if self.on_line is None and self.stream.isatty():
            self._update_bar(done, total)
            return
        if self._last_line == float("-inf") or done >= total or now - self._last_line >= self.interval_s:
            self._last_line = now
            text = self.describe(done, total, now)
            if self.on_line is not None:
                self.on_line(text)
            else:
                print(text, file=self.stream, flush=True)

    def describe(self, done: int, total: int, now: float) -> str:
        """One line: bytes read of the total, and the time left at the speed so far."""
        text = f"{self.what}: {done / 1e6:,.0f} of {total / 1e6:,.0f} MB ({100 * done / max(total, 1):.0f}%)"
        elapsed = now - (self._started or now)
        if 0 < done < total and elapsed > 0:
            text += f", about {format_duration((total - done) * elapsed / done)} left"
        return text

    def _update_bar(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(
                total=total, unit="B", unit_scale=True, desc=self.what, file=self.stream, dynamic_ncols=True
            )
        self._bar.total = total
        self._bar.update(done - self._bar.n)
