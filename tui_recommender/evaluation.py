"""The evaluation protocol (docs/PROTOCOL.md): per-user random 20% test split of the
positives, full ranking of unseen items, Recall/NDCG/Precision@10 and @20."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tui_recommender.graph import POSITIVE_THRESHOLD

if TYPE_CHECKING:
    from tui_recommender.movielens import MovieLensData
    from tui_recommender.training import TrainConfig

TEST_FRACTION = 0.2
MIN_POSITIVES_FOR_TEST = 5
SPLIT_SEED = 0


def positives(ratings: pd.DataFrame, threshold: float = POSITIVE_THRESHOLD) -> pd.DataFrame:
    """The (userId, movieId) rows rated at or above `threshold` stars."""
    return ratings.loc[ratings["rating"] >= threshold, ["userId", "movieId"]].reset_index(drop=True)


def split_per_user(
    pairs: pd.DataFrame, fraction: float = TEST_FRACTION, min_count: int = MIN_POSITIVES_FOR_TEST, seed: int = SPLIT_SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): for each user with >= `min_count` rows, a random `fraction` of them
    (rounded) goes to test; other users keep everything in train. Deterministic in `seed`."""
    pairs = pairs.sort_values(["userId", "movieId"], kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    shuffled = pairs.assign(_key=rng.random(len(pairs))).sort_values(["userId", "_key"], kind="stable")
    rank = shuffled.groupby("userId").cumcount().to_numpy()
    count = shuffled.groupby("userId")["movieId"].transform("size").to_numpy()
    n_test = np.where(count >= min_count, np.round(count * fraction), 0)
    is_test = pd.Series(rank < n_test, index=shuffled.index).reindex(pairs.index).to_numpy()
    return pairs[~is_test].reset_index(drop=True), pairs[is_test].reset_index(drop=True)


def evaluate(data: "MovieLensData", config: "TrainConfig | None" = None, on_epoch: Callable | None = None) -> dict:
    """Run the protocol on `data`'s ratings: split, train on the train split (early stopping
    on a validation part of it), rank every unseen item for each test user. Returns the
    metrics, the training wall time and the hyperparameters (JSON-ready)."""
    import torch

    from tui_recommender.id_map import IdMap
    from tui_recommender.interactions import pairs_graph
    from tui_recommender.metrics import ranking_metrics, top_k_unseen
    from tui_recommender.training import TrainConfig, train_on_pairs

    config = config or TrainConfig()
    train_pairs, test_pairs = split_per_user(positives(data.ratings))
    users = IdMap(np.sort(data.ratings["userId"].unique()))
    items = IdMap(data.movies.index.to_numpy())
    result = train_on_pairs(train_pairs, users, items, config, on_epoch=on_epoch)
    graph = pairs_graph(train_pairs, users, items)
    with torch.no_grad():
        user_emb, item_emb = result.model.split(result.model.propagate(graph.normalized_adjacency()))
        top = top_k_unseen(user_emb, item_emb, graph.users, graph.items, 20)
    metrics = ranking_metrics(top, users.indices(test_pairs["userId"]), items.indices(test_pairs["movieId"]))
    return {
        "dataset": data.name,
        "protocol": "docs/PROTOCOL.md",
        "metrics": metrics,
        "train_seconds": round(result.seconds, 2),
        "training": result.summary(),
        "hyperparameters": config.to_dict(),
        "train_positives": len(train_pairs),
        "test_positives": len(test_pairs),
        "test_users": int(test_pairs["userId"].nunique()),
    }


def ease_scores(train_users: np.ndarray, train_items: np.ndarray, n_items: int, history: np.ndarray, lam: float = 200.0, min_count: int = 5) -> np.ndarray:
    """EASE (Steck 2019) item-item scores for one user's `history` item indices, fitted in
    closed form on the (user, item) training pairs. Only items with >= `min_count`
    positives enter the Gram matrix (the full 9.7k x 9.7k inverse is too slow); the
    others score 0."""
    counts = np.bincount(train_items, minlength=n_items)
    kept = np.flatnonzero(counts >= min_count)
    col = np.full(n_items, -1)
    col[kept] = np.arange(len(kept))
    mask = col[train_items] >= 0
    x = np.zeros((int(train_users.max()) + 1, len(kept)), dtype=np.float64)
    x[train_users[mask], col[train_items[mask]]] = 1.0
    gram = x.T @ x + lam * np.eye(len(kept))
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    h = col[history]
    scores = np.zeros(n_items)
    scores[kept] = b[h[h >= 0]].sum(axis=0)
    return scores
