"""The log: what a user needs to report a problem (versions, platform, the command, the
resolved paths, which model was loaded and why, timings, every error), in a rotating file
in the state folder and, with `--verbose`, on stderr too.

Configured once, here at the edge; library modules log through `logging.getLogger(__name__)`
and never name a rating's value, only ids and counts. The log never makes a command fail: a
state folder that cannot hold it leaves stderr only (one warning, shown with `-v`)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import logging.handlers
import os
import platform
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from tui_recommender import __version__
from tui_recommender.core.private_files import PRIVATE_FILE_MODE, make_private_dir

MAX_BYTES = 1 << 20  # 1 MiB per file
BACKUPS = 3  # tui-recommender.log.1 .. .3
ROOT = "tui_recommender"  # the package's loggers; other libraries' records stay out
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
SHOWN = "shown"  # a record flagged `extra={SHOWN: True}` is already on stderr as a user line
# Option values that are a rating's content: the log names the option, not the value.
PRIVATE_OPTIONS = ("--rating",)

logger = logging.getLogger(__name__)


class PrivateLogFile(logging.handlers.RotatingFileHandler):
    """A rotating log file created 0600, never through a symlink, and only a regular file;
    a failed write is dropped, never raised or printed."""

    def _open(self):
        # O_NOFOLLOW, O_NONBLOCK (a FIFO without a reader fails, never blocks) and O_CLOEXEC
        # where the OS has them; Windows has none of the three.
        nonblock = getattr(os, "O_NONBLOCK", 0)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | nonblock
        flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.baseFilename, flags, PRIVATE_FILE_MODE)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or a device is no log file
                raise OSError(f"{self.baseFilename} is not a regular file")
            if nonblock:
                os.set_blocking(fd, True)
            return os.fdopen(fd, "a", encoding=self.encoding, errors="backslashreplace")
        except BaseException:
            os.close(fd)
            raise

    def handleError(self, record: logging.LogRecord) -> None:
        pass  # a full disk or a removed folder must not end the command


class _Stderr(logging.StreamHandler):
    """`--verbose` lines on the current `sys.stderr`, without the lines already shown."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(lambda record: not getattr(record, SHOWN, False))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # always the current sys.stderr (tests and `cli.streams` replace it)

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def configure_logging(verbosity: int, path: Path | None, to_stderr: bool = True) -> bool:
    """Send the package's records to the log file `path` (INFO; DEBUG with `-vv`; None: no
    file) and, when `verbosity` > 0 and `to_stderr`, to stderr. False when there is no file
    or it cannot be opened (the records then go to stderr only). Replaces what an earlier call configured (in-process
    callers such as the tests run `main` many times)."""
    package = logging.getLogger(ROOT)
    close_logging()
    package.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    package.propagate = False  # the root logger (and Python's last-resort stderr) stays out
    package.addHandler(logging.NullHandler())
    if verbosity > 0 and to_stderr:
        package.addHandler(_Stderr())
    if path is None:
        return False
    try:
        make_private_dir(path.parent)
        handler = PrivateLogFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except (OSError, ValueError) as error:
        logger.warning("no log file %s: %s", path, getattr(error, "strerror", None) or error)
        return False
    handler.setFormatter(logging.Formatter(FORMAT))
    package.addHandler(handler)
    return True


def close_logging() -> None:
    """Undo `configure_logging`: its handlers closed and removed, the package's records
    propagating again."""
    package = logging.getLogger(ROOT)
    for handler in list(package.handlers):
        package.removeHandler(handler)
        with contextlib.suppress(OSError):  # a full disk fails the last flush; the log never fails a command
            handler.close()
    package.setLevel(logging.NOTSET)
    package.propagate = True


def redacted(argv: Sequence[str]) -> list[str]:
    """`argv` with the values of `PRIVATE_OPTIONS` replaced by `…`."""
    shown, hide_next = [], False
    for arg in argv:
        if hide_next:
            shown.append("…")
            hide_next = False
        elif arg in PRIVATE_OPTIONS:
            shown.append(arg)
            hide_next = True
        elif arg.startswith(tuple(f"{option}=" for option in PRIVATE_OPTIONS)):
            shown.append(arg.split("=", 1)[0] + "=…")
        else:
            shown.append(arg)
    return shown


def installed_version(name: str) -> str:
    """The installed version of distribution `name`, read from its metadata (no import)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def log_start(argv: Sequence[str]) -> None:
    """The first lines of a run: versions, platform, the command."""
    logger.info(
        "tui-recommender %s; Python %s; torch %s; torch-geometric %s; textual %s; %s",
        __version__,
        platform.python_version(),
        installed_version("torch"),
        installed_version("torch-geometric"),
        installed_version("textual"),
        platform.platform(),
    )
    with contextlib.suppress(Exception):  # an odd encoding must not matter here
        logger.info("command: tui-recommender %s", " ".join(redacted(argv)))
