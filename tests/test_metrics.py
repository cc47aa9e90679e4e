"""Top-K ranking and Recall/NDCG/Precision against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tui_recommender.metrics import ranking_metrics, recall_at_k, top_k_unseen


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


def brute_force_top_k(user_emb, item_emb, seen_users, seen_items, k):
    scores = (user_emb @ item_emb.T).numpy().astype(np.float64)
    scores[seen_users, seen_items] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("chunk", [7, 1024])
def test_top_k_unseen_never_returns_a_seen_item_and_ranks_by_score(chunk):
    rng = np.random.default_rng(0)
    n_users, n_items, k = 40, 30, 10
    user_emb = torch.from_numpy(rng.normal(size=(n_users, 8)).astype(np.float32))
    item_emb = torch.from_numpy(rng.normal(size=(n_items, 8)).astype(np.float32))
    keys = rng.choice(n_users * n_items, size=500, replace=False)
    seen_users, seen_items = keys // n_items, keys % n_items
    top = top_k_unseen(user_emb, item_emb, seen_users, seen_items, k, chunk=chunk)
    assert top.shape == (n_users, k)
    seen = set(zip(seen_users.tolist(), seen_items.tolist()))
    assert not [(u, i) for u in range(n_users) for i in top[u].tolist() if (u, i) in seen]
    np.testing.assert_array_equal(top.numpy(), brute_force_top_k(user_emb, item_emb, seen_users, seen_items, k))


def test_top_k_unseen_excludes_the_best_scoring_item_when_seen():
    user_emb = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    item_emb = torch.tensor([[5.0, 0.0], [1.0, 0.0], [0.0, 3.0], [0.0, 2.0]])
    top = top_k_unseen(user_emb, item_emb, np.array([0, 1]), np.array([0, 2]), k=2)
    assert top[0, 0].item() == 1 and top[1, 0].item() == 3
