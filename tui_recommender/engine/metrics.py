"""Top-K ranking metrics (binary relevance), on PyG's link-prediction metrics.

Recall@K = hits / |test|, Precision@K = hits / K, NDCG@K with a log2 discount and the
ideal DCG over min(|test|, K) items; each averaged over users with at least one test item.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

DEFAULT_KS = (10, 20)


def ranking_metrics(
    top_items: Tensor, test_users: np.ndarray, test_items: np.ndarray, ks: tuple[int, ...] = DEFAULT_KS
) -> dict[str, float]:
    """Recall/NDCG/Precision at each K of `ks` for rankings `top_items` (n_users x >= max K)
    against held-out (user, item) pairs. Keys like "recall@20"."""
    # Imported here: torch_geometric takes ~7 s to import and only evaluation needs it.
    from torch_geometric.metrics import LinkPredMetricCollection, LinkPredNDCG, LinkPredPrecision, LinkPredRecall

    names = {LinkPredRecall: "recall", LinkPredNDCG: "ndcg", LinkPredPrecision: "precision"}
    collection = LinkPredMetricCollection({f"{names[cls]}@{k}": cls(k) for k in ks for cls in names})
    label_index = torch.from_numpy(np.stack([test_users, test_items]).astype(np.int64))
    collection.update(top_items[:, : max(ks)], label_index)
    return {name: round(float(value), 6) for name, value in collection.compute().items()}


def recall_at_k(top_items: np.ndarray | Tensor, test_users: np.ndarray, test_items: np.ndarray, k: int = 20) -> float:
    """Recall@k alone, as `ranking_metrics` computes it, without importing PyG (early
    stopping and EASE's choice of lambda check it, also in the app); `top_items` on any device."""
    top = top_items[:, :k].cpu().numpy() if isinstance(top_items, Tensor) else np.asarray(top_items)[:, :k]
    n_items = int(max(top.max(initial=0), test_items.max(initial=0))) + 1
    hit_keys = (np.arange(len(top))[:, None] * n_items + top).ravel()
    test_keys = test_users.astype(np.int64) * n_items + test_items
    hits = np.bincount(test_users[np.isin(test_keys, hit_keys)], minlength=len(top))
    sizes = np.bincount(test_users, minlength=len(top))
    has_test = sizes > 0
    return float((hits[has_test] / sizes[has_test]).mean()) if has_test.any() else 0.0


def coverage_at_k(top_items: np.ndarray, n_items: int) -> float:
    """Share of the `n_items` catalogue that appears in at least one row of `top_items`
    (each row one user's top K)."""
    return len(np.unique(top_items)) / n_items if n_items else 0.0


def arp_at_k(top_items: np.ndarray, popularity: np.ndarray) -> float:
    """Average recommendation popularity: the mean over rows (users) of the mean
    `popularity` (train positives per item) of the row's items."""
    return float(popularity[top_items].mean(axis=1).mean()) if len(top_items) else 0.0


def genre_distributions(items_per_row: list[np.ndarray] | np.ndarray, genre_matrix: np.ndarray) -> np.ndarray:
    """One genre distribution per row of item indices: each item spreads weight 1 evenly
    over its genres (items with none count for nothing), rows normalised to sum to 1
    (all zero when none of the row's items has a genre)."""
    weights = genre_matrix / np.maximum(genre_matrix.sum(axis=1, keepdims=True), 1)
    dist = (
        np.stack([weights[np.asarray(row, dtype=np.int64)].sum(axis=0) for row in items_per_row])
        if len(items_per_row)
        else np.zeros((0, genre_matrix.shape[1]))
    )
    return dist / np.maximum(dist.sum(axis=1, keepdims=True), 1e-12)


def miscalibration_at_k(
    top_items: np.ndarray, history: list[np.ndarray], genre_matrix: np.ndarray, alpha: float = 0.01
) -> float:
    """Steck's miscalibration (RecSys 2018), averaged over rows: KL(p || q~) with p the
    genre distribution of the user's `history` items, q of their `top_items` row and
    q~ = (1 - alpha) q + alpha p. Rows whose history has no genre are left out."""
    p = genre_distributions(history, genre_matrix)
    q = genre_distributions(top_items, genre_matrix)
    q_mix = (1 - alpha) * q + alpha * p
    terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(p > 0, q_mix, 1.0)), 0.0)
    kl = terms.sum(axis=1)
    has_genre = p.sum(axis=1) > 0
    return float(kl[has_genre].mean()) if has_genre.any() else 0.0
