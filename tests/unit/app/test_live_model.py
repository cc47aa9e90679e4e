"""The live model's side of the device boundary and its guard against a fine-tune gone
wrong: an update creates every tensor on the model's device, and one that produces NaN or
infinite values is undone, the rating kept and the user told."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.device_guard import only_on
from tests.trained_model import model_positives
from tui_recommender.engine.lightgcn.fine_tuning import FineTuneConfig

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


def test_an_update_creates_every_tensor_on_the_models_device(service, monkeypatch):
    rate_some(service, NEW_USER)
    rate_some(service, 1)
    service.prepare_updates()  # the trainable model is built from the checkpoint's numpy rows
    with only_on("cpu", monkeypatch):
        report = service.update_model()
    assert report.n_ratings == 10 and not report.discarded


@pytest.mark.parametrize("user", [1, NEW_USER])
def test_a_fine_tune_that_produces_nan_is_undone_and_the_rating_kept(service, monkeypatch, user):
    before = service.model.snapshot
    original = FineTuneConfig.for_model
    monkeypatch.setattr(
        FineTuneConfig, "for_model", classmethod(lambda cls, config: replace(original(config), lr=float("inf")))
    )
    movies = rate_some(service, user)
    report = service.update_model()
    assert report.discarded and report.n_ratings == 5
    after = service.model.snapshot
    assert np.isfinite(after.user_emb).all() and np.isfinite(after.item_emb).all()
    # The ratings are stored and in the graph; the model's rows are as they were.
    stored = service.store.latest()
    assert set(stored.loc[stored["userId"] == user, "movieId"]) == set(movies)
    assert set(movies) <= model_positives(service, user)
    assert service.model.applied_seq == service.store.last_seq()
    ego, n_users = service.model._ego, len(before.user_emb)  # the checkpoint's rows, users then items
    weight = service.model._model.embedding.weight.detach().numpy()
    np.testing.assert_array_equal(weight[:n_users], ego[:n_users])
    np.testing.assert_array_equal(weight[len(weight) - (len(ego) - n_users) :], ego[n_users:])
    assert service.update_model().n_ratings == 0  # nothing is retried for ever
    service.save()  # and the state saved is finite, so it loads again
