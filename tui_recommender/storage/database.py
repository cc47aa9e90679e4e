"""The durable ratings store: every rating a user enters, changes or removes, in SQLite.

Ratings are appended to an event log (`events`: seq, user_id, movie_id, rating in stars or
NULL for a removal, timestamp in seconds) in WAL mode with `synchronous=FULL`, one
transaction per rating, so a rating is on disk once `put` returns. `seq` only grows, so a
checkpoint can record "applied up to seq N". (`ratings_merge` lays the events over the
dataset's ratings; `ratings_files` reads and writes them as CSV or JSON.)

The watchlist and "not interested" are a second event log (`marks`: seq, user_id, movie_id,
list, added 1 or 0, timestamp); the last event per (user, movie, list) says whether the
movie is on it. `put_many` writes ratings and marks in one transaction.

`meta` holds the database's id, a random UUID written once when the database is created:
a checkpoint records it with its `applied_seq`, so a checkpoint made over another (or a
recreated) database is recognised and its events applied again from the start.
"""

from __future__ import annotations

import operator
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd

from tui_recommender.core.errors import DataError, InvalidIdError, RatingError, RatingsDatabaseError
from tui_recommender.core.ids import MAX_ID, MIN_ID, parse_id, valid_id_mask
from tui_recommender.core.list_names import LISTS
from tui_recommender.core.private_files import make_private_database, make_private_dir
from tui_recommender.core.rating_scale import HALF_STARS
from tui_recommender.core.text import shorten
from tui_recommender.data.tables import TIMESTAMP_LIMIT
from tui_recommender.storage.database_errors import VALID_EVENT, VALID_MARK, VALID_USER, damaged, database_error
from tui_recommender.storage.database_files import check_files, connect, use_wal

SCHEMA_VERSION = 4  # 2: the marks table; 3: the profile_settings table; 4: meta (the database id)
WIDEST_SCALE = HALF_STARS  # of every supported dataset: what the store accepts at all
MARK_COLUMNS = ("userId", "movieId", "list", "added", "timestamp")

# BEGIN IMMEDIATE: processes creating the database at once (torchrun ranks) wait in turn.
_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    movie_id INTEGER NOT NULL,
    rating REAL,
    timestamp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_user_movie ON events (user_id, movie_id, seq);
CREATE TABLE IF NOT EXISTS marks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    movie_id INTEGER NOT NULL,
    list TEXT NOT NULL,
    added INTEGER NOT NULL,
    timestamp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS marks_user_movie ON marks (user_id, movie_id, list, seq);
CREATE TABLE IF NOT EXISTS users (
    user_id INTEGER PRIMARY KEY,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS profile_settings (
    user_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('database_id', '$DATABASE_ID');
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""
_EVENT_COLUMNS = "seq, user_id, movie_id, rating, timestamp"


class RatingsStore:
    """The event log in one SQLite file. One connection, serialised by a lock, so any
    method may be called from any thread; every write is one durable transaction."""

    def __init__(self, path: Path, on_warning: Callable[[str], None] | None = None) -> None:
        """Open the database at `path`, creating it (0600, in 0700 folders) if needed. One
        the app may not write opens read-only (`read_only`: reads work, writes raise); a
        0-byte file starts anew; on a full disk reads work (see `database_files`). Each
        tells `on_warning` why. Links and special files are refused (`RatingsDatabaseError`)."""
        self.path = path
        self._lock = threading.Lock()
        warn = on_warning or (lambda _text: None)
        try:
            check_files(path)
            empty = path.is_file() and path.stat().st_size == 0
            self.read_only = path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
            if not self.read_only:
                make_private_dir(path.parent)
                make_private_database(path)
            self._conn, note = connect(path, self.read_only)
        except OSError as err:
            raise RatingsDatabaseError(f"cannot open the ratings database {path}: {err.strerror or err}") from None
        except sqlite3.Error as err:
            raise database_error(err, path) from None
        try:
            if not self.read_only:
                use_wal(self._conn)
                self._conn.execute("PRAGMA synchronous = FULL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION and not self.read_only:
                self._conn.executescript(_SCHEMA.replace("$DATABASE_ID", uuid.uuid4().hex))
            self.database_id = self._database_id()
        except sqlite3.Error as err:
            self._conn.close()
            raise database_error(err, path) from None
        if version > SCHEMA_VERSION:
            self._conn.close()
            raise DataError(
                f"the ratings database {path} has schema version {version}; this version"
                f" of tui-recommender reads up to {SCHEMA_VERSION}"
            )
        for text in (
            note,
            empty
            and f"the ratings database {path} was an empty (0-byte) file and starts anew with no ratings; if it"
            " held ratings, restore a backup with `tui-recommender ratings import`",
            self.read_only
            and f"the ratings database {path} is read-only: recommendations work, new ratings cannot be saved",
        ):
            if text:
                warn(text)

    def put(self, user_id: int, movie_id: int, rating: float, timestamp: int | None = None) -> int:
        """Store `rating` (stars) durably; `timestamp` in seconds, now by default.
        Returns the event's seq. Raises `RatingError` outside 0.5-5 stars."""
        user, movie = parse_id(user_id, "user ID"), parse_id(movie_id, "movie ID")
        with self._guard(f"the rating of movie {movie} by user {user}"):
            return self._append([(user, movie, _check_rating(rating), _stamp(timestamp))])

    def remove(self, user_id: int, movie_id: int) -> int:
        """Record durably that the user's rating of the movie is gone; returns the seq."""
        user, movie = parse_id(user_id, "user ID"), parse_id(movie_id, "movie ID")
        with self._guard(f"the removal of user {user}'s rating of movie {movie}"):
            return self._append([(user, movie, None, _stamp(None))])

    def put_many(self, ratings: pd.DataFrame, marks: pd.DataFrame | None = None) -> int:
        """Store every row of `ratings` (columns userId, movieId, rating in stars, timestamp
        in seconds) and of `marks` (columns as `MARK_COLUMNS`) in one transaction: all or
        nothing. Returns the last rating seq."""
        for value in ratings["rating"].dropna().unique().tolist():  # NaN: a removal
            _check_rating(value)
        if not valid_id_mask(ratings[["userId", "movieId"]].to_numpy()).all():
            raise InvalidIdError(f"a user or movie id is outside {MIN_ID} to {MAX_ID}")
        for value in ratings["timestamp"].agg(["min", "max"]).tolist() if len(ratings) else ():
            _stamp(value)
        rows = zip(
            ratings["userId"].astype(np.int64).tolist(),
            ratings["movieId"].astype(np.int64).tolist(),
            [None if np.isnan(stars) else stars for stars in ratings["rating"].astype(float).tolist()],
            ratings["timestamp"].astype(np.int64).tolist(),
        )
        n_marks = 0 if marks is None else len(marks)
        marked = f" and {_count(n_marks, 'list mark')}" if n_marks else ""
        with self._guard(f"the import of {_count(len(ratings), 'rating')}{marked} (all of it)"):
            return self._append(rows, _mark_rows(marks) if marks is not None else [])

    def put_marks(self, marks: pd.DataFrame) -> None:
        """Store every row of `marks` (columns as `MARK_COLUMNS`) in one transaction."""
        with self._guard(f"the change of {_count(len(marks), 'list mark')}"):
            self._append([], _mark_rows(marks))

    def marks(self, user_id: int | None = None) -> pd.DataFrame:
        """The movies on each user's lists now (the last mark per user, movie and list,
        when it added), oldest first, of `user_id` only if given: columns userId, movieId
        (int64), list (str), timestamp (int64 seconds)."""
        where, args = ("WHERE user_id = ?", (user_id,)) if user_id is not None else ("", ())
        with self._lock, self._guard():
            rows = self._conn.execute(
                f"SELECT seq, user_id, movie_id, list, timestamp, {VALID_MARK} FROM marks WHERE seq IN"
                f" (SELECT max(seq) FROM marks {where} GROUP BY user_id, movie_id, list) AND added = 1"
                " ORDER BY seq",
                args,
            ).fetchall()
        _seq, user, movie, name, stamp = zip(*self._checked(rows, "mark")) if rows else ((), (), (), (), ())
        return pd.DataFrame(
            {
                "userId": np.array(user, dtype=np.int64),
                "movieId": np.array(movie, dtype=np.int64),
                "list": np.array(name, dtype=object),
                "timestamp": np.array(stamp, dtype=np.int64),
            }
        )

    def add_user(self, user_id: int) -> None:
        """Register a profile durably, even before it has any rating (no-op if known)."""
        with self._guard(f"profile {user_id}"), self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute(
                "INSERT OR IGNORE INTO users (user_id, created) VALUES (?, ?)",
                (parse_id(user_id, "user ID"), _stamp(None)),
            )

    def set_profile_value(self, user_id: int, key: str, value: str) -> None:
        """Durably set one of a profile's settings (e.g. its novelty dial)."""
        with self._guard(f"the {key} setting of profile {user_id}"), self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute(
                "INSERT OR REPLACE INTO profile_settings (user_id, key, value) VALUES (?, ?, ?)",
                (parse_id(user_id, "user ID"), key, value),
            )

    def profile_value(self, user_id: int, key: str) -> str | None:
        """One of a profile's settings (text), or None if it was never set."""
        with self._lock, self._guard():
            row = self._conn.execute(
                "SELECT value FROM profile_settings WHERE user_id = ? AND key = ?", (parse_id(user_id, "user ID"), key)
            ).fetchone()
        return None if row is None else str(row[0])

    def users(self) -> set[int]:
        """Every registered profile and every user with at least one event or mark."""
        with self._lock, self._guard():
            rows = self._conn.execute(
                f"SELECT user_id, {VALID_USER} FROM users UNION SELECT user_id, {VALID_USER} FROM events"
                f" UNION SELECT user_id, {VALID_USER} FROM marks"
            ).fetchall()
        for user, valid in rows:
            if not valid:
                raise damaged(self.path, f"it lists user {user!r:.40}")
        return {row[0] for row in rows}

    def events(self, after_seq: int = 0) -> pd.DataFrame:
        """Events with seq > `after_seq`, in seq order: columns seq, userId, movieId
        (int64), rating (float32 stars, NaN = removed), timestamp (int64 seconds)."""
        with self._lock, self._guard():
            rows = self._conn.execute(
                f"SELECT {_EVENT_COLUMNS}, {VALID_EVENT} FROM events WHERE seq > ? ORDER BY seq", (after_seq,)
            ).fetchall()
        return _event_frame(self._checked(rows))

    def latest(self, readable_only: bool = False) -> pd.DataFrame:
        """The last event per (user, movie), in seq order; columns as `events`. With
        `readable_only`, events of a damaged database that are not valid are left out
        (see `damaged_events`) instead of raising."""
        valid = VALID_EVENT if readable_only else "1"
        with self._lock, self._guard():
            rows = self._conn.execute(
                f"SELECT {_EVENT_COLUMNS}, {VALID_EVENT} FROM events WHERE {valid} AND seq IN"
                f" (SELECT max(seq) FROM events WHERE {valid} GROUP BY user_id, movie_id) ORDER BY seq"
            ).fetchall()
        return _event_frame(self._checked(rows))

    def damaged_events(self) -> int:
        """How many stored events are not valid (written by another program or a bad disk)."""
        with self._lock, self._guard():
            return self._conn.execute(f"SELECT count(*) FROM events WHERE NOT ({VALID_EVENT})").fetchone()[0]

    def count_after(self, seq: int) -> int:
        """How many events have a seq above `seq`."""
        with self._lock, self._guard():
            return self._conn.execute("SELECT count(*) FROM events WHERE seq > ?", (seq,)).fetchone()[0]

    def last_seq(self) -> int:
        """The highest seq written so far, 0 for an empty store."""
        with self._lock, self._guard():
            return self._conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]

    def _database_id(self) -> str | None:
        """The id written once into a new database (`meta`); None in an older read-only one."""
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
        except sqlite3.OperationalError:  # no meta table: schema 3, opened read-only
            return None
        return None if row is None else str(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RatingsStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _guard(self, unsaved: str | None = None) -> Iterator[None]:
        """SQLite failures inside become a `RatingsDatabaseError` saying that `unsaved` (what
        a write was storing; None for a read) was not saved."""
        try:
            yield
        except sqlite3.Error as err:
            raise database_error(err, self.path, unsaved) from None

    def _checked(self, rows: list[tuple], kind: str = "event") -> list[tuple]:
        """Rows (seq first) without their trailing validity flag; `damaged` at the first
        invalid one."""
        for row in rows:
            if not row[-1]:
                fields = ", ".join(f"{value!r:.40}" for value in row[1:-1])
                raise damaged(self.path, f"{kind} {row[0]} holds ({fields})")
        return [row[:-1] for row in rows]

    def _append(
        self,
        rows: Iterable[tuple[int, int, float | None, int]],
        marks: Iterable[tuple[int, int, str, int, int]] = (),
    ) -> int:
        """Insert rating events and marks in one committed transaction; returns the last
        rating seq."""
        with self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                "INSERT INTO marks (user_id, movie_id, list, added, timestamp) VALUES (?, ?, ?, ?, ?)",
                marks,
            )
            cursor = self._conn.executemany(
                "INSERT INTO events (user_id, movie_id, rating, timestamp) VALUES (?, ?, ?, ?)",
                rows,
            )
            # executemany leaves lastrowid unset; the write lock makes max(seq) ours.
            return cursor.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _check_rating(rating: float) -> float:
    """`rating` as a float, or `RatingError` off `WIDEST_SCALE` (NaN and infinities too); a
    last line of defence, as the service has already checked the dataset's own scale."""
    value = float(rating)
    if not WIDEST_SCALE.allowed(np.array([value]))[0]:
        raise RatingError(f"rating {rating!r} is not allowed ({WIDEST_SCALE.describe()})")
    return value


def _mark_rows(marks: pd.DataFrame) -> list[tuple[int, int, str, int, int]]:
    unknown = set(marks["list"].tolist()) - set(LISTS)
    if unknown:
        raise DataError(f"unknown list {shorten(str(sorted(unknown)[0]))!r}; the lists are {', '.join(LISTS)}")
    return list(
        zip(
            marks["userId"].astype(np.int64).tolist(),
            marks["movieId"].astype(np.int64).tolist(),
            marks["list"].tolist(),
            marks["added"].astype(bool).astype(int).tolist(),
            marks["timestamp"].astype(np.int64).tolist(),
        )
    )


def _stamp(timestamp: int | None) -> int:
    """`timestamp` (seconds) checked to fit SQLite's integers, or now."""
    if timestamp is None:
        return int(time.time())
    value = operator.index(timestamp)
    if not 0 <= value < TIMESTAMP_LIMIT:
        raise DataError(f"timestamp {value!r:.40} is outside 0 to {TIMESTAMP_LIMIT - 1} seconds")
    return value


def _event_frame(rows: list[tuple[int, int, int, float | None, int]]) -> pd.DataFrame:
    seq, user, movie, rating, stamp = zip(*rows) if rows else ((), (), (), (), ())
    return pd.DataFrame(
        {
            "seq": np.array(seq, dtype=np.int64),
            "userId": np.array(user, dtype=np.int64),
            "movieId": np.array(movie, dtype=np.int64),
            "rating": np.array(rating, dtype=np.float32),  # None becomes NaN
            "timestamp": np.array(stamp, dtype=np.int64),
        }
    )
