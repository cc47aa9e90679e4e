"""Top-K ranking and Recall/NDCG/Precision against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tui_recommender.engine.metrics import arp_at_k, coverage_at_k, miscalibration_at_k, ranking_metrics, recall_at_k


def lg(position: int) -> float:
    """The DCG discount of a 1-based rank position."""
    return 1.0 / math.log2(position + 1)


# 4 users; user 2 has no test item (left out of every average); user 1 has more test
# items (4) than K, so its ideal DCG stops at K; user 3 has one.
TOP = torch.tensor([[1, 4, 2], [0, 3, 5], [2, 1, 0], [5, 0, 1]])
TEST = {0: [4, 5], 1: [0, 3, 5, 2], 3: [1]}


def test_ranking_metrics_by_hand():
    users = np.array([u for u, items in TEST.items() for _ in items])
    items = np.array([i for its in TEST.values() for i in its])
    got = ranking_metrics(TOP, users, items, ks=(2, 3))
    expected = {
        # hits / |test|
        "recall@2": (1 / 2 + 2 / 4 + 0 / 1) / 3,
        "recall@3": (1 / 2 + 3 / 4 + 1 / 1) / 3,
        # hits / K
        "precision@2": (1 / 2 + 2 / 2 + 0 / 2) / 3,
        "precision@3": (1 / 3 + 3 / 3 + 1 / 3) / 3,
        # DCG / ideal DCG over min(|test|, K) positions
        "ndcg@2": (lg(2) / (lg(1) + lg(2)) + (lg(1) + lg(2)) / (lg(1) + lg(2)) + 0.0) / 3,
        "ndcg@3": (lg(2) / (lg(1) + lg(2)) + (lg(1) + lg(2) + lg(3)) / (lg(1) + lg(2) + lg(3)) + lg(3) / lg(1)) / 3,
    }
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-6), name


def test_ranking_metrics_perfect_and_empty_rankings():
    top = torch.tensor([[0, 1, 2], [3, 4, 5]])
    perfect = ranking_metrics(top, np.array([0, 0, 1]), np.array([0, 1, 3]), ks=(2,))
    assert perfect["recall@2"] == pytest.approx(1.0) and perfect["ndcg@2"] == pytest.approx(1.0)
    assert perfect["precision@2"] == pytest.approx((2 / 2 + 1 / 2) / 2)
    miss = ranking_metrics(top, np.array([0, 1]), np.array([9, 9]), ks=(2,))
    assert miss == {"recall@2": 0.0, "ndcg@2": 0.0, "precision@2": 0.0}


def random_rankings(seed: int, n_users: int = 60, n_items: int = 120, k: int = 20, n_test: int = 400):
    rng = np.random.default_rng(seed)
    top = torch.from_numpy(np.argsort(rng.random((n_users, n_items)), axis=1)[:, :k].copy())
    keys = rng.choice(n_users * n_items, size=n_test, replace=False)
    # Users past the first 50 get no test item and must not count.
    keys = keys[keys // n_items < 50]
    return top, keys // n_items, keys % n_items


@pytest.mark.parametrize("seed", range(3))
def test_recall_at_k_equals_ranking_metrics(seed):
    top, users, items = random_rankings(seed)
    metrics = ranking_metrics(top, users, items)
    assert recall_at_k(top, users, items, k=20) == pytest.approx(metrics["recall@20"], abs=1e-6)
    assert recall_at_k(top, users, items, k=10) == pytest.approx(metrics["recall@10"], abs=1e-6)
    assert 0.0 < metrics["recall@20"] < 1.0  # the random case is not degenerate


# Beyond accuracy (issue 7). 3 genres; item 3 has two genres, item 4 none.
GENRES = np.array(
    [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [1, 1, 0],
        [0, 0, 0],
    ],
    dtype=bool,
)


def test_coverage_is_the_share_of_the_catalogue_recommended_to_anyone():
    assert coverage_at_k(np.array([[0, 1], [1, 2], [2, 0]]), n_items=10) == pytest.approx(3 / 10)


def test_arp_is_the_mean_over_users_of_the_mean_popularity_of_their_list():
    popularity = np.array([10, 20, 0, 40, 5])
    top = np.array([[0, 1], [3, 4]])
    assert arp_at_k(top, popularity) == pytest.approx(((10 + 20) / 2 + (40 + 5) / 2) / 2)


def test_miscalibration_by_hand():
    # User 0: history items 0 and 3 -> p = (1 + 1/2, 1/2, 0) / 2 = (0.75, 0.25, 0).
    # Top 2 = items 1, 2 -> q = (0, 0.5, 0.5); q~ = 0.99 q + 0.01 p.
    # User 1: history item 2 -> p = (0, 0, 1); top = items 2, 4 (no genre) -> q = (0, 0, 1): KL 0.
    p0 = np.array([0.75, 0.25, 0.0])
    q0 = 0.99 * np.array([0.0, 0.5, 0.5]) + 0.01 * p0
    kl0 = 0.75 * math.log(0.75 / q0[0]) + 0.25 * math.log(0.25 / q0[1])
    top = np.array([[1, 2], [2, 4]])
    history = [np.array([0, 3]), np.array([2])]
    assert miscalibration_at_k(top, history, GENRES) == pytest.approx(kl0 / 2)
    # A list that matches the history's genres exactly is perfectly calibrated.
    assert miscalibration_at_k(np.array([[0, 3]]), [np.array([0, 3])], GENRES) == pytest.approx(0.0, abs=1e-12)


def test_miscalibration_leaves_out_users_whose_history_has_no_genre():
    assert miscalibration_at_k(np.array([[0, 1], [1, 2]]), [np.array([4]), np.array([2])], GENRES) == pytest.approx(
        1.0 * math.log(1.0 / (0.99 * 0.5 + 0.01))
    )
