"""Dataset files are bounded input: ids as `ids` writes them (digits only, so never "1.0"
or "1e0"), a genre cell or vocabulary too large to keep as a table, a FIFO in place of a
file and a blank first line are each one line naming the file and the line."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests.synthetic import write_movielens
from tui_recommender.core.errors import DataError
from tui_recommender.data.cache import open_dataset
from tui_recommender.data.layouts import MAX_GENRES
from tui_recommender.data.movielens import load_dataset


def edit_line(file: Path, line: int, text: str | None) -> None:
    """Replace 1-based `line` of `file` with `text` (None: insert a blank line there)."""
    lines = file.read_text().splitlines()
    if text is None:
        lines.insert(line - 1, "")
    else:
        lines[line - 1] = text
    file.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("file", "row", "message"),
    [
        ("ratings.csv", "1.0,10,4.0,5", "ratings.csv line 4: userId '1.0' is not a whole number (digits only)"),
        ("ratings.csv", "1e0,10,4.0,5", "ratings.csv line 4: userId '1e0' is not a whole number (digits only)"),
        ("ratings.csv", "1,1e1,4.0,5", "ratings.csv line 4: movieId '1e1' is not a whole number (digits only)"),
        ("ratings.csv", ",10,4.0,5", "ratings.csv line 4: userId is missing"),
        (
            "movies.csv",
            "3.0,Three (1999),Drama",
            "movies.csv line 4: movieId '3.0' is not a whole number (digits only)",
        ),
    ],
)
def test_ids_written_as_other_numbers_are_refused(small_data: Path, file: str, row: str, message: str) -> None:
    edit_line(small_data / file, 4, row)
    with pytest.raises(DataError) as error:
        load_dataset(small_data)
    assert str(error.value) == message


def test_a_100000_genre_cell_is_refused_at_once(small_data: Path) -> None:
    movies = small_data / "movies.csv"
    edit_line(movies, 4, "30,Many (1999)," + "|".join(f"G{k}" for k in range(100_000)))
    started = time.perf_counter()
    with pytest.raises(DataError, match=r"^movies\.csv line 4: 100,000 genres, at most 100 per movie$"):
        load_dataset(small_data)
    assert time.perf_counter() - started < 5


def test_more_genres_than_a_table_holds_name_the_line(small_data: Path) -> None:
    movies = small_data / "movies.csv"
    lines = movies.read_text().splitlines()
    body = [line.rsplit(",", 1)[0] + "," + "|".join(f"G{k}x{n}" for n in range(50)) for k, line in enumerate(lines[1:])]
    movies.write_text("\n".join([lines[0], *body]) + "\n")
    with pytest.raises(DataError, match=rf"^movies\.csv line 22: more than {MAX_GENRES} different genres"):
        load_dataset(small_data)


def test_a_blank_first_data_line_is_named(small_data: Path) -> None:
    edit_line(small_data / "ratings.csv", 2, None)
    with pytest.raises(DataError, match=r"^ratings\.csv line 2 is blank$"):
        load_dataset(small_data)


def test_a_fifo_as_a_dataset_file_is_refused_at_once(tmp_path: Path) -> None:
    folder = write_movielens(tmp_path / "ml-fifo")
    (folder / "ratings.csv").unlink()
    os.mkfifo(folder / "ratings.csv")
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            open_dataset(folder)  # as the app and the CLI do: the cache looks at the files first
        except BaseException as error:
            outcome.append(error)

    loading = threading.Thread(target=attempt, daemon=True)
    loading.start()
    loading.join(timeout=10)
    assert not loading.is_alive(), "loading a FIFO hangs"
    assert [str(e) for e in outcome] == [
        f"cannot read {folder / 'ratings.csv'}: it is a FIFO (named pipe), not a regular file"
    ]


def test_a_file_named_as_the_dataset_folder_says_so(tmp_path: Path) -> None:
    file = tmp_path / "ratings.csv"
    file.write_text("x")
    with pytest.raises(DataError, match=r"is a file, not a folder or a \.zip$"):
        load_dataset(file)
    with pytest.raises(DataError, match=r"does not exist$"):
        load_dataset(tmp_path / "absent")
