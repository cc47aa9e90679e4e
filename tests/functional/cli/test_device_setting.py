"""Where `train` and `evaluate` compute: `--device` > `TUI_RECOMMENDER_DEVICE` > the config
file's `device` > the recipe's default ("auto"). A device this machine lacks proves which
source won: cuda:9999 fails before any work on every machine (no GPU, or fewer GPUs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.cli.test_cli import assert_one_line_error, run
from tui_recommender.config.settings import Settings

ABSENT = "cuda:9999"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    monkeypatch.setenv("TUI_RECOMMENDER_CONFIG", str(path))
    monkeypatch.delenv("TUI_RECOMMENDER_DEVICE", raising=False)
    return path


def test_the_settings_take_the_environment_over_the_file(config_file, monkeypatch):
    assert Settings.resolve().device is None
    config_file.write_text('device = "cuda:1"\n')
    assert Settings.resolve().device == "cuda:1"
    monkeypatch.setenv("TUI_RECOMMENDER_DEVICE", "cpu")
    assert Settings.resolve().device == "cpu"


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_the_file_sets_the_device_and_the_environment_and_flag_beat_it(
    capsys, config_file, small_data, state_dir, tmp_path, monkeypatch, command
):
    where = ["--data", str(small_data), "--state-dir", str(state_dir)]
    out = ["--out", str(tmp_path / "m.npz")] if command == "train" else []
    quick = ["--dim", "4", "--epochs", "1", "--json", *out]
    config_file.write_text(f'device = "{ABSENT}"\n')
    assert_one_line_error(*run(capsys, command, *where, *quick), f"device {ABSENT}")
    assert not any(state_dir.rglob("*.npz")) and not (tmp_path / "m.npz").exists()
    monkeypatch.setenv("TUI_RECOMMENDER_DEVICE", "cpu")
    code, out, err = run(capsys, command, *where, *quick)
    assert code == 0, err
    assert json.loads(out)["device"] == "cpu"
    monkeypatch.setenv("TUI_RECOMMENDER_DEVICE", ABSENT)
    assert_one_line_error(*run(capsys, command, *where, *quick), f"device {ABSENT}")
    code, out, err = run(capsys, command, *where, *quick, "--device", "cpu")
    assert code == 0, err
    assert json.loads(out)["device"] == "cpu"


def test_a_bad_device_in_the_environment_names_the_variable(capsys, config_file, small_data, state_dir, monkeypatch):
    monkeypatch.setenv("TUI_RECOMMENDER_DEVICE", "gpu")
    code, out, err = run(capsys, "train", "--data", str(small_data), "--state-dir", str(state_dir))
    assert_one_line_error(code, out, err, "TUI_RECOMMENDER_DEVICE must be a device", "'gpu'")
    assert not any(state_dir.rglob("*.npz"))
