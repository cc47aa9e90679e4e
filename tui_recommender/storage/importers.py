"""Ratings from elsewhere: IMDb's "Your ratings" export, Letterboxd's `ratings.csv`, and
this app's own export, recognised by their header and matched to the dataset's movies.

- IMDb (`Const,Your Rating,Date Rated,Title,...,Title Type,...,Year,...`, recent exports
  also `Original Title`): 1-10 stars are halved and rounded onto the dataset's scale; only
  film `Title Type`s are imported, series, episodes and games are skipped and counted.
- Letterboxd (`Date,Name,Year,Letterboxd URI,Rating`, 0.5-5 stars; the diary's extra
  columns are allowed and its unrated rows skipped).
- Our own export (`userId,movieId,rating[,timestamp]` CSV or the JSON list): see
  `ratings_files.read_export`.

Matching: IMDb ids through the dataset's `links.csv` where it has one; otherwise title and
year with `titles.title_keys` (article kept first, then without it), the year exact or off
by one, and never a guess: two candidates left means unmatched. `read_import` only reads
and matches; the caller stores `ImportPlan.ratings` in one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from tui_recommender.core.errors import DataError
from tui_recommender.core.private_files import read_regular
from tui_recommender.core.rating_scale import RatingScale
from tui_recommender.core.text import LINE_CHARS, shorten, shorten_items
from tui_recommender.core.titles import display_title, title_keys
from tui_recommender.data.movielens import RATINGS_COLUMNS, MovieLensData, load_links
from tui_recommender.data.tables import next_row
from tui_recommender.storage.database import MARK_COLUMNS
from tui_recommender.storage.export_files import ratings_frame, read_export

logger = logging.getLogger(__name__)

IMDB = "IMDb ratings"
LETTERBOXD = "Letterboxd ratings"
OWN = "tui-recommender export"
ARTICLES = {IMDB: "an", LETTERBOXD: "a", OWN: "a"}
IMDB_COLUMNS = ("Const", "Your Rating", "Date Rated", "Title", "Title Type", "Year")
LETTERBOXD_COLUMNS = ("Date", "Name", "Year", "Letterboxd URI", "Rating")
# IMDb's title types that are films ("TV Movie" -> "tvmovie"); series, episodes, games,
# podcasts and music videos are not.
FILM_TYPES = frozenset({"movie", "tvmovie", "short", "tvshort", "video", "tvspecial", ""})
KNOWN_FORMATS = (
    f"{IMDB} ({','.join(IMDB_COLUMNS[:4])},...)",
    f"{LETTERBOXD} ({','.join(LETTERBOXD_COLUMNS)})",
    f"{OWN} (userId,movieId,rating[,timestamp] as CSV, or JSON)",
)
MAX_IMPORT_BYTES = 64 << 20  # 64 MiB: over a million ratings; a FIFO or /dev/zero is never read
_IMDB_ID = re.compile(r"tt(\d{1,10})")
_YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True)
class Entry:
    """A row of the file that was not imported: where, what, and why."""

    line: int  # 1-based line in the file (the header is line 1)
    title: str
    year: int | None
    why: str  # the IMDb title type, "no rating", "not in the dataset", "2 movies match: ..."

    def describe(self) -> str:
        year = f" ({self.year})" if self.year is not None else ""
        return f"{self.title or '(no title)'}{year}"


@dataclass(frozen=True)
class ImportPlan:
    """What an import would store. `ratings`: columns userId, movieId (int64), rating
    (float32 stars on the dataset's scale), timestamp (int64 seconds), one row per
    (user, movie), the file's last one. `marks`: watchlist and "not interested" entries
    (our own export only), columns as `ratings_store.MARK_COLUMNS`."""

    path: Path
    source: str  # IMDB, LETTERBOXD or OWN
    ratings: pd.DataFrame
    skipped: tuple[Entry, ...]  # not films, or no rating
    unmatched: tuple[Entry, ...]  # no movie of the dataset, or more than one
    marks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(MARK_COLUMNS)))
    titles: Mapping[int, str] = field(default_factory=dict)  # movie id -> "Heat (1995) #6", for the report

    @property
    def users(self) -> list[int]:
        return sorted(set(self.ratings["userId"].tolist()) | set(self.marks["userId"].tolist()))


class MovieMatcher:
    """Finds a dataset movie by IMDb id (through links.csv) or by title and year."""

    def __init__(self, movies: pd.DataFrame, links: pd.DataFrame | None) -> None:
        """`movies`: `MovieLensData.movies` (index movieId; title, year); `links`:
        `movielens.load_links`'s frame or None."""
        self.by_imdb: dict[int, int] | None = None
        if links is not None:
            imdb = pd.to_numeric(links["imdbId"], errors="coerce")
            known = imdb.notna()
            self.by_imdb = dict(zip(imdb[known].astype("int64").tolist(), links.index[known].tolist()))
        self._years: dict[int, int | None] = {}
        self._titles: dict[int, str] = {}
        self._exact: dict[str, list[int]] = defaultdict(list)
        self._loose: dict[str, list[int]] = defaultdict(list)
        for movie_id, title, year in zip(movies.index.tolist(), movies["title"].tolist(), movies["year"].tolist()):
            self._years[movie_id] = None if pd.isna(year) else int(year)
            self._titles[movie_id] = title
            keys = title_keys(title)
            for key in keys.exact:
                self._exact[key].append(movie_id)
            for key in keys.loose:
                self._loose[key].append(movie_id)

    def by_title(self, names: Sequence[str], year: int | None) -> tuple[int | None, str]:
        """(movieId, "") for the one movie called any of `names` in `year` (or a year off
        by one), else (None, why not). Keys with the article come first, then without."""
        for index, attribute in ((self._exact, "exact"), (self._loose, "loose")):
            found: set[int] = set()
            for name in names:
                for key in getattr(title_keys(name), attribute):
                    found.update(index.get(key, ()))
            if not found:
                continue
            if year is None:
                tiers = [sorted(found)]
            else:
                tiers = [
                    sorted(m for m in found if self._years[m] == year),
                    sorted(m for m in found if self._years[m] is not None and abs(self._years[m] - year) == 1),
                ]
            for tier in tiers:
                if len(tier) == 1:
                    return tier[0], ""
                if len(tier) > 1:
                    return None, f"{len(tier)} movies match: {shorten_items(map(self.describe, tier), 3)}"
        return None, "not in the dataset"

    def describe(self, movie_id: int) -> str:
        """`Heat (1995) #6`: the dataset's title, year and id."""
        year = self._years[movie_id]
        return f"{display_title(self._titles[movie_id])}{f' ({year})' if year else ''} #{movie_id}"


class Importer:
    """`read_import` for one dataset, its `MovieMatcher` built on first use (~0.2 s:
    links.csv and every title's keys) and kept; any thread may call `read`."""

    def __init__(self, data: MovieLensData) -> None:
        self._data = data
        self._matcher: MovieMatcher | None = None
        self._movie_ids = set(data.movies.index.tolist())
        self._lock = threading.Lock()

    def read(self, path: Path, user_id: int | None, keep_export_users: bool = False) -> ImportPlan:
        with self._lock:
            if self._matcher is None:
                self._matcher = MovieMatcher(self._data.movies, load_links(self._data.path))
        plan = read_import(path, self._matcher, self._data.scale, self._movie_ids, user_id, keep_export_users)
        movies = set(plan.ratings["movieId"].tolist()) | set(plan.marks["movieId"].tolist())
        plan = replace(plan, titles={m: self._matcher.describe(m) for m in movies})
        logger.info(
            "import file %s (%s): %d ratings and %d list entries for %d users; %d skipped, %d unmatched",
            plan.path,
            plan.source,
            len(plan.ratings),
            len(plan.marks),
            len(plan.users),
            len(plan.skipped),
            len(plan.unmatched),
        )
        return plan


def read_import(
    path: Path,
    matcher: MovieMatcher,
    scale: RatingScale,
    known_movies: set[int],
    user_id: int | None,
    keep_export_users: bool = False,
) -> ImportPlan:
    """Read `path` in whichever format its header names and match its movies. `user_id`
    is required for IMDb and Letterboxd files; with our own export it moves a one-user
    file to that user, unless `keep_export_users` (then the export's own user IDs stay).
    Raises `DataError`: unknown format (naming the header found and the formats known) or
    a malformed row (naming the file and line); nothing is stored."""
    path = Path(path)
    text = _read_text(path)
    export_user = None if keep_export_users else user_id
    if text.lstrip().startswith(("[", "{")):
        return _own(path, *read_export(path, scale, known_movies), export_user)
    rows = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next_row(rows, path) or []]
    columns = set(header)
    if columns >= set(IMDB_COLUMNS):
        source, parse = IMDB, _imdb_rows
    elif columns >= set(LETTERBOXD_COLUMNS):
        source, parse = LETTERBOXD, _letterboxd_rows
    elif columns >= set(RATINGS_COLUMNS[:3]):
        return _own(path, *read_export(path, scale, known_movies), export_user)
    else:
        found = shorten(",".join(header), LINE_CHARS)
        raise DataError(f"{path}: unknown format, header {found!r}; known: {'; '.join(KNOWN_FORMATS)}")
    if user_id is None:
        raise DataError(f"{path} is {ARTICLES[source]} {source} file: say which user gets the ratings (--user ID)")
    imported: list[tuple[int, int, float, int]] = []
    skipped: list[Entry] = []
    unmatched: list[Entry] = []
    for record in parse(path, header, rows, scale):
        if record.skip:
            skipped.append(Entry(record.line, record.names[0], record.year, record.skip))
            continue
        movie = None
        if record.imdb is not None and matcher.by_imdb is not None:
            movie = matcher.by_imdb.get(record.imdb)
            why = "" if movie is not None else "not in the dataset"
        else:
            movie, why = matcher.by_title(record.names, record.year)
        if movie is None:
            unmatched.append(Entry(record.line, record.names[0], record.year, why))
        else:
            imported.append((user_id, movie, record.stars, record.timestamp))
    ratings = ratings_frame(imported).drop_duplicates(["userId", "movieId"], keep="last")
    return ImportPlan(path, source, ratings.reset_index(drop=True), tuple(skipped), tuple(unmatched))


def to_scale(stars: float, scale: RatingScale) -> float:
    """`stars` rounded (halves up) to the nearest value on `scale`, within its range."""
    steps = np.floor((stars - scale.low) / scale.step + 0.5)
    return float(scale.low + min(max(steps, 0), round((scale.high - scale.low) / scale.step)) * scale.step)


# ---- the formats ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    line: int
    names: tuple[str, ...]  # the title, then any original title
    year: int | None
    imdb: int | None
    stars: float  # on the dataset's scale
    timestamp: int
    skip: str = ""  # why the row is skipped, "" to import it


def _imdb_rows(path: Path, header: list[str], rows: Iterator[list[str]], scale: RatingScale) -> Iterator[_Record]:
    for line, cell in _cells(path, header, rows):
        const = cell("Const")
        match = _IMDB_ID.fullmatch(const)
        if match is None:
            raise DataError(f"{path} line {line}: Const {shorten(const)!r} is not an IMDb id like tt0114709")
        stars = cell("Your Rating")
        if not (stars.isascii() and stars.isdigit() and len(stars) <= 2 and 1 <= int(stars) <= 10):
            raise DataError(f"{path} line {line}: Your Rating {shorten(stars)!r} is not a whole number from 1 to 10")
        names = tuple(
            name for name in (cell("Title"), cell("Original Title") if "Original Title" in header else "") if name
        )
        kind = cell("Title Type")
        yield _Record(
            line,
            names or ("",),
            _year(path, line, cell("Year")),
            int(match.group(1)),
            to_scale(int(stars) / 2, scale),
            _date(path, line, "Date Rated", cell("Date Rated")),
            "" if kind.replace(" ", "").casefold() in FILM_TYPES else kind,
        )


def _letterboxd_rows(path: Path, header: list[str], rows: Iterator[list[str]], scale: RatingScale) -> Iterator[_Record]:
    for line, cell in _cells(path, header, rows):
        name, stars = cell("Name"), cell("Rating")
        if not name:
            raise DataError(f"{path} line {line}: Name is empty")
        year = _year(path, line, cell("Year"))
        timestamp = _date(path, line, "Date", cell("Date"))
        if not stars:
            yield _Record(line, (name,), year, None, 0.0, timestamp, "no rating")
            continue
        value = float(stars) if re.fullmatch(r"\d(\.\d+)?", stars) else -1.0
        if not (0.5 <= value <= 5 and (value * 2).is_integer()):
            raise DataError(f"{path} line {line}: Rating {shorten(stars)!r} is not 0.5 to 5 in half stars")
        yield _Record(line, (name,), year, None, to_scale(value, scale), timestamp)


def _cells(path: Path, header: list[str], rows: Iterator[list[str]]):
    """(line, cell getter) per non-blank row; a row with the wrong field count is an error."""
    positions = {name: k for k, name in enumerate(header)}
    line = 1
    while (row := next_row(rows, path)) is not None:
        start, line = line + 1, rows.line_num  # a quoted cell may span lines: name its first
        if not any(field.strip() for field in row):
            continue
        if len(row) != len(header):
            raise DataError(f"{path} line {start}: {len(row)} fields, the header has {len(header)}")
        yield start, lambda name, row=row: row[positions[name]].strip()


def _year(path: Path, line: int, text: str) -> int | None:
    if not text:
        return None
    if not _YEAR.fullmatch(text):
        raise DataError(f"{path} line {line}: Year {shorten(text)!r} is not a year")
    return int(text)


def _date(path: Path, line: int, column: str, text: str) -> int:
    """Seconds since the epoch of midnight UTC on the ISO date `text`, 1970 or later."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise DataError(f"{path} line {line}: {column} {shorten(text)!r} is not a date like 2024-05-31") from None
    if day.year < 1970:  # before the epoch: no rating was made then, and none can be stored
        raise DataError(f"{path} line {line}: {column} {text!r} is before 1970")
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _read_text(path: Path) -> str:
    """The file as text: UTF-8 (with or without BOM), else Windows-1252 as older IMDb
    exports are."""
    try:
        data = read_regular(path, MAX_IMPORT_BYTES)
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from None
    if not data.strip():
        raise DataError(f"{path} is empty: expected a header line; known: {'; '.join(KNOWN_FORMATS)}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _own(path: Path, ratings: pd.DataFrame, marks: pd.DataFrame, user_id: int | None) -> ImportPlan:
    users = sorted(set(ratings["userId"].tolist()) | set(marks["userId"].tolist()))
    if user_id is not None and users:
        if len(users) > 1:
            raise DataError(
                f"{path} holds ratings of {len(users)} users ({shorten_items(users)}): import it without --user"
            )
        ratings, marks = ratings.assign(userId=np.int64(user_id)), marks.assign(userId=np.int64(user_id))
    ratings = ratings.drop_duplicates(["userId", "movieId"], keep="last").reset_index(drop=True)
    return ImportPlan(path, OWN, ratings, (), (), marks.reset_index(drop=True))
