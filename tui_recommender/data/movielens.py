"""MovieLens datasets, loaded from a folder or a GroupLens zip in any of the layouts of
`layouts` (ml-latest CSVs, ml-1m and ml-10m `.dat` files, ml-100k)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tui_recommender.core.errors import DataError
from tui_recommender.core.rating_scale import HALF_STARS as HALF_STARS
from tui_recommender.core.rating_scale import WHOLE_STARS as WHOLE_STARS
from tui_recommender.core.rating_scale import RatingScale
from tui_recommender.core.text import shorten_path
from tui_recommender.data.layouts import RATINGS_COLUMNS as RATINGS_COLUMNS
from tui_recommender.data.layouts import Layout, dat_fields, detect
from tui_recommender.data.layouts import split_titles as split_titles
from tui_recommender.data.sources import Source, open_source
from tui_recommender.data.tables import (
    first_bad,
    id_cells,
    numbers,
    read_table,
    star_cells,
    timestamp_cells,
)

PREFERRED_DATASET = "ml-latest-small"
LINKS_COLUMNS = ("movieId", "imdbId", "tmdbId")
TAGS_COLUMNS = ("userId", "movieId", "tag", "timestamp")


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
    layout: str  # a `layouts.Layout` name: "ml-latest", "ml-1m", "ml-10m" or "ml-100k"
    path: Path
    movies: pd.DataFrame
    ratings: pd.DataFrame
    genres: tuple[str, ...]
    scale: RatingScale
    fingerprint: str


def load_dataset(path: Path, on_read: Callable[[int, int], None] | None = None) -> MovieLensData:
    """Load the dataset in folder (or zip file) `path`, detecting its layout from the files
    present. `on_read(done, total)` follows the parse in bytes of the ratings and movies files.

    Raises `DataError` (one line naming the file and its 1-based line) when a file is
    missing or malformed."""
    path = Path(path)
    with open_source(path) as source:
        layout = _checked_layout(source)
        ratings_file, movies_file = layout.ratings_file, layout.movies_file
        total = source.size(ratings_file) + source.size(movies_file)
        done = 0

        def read(n_bytes: int) -> None:
            nonlocal done
            done += n_bytes
            if on_read is not None:
                on_read(min(done, total), total)

        movies_bytes = source.read(movies_file)
        movies = layout.read_movies(source, movies_bytes)
        read(len(movies_bytes))
        fingerprint = hashlib.sha256()
        ratings_bytes = source.read(ratings_file)
        fingerprint.update(ratings_bytes)
        fingerprint.update(movies_bytes)
        del movies_bytes
        table = layout.read_ratings(ratings_bytes, read)
        del ratings_bytes  # the parsed table replaces the text (a GB at ml-32m's size)
        read(total)  # `.dat` text is parsed shorter than it is on disk
    ratings = _ratings(table, ratings_file, movies_file, layout.scale, movies.index)
    del table
    vocabulary = tuple(sorted(set().union(*movies["genres"])))
    return MovieLensData(
        name=dataset_name(path),
        layout=layout.name,
        path=path,
        movies=movies,
        ratings=ratings,
        genres=vocabulary,
        scale=layout.scale,
        fingerprint=fingerprint.hexdigest(),
    )


def dataset_name(path: Path) -> str:
    """A dataset's name: its folder's, or its zip's without `.zip` ("ml-1m.zip" -> "ml-1m")."""
    return path.name[: -len(".zip")] if path.name.lower().endswith(".zip") else path.name


def _checked_layout(source: Source) -> Layout:
    layout = detect(source.names)
    if layout is None:
        raise DataError(
            f"{source.path} holds no MovieLens dataset: expected ratings.csv + movies.csv (ml-latest), "
            "ratings.dat + movies.dat (ml-1m, ml-10m) or u.data + u.item + u.genre (ml-100k)"
        )
    missing = [name for name in layout.required if not source.has(name)]
    if missing:
        raise DataError(f"{source.path / missing[0]} is missing")
    return layout


def find_dataset(root: Path) -> Path | None:
    """The first complete dataset directly under `root` (a folder, or a zip where no folder
    has its name): ml-latest-small if present, else the first by name; None if there is none
    (or `root` does not exist)."""
    found = list_datasets(root)
    found.sort(key=lambda path: (dataset_name(path) != PREFERRED_DATASET, dataset_name(path), path.suffix))
    return found[0] if found else None


def list_datasets(root: Path) -> list[Path]:
    """Every complete dataset directly under `root`, by name: folders, and zips whose name
    no folder has (hidden entries skipped); [] where `root` does not exist."""
    root = Path(root)
    try:
        if not root.is_dir():
            return []
        entries = sorted(entry for entry in root.iterdir() if not entry.name.startswith("."))
        folders = [entry for entry in entries if entry.is_dir() and is_dataset(entry)]
        names = {folder.name for folder in folders}
        zips = [
            entry
            for entry in entries
            if entry.suffix.lower() == ".zip" and dataset_name(entry) not in names and is_dataset(entry)
        ]
    except OSError as error:
        raise DataError(f"cannot read the data folder {shorten_path(root)}: {error.strerror}") from None
    return sorted(folders + zips, key=lambda path: (dataset_name(path), path.suffix))


def load_links(path: Path) -> pd.DataFrame | None:
    """The `links.csv` of a dataset (folder or zip), or None where it has none: index
    `movieId` (int64); `imdbId` (str, IMDb's digits without "tt", "" where unknown or not 1-10
    digits) and `tmdbId` (Int64, <NA> where unknown). Raises `DataError` naming a bad line."""
    with open_source(Path(path)) as source:
        if not source.has("links.csv"):
            return None
        data = source.read("links.csv")
    table = read_table(data, "links.csv", ",", LINKS_COLUMNS, text=("imdbId",), header=True)
    movies = id_cells(table["movieId"], "links.csv", "movieId")
    tmdb = numbers(table["tmdbId"])
    tmdb = tmdb.where((tmdb >= 0) & (tmdb % 1 == 0)).astype("Int64")  # a bad link is no link
    imdb = table["imdbId"].str.strip()
    imdb = imdb.where(imdb.str.fullmatch(r"[0-9]{1,10}"), "")  # a bad link is no link: never part of a URL
    return pd.DataFrame(
        {"imdbId": imdb.to_numpy(), "tmdbId": tmdb.array},
        index=pd.Index(movies.to_numpy(), name="movieId"),
    )


def load_tags(path: Path) -> pd.DataFrame | None:
    """The `tags.csv` (or ml-10m's `tags.dat`) of a dataset, or None where it has none:
    columns `movieId` (int64) and `tag` (str, stripped, empty tags dropped). Raises
    `DataError` naming a bad line."""
    with open_source(Path(path)) as source:
        file = next((name for name in ("tags.csv", "tags.dat") if source.has(name)), None)
        if file is None:
            return None
        data = source.read(file)
    if file == "tags.csv":
        table = read_table(data, file, ",", TAGS_COLUMNS, text=("tag",), header=True)
    else:
        table = dat_fields(data, file, 4, "utf-8", "latin-1")
        table.columns = list(TAGS_COLUMNS)
    movies = id_cells(table["movieId"], file, "movieId")
    tags = pd.DataFrame({"movieId": movies.to_numpy(), "tag": table["tag"].str.strip().to_numpy()})
    return tags[tags["tag"] != ""].reset_index(drop=True)


def is_dataset(path: Path) -> bool:
    """Whether folder (or zip) `path` holds every file of one of the layouts."""
    try:
        with open_source(Path(path)) as source:
            layout = detect(source.names)
            return layout is not None and all(source.has(name) for name in layout.required)
    except DataError:
        return False


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
    # One int64 key per (user, movie): ids are below 2**31, so it cannot overflow.
    key = users.to_numpy() * (int(movies.max()) + 1) + movies.to_numpy()
    # GroupLens files are sorted by user then movie: a rising key has no repeat, in one pass.
    repeated = None if bool((key[1:] > key[:-1]).all()) else pd.Series(key, index=users.index).duplicated()
    if repeated is not None and repeated.any():
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
        },
        copy=False,  # fresh arrays: no second copy into one block
    )
