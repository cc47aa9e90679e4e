"""The durable ratings store: round trips, concurrency, all-or-nothing writes, list marks,
schema versions and profile settings. Merging is in test_overlay, export files in
test_export_files, kill -9 in tests/functional/test_database_kill.py."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tui_recommender.core.errors import DataError, RatingError, RatingsDatabaseError
from tui_recommender.core.list_names import NOT_INTERESTED, WATCHLIST
from tui_recommender.storage.database import MARK_COLUMNS, SCHEMA_VERSION, RatingsStore
from tui_recommender.storage.export_files import ratings_frame


def current(store: RatingsStore) -> dict[tuple[int, int], float]:
    latest = store.latest()
    kept = latest[latest["rating"].notna()]
    return {(u, m): r for u, m, r in zip(kept["userId"], kept["movieId"], kept["rating"])}


def test_round_trip_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "ratings.sqlite3"
    with RatingsStore(path) as store:
        first = store.put(1, 10, 4.5, timestamp=1_000)
        second = store.remove(2, 20)
        store.add_user(7)
    assert (first, second) == (1, 2)
    with RatingsStore(path) as store:
        events = store.events()
        assert events["seq"].tolist() == [1, 2]
        assert events["userId"].tolist() == [1, 2]
        assert events["movieId"].tolist() == [10, 20]
        assert events["rating"].iloc[0] == 4.5 and np.isnan(events["rating"].iloc[1])
        assert events["timestamp"].iloc[0] == 1_000
        assert abs(events["timestamp"].iloc[1] - time.time()) < 60
        assert events.dtypes.to_dict() == {
            "seq": np.int64,
            "userId": np.int64,
            "movieId": np.int64,
            "rating": np.float32,
            "timestamp": np.int64,
        }
        assert store.users() == {1, 2, 7}
        assert store.last_seq() == 2
        assert store.put(1, 20, 3.0) == 3


def test_latest_wins_and_events_after_seq(store: RatingsStore) -> None:
    store.put(1, 10, 2.0)
    store.put(1, 20, 3.0)
    changed = store.put(1, 10, 5.0)
    store.remove(1, 20)
    store.put(2, 10, 1.0)
    assert current(store) == {(1, 10): 5.0, (2, 10): 1.0}
    assert store.latest()["seq"].tolist() == [3, 4, 5]
    assert store.events(after_seq=changed)["seq"].tolist() == [4, 5]
    assert store.events(after_seq=store.last_seq()).empty


def test_empty_store(store: RatingsStore) -> None:
    assert store.last_seq() == 0
    assert store.users() == set()
    assert store.events().empty and store.latest().empty
    assert list(store.events().columns) == ["seq", "userId", "movieId", "rating", "timestamp"]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 0.0, 5.5])
def test_put_rejects_impossible_ratings(store: RatingsStore, bad: float) -> None:
    with pytest.raises(RatingError):
        store.put(1, 10, bad)
    assert store.last_seq() == 0


def test_wal_and_full_sync(store: RatingsStore) -> None:
    with sqlite3.connect(store.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # synchronous is per connection, so ask the store's own.
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DataError, match="schema version"):
        RatingsStore(path)


def test_garbage_file_is_a_damaged_database(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite3"
    path.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(RatingsDatabaseError, match=re.escape(str(path)) + " is damaged .*ratings export"):
        RatingsStore(path)


def test_concurrent_ratings_from_many_threads_all_land(store: RatingsStore) -> None:
    threads, per_thread = 10, 20
    start = threading.Barrier(threads)
    seqs: list[int] = []
    errors: list[BaseException] = []

    def rate(user: int) -> None:
        try:
            start.wait()
            for movie in range(per_thread):
                seqs.append(store.put(user, movie + 1, 0.5 + movie % 10 * 0.5))
        except BaseException as err:  # surfaced below: a thread's exception is otherwise lost
            errors.append(err)

    workers = [threading.Thread(target=rate, args=(user,)) for user in range(1, threads + 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert sorted(seqs) == list(range(1, threads * per_thread + 1))
    assert current(store) == {
        (user, movie + 1): 0.5 + movie % 10 * 0.5 for user in range(1, threads + 1) for movie in range(per_thread)
    }


def test_import_is_all_or_nothing(store: RatingsStore) -> None:
    store.put(9, 10, 1.0)
    rows = ratings_frame([(1, 10, 4.0, 5), (1, 20, 9.0, 6), (1, 30, 3.0, 7)])
    with pytest.raises(RatingError):
        store.put_many(rows)
    assert store.last_seq() == 1
    assert current(store) == {(9, 10): 1.0}


def test_import_later_rows_win(store: RatingsStore) -> None:
    store.put_many(ratings_frame([(1, 10, 4.0, 5), (1, 10, 2.0, 6)]))
    assert current(store) == {(1, 10): 2.0}


# ---- watchlist and "not interested" --------------------------------------------------------


def mark(store: RatingsStore, user_id: int, movie_id: int, list_name: str, added: bool) -> None:
    """One list mark, stored as the app's lists store them (`UserLists` through `put_marks`)."""
    store.put_marks(pd.DataFrame([(user_id, movie_id, list_name, added, 1_000)], columns=list(MARK_COLUMNS)))


def listed(store: RatingsStore) -> set[tuple[int, int, str]]:
    marks = store.marks()
    return set(zip(marks["userId"].tolist(), marks["movieId"].tolist(), marks["list"].tolist()))


def test_marks_last_event_wins_per_list_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite3"
    with RatingsStore(path) as store:
        mark(store, 1, 10, WATCHLIST, True)
        mark(store, 1, 20, WATCHLIST, True)
        mark(store, 1, 20, NOT_INTERESTED, True)
        mark(store, 1, 20, WATCHLIST, False)
        mark(store, 2, 10, NOT_INTERESTED, True)
        mark(store, 2, 10, NOT_INTERESTED, False)
        mark(store, 2, 10, NOT_INTERESTED, True)
    with RatingsStore(path) as store:
        assert listed(store) == {(1, 10, WATCHLIST), (1, 20, NOT_INTERESTED), (2, 10, NOT_INTERESTED)}
        assert store.last_seq() == 0  # marks are not ratings: the model's log is untouched


def test_an_unknown_list_is_refused(store: RatingsStore) -> None:
    with pytest.raises(DataError, match="unknown list 'favourites'"):
        mark(store, 1, 10, "favourites", True)
    assert listed(store) == set()


def test_ratings_and_marks_are_stored_in_one_transaction(store: RatingsStore) -> None:
    marks = pd.DataFrame([(1, 10, WATCHLIST, True, 5), (1, 20, "bogus", True, 5)], columns=list(MARK_COLUMNS))
    with pytest.raises(DataError):
        store.put_many(ratings_frame([(1, 30, 4.0, 5)]), marks)
    assert current(store) == {} and listed(store) == set()
    store.put_many(ratings_frame([(1, 30, 4.0, 5)]), marks.iloc[:1])
    assert current(store) == {(1, 30): 4.0} and listed(store) == {(1, 10, WATCHLIST)}


def test_a_version_1_database_gains_the_marks_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with RatingsStore(path) as store:
        store.put(1, 10, 4.0, timestamp=5)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE marks")
        conn.execute("PRAGMA user_version = 1")
    with RatingsStore(path) as store:
        mark(store, 1, 20, WATCHLIST, True)
        assert listed(store) == {(1, 20, WATCHLIST)}
        assert current(store) == {(1, 10): 4.0}


def test_profile_settings_are_durable_per_profile_and_key(tmp_path):
    path = tmp_path / "r.sqlite3"
    with RatingsStore(path) as store:
        assert store.profile_value(1, "novelty") is None
        store.set_profile_value(1, "novelty", "0.5")
        store.set_profile_value(1, "novelty", "0.25")
        store.set_profile_value(2, "novelty", "1.0")
    with RatingsStore(path) as store:
        assert store.profile_value(1, "novelty") == "0.25"
        assert store.profile_value(2, "novelty") == "1.0"
        assert store.profile_value(1, "other") is None
