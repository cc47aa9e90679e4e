"""The movie catalogue: one dataset's movies as `Movie` records, by raw id or by row, their
genres, and title search. Read-only after construction, so any thread may use it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tui_recommender.errors import UnknownGenreError, UnknownMovieError
from tui_recommender.id_map import IdMap
from tui_recommender.movielens import MovieLensData


@dataclass(frozen=True)
class Movie:
    movie_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]


class Catalogue:
    """Movies in the dataset's row order (row = the model's item index)."""

    def __init__(self, data: MovieLensData) -> None:
        self.dataset_name = data.name
        self.genres = data.genres
        self._movies = data.movies
        self.items = IdMap(data.movies.index.to_numpy())
        years = data.movies["year"].map(lambda y: "" if pd.isna(y) else f" ({y})")
        self._titles = (data.movies["title"] + years).str.casefold().to_numpy(dtype=str)
        genres = data.movies["genres"]
        if data.genres:
            columns = [genres.map(lambda gs, g=g: g in gs).to_numpy() for g in data.genres]
            self._genre_matrix = np.stack(columns, axis=1)
        else:
            self._genre_matrix = np.zeros((len(genres), 0), bool)

    def __len__(self) -> int:
        return len(self._titles)

    def movie(self, movie_id: int) -> Movie:
        """One movie by its raw id; `UnknownMovieError` if the dataset has none."""
        if movie_id not in self.items:
            raise UnknownMovieError(f"movie {movie_id} is not in {self.dataset_name}")
        return self.at(self.items.index(movie_id))

    def at(self, row: int) -> Movie:
        """The movie at catalogue row `row`."""
        entry = self._movies.iloc[row]
        year = entry["year"]
        return Movie(
            int(self._movies.index[row]),
            str(entry["title"]),
            None if pd.isna(year) else int(year),
            tuple(entry["genres"]),
        )

    def genre_counts(self) -> list[tuple[str, int]]:
        """Every genre in the data with its number of movies, in vocabulary order."""
        return list(zip(self.genres, self._genre_matrix.sum(axis=0).tolist()))

    def genre_mask(self, genres: Collection[str]) -> np.ndarray:
        """Rows with any of `genres` (case-insensitive; all rows if empty), as a bool array;
        `UnknownGenreError` for a name not in the vocabulary."""
        if not genres:
            return np.ones(len(self), dtype=bool)
        lookup = {g.casefold(): i for i, g in enumerate(self.genres)}
        unknown = [g for g in genres if g.casefold() not in lookup]
        if unknown:
            raise UnknownGenreError(f"unknown genre {unknown[0]!r}; choose from {', '.join(self.genres)}")
        return self._genre_matrix[:, [lookup[g.casefold()] for g in genres]].any(axis=1)

    def top_genres(self, rows: np.ndarray, n: int = 3) -> tuple[str, ...]:
        """Up to `n` genres most common among the movies at `rows`, most common first."""
        counts = self._genre_matrix[rows].sum(axis=0)
        return tuple(self.genres[g] for g in np.argsort(-counts, kind="stable")[:n] if counts[g] > 0)

    def search(self, query: str, popularity: np.ndarray, limit: int = 50) -> list[Movie]:
        """Movies whose title (with year) contains every word of `query`, case-insensitive;
        the highest `popularity` (per row) first, ties by row."""
        words = query.casefold().split()
        if not words:
            return []
        hit = np.ones(len(self._titles), dtype=bool)
        for word in words:
            hit &= np.char.find(self._titles, word) >= 0
        found = np.flatnonzero(hit)
        found = found[np.lexsort((found, -popularity[found]))][:limit]
        return [self.at(int(i)) for i in found]
