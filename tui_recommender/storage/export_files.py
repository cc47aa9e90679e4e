"""Ratings files: the CSV and JSON our `ratings export` writes and `ratings import` reads
(columns userId, movieId, rating, timestamp, list). A bad row rejects the whole file with a
`DataError` naming the file and the row; ids follow the one rule of `ids`."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TextIO

import numpy as np
import pandas as pd

from tui_recommender.core.errors import DataError, InvalidIdError, RatingError
from tui_recommender.core.ids import parse_id
from tui_recommender.core.list_names import LISTS
from tui_recommender.core.private_files import read_regular
from tui_recommender.core.rating_scale import RatingScale
from tui_recommender.data.movielens import RATINGS_COLUMNS
from tui_recommender.data.tables import TIMESTAMP_LIMIT, next_row
from tui_recommender.storage.database import MARK_COLUMNS, RatingsStore

MAX_EXPORT_BYTES = 64 << 20  # read at most (as `importers.MAX_IMPORT_BYTES`)
REMOVED = "removed"  # the rating of an exported removal, which hides a dataset rating on import


def export_ratings(store: RatingsStore, out: TextIO, fmt: Literal["csv", "json"] = "csv") -> int:
    """Write the store's current ratings, then the movies on each user's lists, to `out`
    as CSV with a header or as a JSON list of objects. Columns userId, movieId, rating,
    timestamp, list: a rating row has an empty list, a list row (`lists.WATCHLIST`,
    `lists.NOT_INTERESTED`) no rating (JSON: the key is left out). A removed rating is a row
    whose rating is `REMOVED`, so that importing the file hides the dataset's rating again.
    Returns the number of ratings written (removals not counted)."""
    latest = store.latest(readable_only=True)
    ratings = latest[list(RATINGS_COLUMNS)].astype({"rating": object})
    ratings.loc[latest["rating"].isna(), "rating"] = REMOVED
    marks = store.marks()[["userId", "movieId", "timestamp", "list"]]
    marks = marks[marks["list"].isin(LISTS)]  # another program's lists: neither ours nor importable
    if fmt == "csv":
        both = pd.concat([ratings.assign(list=""), marks], ignore_index=True)[[*RATINGS_COLUMNS, "list"]]
        both.to_csv(out, index=False, lineterminator="\n")
    elif fmt == "json":
        records = ratings.to_dict("records") + marks.to_dict("records")
        json.dump(records, out, indent=1)
        out.write("\n")
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return int(latest["rating"].notna().sum())


def read_export(path: Path, scale: RatingScale, known_movies: set[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate a file written by `export_ratings` (JSON if it starts with
    `[` or `{`, CSV otherwise; timestamp optional, default now). Returns columns userId,
    movieId (int64), rating (float32 stars; NaN for a `REMOVED` rating), timestamp (int64
    seconds). Any bad row rejects the file with a `DataError` naming it and the row:
    `line N` (CSV, header = line 1) or `item N` (JSON, first object = item 1). Rows naming a `list` are returned second, as
    marks (columns `MARK_COLUMNS`, added True)."""
    try:
        text = read_regular(path, MAX_EXPORT_BYTES).decode("utf-8-sig")
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise DataError(f"cannot read {path}: byte {err.start} is not UTF-8 text") from None
    is_json = text.lstrip().startswith(("[", "{"))
    records = _json_records(path, text) if is_json else _csv_records(path, text)
    now = int(time.time())
    rows, marks = [], []
    for where, record in records:
        try:
            list_name = str(record.get("list") or "").strip()
            if list_name:
                marks.append(_parse_mark(record, list_name, known_movies, now))
            else:
                rows.append(_parse_record(record, scale, known_movies, now))
        except (DataError, RatingError, InvalidIdError) as err:
            raise DataError(f"{path} {where}: {err}") from None
    return ratings_frame(rows), pd.DataFrame(marks, columns=list(MARK_COLUMNS))


def ratings_frame(rows: list[tuple[int, int, float, int]]) -> pd.DataFrame:
    """(userId, movieId, rating, timestamp) rows as a frame with the dtypes of
    `MovieLensData.ratings`."""
    user, movie, rating, stamp = zip(*rows) if rows else ((), (), (), ())
    return pd.DataFrame(
        {
            "userId": np.array(user, dtype=np.int64),
            "movieId": np.array(movie, dtype=np.int64),
            "rating": np.array(rating, dtype=np.float32),
            "timestamp": np.array(stamp, dtype=np.int64),
        }
    )


def _csv_records(path: Path, text: str) -> list[tuple[str, Mapping[str, object]]]:
    """(`line N`, {column: text}) per non-blank data row; the header names the columns."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next_row(reader, path) or []]
    missing = [name for name in RATINGS_COLUMNS[:3] if name not in header]
    if missing:
        raise DataError(f"{path} line 1: the header lacks {', '.join(missing)}")
    records = []
    while (row := next_row(reader, path)) is not None:
        if not row:
            continue
        where = f"line {reader.line_num}"
        if len(row) != len(header):
            raise DataError(f"{path} {where}: {len(row)} fields, the header has {len(header)}")
        records.append((where, dict(zip(header, row))))
    return records


def _json_records(path: Path, text: str) -> list[tuple[str, Mapping[str, object]]]:
    """(`item N`, object) per element of the top-level JSON list."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{path} line {err.lineno}: not valid JSON ({err.msg})") from None
    except ValueError:  # Python refuses integers of over 4,300 digits
        raise DataError(f"{path}: holds a number with thousands of digits, not a rating file") from None
    except RecursionError:
        raise DataError(f"{path}: nested too deeply to be a rating file") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of rating objects")
    records = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise DataError(f"{path} item {number}: expected an object with userId, movieId, rating")
        records.append((f"item {number}", item))
    return records


def _parse_record(
    record: Mapping[str, object], scale: RatingScale, known_movies: set[int], now: int
) -> tuple[int, int, float, int]:
    """(userId, movieId, rating, timestamp) from one row; raises `DataError`/`RatingError`."""
    for name in RATINGS_COLUMNS[:3]:
        if name not in record:
            raise DataError(f"missing {name}")
    user, movie, timestamp = _parse_keys(record, known_movies, now)
    if str(record["rating"]).strip() == REMOVED:
        return user, movie, float("nan"), timestamp
    return user, movie, scale.validate(record["rating"]), timestamp


def _parse_keys(record: Mapping[str, object], known_movies: set[int], now: int) -> tuple[int, int, int]:
    """(userId, movieId, timestamp) of one row; the timestamp is `now` where absent."""
    for name in RATINGS_COLUMNS[:2]:
        if name not in record:
            raise DataError(f"missing {name}")
    try:
        user, movie = parse_id(record["userId"], "userId"), parse_id(record["movieId"], "movieId")
    except InvalidIdError as error:  # the one id rule; reported with the file and line
        raise DataError(str(error)) from None
    if movie not in known_movies:
        raise DataError(f"movie {movie} is not in the dataset")
    stamp = record.get("timestamp")
    timestamp = now if stamp is None or stamp == "" else _parse_timestamp(stamp)
    return user, movie, timestamp


def _parse_mark(
    record: Mapping[str, object], list_name: str, known_movies: set[int], now: int
) -> tuple[int, int, str, bool, int]:
    """(userId, movieId, list, True, timestamp) from a list row; it has no rating."""
    if list_name not in LISTS:
        raise DataError(f"list {list_name!r:.40} is not one of {', '.join(LISTS)}")
    if record.get("rating") not in (None, ""):
        raise DataError(f"a {list_name} row has no rating (found {record['rating']!r:.40})")
    user, movie, timestamp = _parse_keys(record, known_movies, now)
    return user, movie, list_name, True, timestamp


def _parse_timestamp(value: object) -> int:
    """Seconds from an int or a string of ASCII digits, 0 up to `TIMESTAMP_LIMIT`."""
    text = value.strip() if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif text and text.isascii() and text.isdigit() and len(text) <= len(str(TIMESTAMP_LIMIT)):
        number = int(text)
    else:
        raise DataError(f"timestamp {value!r:.40} is not a whole number of seconds")
    if not 0 <= number < TIMESTAMP_LIMIT:
        raise DataError(f"timestamp {number!r:.40} is outside 0 to {TIMESTAMP_LIMIT - 1} seconds")
    return number
