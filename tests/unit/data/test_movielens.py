"""Loading MovieLens folders: both layouts, title/year parsing, validation, fingerprints."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.synthetic import GENRES, movie_title
from tui_recommender.core.errors import DataError
from tui_recommender.data import tables
from tui_recommender.data.movielens import (
    HALF_STARS,
    WHOLE_STARS,
    find_dataset,
    is_dataset,
    load_dataset,
    split_titles,
)

MOVIES_CSV = """movieId,title,genres
1,Toy Story (1995),Adventure|Animation
2,"American President, The (1995)",Comedy|Drama|Romance
3,Babylon 5,(no genres listed)
"""
RATINGS_CSV = """userId,movieId,rating,timestamp
1,1,4.0,964982703
1,2,3.5,964982704
2,1,5.0,964982705
2,3,0.5,964982706
"""
U_GENRE = "unknown|0\nAction|1\nComedy|2\nDrama|3\n\n"
U_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1|0\n"
    "2|Misérables, Les (1995)|01-Jan-1995||http://y|0|0|0|1\n"
    "3|unknown||||1|0|0|0\n"
)
U_DATA = "196\t1\t3\t881250949\n186\t2\t5\t891717742\n196\t3\t1\t878887116\n"


def write_ml_latest(folder: Path, movies: str = MOVIES_CSV, ratings: str = RATINGS_CSV) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "movies.csv").write_text(movies, encoding="utf-8")
    (folder / "ratings.csv").write_text(ratings, encoding="utf-8")
    return folder


def write_ml_100k(folder: Path, item: str = U_ITEM, data: str = U_DATA, genre: str = U_GENRE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.item").write_bytes(item.encode("latin-1"))
    (folder / "u.data").write_text(data)
    (folder / "u.genre").write_bytes(genre.encode("latin-1"))
    return folder


def replace_line(text: str, line: int, new: str) -> str:
    """`text` with its 1-based `line` replaced by `new`."""
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


def test_generated_ml_latest_loads_with_the_documented_types(small_data: Path) -> None:
    data = load_dataset(small_data)
    assert (data.name, data.layout, data.path, data.scale) == ("ml-test", "ml-latest", small_data, HALF_STARS)
    assert len(data.movies) == 80 and len(data.ratings) == 40 * 15
    assert data.movies.index.name == "movieId" and data.movies.index.dtype == "int64"
    assert data.movies.index.is_monotonic_increasing
    assert data.movies["year"].dtype == "Int64"
    assert dict(data.ratings.dtypes.astype(str)) == {
        "userId": "int64",
        "movieId": "int64",
        "rating": "float32",
        "timestamp": "int64",
    }
    assert data.ratings["movieId"].isin(data.movies.index).all()
    assert set(data.genres) <= set(GENRES) and list(data.genres) == sorted(data.genres)
    assert all(isinstance(g, tuple) for g in data.movies["genres"])
    quoted = data.movies.loc[40]  # written as '"<title>, The (1959)"', comma and quotes
    assert (quoted["title"], quoted["year"]) == (f"{movie_title(40)}, The", 1959)


def test_ml_latest_titles_genres_and_placeholder(tmp_path: Path) -> None:
    data = load_dataset(write_ml_latest(tmp_path / "tiny"))
    movies = data.movies
    assert movies.loc[2, "title"] == "American President, The" and movies.loc[2, "year"] == 1995
    assert movies.loc[3, "title"] == "Babylon 5" and movies.loc[3, "year"] is pd.NA
    assert movies.loc[3, "genres"] == ()
    assert movies.loc[1, "genres"] == ("Adventure", "Animation")
    assert data.genres == ("Adventure", "Animation", "Comedy", "Drama", "Romance")
    assert data.ratings["rating"].tolist() == [4.0, 3.5, 5.0, 0.5]


def test_ml_100k_layout_loads(tmp_path: Path) -> None:
    data = load_dataset(write_ml_100k(tmp_path / "ml-100k"))
    assert (data.name, data.layout, data.scale) == ("ml-100k", "ml-100k", WHOLE_STARS)
    assert data.movies.loc[2, "title"] == "Misérables, Les"  # u.item is latin-1
    assert data.movies.loc[1, "genres"] == ("Comedy",)
    assert data.movies.loc[3, "genres"] == ()  # only the "unknown" flag
    assert (data.movies.loc[3, "title"], data.movies.loc[3, "year"]) == ("unknown", pd.NA)
    assert data.genres == ("Comedy", "Drama")
    assert data.ratings.to_dict("list") == {
        "userId": [196, 186, 196],
        "movieId": [1, 2, 3],
        "rating": [3.0, 5.0, 1.0],
        "timestamp": [881250949, 891717742, 878887116],
    }


@pytest.mark.parametrize(
    ("raw", "title", "year"),
    [
        ("American President, The (1995)", "American President, The", 1995),
        ("Babylon 5", "Babylon 5", None),
        ("Blade Runner 2049", "Blade Runner 2049", None),
        ("96 Minutes (2011) ", "96 Minutes", 2011),
        ("  Toy Story (1995)", "Toy Story", 1995),
        ("Seven (a.k.a. Se7en) (1995)", "Seven (a.k.a. Se7en)", 1995),
        ("Death Note: Desu nôto (2006–2007)", "Death Note: Desu nôto", 2006),
        ("1984 (1984)", "1984", 1984),
        ("Hyena Road", "Hyena Road", None),
        ("Ready (Set) Go", "Ready (Set) Go", None),
        ("(1995)", "(1995)", None),
        ("Year (95)", "Year (95)", None),
    ],
)
def test_split_titles(raw: str, title: str, year: int | None) -> None:
    titles, years = split_titles(pd.Series([raw], dtype=str))
    assert titles[0] == title
    assert (years[0] is pd.NA) if year is None else (years[0] == year)


RATINGS = "ratings.csv"
MOVIES = "movies.csv"


@pytest.mark.parametrize(
    ("file", "line", "new", "message"),
    [
        (
            RATINGS,
            1,
            "user,movie,rating,timestamp",
            "ratings.csv line 1: expected header 'userId,movieId,rating,timestamp'",
        ),
        (RATINGS, 3, "x,2,3.5,964982704", "ratings.csv line 3: userId 'x' is not a whole number"),
        (RATINGS, 3, "1,2.5,3.5,964982704", "ratings.csv line 3: movieId '2.5' is not a whole number"),
        (RATINGS, 3, "1,-2,3.5,964982704", "ratings.csv line 3: movieId '-2' is out of range (1 to 2147483647)"),
        (RATINGS, 4, "2,1,7,964982705", "ratings.csv line 4: rating '7' is outside 0.5 to 5.0"),
        (RATINGS, 4, "2,1,0,964982705", "ratings.csv line 4: rating '0' is outside 0.5 to 5.0"),
        (RATINGS, 4, "2,1,good,964982705", "ratings.csv line 4: rating 'good' is not a number"),
        (RATINGS, 4, "2,1,3.25,964982705", "ratings.csv line 4: rating '3.25' is off the 0.5-star step"),
        (RATINGS, 4, "2,1,,964982705", "ratings.csv line 4: rating is missing"),
        (RATINGS, 4, "2,1,4.0,yesterday", "ratings.csv line 4: timestamp 'yesterday' is not a whole number"),
        (RATINGS, 4, "2,1,4.0", "ratings.csv line 4: timestamp is missing"),
        (RATINGS, 4, "", "ratings.csv line 4: userId is missing"),
        (RATINGS, 4, "2,1,4.0,964982705,extra", "ratings.csv line 4: expected 4 fields"),
        (RATINGS, 5, "2,99,0.5,964982706", "ratings.csv line 5: movieId 99 is not in movies.csv"),
        (RATINGS, 4, "1,1,5.0,964982705", "ratings.csv line 4: user 1 rated movie 1 twice (first on line 2)"),
        (MOVIES, 1, "id,title,genres", "movies.csv line 1: expected header 'movieId,title,genres'"),
        (MOVIES, 3, "two,Jumanji (1995),Comedy", "movies.csv line 3: movieId 'two' is not a whole number"),
        (MOVIES, 4, "1,Jumanji (1995),Comedy", "movies.csv line 4: movieId 1 is listed twice (first on line 2)"),
        (MOVIES, 3, '2,"Unclosed (1995),Comedy', "movies.csv: cannot be parsed"),
    ],
)
def test_malformed_ml_latest_names_file_and_line(tmp_path: Path, file: str, line: int, new: str, message: str) -> None:
    texts = {MOVIES: MOVIES_CSV, RATINGS: RATINGS_CSV}
    texts[file] = replace_line(texts[file], line, new)
    folder = write_ml_latest(tmp_path / "bad", movies=texts[MOVIES], ratings=texts[RATINGS])
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    text = str(caught.value)
    assert text.startswith(message)
    assert "\n" not in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": U_DATA.replace("\t5\t", "\t3.5\t")}, "u.data line 2: rating '3.5' is off the 1-star step"),
        ({"data": U_DATA.replace("\t5\t", "\t0.5\t")}, "u.data line 2: rating '0.5' is outside 1.0 to 5.0"),
        ({"data": U_DATA.replace("196\t3\t", "196\t4\t")}, "u.data line 3: movieId 4 is not in u.item"),
        (
            {"item": U_ITEM.replace("|0|0|0|1\n", "|0|0|yes|1\n")},
            "u.item line 2: the 4 genre flags must each be 0 or 1",
        ),
        ({"item": U_ITEM.replace("1|Toy", "1|x|Toy")}, "u.item line 1: expected 9 fields, found 10"),
        (
            {"item": U_ITEM.replace("3|unknown", "2|unknown")},
            "u.item line 3: movieId 2 is listed twice (first on line 2)",
        ),
        ({"genre": "unknown|0\nAction|2\n"}, "u.genre line 2: expected 'name|1', found 'Action|2'"),
    ],
)
def test_malformed_ml_100k_names_file_and_line(tmp_path: Path, change: dict[str, str], message: str) -> None:
    folder = write_ml_100k(tmp_path / "bad", **change)
    with pytest.raises(DataError, match="^" + re.escape(message)):
        load_dataset(folder)


def test_missing_folder_and_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no MovieLens dataset"):
        load_dataset(tmp_path / "empty")
    folder = write_ml_latest(tmp_path / "half")
    (folder / "movies.csv").unlink()
    with pytest.raises(DataError, match=r"movies\.csv is missing"):
        load_dataset(folder)
    folder = write_ml_100k(tmp_path / "no-genre")
    (folder / "u.genre").unlink()
    with pytest.raises(DataError, match=r"u\.genre is missing"):
        load_dataset(folder)


def test_empty_and_undecodable_files(tmp_path: Path) -> None:
    folder = write_ml_latest(tmp_path / "header-only", ratings="userId,movieId,rating,timestamp\n")
    with pytest.raises(DataError, match=r"^ratings\.csv holds no"):
        load_dataset(folder)
    folder = write_ml_latest(tmp_path / "latin", movies=MOVIES_CSV)
    (folder / "movies.csv").write_bytes(MOVIES_CSV.replace("Toy", "T\xf6y").encode("latin-1"))
    with pytest.raises(DataError, match=r"^movies\.csv line 2: byte 24 is not valid utf-8 text"):
        load_dataset(folder)


def test_fingerprint_is_stable_and_follows_the_content(small_data: Path) -> None:
    first = load_dataset(small_data).fingerprint
    assert load_dataset(small_data).fingerprint == first
    expected = hashlib.sha256((small_data / "ratings.csv").read_bytes() + (small_data / "movies.csv").read_bytes())
    assert first == expected.hexdigest()

    ratings = (small_data / "ratings.csv").read_text()
    (small_data / "ratings.csv").write_text(ratings.replace(",1001", ",1002", 1))
    changed_ratings = load_dataset(small_data).fingerprint
    (small_data / "ratings.csv").write_text(ratings)
    movies = (small_data / "movies.csv").read_text()
    (small_data / "movies.csv").write_text(movies.replace("Star", "Stars", 1))
    changed_movies = load_dataset(small_data).fingerprint
    assert len({first, changed_ratings, changed_movies}) == 3


def test_find_dataset_prefers_ml_latest_small_then_name(tmp_path: Path) -> None:
    root = tmp_path / "data"
    assert find_dataset(root) is None
    root.mkdir()
    assert find_dataset(root) is None
    write_ml_latest(root / ".tmp-abc")
    half = write_ml_latest(root / "aaa-half")
    (half / "ratings.csv").unlink()
    assert not is_dataset(half)
    assert find_dataset(root) is None
    write_ml_100k(root / "zz-100k")
    write_ml_latest(root / "mm-latest")
    assert find_dataset(root) == root / "mm-latest"
    write_ml_latest(root / "ml-latest-small")
    assert find_dataset(root) == root / "ml-latest-small"


@pytest.mark.realdata
def test_real_ml_latest_small(ml_latest_small: Path) -> None:
    data = load_dataset(ml_latest_small)
    assert data.ratings["userId"].nunique() == 610
    assert len(data.movies) == 9_742
    assert len(data.ratings) == 100_836
    # 20 genre values in movies.csv, one of them the "(no genres listed)" placeholder.
    assert len(data.genres) == 19 and "(no genres listed)" not in data.genres
    assert (data.movies["genres"] == ()).sum() == 34
    assert data.movies["year"].isna().sum() == 12
    assert data.movies.loc[40697, "title"] == "Babylon 5"


@pytest.mark.parametrize(
    ("file", "line", "new", "message"),
    [
        (
            RATINGS,
            2,
            "9223372036854775808,1,4.0,964982703",
            "ratings.csv line 2: userId '9223372036854775808' is out of range",
        ),
        (
            RATINGS,
            3,
            "99999999999999999999,2,3.5,964982704",
            "ratings.csv line 3: userId '99999999999999999999' is out of range",
        ),
        (RATINGS, 3, "2147483648,2,3.5,964982704", "ratings.csv line 3: userId '2147483648' is out of range"),
        (RATINGS, 3, "0,2,3.5,964982704", "ratings.csv line 3: userId '0' is out of range"),
        (
            RATINGS,
            3,
            "1," + "9" * 5000 + ",3.5,1",
            "ratings.csv line 3: movieId '9999999999999999999999999999999999999999…' is",
        ),
        (
            RATINGS,
            3,
            "1,2,3.5,9223372036854775808",
            "ratings.csv line 3: timestamp '9223372036854775808' is not a whole number of seconds",
        ),
        (RATINGS, 3, "1,2,3.5,1e300", "ratings.csv line 3: timestamp '1e+300' is not a whole number of seconds"),
        (
            MOVIES,
            3,
            "9223372036854775808,Jumanji (1995),Comedy",
            "movies.csv line 3: movieId '9223372036854775808' is out of range",
        ),
    ],
)
def test_huge_ids_and_timestamps_are_refused_with_file_and_line_never_wrapped(
    tmp_path: Path, file: str, line: int, new: str, message: str
) -> None:
    texts = {MOVIES: MOVIES_CSV, RATINGS: RATINGS_CSV}
    texts[file] = replace_line(texts[file], line, new)
    folder = write_ml_latest(tmp_path / "bad", movies=texts[MOVIES], ratings=texts[RATINGS])
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def test_huge_user_id_in_ml_100k_is_refused(tmp_path: Path) -> None:
    folder = write_ml_100k(tmp_path / "ml-100k", data=U_DATA.replace("186\t", "18446744073709551616\t"))
    with pytest.raises(DataError, match=r"^u\.data line 2: userId '18446744073709551616' is out of range"):
        load_dataset(folder)


@pytest.mark.parametrize(
    "convert",
    [
        lambda t: t.replace("\n", "\r\n"),  # Windows
        lambda t: t.replace("\n", "\r\r\n"),  # a CRLF file converted to CRLF once more
        lambda t: t.replace("\n", "\r"),  # classic Mac
        lambda t: t.rstrip("\n"),  # no line end on the last line
        lambda t: (t + "\n\n").replace("\n", "\r\n"),  # blank lines at the end
    ],
    ids=["crlf", "cr-crlf", "cr", "no-final-newline", "trailing-blank-lines"],
)
def test_line_end_conventions_load_like_unix_files(tmp_path: Path, convert) -> None:
    expected = load_dataset(write_ml_latest(tmp_path / "unix"))
    latest = load_dataset(write_ml_latest(tmp_path / "latest", convert(MOVIES_CSV), convert(RATINGS_CSV)))
    pd.testing.assert_frame_equal(latest.ratings, expected.ratings)
    pd.testing.assert_frame_equal(latest.movies, expected.movies)
    expected_100k = load_dataset(write_ml_100k(tmp_path / "unix-100k"))
    loaded_100k = load_dataset(write_ml_100k(tmp_path / "100k", convert(U_ITEM), convert(U_DATA), convert(U_GENRE)))
    pd.testing.assert_frame_equal(loaded_100k.ratings, expected_100k.ratings)
    pd.testing.assert_frame_equal(loaded_100k.movies, expected_100k.movies)
    assert loaded_100k.genres == expected_100k.genres


@pytest.mark.parametrize(
    "extra",
    [",extra\r\n", "\r,extra\r\n"],  # typed in an editor / appended after the CR by sed or awk
    ids=["before-crlf", "after-cr"],
)
def test_extra_field_on_line_500_of_a_crlf_file_is_reported_on_line_500(tmp_path: Path, extra: str) -> None:
    lines = ["userId,movieId,rating,timestamp"] + [f"{user},1,4.0,964982703" for user in range(1, 600)]
    text = "".join(
        f"{line},extra\r\n" if number == 500 else f"{line}\r\n" for number, line in enumerate(lines, start=1)
    )
    text = text.replace(",extra\r\n", extra)
    folder = write_ml_latest(tmp_path / "extra", ratings=text)
    with pytest.raises(DataError, match=r"^ratings\.csv line 500: expected 4 fields"):
        load_dataset(folder)


def test_unreadable_file_and_too_long_path_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_ml_latest(tmp_path / "locked")
    real_read = tables.read_regular

    def denied(path: Path, max_bytes: int) -> bytes:
        if path.name == "ratings.csv":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path, max_bytes)

    monkeypatch.setattr(tables, "read_regular", denied)
    with pytest.raises(DataError, match=r"^cannot read .*ratings\.csv: Permission denied$"):
        load_dataset(folder)
    monkeypatch.undo()
    for long_path in (tmp_path / ("x" * 300), tmp_path.joinpath(*["y" * 250] * 20)):
        with pytest.raises(DataError) as caught:
            load_dataset(long_path)
        assert str(caught.value).endswith("File name too long") and "\n" not in str(caught.value)
        assert len(str(caught.value)) < 300
        with pytest.raises(DataError, match=r"File name too long$"):
            find_dataset(long_path)
