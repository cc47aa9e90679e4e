"""CLI manners: `--version`, shell completion scripts that complete, and training progress
with a total and the time left (a bar on a terminal, plain lines elsewhere)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tui_recommender
from tests.functional.cli.test_cli import assert_one_line_error, run
from tests.paths import REPO_ROOT

ROOT = REPO_ROOT


def test_version_prints_the_package_version_and_exits_0(capsys):
    code, out, err = run(capsys, "--version")
    assert code == 0, err
    assert out == f"tui-recommender {tui_recommender.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", tui_recommender.__version__)


# ---- shell completion ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete "), ("zsh", "#compdef tui-recommender"), ("fish", "complete --command tui-recommender")],
)
def test_completion_prints_a_script_for_each_shell(capsys, shell, marker):
    code, out, err = run(capsys, "completion", shell)
    assert code == 0, err
    assert marker in out and "_ARGCOMPLETE" in out
    assert err == ""


def test_completion_for_an_unknown_shell_exits_2_with_one_line(capsys):
    assert_one_line_error(*run(capsys, "completion", "tcsh"), "tcsh")


def complete(tmp_path: Path, line: str) -> list[str]:
    """What `tui-recommender` offers for the command line `line` (cursor at its end), asked
    the way the shell scripts ask: argcomplete's environment protocol."""
    out = tmp_path / "completions"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([sys.executable, "-m", "tui_recommender"], env=env, cwd=tmp_path, check=True, timeout=60)
    return [word.strip() for word in out.read_text().split("\v")]


def test_completion_offers_commands_options_and_choices(tmp_path):
    assert complete(tmp_path, "tui-recommender rec") == ["recommend"]
    assert "--user" in complete(tmp_path, "tui-recommender recommend --")
    assert set(complete(tmp_path, "tui-recommender completion ")) >= {"bash", "zsh", "fish"}


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_completes_in_bash(tmp_path):
    """Source the printed script in a real bash and call the function it registers."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "tui-recommender"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tui_recommender "$@"\n')
    launcher.chmod(0o755)
    script = r"""
source <(tui-recommender completion bash)
COMP_WORDS=(tui-recommender rat); COMP_CWORD=1; COMP_LINE="tui-recommender rat"; COMP_POINT=${#COMP_LINE}
function=$(complete -p tui-recommender | sed -E 's/.* -F ([^ ]+) .*/\1/')
"$function" tui-recommender rat tui-recommender
printf '%s\n' "${COMPREPLY[@]}"
"""
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        ["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert sorted(w.strip() for w in result.stdout.splitlines()) == ["rate", "ratings"]


# ---- training progress -----------------------------------------------------------------


def test_train_without_a_terminal_prints_plain_progress_lines(capsys, small_data, state_dir):
    code, out, err = run(capsys, "train", "--data", str(small_data), "--state-dir", str(state_dir), "--epochs", "6")
    assert code == 0, err
    assert "\r" not in err
    progress = [line for line in err.splitlines() if line.startswith("training")]
    assert re.fullmatch(r"training: epoch 1, step 0 of \d+", progress[0]), progress[0]  # at once, before a step
    assert progress[1].startswith("training: epoch 1 of at most 6, loss ")
    assert "left" in progress[1] and "s/epoch" in progress[1]
    assert re.match(r"training \(refit on every rating\): epoch (\d+) of \1, ", progress[-1]), progress[-1]
    assert "wrote" in out


def test_training_at_start_up_shows_its_progress(capsys, small_data, state_dir, monkeypatch):
    from tests.functional.cli.test_cli import TINY
    from tui_recommender.engine.lightgcn import training as training_module

    real = training_module.train_checkpoint
    monkeypatch.setattr(
        training_module, "train_checkpoint", lambda data, ratings, config=None, **kw: real(data, ratings, TINY, **kw)
    )
    code, out, err = run(
        capsys, "recommend", "--data", str(small_data), "--state-dir", str(state_dir), "--user", "1", "-k", "2"
    )
    assert code == 0, err
    assert "training a model" in err and "\r" not in err
    assert "training a model for this data: epoch 1 of at most 2, loss " in err
    assert len(out.splitlines()) == 2
