"""The one-line refusal of reading a hostile file, for the bounded-input tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

HANG_S = 10.0  # a read still running after this is a hang


def refusal(read: Callable[[Path], object], path: Path, error: type[BaseException]) -> str:
    """The message of the `error` that `read(path)` raises; fails if it raises anything else,
    returns, or hangs (`HANG_S`)."""
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            read(path)
        except BaseException as raised:
            outcome.append(raised)

    reading = threading.Thread(target=attempt, daemon=True)
    reading.start()
    reading.join(timeout=HANG_S)
    assert not reading.is_alive(), f"reading {path} hangs"
    assert len(outcome) == 1 and isinstance(outcome[0], error), outcome
    return str(outcome[0])
