"""The live model's update path: it never loads torch, and an update whose new row comes
out NaN or infinite is undone, the rating kept and the user told."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from tests.trained_model import model_positives
from tui_recommender.engine.checkpoint import load_checkpoint

NEW_USER = 9001


@pytest.fixture
def service(trained_model, small_data, state_dir):
    svc = trained_model.open_service(small_data, state_dir)
    yield svc
    svc.close()


def rate_some(service, user: int) -> list[int]:
    movies = service.data.movies.index[:5].tolist()
    for movie in movies:
        service.rate(user, movie, 5.0)
    return movies


def test_rating_updating_and_saving_never_load_torch(trained_model, small_data, state_dir):
    checkpoint = trained_model.write(state_dir.parent / "model.npz")
    script = f"""
import sys
from tui_recommender.app.service import RecommenderService
from tui_recommender.config.settings import Settings
service = RecommenderService.open(Settings.resolve(data={str(small_data)!r}, state_dir={str(state_dir)!r}, checkpoint={str(checkpoint)!r}))
for user in (1, {NEW_USER}):
    service.rate(user, int(service.data.movies.index[0]), 5.0)
assert service.update_model().n_ratings == 2
service.recommend({NEW_USER}, k=5)
service.save()
assert service.model.snapshot.fresh == {{}}
print("torch" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("user", [1, NEW_USER])
def test_an_update_that_produces_nan_is_undone_and_the_rating_kept(service, monkeypatch, user):
    import tui_recommender.app.live_model as live_model

    before = service.model.snapshot
    served = before.user_row(before.users.index(user)) if user in before.users else None
    for name in ("shifted_row", "folded_in_row"):
        monkeypatch.setattr(live_model, name, lambda items, *args, **kwargs: np.full(items.shape[1], np.nan))
    movies = rate_some(service, user)
    report = service.update_model()
    assert report.discarded and report.n_ratings == 5
    after = service.model.snapshot
    row = after.user_row(after.users.index(user))
    assert (row is None and served is None) or np.array_equal(row, served)
    # The ratings are stored and in the graph; the model's rows are as they were.
    stored = service.store.latest()
    assert set(stored.loc[stored["userId"] == user, "movieId"]) == set(movies)
    assert set(movies) <= model_positives(service, user)
    assert service.model.applied_seq == service.store.last_seq()
    assert service.update_model().n_ratings == 0  # nothing is retried for ever
    service.save()  # the catch-up propagates the new edges; the state saved is finite, so it loads again
    assert np.isfinite(service.model.snapshot.user_emb).all() and np.isfinite(service.model.snapshot.item_emb).all()
    assert set(movies) <= model_positives(service, user)


def test_a_list_and_a_ratings_update_leave_the_whole_graph_unbuilt_until_a_catch_up(
    trained_model, small_data, state_dir, graph_builds
):
    """Serving reads each movie's positives and a rating's user's own from the sorted ratings
    (`PositiveEdges`): at ml-32m building the graph was half of a CLI `recommend`."""
    built = graph_builds
    service = trained_model.open_service(small_data, state_dir)
    try:
        service.model.close()  # no background catch-up: this test runs it
        service.recommend(1, k=10)
        movies = rate_some(service, 1)
        assert service.update_model().n_ratings == 5
        service.recommend(1, k=10)
        assert not built
        assert set(movies) <= model_positives(service, 1)
        service.save()
        assert len(built) == 1 and set(movies) <= model_positives(service, 1)
    finally:
        service.close()


def test_a_new_profiles_stored_ratings_open_without_copying_the_checkpoints_tables(
    trained_model, small_data, state_dir
):
    """A user the checkpoint lacks is served from their liked movies until a catch-up gives
    them a row: the open maps the checkpoint's tables as they are (at ml-32m a zero row
    appended to each was two 220 MB copies), and the save writes every user."""
    first = trained_model.open_service(small_data, state_dir)
    movies = rate_some(first, NEW_USER)
    before = [r.movie.movie_id for r in first.recommend(NEW_USER, k=10)]
    first.close()  # not saved: the next open starts from the same checkpoint
    service = trained_model.open_service(small_data, state_dir)
    try:
        service.model.close()
        model = service.model
        assert NEW_USER in model.snapshot.users and np.shares_memory(model.snapshot.user_emb, model._checkpoint.final)
        assert [r.movie.movie_id for r in service.recommend(NEW_USER, k=10)] == before
        service.update_model()
        saved = load_checkpoint(service.save())
        assert NEW_USER in saved.user_ids.tolist() and set(movies) <= model_positives(service, NEW_USER)
        assert len(saved.final) == len(saved.ego) == len(saved.user_ids) + len(saved.item_ids)
    finally:
        service.close()


def test_popularity_is_counted_once_and_only_for_a_list_that_needs_it(
    trained_model, small_data, state_dir, monkeypatch
):
    """A user's list without the novelty dial needs no movie's count of positives (0.2-0.3 s
    over ml-32m's ratings at every CLI `recommend`); the dial, a search or a new profile's
    list counts them, once."""
    from tui_recommender.engine import interactions

    counted = []
    chunks = interactions._RatingColumns.chunks
    # a thread an earlier test left (a catch-up firing late) builds its own graph: not this service's
    earlier = {t for t in threading.enumerate() if t is not threading.current_thread()}

    def counting(self, with_users):
        if threading.current_thread() not in earlier:
            counted.append(with_users)
        return chunks(self, with_users)

    monkeypatch.setattr(interactions._RatingColumns, "chunks", counting)
    service = trained_model.open_service(small_data, state_dir)
    try:
        plain = service.recommend(1, k=10, novelty=0.0)
        assert counted == []
        service.recommend(1, k=10, novelty=0.5)
        service.search_movies("a")
        assert counted == [False]
        assert service.recommend(1, k=10, novelty=0.0) == plain
    finally:
        service.close()
