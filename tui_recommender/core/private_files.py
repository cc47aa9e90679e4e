"""Files that hold a user's data (ratings, fine-tuned models) are private: folders the app
creates are 0700, the ratings database and its -wal/-shm files 0600.

State files are opened, not followed: a symbolic link, or a FIFO, a device or a folder in
the place of a state file is refused with one line before anything is read, created or
chmodded, and only a regular file the app's user owns, with no other hard link, is ever
narrowed to 0600. Files read whole (the config file, import files, dataset tables) are
opened without blocking, refused when they are not regular files and read up to a limit,
so a FIFO or a link to /dev/zero can neither hang the app nor fill its memory.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm")  # SQLite gives them the database file's mode
_CHUNK_BYTES = 1 << 20
# O_NONBLOCK: opening a FIFO does not wait. An OS without these flags (Windows) has no FIFOs or links to fear.
_NONBLOCK, _NOFOLLOW = getattr(os, "O_NONBLOCK", 0), getattr(os, "O_NOFOLLOW", 0)
_OPEN = os.O_RDONLY | _NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a symbolic link, which is not followed for state files",
}


def make_private_dir(folder: Path) -> None:
    """Create `folder` and its missing parents as 0700; folders that exist are left as they are."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        os.chmod(created, PRIVATE_DIR_MODE)  # mkdir's mode is reduced by the umask


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be a state file ("is a symbolic link, ...", "is a FIFO ..."), or
    None when it is a regular file or absent. The link itself is looked at, not its target."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    kind = stat.S_IFMT(mode)
    return None if kind == stat.S_IFREG else f"is {_KINDS.get(kind, 'not a regular file')}"


def make_private_database(path: Path) -> None:
    """Create the SQLite file at `path` as 0600 if it is missing, and narrow an existing one
    and its -wal/-shm files (made 0644 by older versions) to 0600. Raises `OSError` naming
    the file when it or a side file is a link or a special file (see the module docstring)."""
    files = (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES))
    for file in files:
        _refuse_special(file)
    # O_NOFOLLOW: a link put in its place since the check is refused, not created through.
    os.close(_open(path, _OPEN | os.O_CREAT | _NOFOLLOW, PRIVATE_FILE_MODE))
    for file in files:
        _narrow(file)


def open_regular(path: Path, *, follow_links: bool = True, max_bytes: int | None = None) -> BinaryIO:
    """`path` opened for reading, or `OSError` (its `strerror` a phrase for the user, e.g.
    "it is a FIFO (named pipe), not a regular file") for anything but a regular file of at
    most `max_bytes` bytes; with `follow_links` False a symbolic link is refused too."""
    fd = _open(path, _OPEN | (0 if follow_links else _NOFOLLOW))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            raise OSError(errno.EINVAL, f"it is {kind}, not a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise OSError(errno.EFBIG, f"it is {info.st_size:,} bytes, more than the {max_bytes:,} read at most")
        if _NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, max_bytes: int, *, follow_links: bool = True) -> bytes:
    """The bytes of the regular file at `path`, at most `max_bytes` of them (see
    `open_regular`); a file that grows past the limit while read is refused too."""
    with open_regular(path, follow_links=follow_links, max_bytes=max_bytes) as file:
        # One read of the size the file has (a read of `max_bytes` would reserve that much
        # memory); one that grows meanwhile, or whose size the OS does not tell, goes on in chunks.
        expected = os.fstat(file.fileno()).st_size
        data = file.read(expected + 1)
        if len(data) > expected:
            grown = bytearray(data)
            while len(grown) <= max_bytes and (chunk := file.read(_CHUNK_BYTES)):
                grown += chunk
            data = bytes(grown)
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, f"it holds more than the {max_bytes:,} bytes read at most")
    return data


def _open(path: Path, flags: int, mode: int = 0o777) -> int:
    try:
        return os.open(path, flags, mode)
    except OSError as error:
        if error.errno == errno.ELOOP and flags & _NOFOLLOW:
            raise OSError(errno.ELOOP, f"it is {_KINDS[stat.S_IFLNK]}", str(path)) from None
        raise


def _refuse_special(file: Path) -> None:
    problem = file_problem(file)
    if problem is not None:
        raise OSError(errno.EINVAL, f"{file} {problem}: move it away", str(file))


def _narrow(file: Path) -> None:
    """chmod 0600 a regular file of ours (not a link, not hard-linked from elsewhere)."""
    try:
        fd = _open(file, _OPEN | _NOFOLLOW)
    except FileNotFoundError:
        return
    try:
        info = os.fstat(fd)
        ours = stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and info.st_uid == os.geteuid()
        if ours and info.st_mode & 0o077 and hasattr(os, "fchmod"):
            os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
