"""Progress of a dataset's first parse, in bytes: a tqdm bar with total and ETA on a
terminal; elsewhere (a pipe, a log, `--json`, the TUI's status line) a plain line, then at
most every `LINE_INTERVAL_S` seconds and at the end. A parse over within `DELAY_S` (every
small dataset) shows nothing."""

from __future__ import annotations

from typing import Any

from tui_recommender.app.progress import ProgressLines, format_duration

DELAY_S = 2.0


class ReadProgress(ProgressLines):
    """The `on_read(done, total)` callback of `data.cache.open_dataset`, shown as
    `ProgressLines` says: the first line, then at most every `interval_s` seconds and the
    last; nothing until the parse has run `delay_s` seconds."""

    def __init__(self, what: str = "reading the dataset", delay_s: float = DELAY_S, **options: Any) -> None:
        super().__init__(what, **options)
        self.delay_s = delay_s
        self._started: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self._started is None:
            self._started = now
        first = self._bar is None and self._last_line == float("-inf")
        if first and now - self._started < self.delay_s:
            return
        if self.is_terminal:
            if self._bar is None:
                self._bar = self._new_bar(total=total, unit="B", unit_scale=True)
            self._bar.total = total
            self._bar.update(done - self._bar.n)
            return
        self._line(now, lambda: self.describe(done, total, now), due=first or done >= total)

    def describe(self, done: int, total: int, now: float) -> str:
        """One line: bytes read of the total, and the time left at the speed so far."""
        text = f"{self.what}: {done / 1e6:,.0f} of {total / 1e6:,.0f} MB ({100 * done / max(total, 1):.0f}%)"
        elapsed = now - (self._started or now)
        if 0 < done < total and elapsed > 0:
            text += f", about {format_duration((total - done) * elapsed / done)} left"
        return text
