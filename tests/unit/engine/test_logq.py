"""The sampled listwise softmax's logQ correction is weighted by `TrainConfig.logq`: 1 on data
as dense as MovieLens, LOGQ_SPARSE over dot products on sparser data; a value given keeps. The
step-size cut (`lr_decay`) is sized by the same rule, tested here beside it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.unit.engine.test_training_l2 import CONFIG, ring_graph
from tui_recommender.engine.lightgcn import training
from tui_recommender.engine.lightgcn.sampling import PopularItems
from tui_recommender.engine.train_config import LOGQ_SPARSE, LR_DECAY_SPARSE, TrainConfig

DENSE, SPARSE = ring_graph(40, 100, 5), ring_graph(40, 2000, 2)  # 5% and 0.1% positives per user x movie


def test_the_draws_log_expected_counts_are_weighted_by_the_correction():
    graph = ring_graph(10, 30, 3)
    plain, tilted = PopularItems(graph), PopularItems(graph, correction=1.5)
    items, log_expected = plain.draw(50, np.random.default_rng(0), torch.device("cpu"))
    same, weighted = tilted.draw(50, np.random.default_rng(0), torch.device("cpu"))
    assert torch.equal(items, same)
    assert torch.allclose(log_expected, torch.log(50 * torch.as_tensor(plain.probabilities)[items]).float())
    assert torch.allclose(weighted, 1.5 * log_expected)


def sized_cases(name: str, sparse: float, given: float) -> list[tuple]:
    """(field, graph, options, expected) for one sparse-sized default: 1 on MovieLens-dense data,
    `sparse` over dot products below REG_DENSITY, and a value given keeps."""
    return [
        (name, DENSE, {}, 1.0),
        (name, SPARSE, {}, sparse),
        (name, SPARSE, {"logits": "cosine"}, 1.0),  # measured over dot products only
        (name, SPARSE, {"loss": "bpr"}, 1.0),
        (name, SPARSE, {name: 0.5}, 0.5),
        (name, DENSE, {name: given}, given),
    ]


# logq and lr_decay are sized by one rule (`TrainConfig._sparse_dot_listwise`)
@pytest.mark.parametrize(
    ("name", "graph", "options", "expected"),
    sized_cases("logq", LOGQ_SPARSE, 2.0) + sized_cases("lr_decay", LR_DECAY_SPARSE, 0.3),
)
def test_the_sized_defaults_follow_the_density_and_a_given_one_stays(name, graph, options, expected):
    config = replace(CONFIG, **options)
    assert getattr(config, name) is None or getattr(config, name) == expected
    assert getattr(config.sized(graph.n_users, graph.n_items, graph.n_edges), name) == expected


def test_training_draws_with_the_weight_that_applies_and_records_it(monkeypatch):
    seen = []

    class Recorded(PopularItems):
        def __init__(self, graph, exponent=0.75, correction=1.0):
            super().__init__(graph, exponent, correction)
            seen.append(correction)

    monkeypatch.setattr(training, "PopularItems", Recorded)
    sampled = replace(CONFIG, epoch_scores=40 * 50)  # fewer scores than users x movies: movies are drawn
    result = training.train(SPARSE, sampled)
    assert seen == [LOGQ_SPARSE] and result.config.logq == LOGQ_SPARSE
    assert TrainConfig.from_hyperparameters({"dim": 4}).logq == 1.0  # a checkpoint saved before logq
