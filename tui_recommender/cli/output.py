"""What the command line writes to the terminal: text made inert and status lines on stderr."""

from __future__ import annotations

import sys
import unicodedata

# Terminal control characters (escape sequences, bells) and bidi overrides in dataset or
# file text: printed as escapes, so they show and never act on the terminal.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def inert(text: str) -> str:
    """`text` safe to print as one line of a terminal: control characters become escapes."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS else ch
        for ch in text
    )


def status(text: str) -> None:
    """One inert status line on stderr (warnings, what a job is doing)."""
    print(inert(text), file=sys.stderr)
