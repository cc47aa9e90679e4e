"""Where a dataset's files come from: a folder, or a GroupLens zip read in place (its files
under one top folder, e.g. `ml-10M100K/` in `ml-10m.zip`), with one way to read them."""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tui_recommender.core.errors import DataError
from tui_recommender.core.private_files import open_regular
from tui_recommender.core.text import shorten_path
from tui_recommender.data.tables import MAX_DATASET_FILE_BYTES, read_file

# Bytes read at each end of every source file for the cache key (see `file_stamps`).
SAMPLE_BYTES = 1 << 16


@dataclass(frozen=True)
class FileStamp:
    """What identifies one file's version without reading it whole: its name, size,
    modification time (ns), inode and a SHA-256 of its first and last `SAMPLE_BYTES` (hex).
    Not its folder: a dataset moved into the data root keeps its cache."""

    name: str
    size: int
    mtime_ns: int
    inode: int
    sample: str


class Source:
    """The files of one dataset: `names` (file names without folder), `read(name)`, and
    the files on disk that hold them (`disk_files`), for the cache key."""

    def __init__(self, path: Path, names: frozenset[str], prefix: str = "", archive: zipfile.ZipFile | None = None):
        self.path = path
        self.names = names
        self._prefix = prefix
        self._archive = archive

    @property
    def is_zip(self) -> bool:
        return self._archive is not None

    def has(self, name: str) -> bool:
        return name in self.names

    def size(self, name: str) -> int:
        """The (unpacked) size of file `name` in bytes."""
        if self._archive is not None:
            return self._archive.getinfo(self._prefix + name).file_size
        return (self.path / name).stat().st_size

    def read(self, name: str) -> bytes:
        """The bytes of file `name`; `DataError` (one line) when it cannot be read, or when a
        zip member is truncated or damaged."""
        if self._archive is None:
            return read_file(self.path / name)
        size = self._archive.getinfo(self._prefix + name).file_size
        if size > MAX_DATASET_FILE_BYTES:  # unpacked: a zip bomb is refused before it is read
            raise DataError(
                f"{shorten_path(self.path)}: {name} unpacks to {size:,} bytes, more than {MAX_DATASET_FILE_BYTES:,}"
            )
        try:
            return self._archive.read(self._prefix + name)
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, OSError) as error:
            raise DataError(f"{shorten_path(self.path)}: {name} cannot be read ({error})") from None

    def disk_files(self) -> list[Path]:
        """The files on disk whose versions decide the dataset's content."""
        return [self.path] if self._archive is not None else [self.path / name for name in sorted(self.names)]

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_source(path: Path) -> Source:
    """The dataset files in folder `path`, or in zip file `path`. Raises `DataError` for a
    path that is neither, or a zip that cannot be read (truncated, not a zip)."""
    try:
        is_folder = path.is_dir()
        is_file = not is_folder and path.is_file()
    except OSError as error:  # e.g. a name longer than the OS allows
        raise DataError(f"dataset folder {shorten_path(path)}: {error.strerror}") from None
    if is_folder:
        try:
            # Not only regular files: a FIFO or a device named ratings.csv is refused when read, not "missing".
            names = frozenset(entry.name for entry in os.scandir(path) if not entry.is_dir())
        except OSError as error:
            raise DataError(f"cannot read the dataset folder {shorten_path(path)}: {error.strerror}") from None
        return Source(path, names)
    if is_file and path.suffix.lower() == ".zip":
        return _open_zip(path)
    raise DataError(f"dataset folder {path} {'is a file, not a folder or a .zip' if is_file else 'does not exist'}")


def _open_zip(path: Path) -> Source:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataError(f"{shorten_path(path)} is not a readable zip archive ({error})") from None
    files: dict[str, set[str]] = {}
    for member in archive.infolist():
        parts = PurePosixPath(member.filename).parts
        if member.is_dir() or ".." in parts or len(parts) > 2:
            continue
        folder = parts[0] + "/" if len(parts) == 2 else ""
        files.setdefault(folder, set()).add(parts[-1])
    # The folder holding the most files (GroupLens zips have exactly one).
    prefix = max(files, key=lambda folder: len(files[folder]), default="")
    return Source(path, frozenset(files.get(prefix, ())), prefix, archive)


def file_stamps(files: list[Path]) -> list[FileStamp]:
    """The stamps of `files` (see `FileStamp`); `OSError` passes through."""
    stamps = []
    for file in files:
        with open_regular(file) as stream:  # a FIFO would block the open: refused, the parse says so
            info = os.fstat(stream.fileno())
            digest = hashlib.sha256(stream.read(SAMPLE_BYTES))
            if info.st_size > SAMPLE_BYTES:
                stream.seek(max(SAMPLE_BYTES, info.st_size - SAMPLE_BYTES))
                digest.update(stream.read(SAMPLE_BYTES))
        stamps.append(FileStamp(file.name, info.st_size, info.st_mtime_ns, info.st_ino, digest.hexdigest()))
    return stamps
