"""SQLite failures of the ratings database as one-line `RatingsDatabaseError`s that say what
was not saved, and for a damaged database how to recover what can be read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tui_recommender.core.errors import RatingsDatabaseError
from tui_recommender.core.ids import MAX_ID, MIN_ID
from tui_recommender.storage.database_files import disk_full

# A stored event whose every field has the type and range the app writes; anything else
# was written by another program (or a damaged disk).
VALID_EVENT = (
    f"typeof(user_id) = 'integer' AND user_id BETWEEN {MIN_ID} AND {MAX_ID}"
    f" AND typeof(movie_id) = 'integer' AND movie_id BETWEEN {MIN_ID} AND {MAX_ID}"
    " AND (rating IS NULL OR (typeof(rating) IN ('real', 'integer') AND rating BETWEEN 0.5 AND 5.0"
    " AND rating * 2 = round(rating * 2)))"  # half stars, as `database.WIDEST_SCALE`
    " AND typeof(timestamp) = 'integer' AND timestamp >= 0"
)
VALID_USER = f"typeof(user_id) = 'integer' AND user_id BETWEEN {MIN_ID} AND {MAX_ID}"
VALID_MARK = (
    f"{VALID_USER} AND typeof(movie_id) = 'integer' AND movie_id BETWEEN {MIN_ID} AND {MAX_ID}"
    " AND typeof(list) = 'text' AND typeof(timestamp) = 'integer' AND timestamp >= 0"
)


def damaged(path: Path, detail: str) -> RatingsDatabaseError:
    """The error for a database that holds what the app never writes, with the way out."""
    return RatingsDatabaseError(
        f"the ratings database {path} is damaged ({detail}): save what can be read with"
        " `tui-recommender ratings export > ratings-backup.csv`, move the database and its"
        " -wal/-shm files away, then `tui-recommender ratings import ratings-backup.csv`"
        " starts a new one"
    )


def database_error(error: sqlite3.Error, path: Path, unsaved: str | None = None) -> RatingsDatabaseError:
    """`error` as a user error; `unsaved` names what a failed write did not store ("the
    rating of movie 1 by user 2"), None for a read."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error)
    lost = f": {unsaved} was not saved" if unsaved else ""
    if name.startswith(("SQLITE_FULL", "SQLITE_IOERR")) and disk_full(path):
        return RatingsDatabaseError(
            f"the disk holding {path} is full{lost}; everything stored before is safe. Free some space and try again"
        )
    if name.startswith("SQLITE_FULL"):  # with room on the disk: SQLite's own limits
        return RatingsDatabaseError(
            f"the ratings database {path} can take no more events (its event numbers or its size reached"
            f" SQLite's limit){lost}: save it with `tui-recommender ratings export > ratings-backup.csv`, move"
            " the database and its -wal/-shm files away, then `tui-recommender ratings import ratings-backup.csv`"
        )
    if name.startswith("SQLITE_READONLY"):
        return RatingsDatabaseError(f"the ratings database {path} is read-only{lost}")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or text.startswith(("no such table", "no such column")):
        return damaged(path, text)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return RatingsDatabaseError(f"the ratings database {path} is locked by another program{lost}; try again")
    action = "write to" if unsaved else "read"
    return RatingsDatabaseError(f"cannot {action} the ratings database {path} ({text}){lost}")
