"""The main list's order across live reloads (tui.live_list): pins, moves, the cursor's
neighbour, the status line's text and the filter's rules."""

from __future__ import annotations

from tui_recommender.tui.live_list import (
    FILTER_MAX_CHARS,
    ListChange,
    clean_filter,
    compare,
    filter_words,
    matches,
    neighbour,
    pin,
)


def test_pinned_movies_go_back_to_their_rows() -> None:
    assert pin([5, 6, 7, 8], {1: 0, 3: 2}) == [1, 5, 3, 6, 7, 8]
    assert pin([5, 1, 6], {1: 0}) == [1, 5, 6]  # a pinned movie in the new ranking is not there twice
    assert pin([5], {1: 4}) == [5, 1]  # past the end: last


def test_an_arrival_moves_nobody_and_one_move_is_one_mover() -> None:
    change = compare([1, 2, 3, 4], [9, 1, 2, 3])
    assert change.arrived == (9,) and change.moved == {}
    change = compare([1, 2, 3, 4, 5], [1, 5, 2, 3, 4])
    assert change.arrived == () and change.moved == {5: 3}
    assert compare([1, 2, 3], [1, 2, 3]) == ListChange()
    assert compare([1, 2, 3], [3, 2, 1]).moved.keys() <= {1, 2, 3}


def test_the_status_line_names_the_biggest_move() -> None:
    titles = {1: "Heat", 2: "Psycho", 3: "Alien"}
    assert ListChange((7, 8, 9), {2: 4, 3: -1}).text(titles) == "3 new, Psycho up 4, 1 more moved"
    assert ListChange((), {3: -2}).text(titles) == "Alien down 2"
    assert ListChange().text(titles) == "no change"


def test_the_cursor_goes_to_the_nearest_movie_still_there() -> None:
    old = [1, 2, 3, 4, 5]
    assert neighbour(old, 2, {1, 2, 3, 4, 5}) == 3
    assert neighbour(old, 2, {1, 2, 4}) == 4  # below first
    assert neighbour(old, 4, {1, 2}) == 2
    assert neighbour(old, 0, set()) is None
    assert neighbour([], 0, {1}) is None


def test_a_filter_loses_control_characters_and_length_and_says_so() -> None:
    assert clean_filter("star wars") == ("star wars", "")
    text, problem = clean_filter("\x1b[31mred\x07\u202e")
    assert text == "[31mred" and problem == "control characters left out"
    text, problem = clean_filter("a" * 10_000)
    assert len(text) == FILTER_MAX_CHARS and str(FILTER_MAX_CHARS) in problem


def test_every_word_must_match_somewhere() -> None:
    words = filter_words("  Star 1977 ")
    assert words == ("star", "1977")
    assert matches(words, "Star Wars", "1977", "Sci-Fi")
    assert not matches(words, "Star Trek", "1979")
    assert matches((), "anything")
