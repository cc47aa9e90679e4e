"""Standard streams that cannot crash a command: a reader that stops early (`| head`) ends
it quietly, text the output encoding cannot hold is escaped, a failed write to stdout is one
line, and stderr (diagnostics, progress) drops what it cannot write.

The recipe for closed pipes is the Python documentation's (signal module, "Note on
SIGPIPE"): catch the error, point stdout at devnull so the final flush cannot fail again,
exit as a pager closed early expects (0)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from tui_recommender.core.errors import UserError

STANDARD_FDS = {0: "stdin", 1: "stdout", 2: "stderr"}


class OutputError(UserError):
    """The command's output could not be written (a full disk, /dev/full, an I/O error)."""


class PipeClosed(Exception):
    """The reader of stdout went away before the end (`| head`): not an error."""


class _GuardedStdout(io.TextIOBase):
    """stdout whose write errors are `PipeClosed` or `OutputError`, never a traceback."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with _output_errors():
            return self._stream.write(text)

    def flush(self) -> None:
        with _output_errors():
            self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding


class _ForgivingStderr(io.TextIOBase):
    """stderr that drops what it cannot write: a full or closed stderr must not end a command
    (the log file still records what happened)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        with contextlib.suppress(OSError, ValueError):
            return self._stream.isatty()
        return False

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding


@contextlib.contextmanager
def _output_errors() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise PipeClosed from None
    except OSError as error:
        raise OutputError(f"cannot write the output to stdout: {error.strerror or error}") from None


def closed_standard_fds() -> list[str]:
    """Which of stdin, stdout and stderr were closed when the process started; each is then
    opened on devnull, so no file the command opens (the ratings database) takes its number
    and receives stray writes."""
    closed = []
    for fd, name in STANDARD_FDS.items():
        try:
            os.fstat(fd)
        except OSError:
            closed.append(name)
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:  # Python leaves a stream that was closed at start as None
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 (the process's own stream)
    return closed


@contextlib.contextmanager
def safe_streams() -> Iterator[None]:
    """Within: stdout raises only `PipeClosed` or `OutputError`, stderr never raises, and
    both escape what their encoding cannot hold (`Amélie` to ASCII: `Am\\xe9lie`). The
    streams are put back after (in-process callers such as tests keep theirs)."""
    stdout, stderr = sys.stdout, sys.stderr
    for stream in (stdout, stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    sys.stdout, sys.stderr = _GuardedStdout(stdout), _ForgivingStderr(stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def discard_stdout() -> None:
    """After `PipeClosed` or `OutputError`: stdout goes to devnull, so the interpreter's
    last flush of what is still buffered cannot fail again ("Exception ignored", exit 120)."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
