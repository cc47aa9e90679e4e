"""How an epoch is sized to the data (`EpochPlan`), the sampled listwise loss it uses on
large catalogues, and the popularity draws behind it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.model import listwise_loss, sampled_listwise_loss
from tui_recommender.engine.lightgcn.plan import EpochPlan
from tui_recommender.engine.lightgcn.sampling import PopularItems
from tui_recommender.engine.train_config import TrainConfig


def test_small_data_keep_the_batch_every_movie_and_the_step_size():
    config = TrainConfig().sized(610, 9_742, 58_899)
    plan = EpochPlan.of(config, 610, 9_742)  # ml-latest-small
    assert plan == EpochPlan(config.user_batch, None, config.lr)
    assert plan.steps(610) == 5


def test_large_data_take_fewer_larger_steps_and_score_drawn_movies():
    config = TrainConfig(user_batch=128, epoch_steps=8, epoch_scores=2**28, lr=0.01)
    plan = EpochPlan.of(config, 70_000, 10_681)
    assert plan.user_batch == 8_750 and plan.steps(70_000) == 8
    assert plan.lr == pytest.approx(0.01 * math.sqrt(8_750 / 128))
    assert plan.scored == math.ceil(2**28 / 70_000)  # 70,000 x 10,681 scores would pass the budget
    assert EpochPlan.of(config, 6_040, 3_706).scored is None  # ml-1m: every movie


def test_the_sampled_loss_is_the_listwise_loss_when_every_item_is_drawn_once():
    gen = torch.Generator().manual_seed(0)
    users, items = torch.randn(5, 4, generator=gen), torch.randn(12, 4, generator=gen)
    rows, cols = torch.tensor([0, 0, 1, 3, 4, 4, 4]), torch.tensor([1, 5, 2, 11, 0, 3, 7])
    exact = listwise_loss(users, items, rows, cols)
    every = sampled_listwise_loss(users, items, rows, cols, torch.arange(12), torch.zeros(12))
    torch.testing.assert_close(every, exact)  # user 2 has no positive: left out of both


def test_the_sampled_loss_estimates_the_listwise_loss_from_popular_draws():
    rng = np.random.default_rng(0)
    graph = InteractionGraph.from_pairs(40, 300, rng.integers(0, 40, 2_000), rng.zipf(1.5, 2_000) % 300)
    gen = torch.Generator().manual_seed(1)
    users, items = torch.randn(40, 8, generator=gen) * 0.3, torch.randn(300, 8, generator=gen) * 0.3
    rows, cols = torch.as_tensor(graph.users), torch.as_tensor(graph.items)
    exact = float(listwise_loss(users, items, rows, cols))
    popular = PopularItems(graph)
    drawn = [popular.draw(60, rng, torch.device("cpu")) for _ in range(200)]
    estimates = [float(sampled_listwise_loss(users, items, rows, cols, *d)) for d in drawn]
    assert np.mean(estimates) == pytest.approx(exact, rel=0.02)
    # Without the logQ correction the popular draws would overstate the normaliser's share of hits.
    uncorrected = [float(sampled_listwise_loss(users, items, rows, cols, d[0], torch.zeros(60))) for d in drawn]
    assert abs(np.mean(uncorrected) - exact) > 0.5


def test_popular_items_are_drawn_by_popularity_to_the_three_quarters():
    graph = InteractionGraph.from_pairs(10, 3, np.arange(10), np.array([0] * 7 + [1] * 2 + [2]))
    popular = PopularItems(graph)
    expected = np.array([8.0, 3.0, 2.0]) ** 0.75
    np.testing.assert_allclose(popular.probabilities, expected / expected.sum())
    items, log_expected = popular.draw(20_000, np.random.default_rng(0), torch.device("cpu"))
    shares = np.bincount(items.numpy(), minlength=3) / 20_000
    np.testing.assert_allclose(shares, popular.probabilities, atol=0.01)
    np.testing.assert_allclose(log_expected.numpy(), np.log(20_000 * popular.probabilities[items.numpy()]), rtol=1e-6)
