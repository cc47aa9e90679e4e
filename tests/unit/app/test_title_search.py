"""Title search as people type: punctuation, spacing, numbered sequels and small typos."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui_recommender.app.title_search import TitleSearch, words_of

MOVIES = [  # (title as displayed, year, popularity)
    ("WALL·E", 2008, 50),
    ("Spider-Man", 2002, 60),
    ("Spider-Man 2", 2004, 40),
    ("The Godfather", 1972, 90),
    ("The Godfather: Part II", 1974, 70),
    ("The Godfather: Part III", 1990, 30),
    ("Toy Story", 1995, 95),
    ("Toy Story 2", 1999, 80),
    ("M", 1931, 99),
    ("Go", 1999, 98),
    ("Star Wars: Episode V - The Empire Strikes Back", 1980, 85),
    ("Seven (a.k.a. Se7en)", 1995, 75),
]
TITLES = [m[0] for m in MOVIES]


@pytest.fixture(scope="module")
def index() -> TitleSearch:
    return TitleSearch(TITLES, [m[1] for m in MOVIES])


POPULARITY = np.array([m[2] for m in MOVIES], dtype=float)


def found(index: TitleSearch, query: str, limit: int = 50) -> list[str]:
    return [TITLES[row] for row in index.search(query, POPULARITY, limit)]


@pytest.mark.parametrize("query", ["wall-e", "walle", "WALL E", "wall·e"])
def test_punctuation_and_spacing_do_not_matter(index, query):
    assert found(index, query)[:1] == ["WALL·E"]


@pytest.mark.parametrize("query", ["spiderman", "spider man", "Spider-Man"])
def test_a_hyphenated_title_is_found_written_as_one_word_or_two(index, query):
    assert found(index, query)[:2] == ["Spider-Man", "Spider-Man 2"]


@pytest.mark.parametrize("query", ["godfather 2", "godfather ii", "the godfather part 2"])
def test_a_numbered_sequel_query_finds_the_sequel_first_and_not_every_film_with_a_2_in_its_year(index, query):
    assert found(index, query) == ["The Godfather: Part II"]


def test_a_number_matches_whole_numbers_and_years(index):
    assert found(index, "toy story 2") == ["Toy Story 2"]
    assert found(index, "episode 5") == ["Star Wars: Episode V - The Empire Strikes Back"]
    assert found(index, "1995") == ["Toy Story", "Seven (a.k.a. Se7en)"]


def test_exact_matches_come_by_popularity(index):
    assert found(index, "godfather") == ["The Godfather", "The Godfather: Part II", "The Godfather: Part III"]
    assert found(index, "godfather", limit=2) == ["The Godfather", "The Godfather: Part II"]


@pytest.mark.parametrize(("query", "first"), [("godfahter", "The Godfather"), ("toy stroy", "Toy Story")])
def test_a_small_typo_finds_the_title_when_nothing_matches_exactly(index, query, first):
    near = found(index, query)
    assert near[:1] == [first]
    assert "M" not in near and "Go" not in near  # a short title is not "inside" every query


def test_near_titles_come_nearest_first_not_most_popular_first(index):
    # "Toy Story" (95) is more popular than "Toy Story 2" (80), but "toy stori 2" is nearer the sequel.
    assert found(index, "toy stori 2")[:1] == ["Toy Story 2"]


def test_no_guessing_for_a_short_query_or_an_exact_match(index):
    assert found(index, "gdf") == []  # too short to guess at
    assert found(index, "seven") == ["Seven (a.k.a. Se7en)"]  # exact: no near titles added


def test_an_empty_or_punctuation_only_query_finds_nothing(index):
    assert found(index, "") == found(index, "  -·- ") == []
    assert index.search("godfather", POPULARITY, 0) == []


@given(st.text(max_size=60))
def test_any_query_gives_distinct_rows_within_the_limit(query):
    index = TitleSearch(TITLES, [m[1] for m in MOVIES])
    rows = index.search(query, POPULARITY, 5)
    assert len(rows) == len(set(rows)) <= 5
    assert all(0 <= row < len(TITLES) for row in rows)


def test_words_of_folds_case_accents_and_punctuation():
    assert words_of("Amélie: Le Fabuleux-Destin!") == "amelie le fabuleux destin"
