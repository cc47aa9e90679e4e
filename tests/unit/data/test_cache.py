"""The binary cache: a second open reads it instead of the files and gives the same data;
an edited file, a damaged cache or a read-only folder never serve stale data."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.synthetic import write_dat, write_movielens, write_zip
from tui_recommender.data import cache
from tui_recommender.data.movielens import MovieLensData, load_dataset


def assert_same(a: MovieLensData, b: MovieLensData) -> None:
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    pd.testing.assert_frame_equal(a.movies, b.movies)
    assert (a.name, a.layout, a.path, a.genres, a.scale, a.fingerprint) == (
        b.name, b.layout, b.path, b.genres, b.scale, b.fingerprint
    )  # fmt: skip


def no_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "load_dataset", pytest.fail)


@pytest.mark.parametrize("release", ["ml-latest", "ml-1m", "ml-10m", "ml-10m.zip"])
def test_the_second_open_reads_the_cache_and_gives_the_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: str
) -> None:
    if release == "ml-latest":
        path = write_movielens(tmp_path / "data" / "ml-x")
    elif release == "ml-10m.zip":
        path = write_zip(write_dat(tmp_path / "ml-10m", "ml-10m"), tmp_path / "ml-10m.zip", "ml-10M100K")
    else:
        path = write_dat(tmp_path / "data" / release, release)
    first = cache.open_dataset(path)
    assert_same(first, load_dataset(path))
    folder = cache.cache_dirs(path, None)[0]
    assert folder == path.parent / f".{first.name}.cache"
    no_parse(monkeypatch)
    assert_same(cache.open_dataset(path), first)


def test_the_cache_is_compact(tmp_path: Path) -> None:
    path = write_movielens(tmp_path / "ml-x")
    cache.open_dataset(path)
    folder = cache.cache_dirs(path, None)[0]
    dtypes = {name: np.load(folder / f"{name}.npy").dtype for name in ("user", "movie", "half_stars", "timestamp")}
    assert dtypes == {"user": np.int32, "movie": np.int32, "half_stars": np.uint8, "timestamp": np.int64}


def test_an_edited_file_is_parsed_again_even_with_its_size_and_time_kept(tmp_path: Path) -> None:
    path = write_movielens(tmp_path / "ml-x")
    first = cache.open_dataset(path)
    ratings = path / "ratings.csv"
    info = ratings.stat()
    text = ratings.read_text()
    line = text.splitlines()[-1]
    edited = line[: line.index(",", line.index(",") + 1) + 1] + ("1" if ",5," not in line else "2")
    edited += line[len(edited) :]
    ratings.write_text(text.replace(line, edited))
    os.utime(ratings, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size, same time
    assert ratings.stat().st_size == info.st_size
    notes: list[str] = []
    reopened = cache.open_dataset(path, on_note=notes.append)
    assert_same(reopened, load_dataset(path))
    assert reopened.fingerprint != first.fingerprint
    assert len(notes) == 1 and "does not match ml-x's files: parsing them again" in notes[0]


@pytest.mark.parametrize(
    "damage",
    [
        lambda folder: (folder / "movie.npy").write_bytes((folder / "movie.npy").read_bytes()[:-7]),
        lambda folder: np.save(folder / "half_stars.npy", np.load(folder / "half_stars.npy").astype(np.float64)),
        lambda folder: np.save(folder / "genre_codes.npy", np.load(folder / "genre_codes.npy") + 100),
        lambda folder: (folder / "title_chars.npy").unlink(),
        lambda folder: (folder / "meta.json").write_text("{not json"),
        lambda folder: (folder / "meta.json").write_text(
            json.dumps({**json.loads((folder / "meta.json").read_text()), "ratings": 3})
        ),
    ],
    ids=["truncated", "wrong dtype", "codes outside", "missing array", "bad meta", "wrong count"],
)
def test_a_damaged_cache_is_rebuilt_never_trusted(tmp_path: Path, damage, caplog: pytest.LogCaptureFixture) -> None:
    path = write_movielens(tmp_path / "ml-x")
    expected = cache.open_dataset(path)
    damage(cache.cache_dirs(path, None)[0])
    notes: list[str] = []
    with caplog.at_level(logging.INFO, logger="tui_recommender.data.cache"):
        assert_same(cache.open_dataset(path, on_note=notes.append), expected)
    assert len(notes) == 1 and "parsing" in notes[0] and "\n" not in notes[0]
    assert notes[0] in caplog.messages  # the line --verbose shows
    cache.open_dataset(path, on_note=notes.append)
    assert len(notes) == 1  # rebuilt: the third open is quiet


def test_a_read_only_data_folder_gets_no_cache_beside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    path = write_movielens(root / "ml-x")
    fallback = tmp_path / "state" / "data-cache"
    root.chmod(0o555)
    try:
        notes: list[str] = []
        cache.open_dataset(path, on_note=notes.append)  # no fallback: not cached, and says so
        assert sorted(p.name for p in root.iterdir()) == ["ml-x"]
        assert len(notes) == 1 and "is not cached" in notes[0] and "read-only" in notes[0]
        first = cache.open_dataset(path, fallback)
        assert sorted(p.name for p in root.iterdir()) == ["ml-x"]
        [folder] = fallback.iterdir()
        assert folder == cache.cache_dirs(path, fallback)[1]
        no_parse(monkeypatch)
        assert_same(cache.open_dataset(path, fallback), first)
    finally:
        root.chmod(0o755)


def test_a_moved_dataset_keeps_its_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_movielens(tmp_path / "a" / "ml-x")
    cache.open_dataset(path)
    shutil.move(tmp_path / "a", tmp_path / "b")
    no_parse(monkeypatch)
    assert cache.open_dataset(tmp_path / "b" / "ml-x").path == tmp_path / "b" / "ml-x"


def test_summaries_come_from_the_cache_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_dat(tmp_path / "ml-1m")
    first = cache.summarize(path)
    assert (first.name, first.layout, first.movies) == ("ml-1m", "ml-1m", 80)
    assert (first.ratings, first.users, first.first_year, first.last_year) == (600, 40, 1970, 1970)
    monkeypatch.setattr(cache, "open_dataset", pytest.fail)
    assert cache.summarize(path) == first


@pytest.mark.realdata
def test_the_shipped_weights_still_match_the_cached_real_data(ml_latest_small: Path, tmp_path: Path) -> None:
    from tui_recommender.config.settings import default_weights_dir
    from tui_recommender.engine.checkpoint import load_checkpoint

    path = Path(shutil.copytree(ml_latest_small, tmp_path / "ml-latest-small"))
    shipped = load_checkpoint(default_weights_dir() / "ml-latest-small.npz").fingerprint
    assert cache.open_dataset(path).fingerprint == shipped  # parsed
    assert cache.open_dataset(path).fingerprint == shipped  # from the cache
