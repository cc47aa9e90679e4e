"""The ratings database's files are opened, not followed: links and special files are
refused before anything is read, created or chmodded; a 0-byte database beside its WAL is
refused and the WAL kept; a full disk still reads (the export is the backup) and says it
is full when a write fails; a new database gets an id of its own."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_recommender.core.errors import RatingsDatabaseError
from tui_recommender.storage import database_errors
from tui_recommender.storage.database import RatingsStore


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_a_link_in_place_of_a_database_file_is_refused_and_its_target_untouched(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / "state" / "ratings.sqlite3"
    path.parent.mkdir()
    target = tmp_path / "someone-elses-file"
    target.write_bytes(b"x")
    target.chmod(0o644)
    (path.parent / (path.name + suffix)).symlink_to(target)
    with pytest.raises(RatingsDatabaseError, match=r"ratings\.sqlite3" + suffix + " is a symbolic link"):
        RatingsStore(path)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and target.read_bytes() == b"x"
    assert path.is_symlink() if suffix == "" else not path.exists()  # nothing created beside the link


def test_a_dangling_link_creates_nothing_at_its_target(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite3"
    path.symlink_to(tmp_path / "elsewhere.sqlite3")
    with pytest.raises(RatingsDatabaseError, match="is a symbolic link"):
        RatingsStore(path)
    assert not (tmp_path / "elsewhere.sqlite3").exists()


def test_a_fifo_in_place_of_the_database_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite3"
    os.mkfifo(path)
    outcome: list[BaseException] = []
    opening = threading.Thread(target=lambda: _record(outcome, lambda: RatingsStore(path)), daemon=True)
    opening.start()
    opening.join(timeout=10)
    assert not opening.is_alive(), "opening a FIFO as the database hangs"
    assert isinstance(outcome[0], RatingsDatabaseError) and "is a FIFO (named pipe)" in str(outcome[0])


def test_a_folder_as_the_shm_file_is_named_as_such(db: Path) -> None:
    db.with_name(db.name + "-shm").mkdir()
    with pytest.raises(RatingsDatabaseError, match=r"ratings\.sqlite3-shm is a folder: move it away"):
        RatingsStore(db)


def test_a_hard_linked_file_is_not_chmodded(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    elsewhere.chmod(0o644)
    path = tmp_path / "state" / "ratings.sqlite3"
    path.parent.mkdir()
    os.link(elsewhere, path)
    with RatingsStore(path):
        pass
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644


def test_a_0_byte_database_beside_its_wal_is_refused_and_the_wal_kept(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite3"
    writer = RatingsStore(path)  # open: its ratings are still in the WAL
    for movie in range(10, 60):
        writer.put(1, movie, 4.0)
    wal = path.with_name(path.name + "-wal")
    kept = tmp_path / "copy"
    kept.mkdir()
    shutil.copy(wal, kept / wal.name)
    writer.close()
    shutil.copy(kept / wal.name, wal)
    path.write_bytes(b"")
    before = wal.read_bytes()
    with pytest.raises(RatingsDatabaseError, match=r"is empty \(0 bytes\) but ratings\.sqlite3-wal holds"):
        RatingsStore(path)
    assert wal.read_bytes() == before and path.stat().st_size == 0


def test_a_new_database_has_an_id_of_its_own_that_stays(tmp_path: Path, db: Path) -> None:
    with RatingsStore(db) as store:
        first = store.database_id
    with RatingsStore(db) as store:
        assert store.database_id == first
    with RatingsStore(tmp_path / "other.sqlite3") as other:
        assert other.database_id not in (None, first) and len(first) == 32


def test_an_older_database_gets_its_id_when_opened(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.executescript("DROP TABLE meta; PRAGMA user_version = 3;")
    conn.close()
    with RatingsStore(db) as store:
        assert store.database_id is not None and len(store.events()) == 2


def test_seq_numbers_used_up_are_not_called_a_full_disk(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'events'")
    conn.execute("UPDATE events SET seq = 9223372036854775807 WHERE seq = 2")
    conn.commit()
    conn.close()
    with RatingsStore(db) as store, pytest.raises(RatingsDatabaseError) as error:
        store.put(1, 30, 3.0)
    assert "can take no more events" in str(error.value) and "disk" not in str(error.value)
    assert "ratings export" in str(error.value)


def test_an_io_error_on_a_full_disk_says_the_disk_is_full(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
    monkeypatch.setattr(database_errors, "disk_full", lambda path: True)
    assert "is full" in str(database_errors.database_error(error, db, "the rating"))
    monkeypatch.setattr(database_errors, "disk_full", lambda path: False)
    assert "disk I/O error" in str(database_errors.database_error(error, db, "the rating"))


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs holding a database whose last ratings are still in its WAL, then
    filled up. Skips where mounting is not allowed (not root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        source = tmp_path / "source.sqlite3"
        writer = RatingsStore(source)
        for movie in range(10, 60):
            writer.put(1, movie, 4.0, timestamp=100)
        writer._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # some in the file, the rest in the WAL
        for movie in range(60, 80):
            writer.put(2, movie, 3.0, timestamp=100)
        path = mount / "ratings.sqlite3"
        shutil.copy(source, path)
        shutil.copy(source.with_name(source.name + "-wal"), path.with_name(path.name + "-wal"))
        writer.close()
        with (mount / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"x" * 1024)
            except OSError:
                pass
        yield path
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_still_reads_every_rating_and_a_write_says_the_disk_is_full(full_disk: Path) -> None:
    warnings: list[str] = []
    with RatingsStore(full_disk, on_warning=warnings.append) as store:
        assert len(store.events()) == 70
        assert warnings == [
            f"the disk holding {full_disk} is full: stored ratings can be read and exported, new ones cannot"
            " be saved until some space is freed"
        ]
        stored = []
        with pytest.raises(RatingsDatabaseError) as error:
            for movie in range(100, 5000):  # into the WAL's free frames until there are none
                store.put(3, movie, 4.0)
                stored.append(movie)
        assert str(error.value).startswith(
            f"the disk holding {full_disk} is full: the rating of movie {100 + len(stored)} by user 3 was not saved"
        )
    with RatingsStore(full_disk) as store:
        assert len(store.events()) == 70 + len(stored)


def _record(outcome: list[BaseException], call) -> None:
    try:
        call()
    except BaseException as error:
        outcome.append(error)


def test_a_first_open_waits_for_another_connections_lock_to_turn_on_wal(tmp_path: Path) -> None:
    # torchrun's ranks open a new database at once: the WAL switch met SQLITE_BUSY at once
    path = tmp_path / "ratings.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE held (x)")
    other.execute("BEGIN IMMEDIATE")  # as the other rank holds while it writes the schema
    releaser = threading.Timer(0.3, other.execute, ("COMMIT",))
    releaser.start()
    try:
        with RatingsStore(path) as store:
            assert store.events().empty
    finally:
        releaser.join()
        other.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
