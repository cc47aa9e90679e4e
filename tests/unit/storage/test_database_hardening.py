"""The ratings database against its surroundings: private file modes, a read-only or
0-byte database, one tampered with by another program, and a full disk. Each fault is one
line that says what was (not) saved, never a traceback and never a silent loss."""

from __future__ import annotations

import io
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.trained_model import DATASET_NAME, model_positives
from tui_recommender.app.jobs import export_ratings
from tui_recommender.config.settings import Settings
from tui_recommender.core.errors import InvalidIdError, RatingsDatabaseError
from tui_recommender.core.list_names import NOT_INTERESTED
from tui_recommender.storage import database as ratings_store
from tui_recommender.storage import database_errors
from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.lists import UserLists


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sql(path: Path, script: str) -> None:
    """Run `script` on the database as another program would."""
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.close()


def test_state_folders_are_0700_and_the_database_files_0600(tmp_path: Path) -> None:
    os.umask(0o022)
    path = tmp_path / "state" / "ml" / "ratings.sqlite3"
    with RatingsStore(path) as store:
        store.put(1, 10, 4.0)
        files = {p.name: mode(p) for p in path.parent.iterdir()}
        assert files == {"ratings.sqlite3": 0o600, "ratings.sqlite3-wal": 0o600, "ratings.sqlite3-shm": 0o600}
    assert mode(path.parent) == mode(path.parent.parent) == 0o700


def test_an_existing_world_readable_database_is_narrowed_to_0600(db: Path) -> None:
    os.chmod(db, 0o644)
    with RatingsStore(db):
        assert mode(db) == 0o600


def test_zero_byte_database_warns_instead_of_starting_silently(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite3"
    path.write_bytes(b"")
    warnings: list[str] = []
    with RatingsStore(path, on_warning=warnings.append) as store:
        assert store.events().empty
    [warning] = warnings
    assert warning.startswith(f"the ratings database {path} was an empty (0-byte) file") and "ratings import" in warning
    warnings.clear()
    with RatingsStore(path, on_warning=warnings.append):  # now a real, empty database: no warning
        pass
    assert warnings == []


@pytest.fixture
def read_only(db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`db` as a read-only file: for real where permissions bind (not root), else the
    permission check answers as for a file on a read-only mount."""
    if os.geteuid() != 0:
        os.chmod(db, 0o444)
        os.chmod(db.parent, 0o555)
        yield db
        os.chmod(db.parent, 0o755)
        return
    real_access = os.access
    monkeypatch.setattr(
        ratings_store.os,
        "access",
        lambda p, m: False if m == os.W_OK and Path(p) in (db, db.parent) else real_access(p, m),
    )
    yield db


def test_read_only_database_reads_and_refuses_writes_in_one_line(read_only: Path) -> None:
    warnings: list[str] = []
    with RatingsStore(read_only, on_warning=warnings.append) as store:
        assert store.read_only
        assert len(store.events()) == 2 and store.users() == {1}
        with pytest.raises(RatingsDatabaseError) as error:
            store.put(1, 30, 5.0)
    assert (
        str(error.value)
        == f"the ratings database {read_only} is read-only: the rating of movie 30 by user 1 was not saved"
    )
    assert warnings == [
        f"the ratings database {read_only} is read-only: recommendations work, new ratings cannot be saved"
    ]


def test_a_refused_import_says_plainly_that_none_of_it_was_saved(read_only: Path) -> None:
    ratings = pd.DataFrame({"userId": [1], "movieId": [30], "rating": [4.0], "timestamp": [5]})
    with RatingsStore(read_only) as store, pytest.raises(RatingsDatabaseError) as error:
        store.put_many(ratings)
    assert str(error.value) == (
        f"the ratings database {read_only} is read-only: the import of 1 rating (all of it) was not saved"
    )


@pytest.mark.parametrize(
    ("tamper", "detail"),
    [
        (  # NOT NULL is the app's schema: another program's table need not have it
            "CREATE TABLE copy AS SELECT * FROM events; DROP TABLE events;"
            " CREATE TABLE events (seq INTEGER PRIMARY KEY, user_id, movie_id, rating, timestamp);"
            " INSERT INTO events SELECT * FROM copy; UPDATE events SET user_id = NULL WHERE seq = 2",
            "event 2 holds (None, 20, 2.5, 101)",
        ),
        ("UPDATE events SET user_id = 'me' WHERE seq = 1", "event 1 holds ('me', 10, 4.0, 100)"),
        ("UPDATE events SET rating = 'great' WHERE seq = 2", "event 2 holds (1, 20, 'great', 101)"),
        (
            "UPDATE events SET movie_id = 9223372036854775807 WHERE seq = 1",
            "event 1 holds (1, 9223372036854775807, 4.0, 100)",
        ),
        ("UPDATE events SET rating = 99 WHERE seq = 1", "event 1 holds (1, 10, 99.0, 100)"),
        ("INSERT INTO users VALUES (0, 1)", "it lists user 0"),
        ("DROP TABLE events", "no such table: events"),
        ("DROP TABLE users", "no such table: users"),
    ],
)
def test_tampered_database_says_it_is_damaged_and_how_to_recover(db: Path, tamper: str, detail: str) -> None:
    sql(db, tamper)
    with pytest.raises(RatingsDatabaseError) as error, RatingsStore(db) as store:
        store.events()  # in the order the service reads them
        store.users()
    message = str(error.value)
    assert message.startswith(f"the ratings database {db} is damaged ({detail}): save what can be read with")
    assert "ratings export" in message and "ratings import" in message and "\n" not in message


def test_export_saves_what_a_damaged_database_can_still_read(db: Path, small_data: Path) -> None:
    state = db.parent.parent / "state-dir"
    target = state / DATASET_NAME / "ratings.sqlite3"
    target.parent.mkdir(parents=True)
    db.rename(target)
    sql(target, "UPDATE events SET rating = 'great' WHERE seq = 2")
    out, warnings = io.StringIO(), []
    count = export_ratings(Settings.resolve(data=small_data, state_dir=state), out, "csv", warnings.append)
    assert count == 1 and out.getvalue().splitlines() == ["userId,movieId,rating,timestamp,list", "1,10,4.0,100,"]
    assert warnings == [f"{target} is damaged: 1 stored events could not be read and are left out"]


@pytest.fixture
def full_disk(db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`db` on a disk with room for a few more pages: SQLite's page limit fails a write
    with the very error (SQLITE_FULL) a full disk gives, and the disk says it is full."""
    real_connect = sqlite3.connect

    def almost_full(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 1}")
        return conn

    monkeypatch.setattr(ratings_store.sqlite3, "connect", almost_full)
    monkeypatch.setattr(database_errors, "disk_full", lambda path: True)
    yield db
    monkeypatch.undo()


def test_disk_full_says_what_was_not_saved_and_keeps_everything_before(full_disk: Path) -> None:
    stored = []
    with RatingsStore(full_disk) as store, pytest.raises(RatingsDatabaseError) as error:
        for movie in range(100, 5000):
            store.put(2, movie, 3.0)
            stored.append(movie)
    assert str(error.value) == (
        f"the disk holding {full_disk} is full: the rating of movie {100 + len(stored)} by user 2 was not saved;"
        " everything stored before is safe. Free some space and try again"
    )
    with RatingsStore(full_disk) as store:
        events = store.events()
    assert events["movieId"].tolist() == [10, 20, *stored]


def test_store_refuses_ids_and_timestamps_out_of_range(tmp_path: Path) -> None:
    with RatingsStore(tmp_path / "ratings.sqlite3") as store:
        for user, movie in ((0, 10), (2**63, 10), (1, 2**31)):
            with pytest.raises(InvalidIdError):
                store.put(user, movie, 4.0)
        with pytest.raises(InvalidIdError):
            store.add_user(2**63)
        with pytest.raises(Exception, match="timestamp 9223372036854775808 is outside"):
            store.put(1, 10, 4.0, timestamp=2**63)
        assert store.events().empty


def test_stored_rows_for_movies_the_dataset_lacks_are_skipped_with_a_warning(
    trained_model, small_data: Path, state_dir: Path
) -> None:
    db = state_dir / DATASET_NAME / "ratings.sqlite3"
    with RatingsStore(db) as store:
        store.put(1, 999_999, 5.0)
        store.put(1, 10, 4.5)
        UserLists(store).put(1, 888_888, NOT_INTERESTED)
    messages: list[str] = []
    service = trained_model.open_service(small_data, state_dir, on_status=messages.append)
    try:
        assert any(
            m.startswith(f"Skipping stored ratings of 1 movies {DATASET_NAME} does not have (999999)") for m in messages
        ), messages
        assert 999_999 not in {r.movie.movie_id for r in service.user_ratings(1)}
        assert 10 in {r.movie.movie_id for r in service.user_ratings(1)}
        assert 999_999 not in model_positives(service, 1)
        with RatingsStore(db) as other_program:  # arrives while the service runs
            other_program.put(2, 777_777, 5.0)
        report = service.update_model()
        assert not report.cancelled
        assert model_positives(service, 2) == {m for m, (r, _) in service.ratings.of(2).items() if r >= 3.0}
        assert len(service.recommend(1, k=5)) == 5
    finally:
        service.close()
