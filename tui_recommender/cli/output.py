"""What the command line writes to the terminal: text made inert (`core.text.inert`, the
app's rule too) and status lines on stderr."""

from __future__ import annotations

import logging
import sys

from tui_recommender.cli.logs import SHOWN
from tui_recommender.core.text import inert

logger = logging.getLogger(__name__)


def status(text: str) -> None:
    """One inert status line on stderr (warnings, what a job is doing), logged too."""
    print(inert(text), file=sys.stderr)
    logger.warning("%s", inert(text), extra={SHOWN: True})
