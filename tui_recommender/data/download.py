"""Fetching datasets into the data root: the GroupLens zips, and an offline-friendly mirror of
ml-100k taken from the RecBole wheel on PyPI (for machines that reach only package registries).

Every dataset is unpacked in a temporary folder inside the data root and moved into
`<data_root>/<name>/` with one `os.replace`, so a failure never leaves a half folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pandas as pd
from tqdm import tqdm

from tui_recommender.core.errors import DataError, DownloadError
from tui_recommender.core.text import LINE_CHARS, shorten
from tui_recommender.data.movielens import PREFERRED_DATASET, find_dataset, is_dataset, load_dataset

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/{name}.zip"
# SHA-256 of the GroupLens zips, as recorded by TensorFlow Datasets
# (tensorflow_datasets/url_checksums/movielens.txt: 978,202 and 4,924,029 bytes).
GROUPLENS_SHA256 = {
    "ml-latest-small": "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
    "ml-100k": "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
}

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

DATASET_NAMES = (*GROUPLENS_SHA256, MIRROR_NAME)
TIMEOUT_S = 10.0  # per network operation; offline fails at the first one
PIP_TIMEOUT_S = 300.0  # the whole `pip download` of a 2 MB wheel
CHUNK_BYTES = 1 << 16
# Size caps on top of the checksums (a zip bomb or an endless response stops here): the
# largest download is ml-100k (4.9 MB zip, 16 MB unpacked), the wheel is 2.1 MB.
MAX_DOWNLOAD_BYTES = 64 << 20
MAX_UNPACKED_BYTES = 256 << 20


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
        folder = _fetch_mirror(work, progress) if name == MIRROR_NAME else _fetch_grouplens(name, work, progress)
        try:
            load_dataset(folder)
        except DataError as error:
            raise DownloadError(f"the downloaded {name} does not load: {error}") from None
        try:
            os.replace(folder, target)
        except OSError as error:
            raise DownloadError(f"cannot move {name} into {target}: {error.strerror}") from None
    return target


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


def _sha256_file(path: Path) -> str:
    """The SHA-256 hex digest of the file at `path`."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha256(path: Path, expected: str, what: str) -> None:
    found = _sha256_file(path)
    if found != expected:
        raise DownloadError(f"{what} has SHA-256 {found}, expected {expected}: refusing to use it")


# Not pooch: no faster (26 vs 16 ms from 127.0.0.1, +87 ms import; benchmarks/bench_handwritten.py)
# and without the size caps, the atomic move into the data root or the PyPI mirror.
def _fetch_grouplens(name: str, work: Path, progress: bool) -> Path:
    """Download and check `name`.zip from GroupLens into `work`; return the unpacked folder."""
    url = GROUPLENS_URL.format(name=name)
    archive = work / f"{name}.zip"
    too_big = f"{url} is larger than {MAX_DOWNLOAD_BYTES >> 20} MiB: refusing it"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, archive.open("wb") as out:
            size = int(response.headers.get("Content-Length") or 0) or None
            if size is not None and size > MAX_DOWNLOAD_BYTES:
                raise DownloadError(too_big)
            received = 0
            with tqdm(total=size, unit="B", unit_scale=True, desc=name, disable=not progress) as bar:
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    received += len(chunk)
                    if received > MAX_DOWNLOAD_BYTES:
                        raise DownloadError(too_big)
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as error:  # ValueError: a bad Content-Length
        reason = getattr(error, "reason", None) or error
        raise DownloadError(f"cannot download {url}: {reason}") from None
    _check_sha256(archive, GROUPLENS_SHA256[name], url)
    unpacked = work / "unpacked"
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if _inside(m.filename, name)]
            _check_unpacked_size(members, url)
            zipped.extractall(unpacked, members)
    except (zipfile.BadZipFile, NotImplementedError, EOFError) as error:
        raise DownloadError(f"{url} is not a valid zip archive ({error})") from None
    folder = unpacked / name
    if not folder.is_dir():
        raise DownloadError(f"{url} holds no {name}/ folder")
    return folder


def _check_unpacked_size(members: list[zipfile.ZipInfo], what: str) -> None:
    """Refuse archive members whose unpacked sizes add up to over `MAX_UNPACKED_BYTES`
    (zipfile never unpacks a member past its recorded size, so the record is the bound)."""
    total = sum(member.file_size for member in members)
    if total > MAX_UNPACKED_BYTES:
        raise DownloadError(
            f"{what} would unpack to {total:,} bytes, over the {MAX_UNPACKED_BYTES >> 20} MiB limit: refusing it"
        )


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
    if found[0].stat().st_size > MAX_DOWNLOAD_BYTES:
        raise DownloadError(f"{found[0].name} is larger than {MAX_DOWNLOAD_BYTES >> 20} MiB: refusing it")
    _check_sha256(found[0], MIRROR_WHEEL_SHA256, found[0].name)
    folder = work / MIRROR_NAME
    folder.mkdir()
    try:
        with zipfile.ZipFile(found[0]) as wheel:
            members = [wheel.getinfo(MIRROR_PREFIX + f"ml-100k.{kind}") for kind in ("inter", "item")]
            _check_unpacked_size(members, found[0].name)
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
