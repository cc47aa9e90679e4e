"""`train` and `evaluate` set every training option from the command line (each checked
before any work starts: one line, exit 2), and a checkpoint with hostile hyperparameters
is refused with one line naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.functional.cli.test_cli import assert_one_line_error, run
from tests.trained_model import DATASET_NAME
from tui_recommender.config.settings import CHECKPOINT_NAME
from tui_recommender.engine.checkpoint import load_checkpoint

OPTIONS = {
    "--dim": ("8", "dim", 8),
    "--layers": ("2", "n_layers", 2),
    "--lr": ("0.05", "lr", 0.05),
    "--reg": ("0.001", "reg", 0.001),
    "--loss": ("softmax", "loss", "softmax"),
    "--temperature": ("0.2", "temperature", 0.2),
    "--logits": ("cosine", "logits", "cosine"),
    "--negatives": ("16", "negatives", 16),
    "--batch-size": ("256", "batch_size", 256),
    "--user-batch": ("16", "user_batch", 16),
    "--epoch-steps": ("4", "epoch_steps", 4),
    "--epoch-scores": ("5000", "epoch_scores", 5000),
    "--logq": ("1.25", "logq", 1.25),
    "--lr-decay": ("0.5", "lr_decay", 0.5),
    "--epochs": ("2", "max_epochs", 2),
    "--patience": ("1", "patience", 1),
    "--seed": ("3", "seed", 3),
}


def test_train_sets_every_option(capsys, small_data, state_dir, tmp_path):
    out_path = tmp_path / "model.npz"
    given = [word for flag, (text, _, _) in OPTIONS.items() for word in (flag, text)]
    where = ["--data", str(small_data), "--state-dir", str(state_dir)]
    code, out, err = run(capsys, "train", *where, *given, "--device", "cpu", "--out", str(out_path), "--json")
    assert code == 0, err
    summary = json.loads(out)
    config = load_checkpoint(out_path).config
    for flag, (_, name, value) in OPTIONS.items():
        assert summary["hyperparameters"][name] == value == getattr(config, name), flag
    assert summary["device"] == "cpu"
    meta = json.loads(str(np.load(out_path)["meta"]))
    assert "device" not in meta["hyperparameters"]  # checkpoints are device-free


def test_evaluate_sets_the_options_and_says_the_device(capsys, small_data, state_dir):
    where = ["--data", str(small_data), "--state-dir", str(state_dir)]
    code, out, err = run(capsys, "evaluate", *where, "--dim", "8", "--epochs", "2", "--device", "cpu", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["device"] == "cpu" and report["hyperparameters"]["dim"] == 8
    applied = report["hyperparameters"]  # the sized defaults as applied (MovieLens-dense: as before)
    sized = (applied["reg"], applied["logits"], applied["epoch_steps"], applied["logq"], applied["lr_decay"])
    assert sized == (0.003, "dot", 8, 1.0, 1.0)


def test_the_train_summary_and_checkpoint_show_the_l2_applied(capsys, small_data, state_dir, tmp_path):
    where = ["--data", str(small_data), "--state-dir", str(state_dir), "--dim", "8", "--epochs", "2"]
    for given, expected in ((), 0.003), (("--reg", "0.25"), 0.25):
        out_path = tmp_path / f"model{len(given)}.npz"
        code, out, err = run(capsys, "train", *where, *given, "--device", "cpu", "--out", str(out_path), "--json")
        assert code == 0, err
        assert json.loads(out)["hyperparameters"]["reg"] == expected == load_checkpoint(out_path).config.reg


@pytest.mark.parametrize("command", ["train", "evaluate"])
@pytest.mark.parametrize(
    ("flag", "text", "words"),
    [
        ("--loss", "hinge", "not one of full_softmax, bpr, softmax"),
        ("--lr", "abc", "not a number above 0"),
        ("--lr", "nan", "not a number above 0"),
        ("--reg", "-1", "not a number from 0"),
        ("--dim", "0", "not a whole number from 1"),
        ("--epochs", "0", "not a whole number from 1"),
        ("--batch-size", "1.5", "not a whole number"),
        ("--seed", "x" * 5000, "not a whole number"),
        ("--device", "gpu", "not a device (auto, cpu, cuda, cuda:N, mps)"),
        ("--device", "cuda", "no CUDA GPU is available here"),
        ("--device", "cuda:1", "no CUDA GPU is available here"),
        ("--device", "mps", "MPS is not available here"),
    ],
)
def test_a_bad_option_is_one_line_before_any_work(capsys, small_data, state_dir, command, flag, text, words):
    code, out, err = run(capsys, command, "--data", str(small_data), "--state-dir", str(state_dir), flag, text)
    assert_one_line_error(code, out, err, words)
    assert flag in err or "device" in err
    assert len(err) < 300  # a long value is cut
    assert not any(state_dir.rglob("*.npz"))


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"loss": "softmax", "temperature": "abc"}, "temperature"),
        ({"reg": [1]}, "reg"),
        ({"reg": float("nan")}, "reg"),
        ({"temperature": 0}, "temperature"),
        ({"momentum": 0.9}, "momentum"),
    ],
)
def test_a_checkpoint_with_hostile_hyperparameters_is_one_line(
    trained_model, capsys, small_data, state_dir, tmp_path, change, key
):
    good = trained_model.write(tmp_path / "good.npz")
    with np.load(good) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta["hyperparameters"].update(change)
    bad = tmp_path / "bad.npz"
    with Path(bad).open("wb") as out:
        np.savez(out, meta=np.array(json.dumps(meta)), **arrays)
    where = ["--data", str(small_data), "--state-dir", str(state_dir), "--checkpoint", str(bad)]
    code, out, err = run(capsys, "rate", *where, "--user", "1", "--movie", "10", "--rating", "4")
    assert_one_line_error(code, out, err, "is damaged", "hyperparameter", key)


def test_train_on_the_cpu_creates_no_tensor_elsewhere(capsys, small_data, state_dir, monkeypatch):
    """The whole `train --device cpu`, from the command line to the checkpoint, under the
    guard of tests/device_guard.py: no tensor is made without the device."""
    from tests.device_guard import only_on

    where = ["--data", str(small_data), "--state-dir", str(state_dir)]
    with only_on("cpu", monkeypatch):
        code, out, err = run(capsys, "train", *where, "--dim", "8", "--epochs", "2", "--device", "cpu", "--json")
    assert code == 0, err
    assert json.loads(out)["device"] == "cpu"


def test_rate_says_when_the_update_was_undone(trained_model, capsys, small_data, state_dir, tmp_path, monkeypatch):
    import tui_recommender.app.live_model as live_model

    for rows in ("shifted_row", "folded_in_row"):  # every new row's values blow up
        monkeypatch.setattr(live_model, rows, lambda items, *args, **kwargs: np.full(items.shape[1], np.inf))
    start = trained_model.write(tmp_path / "start.npz")
    where = ["--data", str(small_data), "--state-dir", str(state_dir), "--checkpoint", str(start)]
    code, out, err = run(capsys, "rate", *where, "--user", "1", "--movie", "10", "--rating", "4")
    assert code == 0, err
    assert "rated" in out and "NaN or infinite values and was undone" in out and "ratings are stored" in out
    saved = load_checkpoint(state_dir / DATASET_NAME / CHECKPOINT_NAME)
    assert np.isfinite(saved.ego).all() and np.isfinite(saved.final).all()
