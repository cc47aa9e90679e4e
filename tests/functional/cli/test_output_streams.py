"""Output that cannot crash, each case a real process (the streams are the process's own):
a reader that stops early ends the command quietly with 0, an output encoding that cannot
hold a title escapes it, a full disk on stdout and closed streams are one line and code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.functional.cli.test_cli import store_events, where  # noqa: F401 (fixture)
from tests.paths import REPO_ROOT
from tui_recommender.config.settings import LOG_NAME
from tui_recommender.data.movielens import load_dataset
from tui_recommender.engine.checkpoint import load_checkpoint, save_checkpoint

TIMEOUT_S = 120


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LC_ALL", "LANG", "PYTHONUTF8")}
    return {**env, "PYTHONPATH": str(REPO_ROOT), **extra}


def command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "tui_recommender", *argv]


def assert_no_python_noise(err: str) -> None:
    assert "Traceback" not in err and "Exception ignored" not in err, err


def run_into_a_closed_pipe(argv: list[str]) -> tuple[int, str]:
    """Run `argv` with its stdout a pipe whose reader is gone before the first write (as
    `| head -1` is once it has its line); (exit code, stderr)."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment())
    process.stdout.close()  # the process is still starting: every write it makes hits EPIPE
    _, err = process.communicate(timeout=TIMEOUT_S)
    return process.returncode, err.decode()


def export_file(tmp_path: Path) -> Path:
    path = tmp_path / "mine.csv"
    path.write_text("userId,movieId,rating,timestamp,list\n7,10,4.5,1000,\n7,20,2,1001,\n")
    return path


@pytest.mark.parametrize(
    "args",
    [["ratings", "export"], ["ratings", "export", "--format", "json"], ["recommend", "--user", "1", "-k", "5000"]],
    ids=["export-csv", "export-json", "recommend-k-5000"],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(where, args):
    code, err = run_into_a_closed_pipe(command(*args, *where))
    assert_no_python_noise(err)
    assert (code, err) == (0, "")


def test_an_import_into_a_closed_pipe_stores_every_rating_and_ends_quietly(where, tmp_path, state_dir):
    code, err = run_into_a_closed_pipe(command("ratings", "import", *where, str(export_file(tmp_path))))
    assert_no_python_noise(err)
    assert code == 0
    events, _ = store_events(state_dir)
    assert sorted(events.loc[events["userId"] == 7, "movieId"]) == [10, 20]


def test_help_into_a_closed_pipe_ends_quietly():
    code, err = run_into_a_closed_pipe(command("--help"))
    assert (code, err) == (0, "")


@pytest.fixture
def amelie(trained_model, small_data, tmp_path) -> list[str]:
    """--data/--state-dir/--checkpoint for `small_data` whose movie 10 is "Amélie (2001)"."""
    movies = small_data / "movies.csv"
    lines = movies.read_text().splitlines()
    movies.write_text("\n".join("10,Amélie (2001),Comedy" if line.startswith("10,") else line for line in lines) + "\n")
    checkpoint = load_checkpoint(trained_model.write(tmp_path / "start.npz"))
    retied = save_checkpoint(
        replace(checkpoint, fingerprint=load_dataset(small_data).fingerprint), tmp_path / "retied.npz"
    )
    return ["--data", str(small_data), "--state-dir", str(tmp_path / "state"), "--checkpoint", str(retied)]


def run_with(env: dict[str, str], argv: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, env=environment(**env), timeout=TIMEOUT_S, check=False)
    assert_no_python_noise(result.stderr.decode(errors="replace"))
    assert result.returncode == 0
    return result


def test_a_rating_whose_title_ascii_cannot_hold_is_stored_and_printed_escaped(amelie):
    result = run_with(
        {"PYTHONIOENCODING": "ascii"}, command("rate", *amelie, "--user", "1", "--movie", "10", "--rating", "4")
    )
    assert result.stdout.startswith(b"user 1 rated Am\\xe9lie 4 stars"), result.stdout


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        ({"PYTHONIOENCODING": "ascii"}, b"Am\\xe9lie (2001)"),
        ({"PYTHONIOENCODING": "latin-1"}, "Amélie (2001)".encode("latin-1")),
        ({"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0"}, "Amélie (2001)".encode()),  # Python's UTF-8 mode
    ],
    ids=["ascii", "latin-1", "C-locale"],
)
def test_titles_in_any_output_encoding_print_escaped_or_encoded_never_a_crash(amelie, env, shown):
    result = run_with(env, command("recommend", *amelie, "--user", "1", "-k", "100"))
    assert shown in result.stdout, result.stdout


def test_a_full_disk_on_stdout_is_one_line_and_code_2(where):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            command("ratings", "export", *where),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(),
            timeout=TIMEOUT_S,
            check=False,
        )
    assert_no_python_noise(result.stderr)
    assert result.returncode == 2
    assert result.stderr == "tui-recommender: cannot write the output to stdout: No space left on device\n"


def run_with_closed(fd: int, argv: list[str]) -> tuple[int, str]:
    """Run `argv` with file descriptor `fd` closed (as the shell's `2>&-` does); (exit
    code, stderr: empty when stderr is the one closed)."""
    read, write = os.pipe()
    result = subprocess.run(
        argv,
        # The child closes `fd` itself, after the pipe is in place (the shell's order).
        preexec_fn=lambda: os.close(fd),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if fd != 1 else None,
        stderr=write,
        env=environment(),
        timeout=TIMEOUT_S,
        check=False,
    )
    os.close(write)
    with os.fdopen(read) as err:
        return result.returncode, err.read()


def test_a_closed_stderr_refuses_to_run_blind_with_code_2(where, state_dir):
    code, err = run_with_closed(2, command("train", *where, "--epochs", "1"))
    assert (code, err) == (2, "")
    assert not (state_dir / "ml-test" / "model.npz").exists()  # refused before any work
    assert "ERROR tui_recommender.cli.main: stderr closed; run again with it open" in (state_dir / LOG_NAME).read_text()
    assert run_with_closed(2, command("--version")) == (0, "")  # nothing to tell: no reason to refuse


def test_a_closed_stdout_is_one_line_on_stderr_and_code_2(where):
    code, err = run_with_closed(1, command("recommend", *where, "--user", "1"))
    assert (code, err) == (2, "tui-recommender: stdout closed; run again with it open\n")
