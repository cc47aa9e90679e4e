"""The movie catalogue: one dataset's movies as `Movie` records, by raw id or by row, their
genres, and title search. Read-only after construction, so any thread may use it."""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tui_recommender.app.title_search import TitleSearch
from tui_recommender.core.errors import UnknownGenreError, UnknownMovieError
from tui_recommender.core.text import shorten
from tui_recommender.core.titles import display_title
from tui_recommender.data.movielens import MovieLensData, load_links, load_tags
from tui_recommender.engine.calibration import genre_rows, genre_weights
from tui_recommender.engine.id_map import IdMap

MAX_TAGS = 12


@dataclass(frozen=True)
class Movie:
    movie_id: int
    title: str  # as people write it: "The Godfather", "(no title)" for a placeholder (see `titles`)
    year: int | None
    genres: tuple[str, ...]


@dataclass(frozen=True)
class MovieFacts:
    """What the dataset says about one movie beyond its title: for the detail view."""

    mean_rating: float | None  # stars, over the dataset's own ratings; None if it has none
    n_ratings: int  # the dataset's own ratings of it
    tags: tuple[str, ...]  # most used first (up to `MAX_TAGS`); () without tags.csv
    imdb_url: str | None  # None without links.csv or a link
    tmdb_url: str | None


class Catalogue:
    """Movies in the dataset's row order (row = the model's item index)."""

    def __init__(self, data: MovieLensData) -> None:
        self.dataset_name = data.name
        self.genres = data.genres
        self._movies = data.movies
        self._path = data.path
        self._rated_movies = data.ratings["movieId"].to_numpy()
        self._stars = data.ratings["rating"].to_numpy()
        self._extras_lock = threading.Lock()
        self._extras: tuple[pd.DataFrame | None, pd.DataFrame | None] | None = None  # links, tags
        self.items = IdMap(data.movies.index.to_numpy())
        self._search: TitleSearch | None = None  # built on the first search
        column = {genre: k for k, genre in enumerate(data.genres)}
        kept = [[column[g] for g in genres if g in column] for genres in data.movies["genres"].tolist()]
        self._genre_matrix = np.zeros((len(kept), len(data.genres)), bool)  # one pass, not one per genre
        self._genre_matrix[np.repeat(np.arange(len(kept)), [len(k) for k in kept]), [c for k in kept for c in k]] = True
        self.genre_weights = genre_weights(self._genre_matrix)  # for calibrated lists
        self.genre_rows = genre_rows(self.genre_weights)  # each genre's rows, for the calibration's pool

    def __len__(self) -> int:
        return len(self._movies)

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
            display_title(str(entry["title"])),
            None if pd.isna(year) else int(year),
            tuple(entry["genres"]),
        )

    def facts(self, movie_id: int) -> MovieFacts:
        """The dataset's ratings, tags and links of one movie; reads links.csv and tags.csv
        on first use (`DataError` if they are malformed)."""
        self.movie(movie_id)
        stars = self._stars[self._rated_movies == movie_id]
        links, tags = self._links_and_tags()
        imdb = tmdb = None
        if links is not None and movie_id in links.index:
            imdb_id, tmdb_id = links.at[movie_id, "imdbId"], links.at[movie_id, "tmdbId"]
            imdb = f"https://www.imdb.com/title/tt{imdb_id}/" if imdb_id else None
            tmdb = None if pd.isna(tmdb_id) else f"https://www.themoviedb.org/movie/{int(tmdb_id)}"
        top: tuple[str, ...] = ()
        if tags is not None:
            mine = tags.loc[tags["movieId"].to_numpy() == movie_id, "tag"]
            counts = mine.groupby(mine.str.casefold(), sort=False).agg(["size", "first"])
            top = tuple(counts.sort_values("size", ascending=False, kind="stable")["first"][:MAX_TAGS])
        mean = round(float(stars.mean()), 2) if len(stars) else None
        return MovieFacts(mean, len(stars), top, imdb, tmdb)

    def _links_and_tags(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        with self._extras_lock:
            if self._extras is None:
                self._extras = (load_links(self._path), load_tags(self._path))
            return self._extras

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
            raise UnknownGenreError(f"unknown genre {shorten(unknown[0])!r}; choose from {', '.join(self.genres)}")
        return self._genre_matrix[:, [lookup[g.casefold()] for g in genres]].any(axis=1)

    def top_genres(self, rows: np.ndarray, n: int = 3) -> tuple[str, ...]:
        """Up to `n` genres most common among the movies at `rows`, most common first."""
        counts = self._genre_matrix[rows].sum(axis=0)
        return tuple(self.genres[g] for g in np.argsort(-counts, kind="stable")[:n] if counts[g] > 0)

    def search(self, query: str, popularity: np.ndarray, limit: int = 50) -> list[Movie]:
        """Movies whose title as displayed (article in front, with its alternate titles and
        year) matches `query` as `TitleSearch` reads it (punctuation, spacing, case, accents
        and small typos forgiven); exact matches first, each tier by `popularity` (per row)."""
        if self._search is None:
            years = [None if pd.isna(y) else int(y) for y in self._movies["year"]]
            self._search = TitleSearch([display_title(t) for t in self._movies["title"]], years)
        return [self.at(row) for row in self._search.search(query, popularity, limit)]
