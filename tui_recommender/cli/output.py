"""What the command line writes to the terminal: text made inert (`core.text.inert`, the
app's rule too) and status lines on stderr."""

from __future__ import annotations

import sys

from tui_recommender.core.text import inert


def status(text: str) -> None:
    """One inert status line on stderr (warnings, what a job is doing)."""
    print(inert(text), file=sys.stderr)
