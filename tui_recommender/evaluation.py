"""The evaluation protocol (docs/PROTOCOL.md): per-user random 20% test split of the
positives, full ranking of unseen items, Recall/NDCG/Precision@10 and @20."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tui_recommender.graph import POSITIVE_THRESHOLD
from tui_recommender.split import split_per_user

if TYPE_CHECKING:
    from tui_recommender.movielens import MovieLensData
    from tui_recommender.training import TrainConfig


def positives(ratings: pd.DataFrame, threshold: float = POSITIVE_THRESHOLD) -> pd.DataFrame:
    """The (userId, movieId) rows rated at or above `threshold` stars."""
    return ratings.loc[ratings["rating"] >= threshold, ["userId", "movieId"]].reset_index(drop=True)


def evaluate(data: MovieLensData, config: TrainConfig | None = None, on_epoch: Callable | None = None) -> dict:
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

