"""Text as quoted in a message: a value a user typed or a file held is cut to a length one
line can show, so an error never repeats a 5,000-character value in full."""

from __future__ import annotations

from collections.abc import Iterable

SHOWN_CHARS = 40  # a value (an id, a rating, an option) quoted in a message
LINE_CHARS = 80  # a line of a file (a header) quoted in a message
PATH_CHARS = 200  # a path quoted in a message, cut in the middle to keep the file name
SHOWN_ITEMS = 5  # items of a list (movie ids, users) named in a message


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
