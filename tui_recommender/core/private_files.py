"""Files that hold a user's data (ratings, fine-tuned models) are private: folders the app
creates are 0700, the ratings database and its -wal/-shm files 0600."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm")  # SQLite gives them the database file's mode


def make_private_dir(folder: Path) -> None:
    """Create `folder` and its missing parents as 0700; folders that exist are left as they are."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        os.chmod(created, PRIVATE_DIR_MODE)  # mkdir's mode is reduced by the umask


def make_private_database(path: Path) -> None:
    """Create the SQLite file at `path` as 0600 if it is missing, and narrow an existing one
    and its -wal/-shm files (made 0644 by older versions) to 0600."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES)):
        try:
            if file.stat().st_mode & 0o077:
                os.chmod(file, PRIVATE_FILE_MODE)
        except FileNotFoundError:
            continue
