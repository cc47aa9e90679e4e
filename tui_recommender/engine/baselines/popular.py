"""Most-popular: every user gets the items with the most positives in training, the
yardstick any personal model must beat."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Self

import numpy as np

from tui_recommender.core.errors import CheckpointError
from tui_recommender.core.text import shorten_path
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.recommender import Recommender
from tui_recommender.engine.saved_arrays import load_arrays, save_arrays


class MostPopular(Recommender):
    """Scores each item by its count of training positives, the same for every user. It
    learns nothing per user, so new ratings change it only through a new `fit`."""

    name = "most-popular"
    updates_users = False

    def __init__(self) -> None:
        self.counts = np.zeros(0, dtype=np.int64)  # positives per item in the fitted graph

    @property
    def n_items(self) -> int:
        return len(self.counts)

    def fit(self, interactions: InteractionGraph, on_epoch: Callable | None = None) -> None:
        self.counts = np.bincount(interactions.items, minlength=interactions.n_items).astype(np.int64)

    def scores(self, users: np.ndarray, interactions: InteractionGraph) -> np.ndarray:
        return np.tile(self.counts.astype(np.float32), (len(users), 1))

    def save(self, path: Path) -> Path:
        return save_arrays(path, {"model": self.name}, {"counts": self.counts}, what="model file")

    @classmethod
    def load(cls, path: Path) -> Self:
        meta, arrays = load_arrays(path, ("counts",), what="model file")
        counts = arrays["counts"]
        if meta.get("model") != cls.name or counts.ndim != 1 or counts.dtype.kind not in "iu" or (counts < 0).any():
            raise CheckpointError(f"model file {shorten_path(path)} is not a {cls.name} model")
        model = cls()
        model.counts = counts.astype(np.int64)
        return model

    def describe(self) -> dict:
        return {"model": self.name}
