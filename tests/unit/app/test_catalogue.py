"""The catalogue: movies in the dataset's row order (the model's item index), the genre
filter and the genre counts behind the user's summary."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tui_recommender.app.catalogue import Catalogue
from tui_recommender.core.errors import UnknownGenreError, UnknownMovieError
from tui_recommender.data.movielens import load_dataset


@pytest.fixture
def catalogue(small_data: Path) -> Catalogue:
    return Catalogue(load_dataset(small_data))


def has(catalogue: Catalogue, genre: str) -> list[bool]:
    return [genre in catalogue.at(row).genres for row in range(len(catalogue))]


def test_a_movie_is_found_by_id_at_its_row(catalogue: Catalogue) -> None:
    for row in (0, len(catalogue) - 1):
        movie = catalogue.at(row)
        assert catalogue.movie(movie.movie_id) == movie and catalogue.items.index(movie.movie_id) == row
    with pytest.raises(UnknownMovieError, match=r"^movie 999999 is not in ml-test$"):
        catalogue.movie(999_999)


def test_the_genre_filter_keeps_movies_of_any_named_genre_in_any_case(catalogue: Catalogue) -> None:
    first, second = catalogue.genres[:2]
    mask = catalogue.genre_mask([first.upper(), second.lower()])
    assert mask.tolist() == [a or b for a, b in zip(has(catalogue, first), has(catalogue, second))]
    assert catalogue.genre_mask([]).all()


def test_an_unknown_genre_names_the_choices(catalogue: Catalogue) -> None:
    with pytest.raises(
        UnknownGenreError, match=f"^unknown genre 'Westerns'; choose from {re.escape(', '.join(catalogue.genres))}$"
    ):
        catalogue.genre_mask([catalogue.genres[0], "Westerns"])


def test_genre_counts_and_the_most_common_genres(catalogue: Catalogue) -> None:
    counts = catalogue.genre_counts()
    assert counts == [(genre, sum(has(catalogue, genre))) for genre in catalogue.genres]
    ranked = [genre for genre, n in sorted(counts, key=lambda gn: -gn[1]) if n > 0]  # stable: ties by vocabulary
    assert catalogue.top_genres(np.arange(len(catalogue)), n=2) == tuple(ranked[:2])
    assert catalogue.top_genres(np.array([], dtype=np.int64)) == ()
