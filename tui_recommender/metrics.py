"""Top-K ranking metrics (binary relevance), on PyG's link-prediction metrics.

Recall@K = hits / |test|, Precision@K = hits / K, NDCG@K with a log2 discount and the
ideal DCG over min(|test|, K) items; each averaged over users with at least one test item.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

DEFAULT_KS = (10, 20)


def top_k_unseen(user_emb: Tensor, item_emb: Tensor, seen_users: np.ndarray, seen_items: np.ndarray, k: int, chunk: int = 1024) -> Tensor:
    """Indices (n_users x k) of each user's top-k items by dot product, with the
    (seen_users[i], seen_items[i]) pairs excluded."""
    out = []
    seen_users_t, seen_items_t = torch.from_numpy(seen_users), torch.from_numpy(seen_items)
    for start in range(0, len(user_emb), chunk):
        scores = user_emb[start : start + chunk] @ item_emb.T
        mask = (seen_users_t >= start) & (seen_users_t < start + chunk)
        scores[seen_users_t[mask] - start, seen_items_t[mask]] = -torch.inf
        out.append(scores.topk(k, dim=1).indices)
    return torch.cat(out)


def ranking_metrics(top_items: Tensor, test_users: np.ndarray, test_items: np.ndarray, ks: tuple[int, ...] = DEFAULT_KS) -> dict[str, float]:
    """Recall/NDCG/Precision at each K of `ks` for rankings `top_items` (n_users x >= max K)
    against held-out (user, item) pairs. Keys like "recall@20"."""
    # Imported here: torch_geometric takes ~7 s to import and only evaluation needs it.
    from torch_geometric.metrics import LinkPredMetricCollection, LinkPredNDCG, LinkPredPrecision, LinkPredRecall

    names = {LinkPredRecall: "recall", LinkPredNDCG: "ndcg", LinkPredPrecision: "precision"}
    collection = LinkPredMetricCollection({f"{names[cls]}@{k}": cls(k) for k in ks for cls in names})
    label_index = torch.from_numpy(np.stack([test_users, test_items]).astype(np.int64))
    collection.update(top_items[:, : max(ks)], label_index)
    return {name: round(float(value), 6) for name, value in collection.compute().items()}


def recall_at_k(top_items: Tensor, test_users: np.ndarray, test_items: np.ndarray, k: int = 20) -> float:
    """Recall@k alone, as `ranking_metrics` computes it, without importing PyG (early
    stopping checks it every few epochs, also in the app)."""
    n_items = int(max(top_items.max().item(), test_items.max(initial=0))) + 1
    hit_keys = (torch.arange(len(top_items)).unsqueeze(1) * n_items + top_items[:, :k]).flatten().numpy()
    test_keys = test_users.astype(np.int64) * n_items + test_items
    hits = np.bincount(test_users[np.isin(test_keys, hit_keys)], minlength=len(top_items))
    sizes = np.bincount(test_users, minlength=len(top_items))
    has_test = sizes > 0
    return float((hits[has_test] / sizes[has_test]).mean()) if has_test.any() else 0.0
