"""The durable ratings store: round trips, merging over the dataset, crash safety,
concurrency, export and import."""

from __future__ import annotations

import io
import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.paths import REPO_ROOT
from tui_recommender.core.errors import DataError, RatingError, RatingsDatabaseError
from tui_recommender.core.list_names import NOT_INTERESTED, WATCHLIST
from tui_recommender.data.movielens import HALF_STARS, WHOLE_STARS
from tui_recommender.storage.database import MARK_COLUMNS, SCHEMA_VERSION, RatingsStore
from tui_recommender.storage.export_files import export_ratings, ratings_frame, read_export
from tui_recommender.storage.overlay import merge_ratings

PROJECT_ROOT = REPO_ROOT
MOVIES = {10, 20, 30, 40, 50}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RatingsStore]:
    with RatingsStore(tmp_path / "state" / "ratings.sqlite3") as opened:
        yield opened


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


def test_merge_removal_hides_and_change_replaces_base_rating() -> None:
    base = ratings_frame([(1, 10, 4.0, 100), (1, 20, 3.0, 101), (2, 10, 5.0, 102)])
    events = ratings_frame([(1, 10, np.nan, 200), (2, 10, 1.5, 201), (3, 30, 2.5, 202)])
    merged = merge_ratings(base, events)
    assert merged.dtypes.equals(base.dtypes)
    assert sorted(map(tuple, merged.to_numpy().tolist())) == [
        (1, 20, 3.0, 101),
        (2, 10, 1.5, 201),
        (3, 30, 2.5, 202),
    ]
    assert base.shape == (3, 4), "the base frame is not modified"


def test_merge_with_no_events_is_the_base(store: RatingsStore) -> None:
    base = ratings_frame([(1, 10, 4.0, 100), (2, 20, 3.0, 101)])
    merged = merge_ratings(base, store.events())
    pd.testing.assert_frame_equal(merged, base)


@pytest.mark.parametrize("seed", range(5))
def test_merge_matches_a_naive_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = {(int(u), int(m)) for u, m in rng.integers(1, 30, size=(400, 2))}
    base_rows = [(u, m, float(rng.integers(1, 11)) / 2, int(rng.integers(1e6))) for u, m in keys]
    event_rows = []
    for _ in range(300):
        u, m = (int(v) for v in rng.integers(1, 35, size=2))
        rating = np.nan if rng.random() < 0.25 else float(rng.integers(1, 11)) / 2
        event_rows.append((u, m, rating, int(rng.integers(1e6))))

    expected = {(u, m): (r, t) for u, m, r, t in base_rows}
    for u, m, r, t in event_rows:
        if np.isnan(r):
            expected.pop((u, m), None)
        else:
            expected[(u, m)] = (r, t)

    base = ratings_frame(base_rows)
    merged = merge_ratings(base, ratings_frame(event_rows))
    assert merged.dtypes.equals(base.dtypes)
    got = {(u, m): (r, t) for u, m, r, t in merged.itertuples(index=False)}
    assert len(got) == len(merged), "one row per (user, movie)"
    assert got == expected


def test_merge_at_dataset_scale_drops_exactly_the_removed_rows() -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    base = pd.DataFrame(
        {
            "userId": rng.integers(1, 611, n).astype(np.int64),
            "movieId": np.arange(n, dtype=np.int64),
            "rating": np.full(n, 3.5, dtype=np.float32),
            "timestamp": np.zeros(n, dtype=np.int64),
        }
    )
    events = base.sample(5_000, random_state=0).assign(rating=np.float32(np.nan))
    merged = merge_ratings(base, events)
    assert len(merged) == n - 5_000
    assert not set(merged["movieId"].tolist()) & set(events["movieId"].tolist())
    assert merged.dtypes.equals(base.dtypes)


CRASHING_WRITER = """
import sys
from pathlib import Path
from tui_recommender.storage.database import RatingsStore

store = RatingsStore(Path(sys.argv[1]))
movie = 0
while True:
    movie += 1
    seq = store.put(1, movie, 0.5 + movie % 10 * 0.5)
    print(seq, movie, flush=True)
"""


@pytest.mark.functional
def test_kill_9_loses_no_confirmed_rating(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, str(path)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    confirmed: list[tuple[int, int]] = []
    try:
        assert child.stdout is not None
        while len(confirmed) < 200:
            line = child.stdout.readline()
            assert line, f"the writer died early: {child.stderr.read() if child.stderr else ''}"
            confirmed.append(tuple(map(int, line.split())))
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    confirmed += [tuple(map(int, line.split())) for line in rest.splitlines() if line.strip()]

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with RatingsStore(path) as store:
        events = store.events()
        stored = dict(zip(events["seq"], zip(events["movieId"], events["rating"])))
        for seq, movie in confirmed:
            assert stored[seq] == (movie, 0.5 + movie % 10 * 0.5)
        assert store.put(2, 10, 4.0) > confirmed[-1][0]


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


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_round_trip(tmp_path: Path, store: RatingsStore, fmt: str) -> None:
    store.put(1, 10, 4.5, timestamp=1_000)
    store.put(1, 20, 2.0, timestamp=1_001)
    store.put(1, 10, 3.5, timestamp=1_002)
    store.remove(1, 20)
    store.put(2, 30, 5.0, timestamp=1_003)

    out = io.StringIO()
    assert export_ratings(store, out, fmt) == 2
    path = tmp_path / f"ratings.{fmt}"
    path.write_text(out.getvalue())
    if fmt == "csv":
        assert out.getvalue().splitlines()[0] == "userId,movieId,rating,timestamp,list"
    else:
        assert json.loads(out.getvalue())[0] == {
            "userId": 1,
            "movieId": 10,
            "rating": 3.5,
            "timestamp": 1_002,
        }

    imported = read_export(path, HALF_STARS, MOVIES)[0]
    removed_at = int(store.latest()["timestamp"].iloc[1])
    # The removal travels too: it hides a dataset rating of (1, 20) wherever it is imported.
    expected = ratings_frame([(1, 10, 3.5, 1_002), (1, 20, float("nan"), removed_at), (2, 30, 5.0, 1_003)])
    pd.testing.assert_frame_equal(imported, expected)

    with RatingsStore(tmp_path / "other.sqlite3") as other:
        other.put_many(imported)
        assert current(other) == current(store)
        assert other.latest()["rating"].isna().tolist() == store.latest()["rating"].isna().tolist()
        assert other.latest()["timestamp"].tolist() == [1_002, removed_at, 1_003]


def test_import_without_timestamps_uses_now(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("movieId,userId,rating\n10,1,4\n\n20,1, 2.5 \n")
    imported = read_export(path, HALF_STARS, MOVIES)[0]
    assert imported["movieId"].tolist() == [10, 20]
    assert imported["rating"].tolist() == [4.0, 2.5]
    assert (abs(imported["timestamp"] - time.time()) < 60).all()


CSV_HEADER = "userId,movieId,rating,timestamp\n1,10,4.0,5\n1,20,3.5,6\n"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("1,10,4.2,7", "not allowed"),
        ("1,10,,7", "not a number"),
        ("x,10,4.0,7", "userId 'x'"),
        ("1,10.5,4.0,7", "movieId '10.5'"),
        ("1,99,4.0,7", "movie 99 is not in the dataset"),
        ("1,10,4.0,-7", "timestamp '-7'"),
        ("1,10,4.0", "3 fields, the header has 4"),
    ],
)
def test_a_bad_csv_line_rejects_the_file(tmp_path: Path, store: RatingsStore, bad_line: str, message: str) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(CSV_HEADER + bad_line + "\n1,30,5.0,8\n")
    with pytest.raises(DataError, match=message) as caught:
        read_export(path, HALF_STARS, MOVIES)[0]
    assert str(caught.value).startswith(f"{path} line 4: ")
    assert store.last_seq() == 0


def test_the_dataset_scale_applies_to_imports(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(CSV_HEADER)
    with pytest.raises(DataError, match=re.escape(f"{path} line 3: ") + ".*not allowed"):
        read_export(path, WHOLE_STARS, MOVIES)[0]


def test_a_csv_without_the_columns_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("user,movie,stars\n1,10,4\n")
    with pytest.raises(DataError, match="line 1: the header lacks userId, movieId, rating"):
        read_export(path, HALF_STARS, MOVIES)[0]


@pytest.mark.parametrize(
    ("bad_item", "message"),
    [
        ({"userId": 1, "movieId": 10, "rating": 7}, "not allowed"),
        ({"userId": 1, "movieId": 10}, "missing rating"),
        ({"userId": True, "movieId": 10, "rating": 4}, "userId 'True'"),
        ({"userId": 1, "movieId": 99, "rating": 4}, "movie 99"),
        ([1, 10, 4.0], "expected an object"),
    ],
)
def test_a_bad_json_item_rejects_the_file(tmp_path: Path, bad_item: object, message: str) -> None:
    good = {"userId": 1, "movieId": 10, "rating": 4.0, "timestamp": 5}
    path = tmp_path / "ratings.json"
    path.write_text(json.dumps([good, good, bad_item, good]))
    with pytest.raises(DataError, match=message) as caught:
        read_export(path, HALF_STARS, MOVIES)[0]
    assert str(caught.value).startswith(f"{path} item 3: ")


def test_broken_json_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ratings.json"
    path.write_text('[\n{"userId": 1,\n "movieId": 10 "rating": 4}\n]')
    with pytest.raises(DataError, match=re.escape(f"{path} line 3: not valid JSON")):
        read_export(path, HALF_STARS, MOVIES)[0]


def test_a_missing_import_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_export(tmp_path / "nope.csv", HALF_STARS, MOVIES)[0]


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


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_lists_are_exported_and_imported_with_the_ratings(tmp_path: Path, store: RatingsStore, fmt: str) -> None:
    store.put(1, 10, 4.5, timestamp=1_000)
    mark(store, 1, 20, WATCHLIST, True)
    mark(store, 1, 30, NOT_INTERESTED, True)
    mark(store, 1, 40, WATCHLIST, True)
    mark(store, 1, 40, WATCHLIST, False)
    out = io.StringIO()
    assert export_ratings(store, out, fmt) == 1
    path = tmp_path / f"mine.{fmt}"
    path.write_text(out.getvalue())
    ratings, marks = read_export(path, HALF_STARS, MOVIES)
    with RatingsStore(tmp_path / "other.sqlite3") as other:
        other.put_many(ratings, marks)
        assert current(other) == {(1, 10): 4.5}
        assert listed(other) == {(1, 20, WATCHLIST), (1, 30, NOT_INTERESTED)}


@pytest.mark.parametrize(
    "text, message",
    [
        ("userId,movieId,rating,timestamp,list\n1,10,,5,favourites\n", "line 2: list 'favourites' is not one of"),
        ("userId,movieId,rating,timestamp,list\n1,10,4,5,watchlist\n", "line 2: a watchlist row has no rating"),
        ("userId,movieId,rating,timestamp,list\n1,99,,5,watchlist\n", "line 2: movie 99 is not in the dataset"),
    ],
)
def test_a_bad_list_row_rejects_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_export(path, HALF_STARS, MOVIES)


@pytest.mark.functional
def test_the_store_imports_neither_torch_nor_textual() -> None:
    probe = "import sys, tui_recommender.storage.database;print(sorted(m for m in ('torch', 'textual') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


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
