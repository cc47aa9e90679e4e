"""MovieLens datasets: the ml-latest-small layout (`movies.csv`, `ratings.csv`, half stars
0.5-5.0) and the ml-100k layout (`u.data`, `u.item`, `u.genre`, whole stars 1-5)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tui_recommender.errors import DataError, RatingError
from tui_recommender.ids import id_problem, valid_id_mask

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
_PARSER_LINE = re.compile(r"line (\d+)")
# Lines end at "\n"; carriage returns right before it are part of the line end (CRLF files,
# and "\r\r\n" from a second LF-to-CRLF conversion). A lone "\r" elsewhere is data, so line
# numbers are the ones `wc -l`, `sed -n Np` and editors show.
_LINE_END = re.compile(rb"\r+\n")
TIMESTAMP_LIMIT = 2**63  # seconds; exclusive, as int64 holds them (2.0**63 is exact in float64)
SHOWN_CHARS = 40  # a cell quoted in an error message is cut to this many characters
# A rating typed or imported as text: plain decimal digits ("4", "3.5", ".5"), no sign,
# exponent, underscore or non-ASCII digit (float() would take "0_5" as 5 and "٣" as 3).
_RATING_TEXT = re.compile(r"\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")


@dataclass(frozen=True)
class RatingScale:
    """The ratings a dataset allows: `low`..`high` in steps of `step` stars."""

    low: float
    high: float
    step: float

    @property
    def half_stars(self) -> bool:
        return self.step < 1.0

    def validate(self, value: object) -> float:
        """Parse and check one rating (a number, or text like "4" or "3.5"); raise
        `RatingError` otherwise."""
        if isinstance(value, str) and _RATING_TEXT.fullmatch(value):
            rating = float(value)
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            rating = float(value)
        else:
            raise RatingError(f"rating {_shown(value)} is not a number ({self.describe()})")
        if not self.allowed(np.array([rating]))[0]:
            raise RatingError(f"rating {_shown(value)} is not allowed ({self.describe()})")
        return rating

    def in_range(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Vectorised: True where a rating (stars) is within `low`..`high`; NaN is False."""
        values = np.asarray(values, dtype=np.float64)
        return (values >= self.low) & (values <= self.high)

    def on_step(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Vectorised: True where a rating is a whole number of steps from `low`."""
        steps = (np.asarray(values, dtype=np.float64) - self.low) / self.step
        with np.errstate(invalid="ignore"):  # inf - inf is NaN, and NaN is False here
            return np.abs(steps - np.round(steps)) <= 1e-9

    def allowed(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Vectorised: the one rule for a rating, used by `validate`, the loaders and the
        store: in range and on the step."""
        return self.in_range(values) & self.on_step(values)

    def describe(self) -> str:
        return f"{self.low:g} to {self.high:g} in steps of {self.step:g}"


HALF_STARS = RatingScale(0.5, 5.0, 0.5)
WHOLE_STARS = RatingScale(1.0, 5.0, 1.0)


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
        raise DataError(f"dataset folder {_shown_path(path)}: {error.strerror}") from None
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
    ratings_bytes = _read(path / ratings_file)
    movies_bytes = _read(path / movies_file)
    if layout == ML_LATEST:
        scale = HALF_STARS
        movies = _ml_latest_movies(movies_bytes)
        table = _read_table(ratings_bytes, ratings_file, ",", RATINGS_COLUMNS, (), header=True)
    else:
        scale = WHOLE_STARS
        genre_names = _ml_100k_genre_names(_read(path / "u.genre"))
        movies = _ml_100k_movies(movies_bytes, genre_names)
        table = _read_table(ratings_bytes, ratings_file, "\t", RATINGS_COLUMNS, (), header=False)
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
        raise DataError(f"cannot read the data folder {_shown_path(root)}: {error.strerror}") from None
    found.sort(key=lambda folder: (folder.name != PREFERRED_DATASET, folder.name))
    return found[0] if found else None


def load_links(path: Path) -> pd.DataFrame | None:
    """The `links.csv` of an ml-latest folder, or None where the folder has none: index
    `movieId` (int64); `imdbId` (str, IMDb's digits without "tt", "" where unknown) and
    `tmdbId` (Int64, <NA> where unknown). Raises `DataError` naming a bad line."""
    file = Path(path) / "links.csv"
    if not file.is_file():
        return None
    table = _read_table(_read(file), file.name, ",", LINKS_COLUMNS, text=("imdbId",), header=True)
    movies = _ids(table["movieId"], file.name, "movieId")
    tmdb = _numbers(table["tmdbId"])
    tmdb = tmdb.where((tmdb >= 0) & (tmdb % 1 == 0)).astype("Int64")  # a bad link is no link
    return pd.DataFrame(
        {"imdbId": table["imdbId"].str.strip().to_numpy(), "tmdbId": tmdb.array},
        index=pd.Index(movies.to_numpy(), name="movieId"),
    )


def load_tags(path: Path) -> pd.DataFrame | None:
    """The `tags.csv` of an ml-latest folder, or None where the folder has none: columns
    `movieId` (int64) and `tag` (str, stripped, empty tags dropped). Raises `DataError`
    naming a bad line."""
    file = Path(path) / "tags.csv"
    if not file.is_file():
        return None
    table = _read_table(_read(file), file.name, ",", TAGS_COLUMNS, text=("tag",), header=True)
    movies = _ids(table["movieId"], file.name, "movieId")
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


def _unix_lines(data: bytes) -> bytes:
    """`data` with "\n" line ends (see `_LINE_END`) and no blank lines at the end."""
    if b"\r" in data:
        # No "\n" at all: a classic Mac file, whose lines end with a lone "\r".
        data = _LINE_END.sub(b"\n", data) if b"\n" in data else data.replace(b"\r", b"\n")
    return data.rstrip(b"\n")


def _shown(value: object) -> str:
    """`value` as quoted in an error message: its repr, cut to `SHOWN_CHARS` characters."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}…"


def _read(file: Path) -> bytes:
    """The bytes of a dataset file; `DataError` (one line) when it cannot be read."""
    try:
        return file.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read {_shown_path(file)}: {error.strerror or error}") from None


def _shown_path(path: Path) -> str:
    """`path` for a message: a path longer than the OS allows is cut in the middle."""
    text = str(path)
    return text if len(text) <= 200 else f"{text[:100]}…{text[-100:]}"


def _layout(folder: Path) -> str | None:
    """The layout whose ratings or movies file is in `folder`, or None."""
    for layout, files in LAYOUT_FILES.items():
        if any((folder / name).is_file() for name in files[:2]):
            return layout
    return None


def _read_table(
    data: bytes,
    file: str,
    sep: str,
    columns: tuple[str, ...],
    text: tuple[str, ...],
    header: bool,
    encoding: str = "utf-8",
) -> pd.DataFrame:
    """Read a delimited file into `columns`; the index is each row's 1-based line in the file.

    The header line, if any, must equal `columns`. `text` columns are str ("" where empty);
    the others are parsed as numbers by the C parser (NaN where empty) and stay str only
    where some cell is not a number, which the callers then report. Lines end with "\n" or
    "\r\n"; blank lines at the end of the file are ignored."""
    data = _unix_lines(data)
    if header:
        first = data.split(b"\n", 1)[0].decode(encoding, errors="replace")
        first = first.lstrip("\ufeff").rstrip("\r")
        if first.split(sep) != list(columns):
            expected = sep.join(columns)
            shown = first if len(first) <= 2 * SHOWN_CHARS else first[: 2 * SHOWN_CHARS] + "…"
            raise DataError(f"{file} line 1: expected header {expected!r}, found {shown!r}")
    positions = {name: k for k, name in enumerate(columns)}
    try:
        table = pd.read_csv(
            io.BytesIO(data),
            sep=sep,
            header=None,
            skiprows=1 if header else 0,
            dtype={positions[name]: str for name in text},
            keep_default_na=False,
            na_values={k: [""] for name, k in positions.items() if name not in text},
            skip_blank_lines=False,  # keeps row k on file line k + 1 (+ 1 for the header)
            encoding=encoding,
            quoting=csv.QUOTE_MINIMAL if sep == "," else csv.QUOTE_NONE,
            lineterminator="\n",  # a lone "\r" is data, not a line end (see _LINE_END)
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{file} holds no data") from None
    except pd.errors.ParserError as error:
        raise DataError(_parser_message(file, error, len(columns))) from None
    except UnicodeDecodeError as error:
        raise DataError(f"{file}: byte {error.start} is not valid {encoding} text") from None
    first_line = 2 if header else 1
    if table.shape[1] != len(columns):
        raise DataError(f"{file} line {first_line}: expected {len(columns)} fields, found {table.shape[1]}")
    table.columns = list(columns)
    table.index = pd.RangeIndex(first_line, first_line + len(table))
    return table


def _parser_message(file: str, error: pd.errors.ParserError, n_fields: int) -> str:
    match = _PARSER_LINE.search(str(error))
    if match:
        return f"{file} line {match.group(1)}: expected {n_fields} fields"
    return f"{file}: cannot be parsed ({str(error).splitlines()[-1]})"


def _first(bad: pd.Series) -> int:
    """The line number (index label) of the first True in `bad`."""
    return int(bad.idxmax())


def _numbers(cells: pd.Series) -> pd.Series:
    """`cells` as numbers, NaN where a cell is not one; the slow path runs only on bad files."""
    return cells if pd.api.types.is_numeric_dtype(cells) else pd.to_numeric(cells, errors="coerce")


def _problem(cells: pd.Series, line: int, what: str) -> str:
    """`what` after the cell on `line` as written, or "is missing" for an empty cell."""
    value = cells[line]
    if pd.isna(value):
        return "is missing"
    text = f"{value:.15g}" if isinstance(value, float) else str(value)
    if len(text) > SHOWN_CHARS:
        text = text[:SHOWN_CHARS] + "…"
    return f"{text!r} {what}"


def _ids(cells: pd.Series, file: str, column: str) -> pd.Series:
    """Parse user or movie ids (int64) by the rule in `ids`, naming the first bad line."""
    values = _numbers(cells)
    bad = ~valid_id_mask(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        line = _first(pd.Series(bad, index=cells.index))
        raise DataError(f"{file} line {line}: {column} {_problem(cells, line, _id_problem(values[line]))}")
    return values.astype("int64")


def _id_problem(value: object) -> str:
    """Why one parsed cell (a number, or text that is not one) is not a valid id."""
    if isinstance(value, (float, np.floating)):
        whole = np.isfinite(value) and float(value).is_integer()
        return id_problem(int(value)) or "" if whole else "is not a whole number"
    return id_problem(value) or ""


def _timestamps(cells: pd.Series, file: str) -> pd.Series:
    """Parse timestamps (int64 seconds, 0 or more), naming the first bad line."""
    values = _numbers(cells)
    bad = values.isna() | (values < 0) | (values % 1 != 0) | (values >= TIMESTAMP_LIMIT)
    if bad.any():
        line = _first(bad)
        raise DataError(f"{file} line {line}: timestamp {_problem(cells, line, 'is not a whole number of seconds')}")
    return values.astype("int64")


def _stars(cells: pd.Series, file: str, scale: RatingScale) -> pd.Series:
    """Parse ratings (float32 stars) on `scale`, naming the first bad line."""
    values = _numbers(cells)
    checks = (
        (values.isna(), "is not a number"),
        (pd.Series(~scale.in_range(values), index=values.index), f"is outside {scale.low:.1f} to {scale.high:.1f}"),
        (pd.Series(~scale.on_step(values), index=values.index), f"is off the {scale.step:g}-star step"),
    )
    for bad, what in checks:
        if bad.any():
            line = _first(bad)
            raise DataError(f"{file} line {line}: rating {_problem(cells, line, what)}")
    return values.astype("float32")


def _unique_ids(ids: pd.Series, file: str) -> None:
    repeated = ids.duplicated()
    if repeated.any():
        line = _first(repeated)
        first = int(ids.index[ids == ids[line]][0])
        raise DataError(f"{file} line {line}: movieId {ids[line]} is listed twice (first on line {first})")


def _ratings(
    table: pd.DataFrame, file: str, movies_file: str, scale: RatingScale, movie_ids: pd.Index
) -> pd.DataFrame:
    """Check and type the ratings table; every movieId must be in `movie_ids`."""
    if table.empty:
        raise DataError(f"{file} holds no ratings")
    users = _ids(table["userId"], file, "userId")
    movies = _ids(table["movieId"], file, "movieId")
    stars = _stars(table["rating"], file, scale)
    timestamps = _timestamps(table["timestamp"], file)
    unknown = ~movies.isin(movie_ids)
    if unknown.any():
        line = _first(unknown)
        raise DataError(f"{file} line {line}: movieId {movies[line]} is not in {movies_file}")
    repeated = pd.DataFrame({"u": users, "m": movies}).duplicated()
    if repeated.any():
        line = _first(repeated)
        same = (users == users[line]) & (movies == movies[line])
        raise DataError(
            f"{file} line {line}: user {users[line]} rated movie {movies[line]} twice "
            f"(first on line {_first(same)})"
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
    table = _read_table(data, "movies.csv", ",", MOVIES_COLUMNS, ("title", "genres"), header=True)
    ids = _ids(table["movieId"], "movies.csv", "movieId")
    _unique_ids(ids, "movies.csv")
    genres = [
        tuple(name for name in cell.split("|") if name and name not in NO_GENRES)
        for cell in table["genres"]
    ]
    return _movies_frame(ids, table["title"], genres)


def _ml_100k_genre_names(data: bytes) -> tuple[str, ...]:
    """The genre names of `u.genre` ("name|index" lines), in flag-column order."""
    names: list[str] = []
    for line, text in enumerate(_unix_lines(data).decode("latin-1").split("\n"), start=1):
        if not text.strip():
            continue
        name, _, index = text.rpartition("|")
        if not name or index.strip() != str(len(names)):
            shown = text if len(text) <= 2 * SHOWN_CHARS else text[: 2 * SHOWN_CHARS] + "…"
            raise DataError(f"u.genre line {line}: expected 'name|{len(names)}', found {shown!r}")
        names.append(name)
    if not names:
        raise DataError("u.genre is empty")
    return tuple(names)


def _ml_100k_movies(data: bytes, genre_names: tuple[str, ...]) -> pd.DataFrame:
    columns = (*ML_100K_ITEM_COLUMNS, *genre_names)
    table = _read_table(data, "u.item", "|", columns, columns[1:], header=False, encoding="latin-1")
    ids = _ids(table["movieId"], "u.item", "movieId")
    _unique_ids(ids, "u.item")
    flags = table[list(genre_names)]
    bad = ~flags.isin(["0", "1"]).all(axis=1)
    if bad.any():
        line = _first(bad)
        raise DataError(f"u.item line {line}: the {len(genre_names)} genre flags must each be 0 or 1")
    names = np.array(genre_names, dtype=object)
    wanted = (flags.to_numpy() == "1") & ~np.isin(names, list(NO_GENRES))
    genres = [tuple(names[row]) for row in wanted]
    return _movies_frame(ids, table["title"], genres)
