"""The evaluation protocol (docs/PROTOCOL.md): per-user random 20% test split of the
positives, full ranking of unseen items, Recall/NDCG/Precision@10 and @20, coverage, ARP
and miscalibration@20; for any `recommender.Recommender`, LightGCN and the baselines on
the same split."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.split import split_per_user

if TYPE_CHECKING:
    from tui_recommender.data.movielens import MovieLensData
    from tui_recommender.engine.recommender import Recommender
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


@dataclass(frozen=True)
class ProtocolSplit:
    """The protocol's split of a dataset's positives, in rows of its users and movies."""

    train: InteractionGraph
    test_users: np.ndarray  # (user row, item row) of every test positive
    test_items: np.ndarray
    genres: np.ndarray  # (n_items x n_genres) bool, `genre_matrix`

    @classmethod
    def of(cls, data: MovieLensData) -> ProtocolSplit:
        """`data`'s positives split per user (`split.split_per_user`: 20% test, seed 0)."""
        from tui_recommender.engine.interactions import pairs_graph

        train_pairs, test_pairs = split_per_user(positives(data.ratings))
        users = IdMap(np.sort(data.ratings["userId"].unique()))
        items = IdMap(data.movies.index.to_numpy())
        return cls(
            pairs_graph(train_pairs, users, items),
            users.indices(test_pairs["userId"]),
            items.indices(test_pairs["movieId"]),
            genre_matrix(data),
        )

    def sizes(self) -> dict[str, int]:
        """Train positives, test positives and test users, JSON-ready."""
        return {
            "train_positives": self.train.n_edges,
            "test_positives": len(self.test_users),
            "test_users": len(np.unique(self.test_users)),
        }


def evaluate_recommender(
    model: Recommender, split: ProtocolSplit, calibration: float = 0.0, on_epoch: Callable | None = None
) -> dict:
    """Fit `model` on the split's train part and rank every unseen item for each user (the
    lists re-ranked by `calibration` strength, `ranking.top_k_of`): the model's
    `describe()`, its protocol metrics, the calibration and the fit's wall seconds."""
    from tui_recommender.engine.ranking import top_k_of

    started = time.perf_counter()
    model.fit(split.train, on_epoch=on_epoch)
    seconds = time.perf_counter() - started
    train = split.train
    top = top_k_of(
        lambda rows: model.scores(rows, train),
        train.n_users,
        train.users,
        train.items,
        20,
        genres=split.genres,
        calibration=calibration,
    )
    metrics = protocol_metrics(top, train.users, train.items, split.test_users, split.test_items, split.genres)
    return {**model.describe(), "metrics": metrics, "calibration": calibration, "fit_seconds": round(seconds, 2)}


def evaluate(data: MovieLensData, config: TrainConfig | None = None, on_epoch: Callable | None = None) -> dict:
    """Run the protocol on `data`'s ratings with LightGCN: split, train on the train split
    (early stopping on a validation part of it; on the device `config.device` names), rank
    every unseen item for each test user as the app does (calibrated). Returns the metrics,
    the training wall time, the hyperparameters and the device (JSON-ready)."""
    from tui_recommender.engine.calibration import AGREED_CALIBRATION, CALIBRATION, NEW_USER_CALIBRATION
    from tui_recommender.engine.lightgcn.recommender import LightGCNRecommender

    split = ProtocolSplit.of(data)
    model = LightGCNRecommender(config)
    row = evaluate_recommender(model, split, CALIBRATION, on_epoch)
    return {
        "dataset": data.name,
        "protocol": "docs/PROTOCOL.md",
        "metrics": row["metrics"],
        "train_seconds": round(model.result.seconds, 2),
        "training": model.result.summary(),
        "hyperparameters": model.config.hyperparameters(),
        "device": str(model.device),
        "calibration": {
            "strength": CALIBRATION,
            "new_user_strength": NEW_USER_CALIBRATION,
            "agreed_strength": AGREED_CALIBRATION,
        },
        **split.sizes(),
    }


def evaluate_with_baselines(
    data: MovieLensData,
    config: TrainConfig | None = None,
    on_epoch: Callable | None = None,
    on_status: Callable[[str], None] | None = None,
    memory: int | None = None,
) -> dict:
    """The protocol for LightGCN (as `evaluate`, calibrated as the app ranks), most-popular
    and EASE (lambda chosen on validation; skipped, with the reason in `skipped`, when its
    item-item matrices would take more than half the `memory` bytes, default what the OS has
    available), all on the same split: one object per model under `models`."""
    from tui_recommender.engine.baselines.ease import EASE, available_memory, fits_in_memory
    from tui_recommender.engine.baselines.popular import MostPopular
    from tui_recommender.engine.calibration import CALIBRATION
    from tui_recommender.engine.lightgcn.recommender import LightGCNRecommender

    report = on_status or (lambda _text: None)
    split = ProtocolSplit.of(data)
    lightgcn = LightGCNRecommender(config)
    models = [{**evaluate_recommender(lightgcn, split, CALIBRATION, on_epoch), "training": lightgcn.result.summary()}]
    report("Fitting most-popular…")
    models.append(evaluate_recommender(MostPopular(), split))
    ease, skipped = EASE(), []
    need, available = ease.memory_needed(split.train), available_memory() if memory is None else memory
    if fits_in_memory(need, available):
        report(f"Fitting EASE (lambda chosen from {', '.join(f'{lam:g}' for lam in ease.lambdas)} on validation)…")
        models.append(evaluate_recommender(ease, split))
    else:
        skipped.append(
            f"EASE skipped: its item-item matrices need {need / 1e9:.1f} GB, more than half the"
            f" {available / 1e9:.1f} GB of memory available"
        )
    return {"dataset": data.name, "protocol": "docs/PROTOCOL.md", **split.sizes(), "models": models, "skipped": skipped}
