"""Progress for people: a bar with a total and an ETA on a terminal, plain periodic lines
elsewhere (a log file or a pipe gets no carriage-return noise). `ProgressLines` is that
display; `EpochProgress` here and the parse's `ReadProgress` feed it.

`EpochProgress` is the `on_epoch` callback of training. Training may run in two phases:
early stopping (at most `max_epochs`, often fewer), then a refit on every rating for the
best epoch count; a new phase shows as the epoch count starting again at 1, and the total
then becomes the epochs done plus the refit's.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, TextIO

if TYPE_CHECKING:
    from tui_recommender.engine.lightgcn.training import EpochStats

LINE_INTERVAL_S = 15.0  # between two plain lines
HEARTBEAT_S = 1.0  # how often a display checks that it has shown something lately


def format_duration(seconds: float) -> str:
    """`1 h 02 min`, `3 min 05 s` or `42 s`."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


class ProgressLines:
    """What every progress display shares: a tqdm bar when `stream` (default stderr) is a
    terminal, else plain lines on `stream` or passed to `on_line` (the TUI's status), at most
    one every `interval_s` seconds unless a line is due anyway. A context manager: leaving
    it closes the bar."""

    def __init__(
        self,
        what: str,
        stream: TextIO | None = None,
        on_line: Callable[[str], None] | None = None,
        interval_s: float = LINE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.on_line = on_line
        self.interval_s = interval_s
        self.clock = clock
        self._last_line = float("-inf")
        self._bar = None
        self._lock = threading.Lock()  # the heartbeat thread shows lines too

    @property
    def is_terminal(self) -> bool:
        return self.on_line is None and self.stream.isatty()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _line(self, now: float, text: Callable[[], str], due: bool = False) -> None:
        """Show `text()` as a plain line if one is `due` or the interval has passed since the last."""
        with self._lock:
            if not (due or now - self._last_line >= self.interval_s):
                return
            self._last_line = now
            if self.on_line is not None:
                self.on_line(text())
            else:
                print(text(), file=self.stream, flush=True)

    def _new_bar(self, **options: object):
        from tqdm import tqdm

        return tqdm(**({"desc": self.what} | options), file=self.stream, dynamic_ncols=True)


class EpochProgress(ProgressLines):
    """Shows training progress (see `ProgressLines`), one update per epoch, a line at each
    phase's first and last epoch and at most every `interval_s` seconds between; within an
    epoch, its steps (`on_step`: a line as training starts, then at most every `interval_s`)."""

    def __init__(self, what: str = "training", **options: Any) -> None:
        super().__init__(what, **options)
        self.done = 0  # epochs finished, every phase
        self.total = 0  # known total so far (an upper bound during early stopping)
        self.phase = 0
        self._phase_start = 0  # `done` when the current phase began
        self._last_epoch = 0
        self._started = 0.0
        self._step: tuple[int, int] | None = None  # (step, steps) of the running epoch
        self._stopped = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def __enter__(self) -> Self:
        # A step can outlast the interval at full size (minutes at ml-32m on 2 cores), and so
        # can validation: a thread keeps the lines coming. The TUI's status (`on_line`) shows
        # its own elapsed time, so only a stream gets one.
        if self.on_line is None:
            self._heartbeat = threading.Thread(target=self._beat, name="progress-heartbeat", daemon=True)
            self._heartbeat.start()
        return self

    def close(self) -> None:
        self._stopped.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
            self._heartbeat = None
        super().close()

    def _beat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_S):
            self.still_working()

    def still_working(self) -> None:
        """Once training has begun, a sign of life if nothing was shown for about
        `interval_s`: the bar redrawn (its elapsed time moves), or a plain line naming the
        running epoch and its last step."""
        if self._step is None:
            return
        if self.is_terminal:
            if self._bar is not None:
                self._bar.refresh()
            return
        step, steps = self._step
        # the check runs every HEARTBEAT_S: due that much early, no gap passes `interval_s`
        now = self.clock()
        due = now - self._last_line >= self.interval_s - HEARTBEAT_S
        text = f"{self.phase_name()}: epoch {self.done + 1}, still working after step {step} of {steps}"
        self._line(now, lambda: text, due=due)

    def __call__(self, stats: EpochStats) -> None:
        if self.done == 0:
            self._started = self.clock() - stats.seconds  # when the first epoch began
        new_phase = self.done == 0 or stats.epoch <= self._last_epoch
        if new_phase:
            self.phase += 1
            self._phase_start = self.done
        self._last_epoch = stats.epoch
        if self._step is not None:  # the next epoch has not stepped yet
            self._step = (0, self._step[1])
        self.total = self._phase_start + max(stats.total, stats.epoch)
        self.done += 1
        if self.is_terminal:
            self._update_bar(stats, new_phase)
            return
        last_of_phase = stats.epoch >= stats.total
        self._line(self.clock(), lambda: self.describe(stats), due=new_phase or last_of_phase)

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        """Step `step` of `steps` of the running epoch ended (0: the epoch began): the bar's
        postfix, or a line when the interval has passed (the first one at once)."""
        self._step = (step, steps)
        if self.is_terminal:
            if self._bar is None:
                self._bar = self._new_bar(total=self.total or None, unit="epoch", desc=self.phase_name())
            self._bar.set_postfix({"step": f"{step}/{steps}"})
            return
        self._line(self.clock(), lambda: f"{self.phase_name()}: epoch {self.done + 1}, step {step} of {steps}")

    def phase_name(self) -> str:
        return self.what if self.phase <= 1 else f"{self.what} (refit on every rating)"

    def describe(self, stats: EpochStats) -> str:
        """One line: phase, epochs done of the total, the loss, speed and time left."""
        at_most = "at most " if self.phase <= 1 else ""  # early stopping may end sooner
        text = f"{self.phase_name()}: epoch {self.done} of {at_most}{self.total}, loss {stats.loss:.4f}"
        if stats.val_recall20 is not None:
            text += f", validation Recall@20 {stats.val_recall20:.4f}"
        per_epoch = (self.clock() - self._started) / self.done
        left = (self.total - self.done) * per_epoch
        return text + f", {per_epoch:.2f} s/epoch, about {format_duration(left)} left"

    def _update_bar(self, stats: EpochStats, new_phase: bool) -> None:
        if self._bar is None:
            self._bar = self._new_bar(total=self.total, unit="epoch", desc=self.phase_name())
        elif new_phase:
            self._bar.set_description(self.phase_name(), refresh=False)
        self._bar.total = self.total
        postfix = {"loss": f"{stats.loss:.4f}"}
        if stats.val_recall20 is not None:
            postfix["val R@20"] = f"{stats.val_recall20:.4f}"
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)
