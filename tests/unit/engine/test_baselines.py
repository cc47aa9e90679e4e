"""The baselines: EASE's closed form, its choice of lambda and its memory guard;
most-popular's counts; and the protocol run with both beside LightGCN."""

from __future__ import annotations

import numpy as np
import pytest

from tests.synthetic import tiny_graph, write_movielens
from tests.trained_model import small_train_config
from tui_recommender.data.movielens import load_dataset
from tui_recommender.engine.baselines.ease import DENSE_MATRICES, EASE, ease_weights, fits_in_memory
from tui_recommender.engine.baselines.popular import MostPopular
from tui_recommender.engine.evaluation import evaluate_with_baselines
from tui_recommender.engine.graph import InteractionGraph


def test_ease_is_steck_closed_form():
    graph = tiny_graph()
    x = np.zeros((graph.n_users, graph.n_items))
    x[graph.users, graph.items] = 1.0
    p = np.linalg.inv(x.T @ x + 10.0 * np.eye(graph.n_items))
    expected = np.eye(graph.n_items) - p @ np.diag(1.0 / np.diag(p))
    kept, b = ease_weights(graph, 10.0)
    np.testing.assert_array_equal(kept, np.arange(graph.n_items))
    np.testing.assert_allclose(b, expected, atol=1e-10)
    assert not np.diag(b).any()
    model = EASE(10.0)
    model.fit(graph)
    np.testing.assert_allclose(model.scores(np.arange(graph.n_users), graph), x @ expected, atol=1e-10)


def test_ease_leaves_items_without_positives_at_zero():
    graph = InteractionGraph.from_pairs(3, 5, np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 2, 0]))
    model = EASE(1.0)
    model.fit(graph)
    assert model.kept.tolist() == [0, 1, 2]
    scores = model.scores(np.arange(3), graph)
    assert scores.shape == (3, 5) and not scores[:, 3:].any() and scores[:, :3].any()


def test_ease_chooses_lambda_on_a_validation_split_of_the_training_positives():
    graph = tiny_graph()
    model = EASE(lambdas=(0.01, 1e6, 2e6))
    model.fit(graph)
    # 0.01 barely regularises (B fits the 8-positive users' noise); 1e6 and 2e6 both leave
    # co-occurrence-like weights that rank the held-out group items alike: the smaller wins.
    assert model.validation[0.01] < model.validation[1e6] == model.validation[2e6]
    assert model.chosen == 1e6 and model.describe()["lambda"] == 1e6
    fixed = EASE(1e6)
    fixed.fit(graph)
    assert fixed.validation == {}  # a given lambda is not searched
    np.testing.assert_array_equal(fixed.weights, model.weights)


def test_ease_memory_guard():
    graph = tiny_graph()
    need = EASE().memory_needed(graph)
    assert need == DENSE_MATRICES * graph.n_items**2 * 8
    assert EASE(min_count=1000).memory_needed(graph) == 0
    assert fits_in_memory(need, 2 * need) and not fits_in_memory(need, 2 * need - 1)


def test_most_popular_scores_every_user_by_the_items_positives():
    graph = tiny_graph()
    model = MostPopular()
    model.fit(graph)
    scores = model.scores(np.array([0, 3]), graph)
    counts = np.bincount(graph.items, minlength=graph.n_items)
    np.testing.assert_array_equal(scores, np.stack([counts, counts]))
    top = model.recommend(np.array([0]), graph, k=3)[0]
    unseen = np.setdiff1d(np.arange(graph.n_items), graph.items[graph.users == 0])
    assert counts[top].tolist() == sorted(counts[unseen], reverse=True)[:3]


@pytest.fixture(scope="module")
def baselines_report(tmp_path_factory):
    data = load_dataset(write_movielens(tmp_path_factory.mktemp("data") / "ml-test"))
    return data, evaluate_with_baselines(data, small_train_config())


def test_baselines_beside_lightgcn_on_the_same_split(baselines_report):
    data, report = baselines_report
    rows = {row["model"]: row for row in report["models"]}
    assert list(rows) == ["LightGCN", "most-popular", "EASE"] and report["skipped"] == []
    keys = set(rows["LightGCN"]["metrics"])
    assert {"recall@20", "ndcg@20", "precision@10", "coverage@20", "arp@20", "miscalibration@20"} <= keys
    assert all(set(row["metrics"]) == keys and row["fit_seconds"] >= 0 for row in rows.values())
    assert rows["LightGCN"]["calibration"] > 0 and rows["EASE"]["calibration"] == 0
    assert rows["EASE"]["lambda"] in EASE().lambdas and len(rows["EASE"]["validation_recall@20"]) == 4
    assert rows["LightGCN"]["training"]["epochs"] >= 1
    # a personal model beats the yardstick on data with taste groups
    assert rows["EASE"]["metrics"]["recall@20"] > rows["most-popular"]["metrics"]["recall@20"]
    assert report["train_positives"] + report["test_positives"] == int((data.ratings["rating"] >= 3.0).sum())


def test_ease_is_skipped_with_one_line_when_it_does_not_fit(baselines_report):
    data, _ = baselines_report
    report = evaluate_with_baselines(data, small_train_config(), memory=1000)
    assert [row["model"] for row in report["models"]] == ["LightGCN", "most-popular"]
    assert len(report["skipped"]) == 1 and report["skipped"][0].startswith("EASE skipped: ")
