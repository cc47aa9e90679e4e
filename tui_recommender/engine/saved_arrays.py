"""Named numpy arrays plus JSON metadata in one `.npz` file (no pickle), written atomically:
a temp file in the same folder, fsync, rename over the target, fsync the folder. A crash
mid-save leaves the old file as it was; the next save removes the temp file it left (a save
holds a lock on its own temp file, so only abandoned ones go). Reading maps the arrays
(CRC-checked) instead of copying them, and refuses special files before any read, and links
where asked. Model checkpoints and the baselines' files
use it."""

from __future__ import annotations

import glob
import json
import os
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tui_recommender.core.errors import CheckpointError

try:
    import fcntl
except ImportError:  # Windows: no flock, so no telling an abandoned temp file from one in use
    fcntl = None
from tui_recommender.core.private_files import make_private_dir, open_regular
from tui_recommender.core.text import shorten_path

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip member's local header: its last two fields are lengths
READ_CHUNK = 1 << 24  # bytes read at a time for a mapped array's checks
ALIGN = 64  # bytes: where a saved array's data starts in the file, as .npy aligns its own headers
_PADDING = struct.Struct("<HH")  # a zip extra field's id and length, then that many bytes
_PADDING_ID = 0xD935  # the id Android's zipalign gives its alignment padding (readers skip unknown ids)


def save_arrays(path: Path, meta: dict, arrays: dict[str, np.ndarray], what: str = "checkpoint") -> Path:
    """Write `meta` (JSON) and `arrays` to `path` atomically (creating the folder); returns
    `path`. Raises `CheckpointError` (one line naming the `what` and `path`) when it cannot
    be written, e.g. on a full disk; the file that was there before is then left as it was."""
    try:
        make_private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=tmp_prefix(path), suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise CheckpointError(f"cannot save the {what} {shorten_path(path)}: {os_reason(error)}") from None
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held until written: the temp file is in use
            _remove_abandoned(path)
        with os.fdopen(fd, "wb") as out:
            _write_npz(out, {"meta": np.array(json.dumps(meta)), **arrays})
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise CheckpointError(f"cannot save the {what} {shorten_path(path)}: {os_reason(error)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_npz(out: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """`np.savez`'s file (each array a stored `.npy` member), with each array's data starting
    at a multiple of `ALIGN` bytes in the file: the member's local header carries a padding
    field. Mapped rows are then aligned (numpy multiplies misaligned ones without BLAS, so
    the live model served an aligned copy of the movie rows: 67 MB at ml-32m)."""
    with zipfile.ZipFile(out, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, value in arrays.items():
            value = np.asanyarray(value)
            member = zipfile.ZipInfo(f"{name}.npy", date_time=time.localtime()[:6])
            member.external_attr = 0o600 << 16  # as zipfile gives a member named by a string
            # Data start: local header (30) + name + this field + zip64's (20) + the .npy header (a multiple of 64).
            fixed = out.tell() + 30 + len(member.filename.encode()) + _PADDING.size + 20
            member.extra = _PADDING.pack(_PADDING_ID, -fixed % ALIGN) + bytes(-fixed % ALIGN)
            with archive.open(member, "w", force_zip64=True) as stream:  # zip64: as np.savez (numpy gh-10776)
                np.lib.format.write_array(stream, value, allow_pickle=False)


def load_arrays(
    path: Path,
    names: tuple[str, ...],
    what: str = "checkpoint",
    follow_links: bool = True,
    finite: tuple[str, ...] = (),
    not_finite: str = "an array holds NaN or infinite values",
) -> tuple[dict, dict[str, np.ndarray]]:
    """(metadata, arrays `names`) read from a file `save_arrays` wrote; a missing, corrupt or
    truncated file, or one without those arrays, raises `CheckpointError` naming it, as
    does a special file (a FIFO, a device) and, with `follow_links` False, a link; so does a
    floating-point array of `finite` holding NaN or infinity ("is damaged: `not_finite`"),
    checked on the bytes the CRC reads: the mapped pages stay unread until used."""
    shown = shorten_path(path)
    try:
        if path.is_dir():
            raise CheckpointError(f"{what} {shown} is a folder, not a {what} file")
        file = open_regular(path, follow_links=follow_links)
    except FileNotFoundError:
        raise CheckpointError(f"{what} {shown} does not exist") from None
    except OSError as error:  # e.g. a name longer than the OS allows, a FIFO, a link
        raise CheckpointError(f"{what} {shown}: {os_reason(error)}") from None
    try:
        with file, np.load(file, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            mapped = {name: _mapped(file, npz.zip, name, name in finite) for name in names}
            arrays = {name: npz[name] if found is None else found[0] for name, found in mapped.items()}
            finite_ok = [
                found[1]
                if found is not None
                else arrays[name].dtype.kind != "f" or bool(np.isfinite(arrays[name]).all())
                for name, found in mapped.items()
                if name in finite
            ]
    # NotImplementedError: zipfile's answer to a damaged compression-method field;
    # RecursionError and MemoryError: crafted metadata nested too deep, or a huge array header.
    except (
        OSError, ValueError, KeyError, EOFError, NotImplementedError, zipfile.BadZipFile, RecursionError, MemoryError
    ) as exc:  # fmt: skip
        raise CheckpointError(f"{what} {shown} is corrupt or truncated ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{what} {shown} is corrupt: its metadata is not an object")
    if not all(finite_ok):
        raise CheckpointError(f"{what} {shown} is damaged: {not_finite}")
    return meta, arrays


def _mapped(file: BinaryIO, archive: zipfile.ZipFile, name: str, finite: bool) -> tuple[np.ndarray, bool] | None:
    """(array `name` of the open npz `file` mapped from the file (copy-on-write: writable,
    never written back) rather than read: an ml-32m checkpoint's 440 MB open in a fraction
    of the read; with `finite`, whether a floating-point array's values are all finite,
    else True). Its CRC is checked as a read would, on the file's bytes read a chunk at a
    time, not through the mapping: pages read through it would stay in the process's
    memory (440 MB at ml-32m) until it ends. None where it cannot be mapped (compressed,
    Fortran order, empty, an unusual header): then it is read."""
    info = archive.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    file.seek(info.header_offset)
    local = file.read(_LOCAL_HEADER.size)
    if len(local) < _LOCAL_HEADER.size or local[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header of {name}.npy")
    name_length, extra_length = _LOCAL_HEADER.unpack(local)[-2:]
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    file.seek(start)
    version = np.lib.format.read_magic(file)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        return None
    shape, fortran_order, dtype = readers[version](file)
    offset = file.tell()
    size = int(np.prod(shape)) * dtype.itemsize
    if fortran_order or dtype.hasobject or size == 0:
        return None
    if offset - start + size != info.file_size:
        raise ValueError(f"{name}.npy's header does not match its size in the file")
    array = np.memmap(file, dtype=dtype, mode="c", offset=offset, shape=shape).view(np.ndarray)
    file.seek(start)
    crc, all_finite = zlib.crc32(file.read(offset - start)), True
    check = finite and dtype.kind == "f"
    chunk = bytearray(min(size, READ_CHUNK - READ_CHUNK % dtype.itemsize))  # whole values per chunk
    for done in range(0, size, len(chunk)):
        view = memoryview(chunk)[: min(len(chunk), size - done)]
        if file.readinto(view) != len(view):
            raise EOFError(f"{name}.npy ends early")
        crc = zlib.crc32(view, crc)
        if check and all_finite:
            all_finite = bool(np.isfinite(np.frombuffer(view, dtype)).all())
    if crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {name + '.npy'!r}")  # zipfile's words
    return array, all_finite


def tmp_prefix(path: Path) -> str:
    """How the temp files of saves to `path` begin."""
    return f".{path.name[:100]}."


def _remove_abandoned(path: Path) -> None:
    """Delete the temp files that saves to `path` killed mid-write left behind: a save locks
    its own temp file while it writes, so one that can be locked is abandoned."""
    for tmp in path.parent.glob(f"{glob.escape(tmp_prefix(path))}*.tmp"):
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)  # POSIX, as flock
        except OSError:  # gone already, or not a file of ours
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if stat.S_ISREG(os.fstat(fd).st_mode):
                tmp.unlink(missing_ok=True)
        except OSError:  # locked: a save under way
            pass
        finally:
            os.close(fd)


def os_reason(error: OSError) -> str:
    """Why a file operation failed, in words (a file where a folder should be included)."""
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        return "a part of the path is a file, not a folder"
    return error.strerror or str(error)
