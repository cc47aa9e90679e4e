"""`data list` and `data download` at the command line: what the data root holds, with the
checkpoint trained on each dataset's files; an unknown release is one line with the list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.cli.test_cli import assert_one_line_error, run
from tests.synthetic import write_dat, write_movielens, write_zip
from tests.trained_model import DATASET_NAME


@pytest.fixture
def root(trained_model, tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data root with the trained checkpoint's dataset (as its fine-tuned state), an ml-1m
    zip and a folder that does not load."""
    root = tmp_path / "data"
    write_movielens(root / DATASET_NAME)
    trained_model.write(state_dir / DATASET_NAME / "model.npz")
    write_zip(write_dat(tmp_path / "ml-1m"), root / "ml-1m.zip")
    broken = write_movielens(root / "ml-broken")
    (broken / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,4.0\n")
    monkeypatch.setenv("TUI_RECOMMENDER_DATA_ROOT", str(root))
    return root


def test_data_list_shows_each_dataset_and_its_checkpoint(capsys, root: Path, state_dir: Path) -> None:
    code, out, err = run(capsys, "data", "list")
    assert code == 0, err
    assert out.splitlines() == [
        "ml-1m  600 ratings, 40 users, 80 movies, rated 1970"
        f"  (ml-1m layout, {root / 'ml-1m.zip'}; no matching checkpoint)",
        "ml-broken  cannot be read: ratings.csv line 2: expected 4 fields, found 3",
        f"{DATASET_NAME}  600 ratings, 40 users, 80 movies, rated 1970"
        f"  (ml-latest layout, {root / DATASET_NAME}; checkpoint {state_dir / DATASET_NAME / 'model.npz'})",
    ]
    code, out, err = run(capsys, "data", "list", "--json")
    assert code == 0 and err == ""
    listed = {entry["name"]: entry for entry in json.loads(out)}
    assert listed["ml-1m"]["years"] == [1970, 1970] and listed["ml-1m"]["checkpoint"] is None
    assert listed[DATASET_NAME]["checkpoint"] == str(state_dir / DATASET_NAME / "model.npz")
    assert listed["ml-broken"]["problem"].startswith("ratings.csv line 2")


def test_data_download_of_an_unknown_release_lists_the_known_ones(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TUI_RECOMMENDER_DATA_ROOT", str(tmp_path / "data"))
    code, out, err = run(capsys, "data", "download", "ml-2m")
    assert_one_line_error(code, out, err, "unknown dataset 'ml-2m'", "ml-1m, ml-10m, ml-20m, ml-25m, ml-32m")
    assert not (tmp_path / "data").exists()
