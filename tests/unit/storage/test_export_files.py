"""Our own export files (CSV and JSON): round trips through the store, the lists riding
along, and every bad file refused whole with its line."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.unit.storage.test_database import current, listed, mark
from tui_recommender.core.errors import DataError
from tui_recommender.core.list_names import NOT_INTERESTED, WATCHLIST
from tui_recommender.data.movielens import HALF_STARS, WHOLE_STARS
from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.export_files import export_ratings, ratings_frame, read_export

MOVIES = {10, 20, 30, 40, 50}  # the dataset's movies, as `read_export` checks ids against
CSV_HEADER = "userId,movieId,rating,timestamp\n1,10,4.0,5\n1,20,3.5,6\n"


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
