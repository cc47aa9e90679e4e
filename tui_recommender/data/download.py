"""Fetching datasets into the data root: the GroupLens zips, and an offline-friendly mirror of
ml-100k taken from the RecBole wheel on PyPI (for machines that reach only package registries).

Every dataset is unpacked in a temporary folder inside the data root and moved into
`<data_root>/<name>/` with one `os.replace`, so a failure never leaves a half folder.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import pandas as pd
from tqdm import tqdm

from tui_recommender.core.errors import DataError, DownloadError
from tui_recommender.core.text import LINE_CHARS, shorten
from tui_recommender.data.cache import cache_dirs, open_dataset
from tui_recommender.data.movielens import PREFERRED_DATASET, find_dataset, is_dataset
from tui_recommender.data.releases import RELEASES, Release

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/{name}.zip"

MIRROR_NAME = "ml-100k-mirror"
MIRROR_REQUIREMENT = "recbole==1.2.1"
# SHA-256 of recbole-1.2.1-py3-none-any.whl (2,130,151 bytes) as served by PyPI.
MIRROR_WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
MIRROR_PREFIX = "recbole/dataset_example/ml-100k/"
# RecBole's atomic-file headers for the two files we convert.
MIRROR_INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"
MIRROR_ITEM_HEADER = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"
# The ml-100k genres in u.genre order; RecBole's `class` field uses these same names.
ML_100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
MIRROR_README = f"""MovieLens 100K (ml-100k), converted from the copy in the {MIRROR_REQUIREMENT} wheel
on PyPI ({MIRROR_PREFIX}ml-100k.inter and ml-100k.item) into the GroupLens ml-100k layout:
u.data, u.item (release dates left empty; the year is in the title) and u.genre.
The data is GroupLens's: see https://grouplens.org/datasets/movielens/100k/ for its usage
license, and cite F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets:
History and Context. ACM TiiS 5, 4, Article 19.
"""

DATASET_NAMES = (*RELEASES, MIRROR_NAME)
TIMEOUT_S = 10.0  # per network operation; offline fails at the first one
PIP_TIMEOUT_S = 300.0  # the whole `pip download` of a 2 MB wheel
CHUNK_BYTES = 1 << 16
# The mirror's caps: the wheel is 2.1 MB, the two files taken from it 2 MB unpacked.
MIRROR_MAX_DOWNLOAD_BYTES = 8 << 20
MIRROR_MAX_UNPACKED_BYTES = 32 << 20
MAX_MD5_FILE_BYTES = 1 << 10


def download(name: str, data_root: Path, progress: bool = True) -> Path:
    """Fetch dataset `name` (one of `DATASET_NAMES`) into `data_root/name` and return that
    folder; a dataset already there is returned as it is. `progress` shows a bar on stderr.

    Raises `DownloadError` when offline, on a checksum mismatch or a bad archive."""
    if name not in DATASET_NAMES:
        raise DownloadError(f"unknown dataset {shorten(name)!r}: choose one of {', '.join(DATASET_NAMES)}")
    data_root = Path(data_root)
    target = data_root / name
    if is_dataset(target):
        return target
    if target.exists():
        raise DownloadError(f"{target} exists but holds no dataset: move it away first")
    try:
        data_root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"cannot create data folder {data_root}: {error.strerror}") from None
    with tempfile.TemporaryDirectory(prefix=".tmp-", dir=data_root) as tmp:
        work = Path(tmp)
        folder = (
            _fetch_mirror(work, progress) if name == MIRROR_NAME else _fetch_grouplens(RELEASES[name], work, progress)
        )
        try:
            with _bar(progress, f"reading {name}") as bar:
                open_dataset(folder, on_read=bar.follow)  # checks every line, and caches the parse
        except DataError as error:
            raise DownloadError(f"the downloaded {name} does not load: {error}") from None
        try:
            os.replace(folder, target)
        except OSError as error:
            raise DownloadError(f"cannot move {name} into {target}: {error.strerror}") from None
        with contextlib.suppress(OSError):  # without its cache, the first open parses again
            os.replace(cache_dirs(folder, None)[0], cache_dirs(target, None)[0])
    return target


class _bar(contextlib.AbstractContextManager):
    """A tqdm bar in bytes on stderr (none where `show` is false) fed by `follow(done, total)`."""

    def __init__(self, show: bool, what: str) -> None:
        self._bar = tqdm(unit="B", unit_scale=True, desc=what, disable=not show)

    def follow(self, done: int, total: int) -> None:
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def __exit__(self, *_exc: object) -> None:
        self._bar.close()


def default_dataset(data_root: Path, on_status: Callable[[str], None] | None = None, progress: bool = False) -> Path:
    """A dataset folder in `data_root`: one already there (see `find_dataset`), else
    ml-latest-small from GroupLens, else the PyPI mirror of ml-100k. `on_status` gets one
    line per attempt and failure; raises `DownloadError` naming every failure."""
    found = find_dataset(data_root)
    if found is not None:
        return found
    report = on_status or (lambda _text: None)
    failures = []
    for name in (PREFERRED_DATASET, MIRROR_NAME):
        report(f"Downloading {name}…")
        try:
            return download(name, data_root, progress=progress)
        except DownloadError as error:
            report(f"Could not get {name}: {error}")
            failures.append(f"{name}: {error}")
    raise DownloadError(f"no dataset in {data_root} and none could be downloaded ({'; '.join(failures)})")


def _file_digest(path: Path, algorithm: str) -> str:
    """The hex digest by `algorithm` ("sha256", "md5") of the file at `path`."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


# Not pooch: no faster (26 vs 16 ms from 127.0.0.1, +87 ms import; benchmarks/bench_handwritten.py)
# and without the size caps, the atomic move into the data root or the PyPI mirror.
def _fetch_grouplens(release: Release, work: Path, progress: bool) -> Path:
    """Download and check `release`'s zip from GroupLens into `work`; return the unpacked
    folder, named as the release."""
    url = GROUPLENS_URL.format(name=release.name)
    digest = release.digest or _published_md5(url)
    archive = work / f"{release.name}.zip"
    with archive.open("wb") as out:
        _fetch(url, out, release.max_download, release.name if progress else None, release.zip_bytes)
    _check_digest(archive, release.algorithm, digest, url)
    unpacked = work / "unpacked"
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if _inside(m.filename, release.folder)]
            _check_unpacked_size(members, url, release.max_unpacked)
            zipped.extractall(unpacked, members)
    except (zipfile.BadZipFile, NotImplementedError, EOFError) as error:
        raise DownloadError(f"{url} is not a valid zip archive ({error})") from None
    folder = unpacked / release.folder
    if not folder.is_dir():
        raise DownloadError(f"{url} holds no {release.folder}/ folder")
    return folder.rename(unpacked / release.name) if release.folder != release.name else folder


def _fetch(url: str, out: BinaryIO, limit: int, label: str | None, expected: int | None = None) -> None:
    """Copy `url` into `out`, refusing more than `limit` bytes; a bar named `label` on stderr
    (none for None), its total the Content-Length or else `expected`."""
    too_big = f"{url} is larger than {limit:,} bytes: refusing it"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            size = int(response.headers.get("Content-Length") or 0) or None
            if size is not None and size > limit:
                raise DownloadError(too_big)
            received = 0
            with tqdm(total=size or expected, unit="B", unit_scale=True, desc=label, disable=label is None) as bar:
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    received += len(chunk)
                    if received > limit:
                        raise DownloadError(too_big)
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as error:  # ValueError: a bad Content-Length
        reason = getattr(error, "reason", None) or error
        raise DownloadError(f"cannot download {url}: {reason}") from None


def _published_md5(url: str) -> str:
    """The MD5 GroupLens publishes at `url`.md5 ("<hex>  name" or "MD5 (name) = <hex>")."""
    buffer = io.BytesIO()
    _fetch(url + ".md5", buffer, MAX_MD5_FILE_BYTES, None)
    found = re.findall(r"\b[0-9a-fA-F]{32}\b", buffer.getvalue().decode("ascii", errors="replace"))
    if len(found) != 1:
        raise DownloadError(f"{url}.md5 holds no single MD5 checksum: refusing {url}")
    return found[0].lower()


def _check_digest(path: Path, algorithm: str, expected: str, what: str) -> None:
    found = _file_digest(path, algorithm)
    if found != expected:
        shown = {"sha256": "SHA-256", "md5": "MD5"}[algorithm]
        raise DownloadError(f"{what} has {shown} {found}, expected {expected}: refusing to use it")


def _check_unpacked_size(members: list[zipfile.ZipInfo], what: str, limit: int) -> None:
    """Refuse archive members whose unpacked sizes add up to over `limit` bytes (zipfile
    never unpacks a member past its recorded size, so the record is the bound)."""
    total = sum(member.file_size for member in members)
    if total > limit:
        raise DownloadError(f"{what} would unpack to {total:,} bytes, over the {limit >> 20} MiB limit: refusing it")


def _inside(member: str, folder: str) -> bool:
    """Whether zip entry `member` lies under `folder/` without escaping it."""
    parts = PurePosixPath(member).parts
    return len(parts) > 1 and parts[0] == folder and ".." not in parts


def _fetch_mirror(work: Path, progress: bool) -> Path:
    """Download the RecBole wheel with pip (never installed or imported), check it and convert
    its ml-100k copy into the ml-100k layout in `work`; return that folder."""
    wheels = work / "wheel"
    command = [
        # -I: isolated, so no `pip` package in the current folder (or on PYTHONPATH) runs.
        sys.executable, "-I", "-m", "pip", "download", MIRROR_REQUIREMENT,
        "--no-deps", "--only-binary", ":all:",  # the wheel only: no sdist build runs code
        "--disable-pip-version-check", "--timeout", str(int(TIMEOUT_S)), "--retries", "0",
        "-d", str(wheels),
    ]  # fmt: skip
    if progress:
        sys.stderr.flush()
    try:
        result = subprocess.run(
            command,
            cwd=work,  # an empty folder of ours, whatever the caller's current folder holds
            # pip's own output is progress: to stderr (fd 2), as stdout carries results.
            stdout=2 if progress else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=PIP_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DownloadError(f"pip download {MIRROR_REQUIREMENT} took over {PIP_TIMEOUT_S:g} s") from None
    except OSError as error:
        raise DownloadError(f"cannot run pip download {MIRROR_REQUIREMENT}: {error.strerror}") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else f"exit code {result.returncode}"
        raise DownloadError(f"pip download {MIRROR_REQUIREMENT} failed: {detail}")
    found = sorted(wheels.glob("*.whl"))
    if len(found) != 1:
        raise DownloadError(f"pip download {MIRROR_REQUIREMENT} gave {len(found)} wheels, expected 1")
    if found[0].stat().st_size > MIRROR_MAX_DOWNLOAD_BYTES:
        raise DownloadError(f"{found[0].name} is larger than {MIRROR_MAX_DOWNLOAD_BYTES >> 20} MiB: refusing it")
    _check_digest(found[0], "sha256", MIRROR_WHEEL_SHA256, found[0].name)
    folder = work / MIRROR_NAME
    folder.mkdir()
    try:
        with zipfile.ZipFile(found[0]) as wheel:
            members = [wheel.getinfo(MIRROR_PREFIX + f"ml-100k.{kind}") for kind in ("inter", "item")]
            _check_unpacked_size(members, found[0].name, MIRROR_MAX_UNPACKED_BYTES)
            inter, item = (wheel.read(member).decode("utf-8") for member in members)
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, NotImplementedError, EOFError) as error:
        raise DownloadError(f"{found[0].name} holds no readable ml-100k copy ({error})") from None
    _write_ml_100k(inter, item, folder)
    return folder


def _body(text: str, header: str, file: str) -> str:
    """`text` without its first line, which must be `header`."""
    first, _, rest = text.partition("\n")
    if first.rstrip("\r") != header:
        raise DownloadError(f"{file} starts with {shorten(first, LINE_CHARS)!r}, expected {header!r}")
    return rest


def _write_ml_100k(inter: str, item: str, folder: Path) -> None:
    """Write RecBole's `ml-100k.inter` and `ml-100k.item` texts as `u.data`, `u.item` and
    `u.genre` (the ml-100k layout) into `folder`."""
    ratings = _body(inter, MIRROR_INTER_HEADER, "ml-100k.inter")
    (folder / "u.data").write_text(ratings, encoding="utf-8", newline="\n")

    items = pd.read_csv(
        io.StringIO(_body(item, MIRROR_ITEM_HEADER, "ml-100k.item")),
        sep="\t",
        header=None,
        names=["id", "title", "year", "classes"],
        dtype=str,
        keep_default_na=False,
        quoting=csv.QUOTE_NONE,  # titles hold quote marks
    )
    classes = items["classes"].str.get_dummies(sep=" ")
    strange = sorted(set(classes.columns) - set(ML_100K_GENRES))
    if strange:
        raise DownloadError(f"ml-100k.item has genres outside ml-100k's: {', '.join(strange)}")
    flags = classes.reindex(columns=list(ML_100K_GENRES), fill_value=0).astype(str)
    has_year = items["year"].str.fullmatch(r"\d{4}")
    titles = items["title"].where(~has_year, items["title"] + " (" + items["year"] + ")")
    empty = pd.Series("", index=items.index)
    u_item = pd.concat([items["id"], titles, empty, empty, empty, flags], axis=1)
    try:
        text = u_item.to_csv(sep="|", header=False, index=False, quoting=csv.QUOTE_NONE, lineterminator="\n")
        (folder / "u.item").write_bytes(text.encode("latin-1"))
    except (UnicodeEncodeError, csv.Error) as error:
        raise DownloadError(f"ml-100k.item cannot be written as u.item ({error})") from None
    genres = "".join(f"{name}|{index}\n" for index, name in enumerate(ML_100K_GENRES))
    (folder / "u.genre").write_text(genres, encoding="latin-1", newline="\n")
    (folder / "README.txt").write_text(MIRROR_README, encoding="utf-8")
