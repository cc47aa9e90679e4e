"""Text for the terminal and for messages.

- `inert(text)`: text from files (titles, genres, tags, list names, paths, error
  messages) made safe to show on a terminal, by the CLI and the app alike: every control
  character (C0 and C1, so ESC, BEL, DEL, CR and LF too) and every bidi override,
  embedding, isolate and mark (U+061C, U+200E/F, U+202A-202E, U+2066-2069) becomes its
  visible escape (`\\x1b`, `\\u202e`): a title can never clear the screen, set the clipboard
  (OSC 52), rename the window or reverse the line it is on. Markup is a separate matter:
  the app shows these strings as plain text, never as markup.
- `shorten` and friends: a value a user typed or a file held is cut to a length one line
  can show, so an error never repeats a 5,000-character value in full.
"""

from __future__ import annotations

from collections.abc import Iterable

SHOWN_CHARS = 40  # a value (an id, a rating, an option) quoted in a message
LINE_CHARS = 80  # a line of a file (a header) quoted in a message
PATH_CHARS = 200  # a path quoted in a message, cut in the middle to keep the file name
SHOWN_ITEMS = 5  # items of a list (movie ids, users) named in a message
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CONTROLS = [*range(0x20), *range(0x7F, 0xA0), *map(ord, BIDI_CONTROLS)]
_ESCAPES = {code: chr(code).encode("unicode_escape").decode("ascii") for code in _CONTROLS}


def inert(text: str) -> str:
    """`text` with control characters and bidi controls as visible escapes (see above)."""
    return text.translate(_ESCAPES)


def shorten(text: str, limit: int = SHOWN_CHARS, *, middle: bool = False) -> str:
    """`text` if it has at most `limit` characters; otherwise its first `limit` characters
    and "…", or with `middle` its first and last `limit // 2` characters around "…"."""
    if len(text) <= limit:
        return text
    if middle:
        half = limit // 2
        return f"{text[:half]}…{text[len(text) - half :]}"
    return f"{text[:limit]}…"


def shorten_path(path: object) -> str:
    """`path` for a message: one longer than `PATH_CHARS` is cut in the middle."""
    return shorten(str(path), PATH_CHARS, middle=True)


def shorten_items(items: Iterable[object], limit: int = SHOWN_ITEMS) -> str:
    """The first `limit` of `items` joined by ", ", ending ", …" when there are more."""
    items = list(items)
    shown = ", ".join(str(item) for item in items[:limit])
    return shown + (", …" if len(items) > limit else "")
