"""The evaluation protocol (docs/PROTOCOL.md): per-user random 20% test split of the
positives, full ranking of unseen items, Recall/NDCG/Precision@10 and @20."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
from tui_recommender.engine.split import split_per_user

if TYPE_CHECKING:
    from tui_recommender.data.movielens import MovieLensData
    from tui_recommender.engine.train_config import TrainConfig


def positives(ratings: pd.DataFrame, threshold: float = POSITIVE_THRESHOLD) -> pd.DataFrame:
    """The (userId, movieId) rows rated at or above `threshold` stars."""
    return ratings.loc[ratings["rating"] >= threshold, ["userId", "movieId"]].reset_index(drop=True)


def genre_matrix(data: MovieLensData) -> np.ndarray:
    """(n_movies x n_genres) bool: movie row i has genre j of `data.genres`."""
    genres = data.movies["genres"]
    return np.array([[g in gs for g in data.genres] for gs in genres], dtype=bool).reshape(
        len(genres), len(data.genres)
    )


def protocol_metrics(
    top: np.ndarray,
    train_users: np.ndarray,
    train_items: np.ndarray,
    test_users: np.ndarray,
    test_items: np.ndarray,
    genres: np.ndarray,
    k: int = 20,
) -> dict[str, float]:
    """Every protocol figure of rankings `top` (n_users x >= k item indices, train items
    excluded): Recall/NDCG/Precision@10,20 and, over the test users' top `k`,
    coverage@k (share of the catalogue), ARP@k (mean train positives of the recommended
    movies) and miscalibration@k (Steck's genre KL against the user's train positives)."""
    import torch

    from tui_recommender.engine.metrics import arp_at_k, coverage_at_k, miscalibration_at_k, ranking_metrics

    metrics = ranking_metrics(torch.from_numpy(np.ascontiguousarray(top)), test_users, test_items)
    tested = np.unique(test_users)
    top_k = top[tested, :k]
    popularity = np.bincount(train_items, minlength=len(genres))
    order = np.argsort(train_users, kind="stable")
    history = np.split(train_items[order], np.cumsum(np.bincount(train_users, minlength=len(top)))[:-1])
    metrics[f"coverage@{k}"] = round(coverage_at_k(top_k, len(genres)), 6)
    metrics[f"arp@{k}"] = round(arp_at_k(top_k, popularity), 3)
    metrics[f"miscalibration@{k}"] = round(miscalibration_at_k(top_k, [history[u] for u in tested], genres), 6)
    return metrics


def evaluate(data: MovieLensData, config: TrainConfig | None = None, on_epoch: Callable | None = None) -> dict:
    """Run the protocol on `data`'s ratings: split, train on the train split (early stopping
    on a validation part of it; on the device `config.device` names), rank every unseen item
    for each test user. Returns the metrics, the training wall time, the hyperparameters and
    the device (JSON-ready)."""
    import torch

    from tui_recommender.engine.id_map import IdMap
    from tui_recommender.engine.interactions import pairs_graph
    from tui_recommender.engine.lightgcn.training import train_on_pairs
    from tui_recommender.engine.ranking import CALIBRATION, NEW_USER_CALIBRATION, top_k_unseen
    from tui_recommender.engine.train_config import TrainConfig

    config = config or TrainConfig()
    train_pairs, test_pairs = split_per_user(positives(data.ratings))
    users = IdMap(np.sort(data.ratings["userId"].unique()))
    items = IdMap(data.movies.index.to_numpy())
    result = train_on_pairs(train_pairs, users, items, config, on_epoch=on_epoch)
    graph = pairs_graph(train_pairs, users, items)
    with torch.no_grad():
        final = result.model.propagate(graph.normalized_adjacency(result.model.device)).cpu().numpy()
    user_emb, item_emb = final[: graph.n_users], final[graph.n_users :]
    genres = genre_matrix(data)
    top = top_k_unseen(
        user_emb, item_emb, graph.users, graph.items, 20, config.scoring, genres=genres, calibration=CALIBRATION
    )
    metrics = protocol_metrics(
        top, graph.users, graph.items, users.indices(test_pairs["userId"]), items.indices(test_pairs["movieId"]), genres
    )
    return {
        "dataset": data.name,
        "protocol": "docs/PROTOCOL.md",
        "metrics": metrics,
        "train_seconds": round(result.seconds, 2),
        "training": result.summary(),
        "hyperparameters": config.hyperparameters(),
        "device": str(result.model.device),
        "calibration": {"strength": CALIBRATION, "new_user_strength": NEW_USER_CALIBRATION},
        "train_positives": len(train_pairs),
        "test_positives": len(test_pairs),
        "test_users": int(test_pairs["userId"].nunique()),
    }
