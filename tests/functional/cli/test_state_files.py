"""State files and the backup path from the command line: a link in place of the database
is refused and its target untouched, our own export re-imports whatever another program
stored, and the app with a missing dataset folder is one line before any screen opens."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from tests.functional.cli.test_cli import assert_one_line_error, run, store_events, where  # noqa: F401 (fixture)
from tests.trained_model import DATASET_NAME
from tui_recommender.config.settings import RATINGS_DB_NAME
from tui_recommender.storage.database import RatingsStore


def test_a_database_link_is_refused_and_its_target_keeps_its_mode(capsys, where, state_dir, tmp_path) -> None:
    target = tmp_path / "shared-file"
    target.write_bytes(b"")
    target.chmod(0o644)
    database = state_dir / DATASET_NAME / RATINGS_DB_NAME
    database.parent.mkdir(parents=True)
    database.symlink_to(target)
    code, out, err = run(capsys, "ratings", "export", *where)
    assert_one_line_error(code, out, err, f"{RATINGS_DB_NAME} is a symbolic link", "move it away")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and target.read_bytes() == b""


def test_our_export_re_imports_what_another_program_stored(capsys, where, state_dir, tmp_path) -> None:
    database = state_dir / DATASET_NAME / RATINGS_DB_NAME
    with RatingsStore(database) as store:
        store.put(5, 10, 4.5, timestamp=100)
        store.put(5, 20, 2.0, timestamp=101)
    conn = sqlite3.connect(database)
    conn.execute("INSERT INTO events (user_id, movie_id, rating, timestamp) VALUES (5, 30, 3.3, 102)")
    conn.execute("INSERT INTO marks (user_id, movie_id, list, added, timestamp) VALUES (5, 40, 'x\x1b[2J', 1, 103)")
    conn.commit()
    conn.close()
    code, out, err = run(capsys, "ratings", "export", *where)
    assert code == 0 and "\x1b" not in out + err
    assert "1 stored events could not be read and are left out" in err
    backup = tmp_path / "backup.csv"
    backup.write_text(out)
    for file in database.parent.glob(f"{RATINGS_DB_NAME}*"):
        file.unlink()
    code, out, err = run(capsys, "ratings", "import", str(backup), *where)
    assert code == 0, err
    events, _users = store_events(state_dir)
    assert sorted(zip(events["movieId"].tolist(), events["rating"].tolist())) == [(10, 4.5), (20, 2.0)]


@pytest.mark.parametrize("kind", ["absent", "a file"])
def test_the_app_with_a_bad_dataset_folder_is_one_line_before_the_screen(
    capsys, tmp_path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr("tui_recommender.tui.app.run_app", lambda settings: pytest.fail("the app opened"))
    data = tmp_path / "ml-data"
    if kind == "a file":
        data.write_text("not a folder")
    code, out, err = run(capsys, "--data", str(data), "--state-dir", str(tmp_path / "state"))
    why = "does not exist" if kind == "absent" else "is a file, not a folder or a .zip"
    assert_one_line_error(code, out, err, f"dataset folder {data} {why}")
