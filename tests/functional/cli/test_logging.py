"""The log a user attaches to a report, through the command line: what it records, what it
never records (rating values), `--verbose`, and a log that cannot be written never failing a
command. And `--help`, which names every environment variable and the paths resolved here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tui_recommender
from tests.functional.cli.test_cli import run, where  # noqa: F401 (fixture)
from tui_recommender.cli.commands import COMMANDS
from tui_recommender.config import settings as config
from tui_recommender.config.settings import LOG_NAME


def log_of(state_dir: Path) -> str:
    return (state_dir / LOG_NAME).read_text(encoding="utf-8")


def test_the_log_records_versions_command_paths_model_and_timings_but_no_rating_value(capsys, where, state_dir):
    code, _, err = run(capsys, "rate", *where, "--user", "1", "--movie", "10", "--rating", "2.5")
    assert code == 0, err
    log = log_of(state_dir)
    checkpoint = Path(where[where.index("--checkpoint") + 1])
    for expected in (
        f"tui-recommender {tui_recommender.__version__}; Python ",
        "; torch ",
        "; textual ",
        "--user 1 --movie 10 --rating …",
        f"state folder {state_dir}",
        f"model: checkpoint ({checkpoint}); given with --checkpoint",
        "model updated: 1 ratings of 1 users in ",
        "exit 0 after ",
    ):
        assert expected in log, expected
    assert not re.search(r"(?<![\d.])2\.5(?!\d)", log), "a rating value reached the log"
    assert err == ""  # without --verbose, stderr stays quiet


def test_verbose_shows_the_records_on_stderr_and_an_error_line_once(capsys, where, state_dir):
    code, _, err = run(capsys, "recommend", *where, "-v", "--user", "99999")
    assert code == 2
    assert "model: checkpoint" in err and "paths: " in err
    assert len([line for line in err.splitlines() if "99999" in line and "command:" not in line]) == 1
    log = log_of(state_dir)
    assert "ERROR tui_recommender.cli.main: user 99999" in log and "exit 2 after" in log


def test_an_unexpected_error_is_logged_with_its_traceback(capsys, where, state_dir, monkeypatch):
    def broken(args, settings):
        raise RuntimeError("a bug")

    monkeypatch.setitem(COMMANDS, "recommend", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        run(capsys, "recommend", *where, "--user", "1")
    log = log_of(state_dir)
    assert "unexpected error" in log and "Traceback (most recent call last)" in log and "RuntimeError: a bug" in log


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["quiet", "verbose"])
def test_a_log_that_cannot_be_written_never_fails_a_command(capsys, where, state_dir, verbose):
    (state_dir / LOG_NAME).mkdir(parents=True)  # where the file should be
    code, out, err = run(capsys, "recommend", *where, *verbose, "--user", "1", "-k", "3")
    assert code == 0, err
    assert len(out.splitlines()) == 3
    warnings = [line for line in err.splitlines() if "no log file" in line]
    assert len(warnings) == (1 if verbose else 0)
    assert "Traceback" not in err


def test_help_names_every_environment_variable_and_the_paths_resolved_here(capsys, state_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TUI_RECOMMENDER_DATA_ROOT", str(tmp_path / "datasets"))
    monkeypatch.setenv("TUI_RECOMMENDER_CONFIG", str(tmp_path / "my.toml"))
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in config.ENVIRONMENT:
        assert len(re.findall(rf"\b{config.ENV_PREFIX}{name}\b", out)) == 1, name
    assert f"data root     {tmp_path / 'datasets'}" in out
    assert f"state folder  {state_dir}  (" in out and LOG_NAME in out
    assert f"config file   {tmp_path / 'my.toml'}" in out


def test_every_environment_variable_the_package_reads_is_in_the_help():
    package = Path(tui_recommender.__file__).parent
    named = re.compile(r'_env_path\("([A-Z_]+)"\)|ENV_PREFIX \+ "([A-Z_]+)"|TUI_RECOMMENDER_([A-Z_]+)')
    read = {
        next(group for group in match.groups() if group)
        for module in package.rglob("*.py")
        for match in named.finditer(module.read_text(encoding="utf-8"))
    }
    assert {"DATA", "STATE_DIR", "NOVELTY"} <= read
    assert read <= set(config.ENVIRONMENT), sorted(read - set(config.ENVIRONMENT))
