"""MovieLens datasets: the ml-latest-small layout (`movies.csv`, `ratings.csv`, half stars
0.5-5.0) and the ml-100k layout (`u.data`, `u.item`, `u.genre`, whole stars 1-5)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tui_recommender.core.errors import DataError
from tui_recommender.core.rating_scale import HALF_STARS, WHOLE_STARS, RatingScale
from tui_recommender.core.text import LINE_CHARS, shorten, shorten_path
from tui_recommender.data.tables import (
    first_bad,
    id_cells,
    numbers,
    read_file,
    read_table,
    star_cells,
    timestamp_cells,
    unique_ids,
    unix_lines,
)

ML_LATEST = "ml-latest"
ML_100K = "ml-100k"
PREFERRED_DATASET = "ml-latest-small"

# Per layout: the ratings file, the movies file, then any other required file.
LAYOUT_FILES: dict[str, tuple[str, ...]] = {
    ML_LATEST: ("ratings.csv", "movies.csv"),
    ML_100K: ("u.data", "u.item", "u.genre"),
}
RATINGS_COLUMNS = ("userId", "movieId", "rating", "timestamp")
MOVIES_COLUMNS = ("movieId", "title", "genres")
ML_100K_ITEM_COLUMNS = ("movieId", "title", "release_date", "video_release_date", "imdb_url")
LINKS_COLUMNS = ("movieId", "imdbId", "tmdbId")
TAGS_COLUMNS = ("userId", "movieId", "tag", "timestamp")
NO_GENRES = frozenset({"(no genres listed)", "unknown"})  # ml-latest's and ml-100k's placeholder

# A trailing "(1995)" or "(2006–2007)" (first year kept); the title keeps at least one character.
_TITLE_YEAR = re.compile(r"^(?P<title>.*\S)\s*\((?P<year>\d{4})(?:[-–]\d{4})?\)$")


@dataclass(frozen=True)
class MovieLensData:
    """One loaded dataset.

    - `movies`: index `movieId` (int64, sorted); columns `title` (str, year stripped),
      `year` (pandas Int64, <NA> where the title has none), `genres` (tuple of str).
    - `ratings`: columns `userId` (int64), `movieId` (int64), `rating` (float32, stars),
      `timestamp` (int64, seconds); every movieId is in `movies`.
    - `genres`: the genre vocabulary found in the data, sorted, without the
      "no genres" placeholder.
    - `fingerprint`: SHA-256 hex of the ratings and movies files' bytes, to tie checkpoints
      to the data they were trained on.
    """

    name: str
    layout: str  # "ml-latest" or "ml-100k"
    path: Path
    movies: pd.DataFrame
    ratings: pd.DataFrame
    genres: tuple[str, ...]
    scale: RatingScale
    fingerprint: str


def load_dataset(path: Path) -> MovieLensData:
    """Load the dataset in folder `path`, detecting its layout from the files present.

    Raises `DataError` (one line naming the file and its 1-based line) when a file is
    missing or malformed."""
    path = Path(path)
    try:
        is_folder = path.is_dir()
    except OSError as error:  # e.g. a name longer than the OS allows
        raise DataError(f"dataset folder {shorten_path(path)}: {error.strerror}") from None
    if not is_folder:
        raise DataError(f"dataset folder {path} does not exist")
    layout = _layout(path)
    if layout is None:
        raise DataError(
            f"{path} holds no MovieLens dataset: expected ratings.csv + movies.csv (ml-latest) "
            "or u.data + u.item + u.genre (ml-100k)"
        )
    files = LAYOUT_FILES[layout]
    missing = [name for name in files if not (path / name).is_file()]
    if missing:
        raise DataError(f"{path / missing[0]} is missing")
    ratings_file, movies_file = files[0], files[1]
    ratings_bytes = read_file(path / ratings_file)
    movies_bytes = read_file(path / movies_file)
    if layout == ML_LATEST:
        scale = HALF_STARS
        movies = _ml_latest_movies(movies_bytes)
        table = read_table(ratings_bytes, ratings_file, ",", RATINGS_COLUMNS, (), header=True)
    else:
        scale = WHOLE_STARS
        genre_names = _ml_100k_genre_names(read_file(path / "u.genre"))
        movies = _ml_100k_movies(movies_bytes, genre_names)
        table = read_table(ratings_bytes, ratings_file, "\t", RATINGS_COLUMNS, (), header=False)
    ratings = _ratings(table, ratings_file, movies_file, scale, movies.index)
    vocabulary = tuple(sorted(set().union(*movies["genres"])))
    fingerprint = hashlib.sha256(ratings_bytes)
    fingerprint.update(movies_bytes)
    return MovieLensData(
        name=path.name,
        layout=layout,
        path=path,
        movies=movies,
        ratings=ratings,
        genres=vocabulary,
        scale=scale,
        fingerprint=fingerprint.hexdigest(),
    )


def find_dataset(root: Path) -> Path | None:
    """The first complete dataset folder directly under `root`: ml-latest-small if present,
    else the first by name; None if there is none (or `root` does not exist)."""
    root = Path(root)
    try:
        if not root.is_dir():
            return None
        found = [
            folder
            for folder in root.iterdir()
            if folder.is_dir() and not folder.name.startswith(".") and is_dataset(folder)
        ]
    except OSError as error:
        raise DataError(f"cannot read the data folder {shorten_path(root)}: {error.strerror}") from None
    found.sort(key=lambda folder: (folder.name != PREFERRED_DATASET, folder.name))
    return found[0] if found else None


def load_links(path: Path) -> pd.DataFrame | None:
    """The `links.csv` of an ml-latest folder, or None where the folder has none: index
    `movieId` (int64); `imdbId` (str, IMDb's digits without "tt", "" where unknown or not 1-10 digits) and
    `tmdbId` (Int64, <NA> where unknown). Raises `DataError` naming a bad line."""
    file = Path(path) / "links.csv"
    if not file.is_file():
        return None
    table = read_table(read_file(file), file.name, ",", LINKS_COLUMNS, text=("imdbId",), header=True)
    movies = id_cells(table["movieId"], file.name, "movieId")
    tmdb = numbers(table["tmdbId"])
    tmdb = tmdb.where((tmdb >= 0) & (tmdb % 1 == 0)).astype("Int64")  # a bad link is no link
    imdb = table["imdbId"].str.strip()
    imdb = imdb.where(imdb.str.fullmatch(r"[0-9]{1,10}"), "")  # a bad link is no link: never part of a URL
    return pd.DataFrame(
        {"imdbId": imdb.to_numpy(), "tmdbId": tmdb.array},
        index=pd.Index(movies.to_numpy(), name="movieId"),
    )


def load_tags(path: Path) -> pd.DataFrame | None:
    """The `tags.csv` of an ml-latest folder, or None where the folder has none: columns
    `movieId` (int64) and `tag` (str, stripped, empty tags dropped). Raises `DataError`
    naming a bad line."""
    file = Path(path) / "tags.csv"
    if not file.is_file():
        return None
    table = read_table(read_file(file), file.name, ",", TAGS_COLUMNS, text=("tag",), header=True)
    movies = id_cells(table["movieId"], file.name, "movieId")
    tags = pd.DataFrame({"movieId": movies.to_numpy(), "tag": table["tag"].str.strip().to_numpy()})
    return tags[tags["tag"] != ""].reset_index(drop=True)


def split_titles(titles: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split titles like "American President, The (1995)" into the title without the year
    (str, stripped) and the year (Int64, <NA> where the title ends in no year)."""
    stripped = titles.str.strip()
    parts = stripped.str.extract(_TITLE_YEAR)
    title = parts["title"].fillna(stripped)
    year = pd.to_numeric(parts["year"], errors="coerce").astype("Int64")
    return title, year


def is_dataset(folder: Path) -> bool:
    """Whether `folder` holds every file of one of the layouts."""
    layout = _layout(folder)
    return layout is not None and all((folder / name).is_file() for name in LAYOUT_FILES[layout])


def _layout(folder: Path) -> str | None:
    """The layout whose ratings or movies file is in `folder`, or None."""
    for layout, files in LAYOUT_FILES.items():
        if any((folder / name).is_file() for name in files[:2]):
            return layout
    return None


def _ratings(table: pd.DataFrame, file: str, movies_file: str, scale: RatingScale, movie_ids: pd.Index) -> pd.DataFrame:
    """Check and type the ratings table; every movieId must be in `movie_ids`."""
    if table.empty:
        raise DataError(f"{file} holds no ratings")
    users = id_cells(table["userId"], file, "userId")
    movies = id_cells(table["movieId"], file, "movieId")
    stars = star_cells(table["rating"], file, scale)
    timestamps = timestamp_cells(table["timestamp"], file)
    unknown = ~movies.isin(movie_ids)
    if unknown.any():
        line = first_bad(unknown)
        raise DataError(f"{file} line {line}: movieId {movies[line]} is not in {movies_file}")
    repeated = pd.DataFrame({"u": users, "m": movies}).duplicated()
    if repeated.any():
        line = first_bad(repeated)
        same = (users == users[line]) & (movies == movies[line])
        raise DataError(
            f"{file} line {line}: user {users[line]} rated movie {movies[line]} twice (first on line {first_bad(same)})"
        )
    return pd.DataFrame(
        {
            "userId": users.to_numpy(),
            "movieId": movies.to_numpy(),
            "rating": stars.to_numpy(),
            "timestamp": timestamps.to_numpy(),
        }
    )


def _movies_frame(ids: pd.Series, titles: pd.Series, genres: list[tuple[str, ...]]) -> pd.DataFrame:
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


def _ml_latest_movies(data: bytes) -> pd.DataFrame:
    table = read_table(data, "movies.csv", ",", MOVIES_COLUMNS, ("title", "genres"), header=True)
    ids = id_cells(table["movieId"], "movies.csv", "movieId")
    unique_ids(ids, "movies.csv")
    genres = [tuple(name for name in cell.split("|") if name and name not in NO_GENRES) for cell in table["genres"]]
    return _movies_frame(ids, table["title"], genres)


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


def _ml_100k_movies(data: bytes, genre_names: tuple[str, ...]) -> pd.DataFrame:
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
    return _movies_frame(ids, table["title"], genres)
