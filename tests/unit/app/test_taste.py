"""Recommendations follow a user's taste (issue 7), on generated data with one niche taste
(Animation) inside a popular mainstream (Drama): a new user who likes Animation films gets
Animation first, before the model update (the fallback ranking), after it (the new-user
start plus the fine-tune) and after more fine-tunes. Each part is also checked alone, so
losing any one of them fails a test: the new-user start (the model's own row, with no
fine-tune), the fine-tune (a known Drama-only user who turns to Animation), and the
calibrated lists (a user with two tastes gets both)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.synthetic import write_clustered

DRAMA = list(range(1, 21))  # movieIds of the mainstream block
ANIMATION = list(range(21, 41))  # movieIds of the niche block
HORROR = list(range(41, 61))
DRAMA_ONLY_USER = 50  # users 33..80 like Drama films only


def train_clustered(root: Path) -> tuple[Path, Path]:
    """(dataset folder, checkpoint) in `root`, trained with the default recipe, fewer epochs."""
    from tui_recommender.data.movielens import load_dataset
    from tui_recommender.engine.checkpoint import save_checkpoint
    from tui_recommender.engine.lightgcn.training import train_checkpoint
    from tui_recommender.engine.train_config import TrainConfig

    folder = write_clustered(root / "ml-clustered")
    data = load_dataset(folder)
    config = replace(TrainConfig(), dim=32, user_batch=16, batch_size=256, max_epochs=30, eval_every=10, refit=False)
    checkpoint, _ = train_checkpoint(data, data.ratings, config)
    return folder, save_checkpoint(checkpoint, root / "model.npz")


@pytest.fixture(scope="module")
def clustered_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return train_clustered(tmp_path_factory.mktemp("taste"))


def open_service(clustered_checkpoint, state: Path):
    from tui_recommender.app.service import RecommenderService
    from tui_recommender.config.settings import Settings

    folder, checkpoint = clustered_checkpoint
    return RecommenderService.open(Settings.resolve(data=folder, state_dir=state, checkpoint=checkpoint))


@pytest.fixture
def service(clustered_checkpoint, tmp_path: Path):
    svc = open_service(clustered_checkpoint, tmp_path / "state")
    yield svc
    svc.close()


@pytest.fixture
def no_fine_tune(monkeypatch):
    """Updates that apply the graph change and the new-user start, with 0 fine-tune steps."""
    from tui_recommender.engine.lightgcn.fine_tuning import FineTuneConfig

    original = FineTuneConfig.for_model
    monkeypatch.setattr(FineTuneConfig, "for_model", classmethod(lambda cls, hyper: replace(original(hyper), steps=0)))


def animation_share(service, user: int, k: int = 10) -> float:
    top = service.recommend(user, k=k)
    return sum("Animation" in r.movie.genres for r in top) / k


def model_share(service, user: int, genre_ids: list[int], k: int = 10) -> float:
    """Share of `genre_ids` in the user's top `k` by the model's own scores (no fallback,
    no calibration), unseen movies only."""
    import numpy as np

    from tui_recommender.app.live_model import user_scores
    from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
    from tui_recommender.storage.ratings import liked_movies

    items = service.catalogue.items
    ratings = service.ratings.of(user)
    rated = items.indices(np.fromiter(ratings, dtype=np.int64))
    liked = items.indices(liked_movies(ratings, POSITIVE_THRESHOLD))
    scores = user_scores(service.model.snapshot, user, liked).astype(np.float64)
    scores[rated] = -np.inf
    top = items.raw_ids[np.argsort(-scores, kind="stable")[:k]]
    return float(np.isin(top, genre_ids).mean())


def test_a_new_user_who_likes_animation_gets_animation_first(service):
    user = service.create_user()
    for movie in ANIMATION[:5]:
        service.rate(user, movie, 5.0)
    assert animation_share(service, user) >= 0.8  # before the update: the fallback ranking
    service.update_model()
    assert animation_share(service, user) >= 0.8  # the new-user start and one fine-tune
    for movie in ANIMATION[5:8]:
        service.rate(user, movie, 5.0)
        service.update_model()
    assert animation_share(service, user) >= 0.8  # more fine-tunes keep the taste


def test_the_new_user_start_alone_puts_the_taste_in_the_model(service, no_fine_tune):
    """With no fine-tune step, the update's new-user start gives the user the vector the
    list was ranked by before the update (the mean of their movies' propagated rows), so
    the list does not jump, and it ranks Animation first: losing the start leaves the
    propagation of a zero row and fails this."""
    import numpy as np

    user = service.create_user()
    for movie in ANIMATION[:5]:
        service.rate(user, movie, 5.0)
    before = service.model.snapshot
    fallback = before.item_emb[service.catalogue.items.indices(np.array(ANIMATION[:5]))].mean(axis=0)
    service.update_model()
    after = service.model.snapshot
    row = after.users.index(user)
    np.testing.assert_allclose(after.user_row(row), fallback, rtol=1e-4, atol=1e-5)
    assert model_share(service, user, ANIMATION) >= 0.8


def test_the_update_turns_a_known_user_towards_their_new_taste(clustered_checkpoint, tmp_path: Path, monkeypatch):
    """A user the model knows as Drama-only rates six Animation films 5 stars: the
    update's new row (`user_rows.shifted_row`) must move the model's own ranking of them
    towards Animation, well beyond what the new edges alone do (the row left as it was,
    then the catch-up's propagation over the new graph); and the catch-up keeps it."""
    import tui_recommender.app.live_model as live_model

    def share_after_update(state: Path) -> tuple[float, float]:
        svc = open_service(clustered_checkpoint, state)
        try:
            assert model_share(svc, DRAMA_ONLY_USER, ANIMATION) == 0.0  # Drama-only before
            for movie in ANIMATION[:6]:
                svc.rate(DRAMA_ONLY_USER, movie, 5.0)
            svc.update_model()
            served = model_share(svc, DRAMA_ONLY_USER, ANIMATION)
            svc.model.catch_up()
            return served, model_share(svc, DRAMA_ONLY_USER, ANIMATION)
        finally:
            svc.close()

    tuned, caught_up = share_after_update(tmp_path / "tuned")
    monkeypatch.setattr(live_model, "shifted_row", lambda items, row, *args: row)
    _, edges_only = share_after_update(tmp_path / "edges-only")
    assert tuned >= 0.4 and caught_up >= tuned - 0.1
    assert tuned >= edges_only + 0.2


def test_a_user_with_two_tastes_gets_both_in_the_list(service):
    """Calibrated lists: liking four Horror films and four Animation films gives a top 10
    with both, where the model's own scores put one taste far ahead (Animation, whose
    small audience makes its films close to this user by cosine)."""
    user = service.create_user()
    for movie in HORROR[:4] + ANIMATION[:4]:
        service.rate(user, movie, 5.0)
    service.update_model()
    top = [r.movie.movie_id for r in service.recommend(user, k=10)]
    assert sum(m in HORROR for m in top) >= 2
    assert sum(m in ANIMATION for m in top) >= 2
