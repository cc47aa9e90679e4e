"""The log file: private, rotated, never followed through a link or into a FIFO, never a
reason for a command to fail; rating values kept out of the recorded command line."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from tui_recommender.cli import logs
from tui_recommender.config.settings import LOG_NAME

RECORDER = logging.getLogger("tui_recommender.app.jobs")  # any module of the package


@pytest.fixture(autouse=True)
def restored():
    yield
    logs.close_logging()


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_recorded_command_line_names_the_rating_option_not_its_value():
    argv = ["rate", "--user", "1", "--movie", "318", "--rating", "4.5"]
    assert logs.redacted(argv) == ["rate", "--user", "1", "--movie", "318", "--rating", "…"]
    assert logs.redacted(["rate", "--rating=2.5", "--user", "3"]) == ["rate", "--rating=…", "--user", "3"]


def test_the_log_file_rotates_at_its_size_keeps_its_backups_and_is_private(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    path = tmp_path / "state" / LOG_NAME
    umask = os.umask(0o022)  # what most users have: the modes must not come from it
    try:
        assert logs.configure_logging(0, path)
        for n in range(200):
            RECORDER.info("line %d of a long run", n)
        logs.close_logging()
    finally:
        os.umask(umask)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == [LOG_NAME, *(f"{LOG_NAME}.{k}" for k in range(1, logs.BACKUPS + 1))]
    assert all(mode(path.parent / name) == 0o600 for name in files)
    assert mode(path.parent) == 0o700
    assert "line 199 of a long run" in path.read_text()
    assert all((path.parent / name).stat().st_size <= 2_000 for name in files)


def test_a_link_or_a_fifo_where_the_log_goes_is_not_written_through(tmp_path, capsys):
    target = tmp_path / "elsewhere.txt"
    target.write_text("not ours\n")
    os.chmod(target, 0o644)
    path = tmp_path / LOG_NAME
    path.symlink_to(target)
    assert not logs.configure_logging(0, path)
    RECORDER.info("a record")
    assert target.read_text() == "not ours\n" and mode(target) == 0o644
    path.unlink()
    os.mkfifo(path)
    assert not logs.configure_logging(1, path)  # refused at once: no reader never blocks it
    assert "no log file" in capsys.readouterr().err


def test_the_log_file_opens_where_the_os_has_no_nofollow_nonblock_or_cloexec(tmp_path, monkeypatch):
    for flag in ("O_NOFOLLOW", "O_NONBLOCK", "O_CLOEXEC"):  # as on Windows
        monkeypatch.delattr(os, flag)
    path = tmp_path / LOG_NAME
    assert logs.configure_logging(0, path)
    RECORDER.info("written all the same")
    logs.close_logging()
    assert "written all the same" in path.read_text()


def test_verbose_lines_go_to_stderr_only_where_asked_and_never_twice(tmp_path, capsys):
    path = tmp_path / LOG_NAME
    assert logs.configure_logging(1, path, to_stderr=False)  # the app owns the terminal
    RECORDER.info("for the file only")
    assert capsys.readouterr().err == ""
    assert logs.configure_logging(1, path)
    RECORDER.info("for both")
    RECORDER.warning("already shown", extra={logs.SHOWN: True})
    assert capsys.readouterr().err == "for both\n"
    RECORDER.debug("detail")  # -v is INFO; -vv adds DEBUG
    assert capsys.readouterr().err == ""
    logs.close_logging()
    text = path.read_text()
    assert "for the file only" in text and "already shown" in text and "detail" not in text


def test_a_log_that_cannot_flush_on_close_does_not_fail_the_command(tmp_path, monkeypatch):
    assert logs.configure_logging(0, tmp_path / LOG_NAME)
    logging.getLogger("tui_recommender.app").warning("one line to flush")

    def full_disk(self) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(logs.PrivateLogFile, "flush", full_disk)
    logs.close_logging()  # a full disk fails the last flush: no exception
    assert logging.getLogger(logs.ROOT).handlers == []
