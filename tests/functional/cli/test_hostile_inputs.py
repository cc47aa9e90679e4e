"""Hostile command lines and import files: every one ends in one line on stderr and exit
code 2 before any work is done or anything is stored, never a traceback."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from tests.functional.cli.test_cli import assert_one_line_error, run, store_events, where  # noqa: F401 (fixture)
from tui_recommender.data.movielens import load_dataset
from tui_recommender.engine.checkpoint import load_checkpoint, save_checkpoint
from tui_recommender.engine.lightgcn import training as training_module

TOO_LONG_NAME = "x" * 300
TOO_LONG_PATH = "/".join(["y" * 200] * 25)


@pytest.mark.parametrize("option", ["--data", "--state-dir", "--checkpoint"])
@pytest.mark.parametrize("path", [TOO_LONG_NAME, TOO_LONG_PATH], ids=["long-name", "long-path"])
def test_path_options_longer_than_the_os_allows(capsys, tmp_path, option, path) -> None:
    code, out, err = run(capsys, option, str(tmp_path / path), "recommend", "--user", "1")
    assert_one_line_error(code, out, err, f"argument {option}:", "the OS allows")
    assert len(err) < 300


@pytest.mark.parametrize("argv", [("train", "--out"), ("ratings", "import")])
def test_output_and_input_files_longer_than_the_os_allows(capsys, tmp_path, argv) -> None:
    code, out, err = run(capsys, *argv, str(tmp_path / TOO_LONG_NAME))
    assert_one_line_error(code, out, err, "the OS allows")


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training_module, "train_checkpoint", pytest.fail)


@pytest.mark.parametrize("place", ["a-folder", "below-a-file", "unwritable-folder"])
def test_train_out_is_checked_before_training(capsys, tmp_path, where, no_training, place) -> None:
    if place == "a-folder":
        out = tmp_path / "models"
        out.mkdir()
        reason = "it is a folder"
    elif place == "below-a-file":
        (tmp_path / "notes.txt").write_text("mine")
        out = tmp_path / "notes.txt" / "model.npz"
        reason = "a part of the path is a file, not a folder"
    else:
        if os.geteuid() == 0:  # permission bits do not bind root; /sys refuses even root here
            out = Path("/sys/model.npz")
            try:
                os.close(os.open(out, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError:
                pass
            else:
                out.unlink()
                pytest.skip("no folder that this user cannot write")
        else:
            locked = tmp_path / "locked"
            locked.mkdir(mode=0o555)
            out = locked / "model.npz"
        reason = "Permission denied"
    code, stdout, err = run(capsys, "train", *where, "--out", str(out))
    assert_one_line_error(code, stdout, err, f"cannot save the checkpoint {out}: {reason}")


HOSTILE_IMPORTS = {
    "huge-user.csv": (
        "userId,movieId,rating,timestamp\n9223372036854775808,10,4.0,1\n",
        "line 2: userId '9223372036854775808' is out of range",
    ),
    "huge-movie.csv": (
        "userId,movieId,rating\n1,18446744073709551616,4.0\n",
        "line 2: movieId '18446744073709551616' is out of range",
    ),
    "user-zero.csv": ("userId,movieId,rating\n0,10,4.0\n", "line 2: userId '0' is out of range"),
    "exponent-user.csv": ("userId,movieId,rating\n1e3,10,4.0\n", "line 2: userId '1e3' is not a whole number"),
    "huge-timestamp.csv": (
        "userId,movieId,rating,timestamp\n1,10,4.0,99999999999999999999\n",
        "line 2: timestamp '99999999999999999999' is not a whole number",
    ),
    "5000-digits.csv": (
        "userId,movieId,rating\n" + "9" * 5000 + ",10,4.0\n",
        "line 2: userId '9999999999999999999999999999999999999999…' is out of range",
    ),
    "huge-user.json": (
        '[{"userId": 9223372036854775808, "movieId": 10, "rating": 4.0}]',
        "item 1: userId '9223372036854775808' is out of range",
    ),
    "huge-movie.json": (
        json.dumps([{"userId": 1, "movieId": 2**64, "rating": 4.0}]),
        "item 1: movieId '18446744073709551616' is out of range",
    ),
    "5000-digits.json": (
        '[{"userId": ' + "9" * 5000 + ', "movieId": 10, "rating": 4.0}]',
        "holds a number with thousands of digits",
    ),
    "nested.json": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "nested-item.json": (
        '[{"userId": 1, "movieId": 10, "rating": ' + "[" * 100_000 + "]" * 100_000 + "}]",
        "nested too deeply",
    ),
    "infinite-rating.json": ('[{"userId": 1, "movieId": 10, "rating": 1e400}]', "item 1: rating inf is not allowed"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_IMPORTS))
def test_hostile_import_files_are_one_line_and_store_nothing(capsys, tmp_path, where, state_dir, name) -> None:
    text, message = HOSTILE_IMPORTS[name]
    path = tmp_path / name
    path.write_text(text)
    code, out, err = run(capsys, "ratings", "import", *where, str(path))
    assert_one_line_error(code, out, err, str(path), message)
    assert len(err) < 400
    events, _users = store_events(state_dir)
    assert events.empty


@pytest.mark.parametrize(
    "value",
    [str(2**63), str(2**31), "0", "-1", "1e3", "9" * 5000, "٣"],
    ids=["2^63", "2^31", "0", "-1", "1e3", "5000-digits", "arabic-3"],
)
@pytest.mark.parametrize("option", ["--user", "--movie"])
def test_hostile_ids_on_the_command_line(capsys, where, value, option) -> None:
    ids = {"--user": "1", "--movie": "10", option: value}
    code, out, err = run(capsys, "rate", *where, "--user", ids["--user"], "--movie", ids["--movie"], "--rating", "4")
    assert_one_line_error(code, out, err, f"argument {option}:")
    assert len(err) < 300


def test_control_sequences_in_titles_print_inert(trained_model, capsys, small_data, state_dir, tmp_path) -> None:
    """A title carrying a clear-screen, a window-title escape with a bell, and a bidi
    override prints as visible escapes: nothing in it reaches the terminal as a control."""
    movies = small_data / "movies.csv"
    evil = "Toy\x1b[2J\x1b]0;pwned\x07 Story\u202e"
    movies.write_text(
        "\n".join(
            f'10,"{evil} (1995)",Comedy' if line.startswith("10,") else line for line in movies.read_text().splitlines()
        )
        + "\n"
    )
    checkpoint = load_checkpoint(trained_model.write(tmp_path / "start.npz"))
    retied = save_checkpoint(
        replace(checkpoint, fingerprint=load_dataset(small_data).fingerprint), tmp_path / "retied.npz"
    )
    code, out, err = run(
        capsys,
        "rate",
        "--data",
        str(small_data),
        "--state-dir",
        str(state_dir),
        "--checkpoint",
        str(retied),
        "--user",
        "1",
        "--movie",
        "10",
        "--rating",
        "4",
    )
    assert code == 0, err
    assert "Toy\\x1b[2J\\x1b]0;pwned\\x07 Story\\u202e" in out
    assert not any(ch in out + err for ch in "\x1b\x07\u202e")


HUGE_VALUE = "x" * 5000


@pytest.mark.parametrize(
    "argv",
    [("recommend", "--user", "1", "-k", HUGE_VALUE), ("train", "--epochs", HUGE_VALUE)],
    ids=["-k", "--epochs"],
)
def test_a_huge_option_value_is_quoted_short(capsys, argv) -> None:
    code, out, err = run(capsys, *argv)
    assert_one_line_error(code, out, err, argv[-2], "is not a whole number")
    assert len(err) < 200


def test_a_huge_novelty_in_the_environment_is_quoted_short(capsys, monkeypatch, small_data) -> None:
    monkeypatch.setenv("TUI_RECOMMENDER_NOVELTY", HUGE_VALUE)
    code, out, err = run(capsys, "recommend", "--data", str(small_data), "--user", "1")
    assert_one_line_error(code, out, err, "TUI_RECOMMENDER_NOVELTY")
    assert len(err) < 200
