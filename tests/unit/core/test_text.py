"""`shorten`: values quoted in messages are cut to one line's worth, never repeated in full;
`inert`: control characters and bidi controls show as escapes."""

from __future__ import annotations

import pytest

from tui_recommender.core.text import PATH_CHARS, SHOWN_CHARS, inert, shorten, shorten_items, shorten_path


def test_short_text_is_kept_whole() -> None:
    assert shorten("x" * SHOWN_CHARS) == "x" * SHOWN_CHARS
    assert shorten("") == ""


def test_long_text_keeps_its_start_and_ends_in_an_ellipsis() -> None:
    assert shorten("abcdefgh", 3) == "abc…"
    assert shorten("x" * 5000) == "x" * SHOWN_CHARS + "…"


def test_middle_keeps_both_ends() -> None:
    assert shorten("abcdefgh", 4, middle=True) == "ab…gh"
    assert shorten("abcdefgh", 1, middle=True) == "…"  # no end repeats the whole text


def test_a_long_path_keeps_its_file_name() -> None:
    path = "/home/" + "d" * 500 + "/ratings.csv"
    shown = shorten_path(path)
    assert len(shown) == PATH_CHARS + 1 and shown.startswith("/home/") and shown.endswith("/ratings.csv")


def test_items_past_the_limit_end_in_an_ellipsis() -> None:
    assert shorten_items([3, 1, 2], 3) == "3, 1, 2"
    assert shorten_items(range(10), 3) == "0, 1, 2, …"
    assert shorten_items([]) == ""


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Evil\x1b]52;c;SGVsbG8=\x07", r"Evil\x1b]52;c;SGVsbG8=\x07"),
        ("\x1b[2J\x9b2J\x7f", r"\x1b[2J\x9b2J\x7f"),
        ("a\tb\nc\rd\x00", r"a\tb\nc\rd\x00"),
        ("\u202eevil\u2066\u2069\u200e\u200f\u061c", r"\u202eevil\u2066\u2069\u200e\u200f\u061c"),
        ("Amélie [b]x[/b] 東京 ★", "Amélie [b]x[/b] 東京 ★"),
    ],
)
def test_control_characters_and_bidi_controls_become_visible_escapes(raw: str, shown: str) -> None:
    assert inert(raw) == shown
    assert inert(shown) == shown  # an escape is plain text: showing it twice changes nothing
