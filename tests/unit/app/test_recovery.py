"""Recovery keeps learning: a checkpoint records the ratings database it counts events in,
so after the README's recovery steps (export, move the database away, import) or with an
`applied_seq` beyond the database's last event, every stored event is applied again
instead of skipped, and a rating still reaches the model."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from tests.trained_model import DATASET_NAME
from tui_recommender.app.jobs import export_ratings
from tui_recommender.app.model_source import for_database
from tui_recommender.engine.checkpoint import MAX_SEQ, load_checkpoint, save_checkpoint


def learnt_row(service, user: int) -> np.ndarray | None:
    """The user's served row in the published model, None if the model has none."""
    snapshot = service.model.snapshot
    if user not in snapshot.users:
        return None
    return snapshot.user_row(snapshot.users.index(user))


def test_the_readme_recovery_steps_leave_a_model_that_learns(
    trained_model, small_data: Path, state_dir: Path, tmp_path: Path
) -> None:
    service = trained_model.open_service(small_data, state_dir)
    movies = service.data.movies.index.tolist()
    for rating in (2.0, 3.0, 4.0, 5.0, 4.5, 3.5, 2.5, 1.5, 1.0, 4.0):  # many events, one exported rating
        service.rate(1, movies[0], rating)
    for movie in movies[1:4]:
        service.rate(2, movie, 4.5)
    service.update_model()
    saved = load_checkpoint(service.save())
    assert saved.ratings_database == service.store.database_id and saved.applied_seq == 13
    backup = tmp_path / "ratings-backup.csv"
    with backup.open("w") as out:
        export_ratings(service.settings, out)
    service.close()
    database = state_dir / DATASET_NAME / "ratings.sqlite3"
    moved = tmp_path / "moved"
    moved.mkdir()
    for file in database.parent.glob("ratings.sqlite3*"):
        shutil.move(file, moved / file.name)

    again = trained_model.open_service(small_data, state_dir)
    try:
        again.apply_import(again.read_import(backup))  # 4 events: seqs 1-4 of the new database
        newcomer = again.create_user()
        for movie in movies[10:13]:
            again.rate(newcomer, movie, 5.0)
        report = again.update_model()
        assert report.n_ratings == 7  # the imported ratings and the newcomer's, none skipped
        row = learnt_row(again, newcomer)
        assert row is not None and row.any()
        assert load_checkpoint(again.save()).ratings_database == again.store.database_id
    finally:
        again.close()


def test_an_applied_seq_past_the_last_event_applies_every_event(
    trained_model, small_data: Path, state_dir: Path
) -> None:
    service = trained_model.open_service(small_data, state_dir)
    state = service.settings.state_checkpoint(DATASET_NAME)
    database_id = service.store.database_id
    newcomer = service.create_user()
    service.close()
    trained_model.write(state)
    save_checkpoint(replace(load_checkpoint(state), applied_seq=MAX_SEQ, ratings_database=database_id), state)
    again = trained_model.open_service(small_data, state_dir)
    try:
        again.rate(newcomer, again.data.movies.index[5], 5.0)
        assert again.update_model().n_ratings == 1
        assert learnt_row(again, newcomer).any()
    finally:
        again.close()


def test_for_database_keeps_a_checkpoint_of_this_database_and_restarts_any_other(trained_model, tmp_path: Path) -> None:
    checkpoint = replace(
        load_checkpoint(trained_model.write(tmp_path / "m.npz")),
        trained_seq=5,
        applied_seq=9,
        ratings_database="a" * 32,
    )
    assert for_database(checkpoint, "a" * 32, 9) is checkpoint
    for database, last_seq in (("b" * 32, 100), (None, 100), ("a" * 32, 8)):
        restarted = for_database(checkpoint, database, last_seq)
        assert (restarted.trained_seq, restarted.applied_seq, restarted.ratings_database) == (0, 0, database)
    fresh = replace(checkpoint, trained_seq=0, applied_seq=0, ratings_database=None)
    assert for_database(fresh, "c" * 32, 0).ratings_database == "c" * 32
