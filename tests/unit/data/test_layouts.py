"""Every MovieLens layout, from a folder and from the zip: the same movies and ratings come
out of each, and a bad line in any of them is one line naming the file and the line."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.synthetic import write_dat, write_movielens, write_zip
from tests.unit.data.test_movielens import write_ml_100k
from tui_recommender.core.errors import DataError
from tui_recommender.core.rating_scale import HALF_STARS, WHOLE_STARS
from tui_recommender.data.movielens import find_dataset, list_datasets, load_dataset, load_tags


def test_dat_layouts_give_what_the_csv_layout_gives(tmp_path: Path) -> None:
    for release, whole in (("ml-1m", True), ("ml-10m", False)):
        csv = load_dataset(write_movielens(tmp_path / f"csv-{release}", half_stars=not whole))
        dat = load_dataset(write_dat(tmp_path / release, release))
        assert (dat.name, dat.layout, dat.scale) == (release, release, WHOLE_STARS if whole else HALF_STARS)
        pd.testing.assert_frame_equal(dat.ratings, csv.ratings)
        pd.testing.assert_frame_equal(dat.movies.iloc[1:], csv.movies.iloc[1:])
        assert dat.genres == csv.genres
        # The Latin-1 (ml-1m) or UTF-8 (ml-10m) accent reads as the same title and year.
        assert (dat.movies["title"].iloc[0], dat.movies["year"].iloc[0]) == ("Misérables, Les", 1995)


@pytest.mark.parametrize("release", ["ml-latest-small", "ml-1m", "ml-10m", "ml-100k"])
def test_a_zip_loads_as_its_folder(tmp_path: Path, release: str) -> None:
    if release == "ml-latest-small":
        folder = write_movielens(tmp_path / release)
    elif release == "ml-100k":
        folder = write_ml_100k(tmp_path / release)
    else:
        folder = write_dat(tmp_path / release, release)
    top = "ml-10M100K" if release == "ml-10m" else release  # GroupLens's folder in ml-10m.zip
    (tmp_path / "zips").mkdir()
    archive = write_zip(folder, tmp_path / "zips" / f"{release}.zip", top)
    from_folder, from_zip = load_dataset(folder), load_dataset(archive)
    assert (from_zip.name, from_zip.layout, from_zip.path) == (release, from_folder.layout, archive)
    pd.testing.assert_frame_equal(from_zip.ratings, from_folder.ratings)
    pd.testing.assert_frame_equal(from_zip.movies, from_folder.movies)
    assert from_zip.fingerprint == from_folder.fingerprint


def test_titles_may_hold_colons_in_a_dat_file(tmp_path: Path) -> None:
    folder = write_dat(tmp_path / "ml-10m", "ml-10m")
    movies = (folder / "movies.dat").read_text().splitlines()
    movie_id = movies[1].split("::")[0]
    movies[1] = f"{movie_id}::Star Trek: Nemesis: (2002)::Action|Sci-Fi"
    movies[2] = movies[2].split("::")[0] + "::Whatever happened to...:::Drama"
    (folder / "movies.dat").write_text("\n".join(movies) + "\n")
    data = load_dataset(folder)
    assert data.movies.loc[int(movie_id), "genres"] == ("Action", "Sci-Fi")
    assert data.movies["title"].iloc[1] == "Star Trek: Nemesis:"
    assert data.movies["year"].iloc[1] == 2002
    assert data.movies["title"].iloc[2] == "Whatever happened to...:"


@pytest.mark.parametrize(
    ("file", "line", "new", "message"),
    [
        ("ratings.dat", 3, "1::20", r"^ratings\.dat line 3: rating is missing$"),
        ("ratings.dat", 2, "1::20::4::5::6", r"^ratings\.dat line 2: expected 4 fields$"),
        ("ratings.dat", 4, "1::20::3.5::7", r"^ratings\.dat line 4: rating '3\.5' is off the 1-star step$"),
        (
            "movies.dat",
            2,
            "20::Night Star 20 (1953)",
            r"^movies\.dat line 2: expected 3 fields separated by '::', found 2$",
        ),
        ("movies.dat", 5, "x::Title (1990)::Drama", r"^movies\.dat line 5: movieId 'x' "),
    ],
)
def test_a_bad_dat_line_is_one_line_naming_it(tmp_path: Path, file: str, line: int, new: str, message: str) -> None:
    folder = write_dat(tmp_path / "ml-1m")
    lines = (folder / file).read_bytes().split(b"\n")
    lines[line - 1] = new.encode()
    (folder / file).write_bytes(b"\n".join(lines))
    with pytest.raises(DataError, match=message):
        load_dataset(folder)


def test_a_latin1_byte_in_a_utf8_layout_names_its_line(tmp_path: Path) -> None:
    folder = write_movielens(tmp_path / "ml-x")
    lines = (folder / "ratings.csv").read_bytes().split(b"\n")
    lines[6] = lines[6] + b"\xe9"
    (folder / "ratings.csv").write_bytes(b"\n".join(lines))
    with pytest.raises(DataError, match=r"^ratings\.csv line 7: byte \d+ is not valid utf-8 text$"):
        load_dataset(folder)


def test_a_truncated_or_damaged_zip_is_one_line(tmp_path: Path) -> None:
    archive = write_zip(write_dat(tmp_path / "ml-1m"), tmp_path / "ml-1m.zip")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"ml-1m\.zip is not a readable zip archive \(.+\)$"):
        load_dataset(archive)
    # A whole directory but a damaged member: the member's bytes fail their CRC.
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zipped:
        for name in ("ratings.dat", "movies.dat", "users.dat"):
            zipped.writestr(f"ml-1m/{name}", (tmp_path / "ml-1m" / name).read_bytes())
    raw = bytearray((tmp_path / "bad.zip").read_bytes())
    raw[raw.index(b"1::") + 1] ^= 0xFF  # inside the stored ratings.dat
    (tmp_path / "bad.zip").write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"bad\.zip: ratings\.dat cannot be read \(.+\)$"):
        load_dataset(tmp_path / "bad.zip")


def test_a_dat_pair_without_users_dat_is_ml_10m_and_no_layout_names_every_one(tmp_path: Path) -> None:
    folder = write_dat(tmp_path / "plain", "ml-10m")
    (folder / "tags.dat").unlink()
    assert load_dataset(folder).layout == "ml-10m"
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"ratings\.dat \+ movies\.dat \(ml-1m, ml-10m\)"):
        load_dataset(tmp_path / "empty")


def test_ml_10m_tags_come_from_tags_dat(tmp_path: Path) -> None:
    tags = load_tags(write_dat(tmp_path / "ml-10m", "ml-10m"))
    assert tags is not None and tags["tag"].tolist() == ["good: really"]  # the blank tag dropped


def test_the_data_root_lists_folders_and_zips_a_folder_first(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    write_zip(write_dat(tmp_path / "ml-1m"), root / "ml-1m.zip")
    write_zip(write_dat(tmp_path / "ml-10m", "ml-10m"), root / "ml-10m.zip", "ml-10M100K")
    write_dat(root / "ml-10m", "ml-10m")
    (root / "notes.zip").write_bytes(b"not a zip")
    assert list_datasets(root) == [root / "ml-10m", root / "ml-1m.zip"]
    assert find_dataset(root) == root / "ml-10m"
