"""The ranking metrics against an independent oracle: scikit-learn's `ndcg_score`,
`recall_score` and `precision_score`, computed per user from full score vectors and averaged
over the users with a test item (as docs/PROTOCOL.md defines them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import ndcg_score, precision_score, recall_score

from tui_recommender.engine.metrics import ranking_metrics, recall_at_k
from tui_recommender.engine.ranking import top_k_unseen

N_USERS, N_ITEMS = 40, 150


def oracle(scores: np.ndarray, relevant: np.ndarray, k: int) -> dict[str, float]:
    """Recall/NDCG/Precision@k by scikit-learn from each user's full `scores` row and 0/1
    `relevant` row; users with no relevant item are left out of the means."""
    per_user = {"recall": [], "ndcg": [], "precision": []}
    for user_scores, truth in zip(scores, relevant):
        if not truth.any():
            continue
        predicted = np.zeros_like(truth)
        predicted[np.argsort(-user_scores, kind="stable")[:k]] = 1
        per_user["recall"].append(recall_score(truth, predicted))
        per_user["precision"].append(precision_score(truth, predicted))
        per_user["ndcg"].append(ndcg_score(truth[None, :], user_scores[None, :], k=k))
    return {f"{name}@{k}": float(np.mean(values)) for name, values in per_user.items()}


@pytest.mark.parametrize("seed", range(4))
def test_ranking_metrics_agree_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    # Distinct scores (no ties) so both sides rank the same way; 5 users have no test item.
    scores = rng.permutation(N_USERS * N_ITEMS).reshape(N_USERS, N_ITEMS).astype(np.float64)
    relevant = (rng.random((N_USERS, N_ITEMS)) < rng.uniform(0.01, 0.2, size=(N_USERS, 1))).astype(int)
    relevant[:5] = 0
    test_users, test_items = np.nonzero(relevant)
    top = torch.from_numpy(
        top_k_unseen(
            scores.astype(np.float32),
            np.eye(N_ITEMS, dtype=np.float32),
            np.array([], dtype=np.int64),
            np.array([], dtype=np.int64),
            20,
        )
    )
    got = ranking_metrics(top, test_users, test_items, ks=(5, 10, 20))
    expected = {**oracle(scores, relevant, 5), **oracle(scores, relevant, 10), **oracle(scores, relevant, 20)}
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-5), name
    assert recall_at_k(top, test_users, test_items, k=20) == pytest.approx(expected["recall@20"], abs=1e-6)
    assert 0.0 < expected["ndcg@10"] < 1.0  # not a degenerate case
