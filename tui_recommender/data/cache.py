"""A columnar binary cache of a parsed dataset, so only the first open pays for the parse.

The cache is a folder of `.npy` arrays in compact types plus `meta.json`, beside the
dataset (`data/.ml-32m.cache/` for `data/ml-32m/` or `data/ml-32m.zip`), or in a fallback
folder where the dataset's folder is read-only. It is keyed by each source file's size,
modification time, inode and a hash of its first and last 64 KiB (`sources.file_stamps`)
plus `CACHE_VERSION`: an edited file is never served stale, and no start re-hashes a large
file. A cache that does not match, or that cannot be read whole, is rebuilt, never trusted.

The arrays are mapped from their files, not read. Arrays: ratings `user` and `movie` (int32: ids are at most 2**31 - 1), `half_stars` (uint8,
stars x 2), `timestamp` (int64 s); movies `movie_id` (int32), `year` (int32, `NO_YEAR` where
none), `title_chars` (uint8, UTF-8 titles end to end) with `title_ends` (int64, character
offsets), `genre_codes` (uint16, into the vocabulary in meta.json) with `genre_ends` (int64).
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tui_recommender.core.errors import DataError
from tui_recommender.data.layouts import LAYOUTS
from tui_recommender.data.movielens import MovieLensData, dataset_name, load_dataset
from tui_recommender.data.sources import FileStamp, file_stamps, open_source

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
NO_YEAR = np.iinfo(np.int32).min
_DTYPES = {
    "user": np.int32,
    "movie": np.int32,
    "half_stars": np.uint8,
    "timestamp": np.int64,
    "movie_id": np.int32,
    "year": np.int32,
    "title_chars": np.uint8,
    "title_ends": np.int64,
    "genre_codes": np.uint16,
    "genre_ends": np.int64,
}
_RATING_ARRAYS = ("user", "movie", "half_stars", "timestamp")
_SECONDS_PER_YEAR = 365.2425 * 24 * 3600


@dataclass(frozen=True)
class DatasetSummary:
    """What `data list` shows of one dataset: counts, and the years its ratings span (UTC)."""

    name: str
    layout: str
    path: Path
    fingerprint: str
    ratings: int
    users: int
    movies: int
    first_year: int
    last_year: int


def cache_dirs(path: Path, fallback_dir: Path | None) -> list[Path]:
    """Where the cache of dataset `path` may be: beside it, then in `fallback_dir` (named by
    the dataset's absolute path, so two datasets of one name do not share it)."""
    path = Path(path)
    found = [path.parent / f".{dataset_name(path)}.cache"]
    if fallback_dir is not None:
        tag = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
        found.append(Path(fallback_dir) / f"{dataset_name(path)}-{tag}")
    return found


def open_dataset(
    path: Path,
    fallback_dir: Path | None = None,
    on_read: Callable[[int, int], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    write_cache: bool = True,
) -> MovieLensData:
    """The dataset at `path` (see `movielens.load_dataset`), from its cache when one matches
    the files; else parsed (`on_read` follows it) and, if `write_cache`, cached for the next open. `on_note`
    gets one line when a cache is rebuilt or cannot be written (also logged: shown with
    `--verbose`); the data is the same."""

    def note(text: str) -> None:
        logger.info(text)
        if on_note is not None:
            on_note(text)

    path = Path(path)
    stamps = _stamps(path)
    if stamps is not None:
        for folder in cache_dirs(path, fallback_dir):
            data = _load(folder, path, stamps, note)
            if data is not None:
                logger.info("%s read from its cache %s", path.name, folder)
                return data
    data = load_dataset(path, on_read)
    if stamps is not None and write_cache:
        _save_anywhere(data, stamps, cache_dirs(path, fallback_dir), note)
    return data


def summarize(
    path: Path,
    fallback_dir: Path | None = None,
    on_read: Callable[[int, int], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> DatasetSummary:
    """The summary of dataset `path`: from its cache's meta.json alone where it matches,
    else by opening (and caching) the dataset."""
    path = Path(path)
    stamps = _stamps(path)
    if stamps is not None:
        for folder in cache_dirs(path, fallback_dir):
            meta = _matching_meta(folder, stamps)
            if meta is not None:
                return _summary_of(path, meta)
    data = open_dataset(path, fallback_dir, on_read, on_note)
    return _summary_of(path, _summary_meta(data))


def _stamps(path: Path) -> list[FileStamp] | None:
    """The stamps of the dataset's files, or None where they cannot be read (no cache; the
    parse then says what is wrong in full)."""
    try:
        with open_source(path) as source:
            files = source.disk_files()
        return file_stamps(files)
    except (OSError, DataError):
        return None


def _matching_meta(folder: Path, stamps: list[FileStamp]) -> dict | None:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("version") != CACHE_VERSION:
        return None
    if meta.get("stamps") != [dataclasses.asdict(stamp) for stamp in stamps]:
        return None
    return meta


def _load(folder: Path, path: Path, stamps: list[FileStamp], note: Callable[[str], None]) -> MovieLensData | None:
    """The cached dataset in `folder`, or None (with a note) where there is none that matches."""
    if not (folder / "meta.json").exists():
        return None
    meta = _matching_meta(folder, stamps)
    if meta is None:
        note(f"the cache {folder} does not match {path.name}'s files: parsing them again")
        return None
    try:
        return _from_arrays(path, meta, {name: _array(folder, name) for name in _DTYPES})
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        note(f"the cache {folder} cannot be read ({error}): parsing {path.name} again")
        return None


def _array(folder: Path, name: str) -> np.ndarray:
    # Mapped, not read: the columns widened from it are its only copy (private: writable,
    # never written back); a truncated file is a ValueError, so the cache is rebuilt.
    array = np.load(folder / f"{name}.npy", mmap_mode="c", allow_pickle=False).view(np.ndarray)
    if array.dtype != _DTYPES[name] or array.ndim != 1:
        raise ValueError(f"{name}.npy holds {array.dtype} x {array.ndim}-D, expected {np.dtype(_DTYPES[name])} x 1-D")
    return array


def _from_arrays(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> MovieLensData:
    """Rebuild the dataset from the cache's arrays, after checking they fit together."""
    n_ratings, n_movies = meta["ratings"], meta["movies"]
    sizes = {len(arrays[name]) for name in _RATING_ARRAYS}
    movie_sizes = {len(arrays[name]) for name in ("movie_id", "year", "title_ends", "genre_ends")}
    if sizes != {n_ratings} or movie_sizes != {n_movies}:
        raise ValueError("the arrays' lengths do not match meta.json")
    titles_text = arrays["title_chars"].tobytes().decode("utf-8")
    title_ends, genre_ends, codes = arrays["title_ends"], arrays["genre_ends"], arrays["genre_codes"]
    vocabulary = tuple(meta["vocabulary"])
    if n_movies and (title_ends[-1] != len(titles_text) or genre_ends[-1] != len(codes)):
        raise ValueError("the title or genre offsets do not match their arrays")
    if len(codes) and int(codes.max()) >= len(vocabulary):
        raise ValueError("a genre code is outside the vocabulary")
    starts = np.concatenate(([0], title_ends[:-1])).tolist()
    titles = [titles_text[a:b] for a, b in zip(starts, title_ends.tolist(), strict=True)]
    flat = np.array(vocabulary, dtype=object)[codes].tolist()
    genre_starts = np.concatenate(([0], genre_ends[:-1])).tolist()
    genres = np.empty(n_movies, dtype=object)  # tuples, never a 2-D array
    genres[:] = [tuple(flat[a:b]) for a, b in zip(genre_starts, genre_ends.tolist(), strict=True)]
    year = pd.array(arrays["year"], dtype="Int64")
    year[arrays["year"] == NO_YEAR] = pd.NA
    movies = pd.DataFrame(
        {"title": np.array(titles, dtype=object), "year": year, "genres": genres},
        index=pd.Index(arrays["movie_id"].astype(np.int64), name="movieId"),
    )
    ratings = pd.DataFrame(
        {
            "userId": arrays["user"].astype(np.int64),
            "movieId": arrays["movie"].astype(np.int64),
            "rating": arrays["half_stars"].astype(np.float32) / np.float32(2),
            "timestamp": arrays["timestamp"],
        },
        copy=False,  # fresh arrays: no second copy into one block (a second at ml-32m's size)
    )
    layout = next(layout for layout in LAYOUTS if layout.name == meta["layout"])
    return MovieLensData(
        name=dataset_name(path),
        layout=layout.name,
        path=path,
        movies=movies,
        ratings=ratings,
        genres=tuple(meta["genres"]),
        scale=layout.scale,
        fingerprint=meta["fingerprint"],
    )


def _summary_meta(data: MovieLensData) -> dict:
    years = (data.ratings["timestamp"].agg(["min", "max"]) / _SECONDS_PER_YEAR + 1970).astype(int)
    return {
        "layout": data.layout,
        "fingerprint": data.fingerprint,
        "ratings": len(data.ratings),
        "users": int(data.ratings["userId"].nunique()),
        "movies": len(data.movies),
        "first_year": int(years["min"]),
        "last_year": int(years["max"]),
    }


def _summary_of(path: Path, meta: dict) -> DatasetSummary:
    fields = ("layout", "fingerprint", "ratings", "users", "movies", "first_year", "last_year")
    return DatasetSummary(dataset_name(path), path=path, **{name: meta[name] for name in fields})


def _to_arrays(data: MovieLensData) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    ratings, movies = data.ratings, data.movies
    vocabulary = tuple(sorted({genre for genres in movies["genres"] for genre in genres}))
    code = {genre: k for k, genre in enumerate(vocabulary)}
    titles = movies["title"].tolist()
    genre_lists = movies["genres"].tolist()
    arrays = {
        "user": ratings["userId"].to_numpy(),
        "movie": ratings["movieId"].to_numpy(),
        "half_stars": np.rint(ratings["rating"].to_numpy() * 2),
        "timestamp": ratings["timestamp"].to_numpy(),
        "movie_id": movies.index.to_numpy(),
        "year": movies["year"].fillna(NO_YEAR).to_numpy(dtype=np.int64),
        "title_chars": np.frombuffer("".join(titles).encode("utf-8"), dtype=np.uint8),
        "title_ends": np.cumsum([len(title) for title in titles], dtype=np.int64),
        "genre_codes": np.array([code[g] for genres in genre_lists for g in genres], dtype=np.int64),
        "genre_ends": np.cumsum([len(genres) for genres in genre_lists], dtype=np.int64),
    }
    return {name: array.astype(_DTYPES[name], copy=False) for name, array in arrays.items()}, vocabulary


def _save_anywhere(
    data: MovieLensData, stamps: list[FileStamp], folders: list[Path], note: Callable[[str], None]
) -> None:
    """Write the cache in the first of `folders` that takes it; a note if none does."""
    arrays, vocabulary = _to_arrays(data)
    meta = {
        "version": CACHE_VERSION,
        "stamps": [dataclasses.asdict(stamp) for stamp in stamps],
        "vocabulary": list(vocabulary),
        "genres": list(data.genres),
        **_summary_meta(data),
    }
    problems = []
    for folder in folders:
        try:
            _save(folder, arrays, meta)
            logger.info("%s parsed and cached in %s", data.name, folder)
            return
        except OSError as error:
            problems.append(f"{folder}: {error.strerror or error}")
    note(f"the parsed {data.name} is not cached ({'; '.join(problems)}): the next open parses it again")


def _save(folder: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write the cache into a temporary folder beside `folder`, then swap it in (a reader
    never sees half a cache; a failed write leaves no temporary folder)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    if not _writable(folder.parent):
        raise PermissionError(errno.EACCES, "the folder is read-only")
    tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.tmp-", dir=folder.parent))
    try:
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array, allow_pickle=False)
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        if folder.exists():
            old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
            os.replace(folder, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _writable(folder: Path) -> bool:
    """Whether `folder` may be written: its permissions allow it for us and it is not marked
    read-only for everyone (root may write anywhere, but a read-only data folder stays so)."""
    mode = folder.stat().st_mode
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(folder, os.W_OK)
