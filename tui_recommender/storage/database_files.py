"""How the ratings database's files are opened.

- Refused with one line before anything is read or written: the database or its -wal/-shm
  file as a symbolic link (never followed: it could point anywhere) or a special file (a
  FIFO would hang the open, a device is no database), and a 0-byte database beside a
  non-empty -wal file (SQLite would start a new database over the WAL and lose it).
- A full disk: SQLite cannot create or grow the -shm file (the WAL index) and every read
  fails; the database is then read with `locking_mode = EXCLUSIVE`, which keeps the WAL
  index in memory, so reading (and `ratings export`, the backup) works and writes fail
  with "disk full".
- A database the app may not write opens read-only (`mode=ro`, or `immutable=1` where
  SQLite cannot create the -shm file and the WAL holds nothing).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from tui_recommender.core.errors import RatingsDatabaseError
from tui_recommender.core.private_files import SQLITE_SIDE_FILES, file_problem

DISK_FULL_BYTES = 1 << 20  # less free space than this (1 MiB) is a full disk for SQLite


def check_files(path: Path) -> None:
    """`RatingsDatabaseError` if the database at `path` or a side file is a link or a
    special file, or if the database is empty while its -wal file holds changes."""
    for file in (path, *side_files(path)):
        problem = file_problem(file)
        if problem is not None:
            raise RatingsDatabaseError(
                f"the ratings database file {file} {problem}: move it away (the app creates its own files)"
            )
    wal = path.with_name(path.name + "-wal")
    if path.is_file() and path.stat().st_size == 0 and holds_wal(path):
        raise RatingsDatabaseError(
            f"the ratings database {path} is empty (0 bytes) but {wal.name} holds {wal.stat().st_size:,} bytes of"
            " changes that need it: restore the database file from a backup; nothing was changed"
        )


def side_files(path: Path) -> tuple[Path, ...]:
    return tuple(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES)


def holds_wal(path: Path) -> bool:
    """Whether the database at `path` has a non-empty -wal file (ratings not yet merged)."""
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0


def disk_full(path: Path) -> bool:
    """Whether the disk holding `path` has less than `DISK_FULL_BYTES` free."""
    try:
        info = os.statvfs(path.parent)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < DISK_FULL_BYTES


WAL_WAIT_S = 5.0  # as long as sqlite3.connect's busy timeout waits for other locks


def use_wal(conn: sqlite3.Connection) -> None:
    """Switch `conn`'s database to write-ahead logging. SQLite answers a journal-mode change
    that another connection's lock blocks with SQLITE_BUSY at once, without its busy
    handler (two first opens at once, as torchrun's ranks do), so wait for up to WAL_WAIT_S."""
    deadline = time.monotonic() + WAL_WAIT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if not getattr(error, "sqlite_errorname", "").startswith("SQLITE_BUSY") or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def connect(path: Path, read_only: bool) -> tuple[sqlite3.Connection, str | None]:
    """A connection in autocommit mode (transactions are opened with BEGIN IMMEDIATE), and
    a warning for the user or None. Raises `sqlite3.Error` or `RatingsDatabaseError`."""
    if read_only:
        return _connect_read_only(path), None
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        conn.execute("PRAGMA user_version")  # the -shm file is created and mapped at the first read
        return conn, None
    except sqlite3.OperationalError as error:
        conn.close()
        if not getattr(error, "sqlite_errorname", "").startswith("SQLITE_IOERR") or not disk_full(path):
            raise
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")  # set before the first read: no -shm file
    conn.execute("PRAGMA user_version")
    return conn, (
        f"the disk holding {path} is full: stored ratings can be read and exported, new ones cannot be saved"
        " until some space is freed"
    )


def _connect_read_only(path: Path) -> sqlite3.Connection:
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA user_version")  # a missing -shm shows only at the first read
        return conn
    except sqlite3.OperationalError:
        if holds_wal(path):
            raise RatingsDatabaseError(
                f"the ratings database {path} is read-only and its -wal file holds ratings"
                " not yet merged into it: make its folder writable"
            ) from None
        # A read-only folder, where SQLite cannot create the -shm file: read the file as it is.
        return sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False, isolation_level=None)
