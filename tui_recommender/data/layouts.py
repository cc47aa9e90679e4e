"""The MovieLens file layouts, one reader each, so title, year and genres come out the same
way for every release:

- `ml-latest`: `ratings.csv` + `movies.csv` (UTF-8 CSV with a header, half stars), the
  layout of ml-20m, ml-25m, ml-32m, ml-latest and ml-latest-small;
- `ml-1m`: `ratings.dat` + `movies.dat` + `users.dat` (`::`-separated, Latin-1, whole stars);
- `ml-10m`: `ratings.dat` + `movies.dat` (`::`-separated, half stars; `tags.dat` beside them);
- `ml-100k`: `u.data` + `u.item` + `u.genre` (tab- and `|`-separated, whole stars).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tui_recommender.core.errors import DataError
from tui_recommender.core.rating_scale import HALF_STARS, WHOLE_STARS, RatingScale
from tui_recommender.core.text import LINE_CHARS, shorten
from tui_recommender.data.sources import Source
from tui_recommender.data.tables import (
    first_bad,
    id_cells,
    read_table,
    unique_ids,
    unix_lines,
)

RATINGS_COLUMNS = ("userId", "movieId", "rating", "timestamp")
MOVIES_COLUMNS = ("movieId", "title", "genres")
ML_100K_ITEM_COLUMNS = ("movieId", "title", "release_date", "video_release_date", "imdb_url")
MAX_GENRES_PER_MOVIE = 100  # MovieLens has up to 10
MAX_GENRES = 1000  # different genres in a dataset; MovieLens has 20
NO_GENRES = frozenset({"(no genres listed)", "unknown"})  # ml-latest's and ml-100k's placeholder
DAT_SEP = "::"
# `::` becomes this one byte before the C parser reads a `.dat` ratings file (it takes only
# one-character separators); ratings lines hold numbers only, so it cannot clash.
_DAT_FIELD = "\x1f"

# A trailing "(1995)" or "(2006–2007)" (first year kept); the title keeps at least one character.
_TITLE_YEAR = re.compile(r"^(?P<title>.*\S)\s*\((?P<year>\d{4})(?:[-–]\d{4})?\)$")


@dataclass(frozen=True)
class Layout:
    """One MovieLens layout: its files (ratings, movies, then the file that tells it apart),
    its rating scale and its two readers."""

    name: str
    files: tuple[str, str, str | None]
    scale: RatingScale
    read_ratings: Callable[[bytes, Callable[[int], None]], pd.DataFrame]  # raw table, lines as index
    read_movies: Callable[[Source, bytes], pd.DataFrame]  # see `movies_frame`

    @property
    def ratings_file(self) -> str:
        return self.files[0]

    @property
    def movies_file(self) -> str:
        return self.files[1]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name in self.files if name is not None)


def split_titles(titles: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split titles like "American President, The (1995)" into the title without the year
    (str, stripped) and the year (Int64, <NA> where the title ends in no year)."""
    stripped = titles.str.strip()
    parts = stripped.str.extract(_TITLE_YEAR)
    title = parts["title"].fillna(stripped)
    year = pd.to_numeric(parts["year"], errors="coerce").astype("Int64")
    return title, year


def movies_frame(ids: pd.Series, titles: pd.Series, genres: list[tuple[str, ...]]) -> pd.DataFrame:
    """The movies table every layout gives: index `movieId` (int64, sorted); `title` (str,
    year stripped), `year` (Int64), `genres` (tuple of str, placeholders dropped)."""
    title, year = split_titles(titles)
    movies = pd.DataFrame(
        {
            "title": title.to_numpy(),
            "year": year.array,
            "genres": pd.Series(genres, dtype=object).to_numpy(),  # tuples, never a 2-D array
        },
        index=pd.Index(ids.to_numpy(), name="movieId"),
    )
    return movies.sort_index()


def _genre_tuples(cells: pd.Series, file: str) -> list[tuple[str, ...]]:
    """Each cell's genres; `DataError` naming the line of `file` (the cells' index) where a
    movie has more than `MAX_GENRES_PER_MOVIE` genres or the file more than `MAX_GENRES`
    different ones: the app keeps a movies x genres table (a 100,000-genre cell took minutes)."""
    genres, seen = [], set()
    for line, cell in zip(cells.index.tolist(), cells.tolist()):
        names = tuple(name for name in cell.split("|") if name and name not in NO_GENRES)
        if len(names) > MAX_GENRES_PER_MOVIE:
            raise DataError(f"{file} line {line}: {len(names):,} genres, at most {MAX_GENRES_PER_MOVIE} per movie")
        seen.update(names)
        if len(seen) > MAX_GENRES:
            raise DataError(f"{file} line {line}: more than {MAX_GENRES} different genres in the file")
        genres.append(names)
    return genres


def _csv_ratings(data: bytes, on_read: Callable[[int], None]) -> pd.DataFrame:
    return read_table(data, "ratings.csv", ",", RATINGS_COLUMNS, (), header=True, on_read=on_read)


def _csv_movies(_source: Source, data: bytes) -> pd.DataFrame:
    table = read_table(data, "movies.csv", ",", MOVIES_COLUMNS, ("title", "genres"), header=True)
    ids = id_cells(table["movieId"], "movies.csv", "movieId")
    unique_ids(ids, "movies.csv")
    return movies_frame(ids, table["title"], _genre_tuples(table["genres"], "movies.csv"))


def _dat_ratings(data: bytes, on_read: Callable[[int], None]) -> pd.DataFrame:
    single = data.replace(DAT_SEP.encode(), _DAT_FIELD.encode())
    return read_table(single, "ratings.dat", _DAT_FIELD, RATINGS_COLUMNS, (), header=False, on_read=on_read)


def dat_fields(data: bytes, file: str, n_fields: int, encoding: str, fallback: str | None = None) -> pd.DataFrame:
    """The `::`-separated text file `data` as `n_fields` str columns, lines as index. The
    first field ends at the first `::` and the last begins at the last, so a title may hold
    colons. `DataError` names the first line with too few fields, or a byte not in `encoding`
    (where there is no `fallback` encoding to read the whole file in instead)."""
    text = unix_lines(data)
    try:
        lines = text.decode(encoding).split("\n")
    except UnicodeDecodeError as error:
        if fallback is None:
            line = text.count(b"\n", 0, error.start) + 1
            raise DataError(f"{file} line {line}: byte {error.start} is not valid {encoding} text") from None
        lines = text.decode(fallback).split("\n")
    rows = []
    for number, line in enumerate(lines, start=1):
        head = line.split(DAT_SEP, n_fields - 2)
        if len(head) == n_fields - 1:
            middle, sep, last = head[-1].rpartition(DAT_SEP)
            if sep:
                rows.append((*head[:-1], middle, last))
                continue
        found = len(line.split(DAT_SEP))
        raise DataError(f"{file} line {number}: expected {n_fields} fields separated by '::', found {found}")
    if not rows:
        raise DataError(f"{file} holds no data")
    return pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1), dtype=object)


def _dat_movies(encoding: str, fallback: str | None = None) -> Callable[[Source, bytes], pd.DataFrame]:
    def read(_source: Source, data: bytes) -> pd.DataFrame:
        table = dat_fields(data, "movies.dat", 3, encoding, fallback)
        table.columns = list(MOVIES_COLUMNS)
        ids = id_cells(table["movieId"], "movies.dat", "movieId")
        unique_ids(ids, "movies.dat")
        return movies_frame(ids, table["title"], _genre_tuples(table["genres"], "movies.dat"))

    return read


def _ml_100k_ratings(data: bytes, on_read: Callable[[int], None]) -> pd.DataFrame:
    return read_table(data, "u.data", "\t", RATINGS_COLUMNS, (), header=False, on_read=on_read)


def _ml_100k_genre_names(data: bytes) -> tuple[str, ...]:
    """The genre names of `u.genre` ("name|index" lines), in flag-column order."""
    names: list[str] = []
    for line, text in enumerate(unix_lines(data).decode("latin-1").split("\n"), start=1):
        if not text.strip():
            continue
        name, _, index = text.rpartition("|")
        if not name or index.strip() != str(len(names)):
            raise DataError(f"u.genre line {line}: expected 'name|{len(names)}', found {shorten(text, LINE_CHARS)!r}")
        names.append(name)
    if not names:
        raise DataError("u.genre is empty")
    return tuple(names)


def _ml_100k_movies(source: Source, data: bytes) -> pd.DataFrame:
    genre_names = _ml_100k_genre_names(source.read("u.genre"))
    columns = (*ML_100K_ITEM_COLUMNS, *genre_names)
    table = read_table(data, "u.item", "|", columns, columns[1:], header=False, encoding="latin-1")
    ids = id_cells(table["movieId"], "u.item", "movieId")
    unique_ids(ids, "u.item")
    flags = table[list(genre_names)]
    bad = ~flags.isin(["0", "1"]).all(axis=1)
    if bad.any():
        line = first_bad(bad)
        raise DataError(f"u.item line {line}: the {len(genre_names)} genre flags must each be 0 or 1")
    names = np.array(genre_names, dtype=object)
    wanted = (flags.to_numpy() == "1") & ~np.isin(names, list(NO_GENRES))
    genres = [tuple(names[row]) for row in wanted]
    return movies_frame(ids, table["title"], genres)


ML_LATEST = Layout("ml-latest", ("ratings.csv", "movies.csv", None), HALF_STARS, _csv_ratings, _csv_movies)
# GroupLens states no encoding for ml-10m's movies.dat: UTF-8 where it decodes, else Latin-1 as ml-1m.
ML_10M = Layout(
    "ml-10m", ("ratings.dat", "movies.dat", None), HALF_STARS, _dat_ratings, _dat_movies("utf-8", "latin-1")
)
ML_1M = Layout("ml-1m", ("ratings.dat", "movies.dat", "users.dat"), WHOLE_STARS, _dat_ratings, _dat_movies("latin-1"))
ML_100K = Layout("ml-100k", ("u.data", "u.item", "u.genre"), WHOLE_STARS, _ml_100k_ratings, _ml_100k_movies)
# In detection order: ml-1m and ml-10m share their first two files and differ by the third.
LAYOUTS = (ML_LATEST, ML_1M, ML_10M, ML_100K)
LAYOUT_FILES = {layout.name: layout.required for layout in LAYOUTS}


def detect(names: frozenset[str]) -> Layout | None:
    """The layout whose ratings or movies file is among `names`, or None; a `.dat` pair is
    ml-1m (whole stars) where users.dat is beside it, else ml-10m (half stars)."""
    for layout in LAYOUTS:
        if layout is ML_1M and "users.dat" not in names:
            continue
        if names & set(layout.files[:2]):
            return layout
    return None
