"""CLI manners: `--version`, shell completion scripts that complete, and training progress
with a total and the time left (a bar on a terminal, plain lines elsewhere)."""

from __future__ import annotations

import io
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
from tui_recommender.app.progress import EpochProgress, format_duration
from tui_recommender.engine.lightgcn.training import EpochStats

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


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def epochs(progress: EpochProgress, clock: Clock, total: int, count: int, seconds: float = 2.0) -> None:
    for epoch in range(1, count + 1):
        clock.now += seconds
        progress(EpochStats(epoch, loss=0.5, seconds=seconds, total=total))


def test_plain_lines_carry_the_total_and_time_left_at_most_every_interval():
    stream, clock = io.StringIO(), Clock()
    with EpochProgress(stream=stream, interval_s=10.0, clock=clock) as progress:
        epochs(progress, clock, total=50, count=20)  # early stopping ends at epoch 20
        epochs(progress, clock, total=15, count=15)  # the refit: 15 epochs
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines[0] == "training: epoch 1 of at most 50, loss 0.5000, 2.00 s/epoch, about 1 min 38 s left"
    # One line per 10 s at 2 s per epoch, plus each phase's first and last epoch.
    assert [int(re.search(r"epoch (\d+)", line).group(1)) for line in lines] == [1, 6, 11, 16, 21, 26, 31, 35]
    assert lines[4] == "training (refit on every rating): epoch 21 of 35, loss 0.5000, 2.00 s/epoch, about 28 s left"
    assert lines[-1].endswith("epoch 35 of 35, loss 0.5000, 2.00 s/epoch, about 0 s left")


def test_on_a_terminal_a_bar_shows_the_total_and_grows_it_for_the_refit():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream, clock = Terminal(), Clock()
    with EpochProgress(stream=stream, clock=clock) as progress:
        epochs(progress, clock, total=8, count=3, seconds=0.0)
        assert progress._bar.total == 8
        epochs(progress, clock, total=2, count=2, seconds=0.0)
        assert progress._bar.total == 5 and progress._bar.n == 5
    text = stream.getvalue()
    assert "\r" in text and "0/8" in text and "5/5" in text and "refit" in text


def test_on_line_receives_the_lines_instead_of_a_stream():
    lines, clock = [], Clock()
    progress = EpochProgress("training a model (once)", on_line=lines.append, interval_s=0.0, clock=clock)
    epochs(progress, clock, total=3, count=3)
    assert len(lines) == 3 and lines[-1].startswith("training a model (once): epoch 3 of at most 3")


@pytest.mark.parametrize(("seconds", "text"), [(0.4, "0 s"), (42, "42 s"), (185, "3 min 05 s"), (3720, "1 h 02 min")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_train_without_a_terminal_prints_plain_progress_lines(capsys, small_data, state_dir):
    code, out, err = run(capsys, "train", "--data", str(small_data), "--state-dir", str(state_dir), "--epochs", "3")
    assert code == 0, err
    assert "\r" not in err
    progress = [line for line in err.splitlines() if line.startswith("training")]
    assert progress[0].startswith("training: epoch 1 of at most 3, loss ")
    assert "left" in progress[0] and "s/epoch" in progress[0]
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
