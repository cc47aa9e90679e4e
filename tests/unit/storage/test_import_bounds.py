"""Import files are bounded input: special files are refused before any read, sizes and
fields are capped, and every refusal is one line naming the file (and the line)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests import refusals
from tui_recommender.core.errors import DataError
from tui_recommender.data.movielens import load_dataset
from tui_recommender.storage import importers
from tui_recommender.storage.importers import MovieMatcher, read_import

IMDB_HEADER = "Const,Your Rating,Date Rated,Title,Title Type,Year"


@pytest.fixture
def read(small_data: Path):
    data = load_dataset(small_data)
    matcher = MovieMatcher(data.movies, None)

    def read_file(path: Path):
        return read_import(path, matcher, data.scale, set(data.movies.index.tolist()), 611)

    return read_file


def refusal(read, path: Path) -> str:
    """The one-line refusal of reading `path`; fails if reading hangs."""
    return refusals.refusal(read, path, DataError)


def test_a_fifo_or_a_device_is_refused_before_any_read(read, tmp_path: Path) -> None:
    fifo = tmp_path / "ratings.csv"
    os.mkfifo(fifo)
    assert refusal(read, fifo) == f"cannot read {fifo}: it is a FIFO (named pipe), not a regular file"
    for device in ("/dev/zero", "/dev/urandom"):
        link = tmp_path / f"{Path(device).name}.csv"
        link.symlink_to(device)
        assert refusal(read, link) == f"cannot read {link}: it is a character device, not a regular file"


def test_a_file_over_the_size_cap_is_refused(read, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "MAX_IMPORT_BYTES", 100)
    big = tmp_path / "big.csv"
    big.write_text("userId,movieId,rating\n" + "1,10,4.0\n" * 20)
    assert refusal(read, big) == f"cannot read {big}: it is 202 bytes, more than the 100 read at most"


def test_a_field_over_the_csv_limit_names_its_line(read, tmp_path: Path) -> None:
    path = tmp_path / "imdb.csv"
    long = "x" * (csv.field_size_limit() + 10)
    path.write_text(f"{IMDB_HEADER}\ntt0114709,9,2020-01-01,Toy Story,movie,1995\ntt1,9,2020-01-01,{long},movie,1995\n")
    assert refusal(read, path) == f"{path} line 3: a field is longer than 131,072 characters"


def test_a_rating_of_thousands_of_digits_is_one_line(read, tmp_path: Path) -> None:
    path = tmp_path / "imdb.csv"
    path.write_text(f"{IMDB_HEADER}\ntt0114709,{'9' * 5001},2020-01-01,Toy Story,movie,1995\n")
    assert refusal(read, path) == (f"{path} line 2: Your Rating '{'9' * 40}…' is not a whole number from 1 to 10")


def test_a_date_before_1970_names_its_line_before_anything_is_stored(read, tmp_path: Path) -> None:
    path = tmp_path / "imdb.csv"
    path.write_text(f"{IMDB_HEADER}\ntt0114709,9,1969-12-31,Toy Story,movie,1995\n")
    assert refusal(read, path) == f"{path} line 2: Date Rated '1969-12-31' is before 1970"
