"""Recommendations follow a user's taste (issue 7), on generated data with one niche taste
(Animation) inside a popular mainstream (Drama): a new user who likes Animation films gets
Animation first, before the model update (the fallback ranking), after it (the new-user
start plus the fine-tune) and after more fine-tunes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.synthetic import write_clustered

ANIMATION = list(range(21, 41))  # movieIds of the niche block


def train_clustered(root: Path) -> tuple[Path, Path]:
    """(dataset folder, checkpoint) in `root`, trained with the default recipe, fewer epochs."""
    from tui_recommender.checkpoint import save_checkpoint
    from tui_recommender.movielens import load_dataset
    from tui_recommender.training import TrainConfig, train_checkpoint

    folder = write_clustered(root / "ml-clustered")
    data = load_dataset(folder)
    config = replace(TrainConfig(), dim=32, batch_size=256, max_epochs=30, eval_every=10, refit=False)
    checkpoint, _ = train_checkpoint(data, data.ratings, config)
    return folder, save_checkpoint(checkpoint, root / "model.npz")


@pytest.fixture(scope="module")
def clustered_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return train_clustered(tmp_path_factory.mktemp("taste"))


@pytest.fixture
def service(clustered_checkpoint, tmp_path: Path):
    from tui_recommender.config import Settings
    from tui_recommender.service import RecommenderService

    folder, checkpoint = clustered_checkpoint
    svc = RecommenderService.open(Settings.resolve(data=folder, state_dir=tmp_path / "state", checkpoint=checkpoint))
    yield svc
    svc.close()


def animation_share(service, user: int, k: int = 10) -> float:
    top = service.recommend(user, k=k)
    return sum("Animation" in r.movie.genres for r in top) / k


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
