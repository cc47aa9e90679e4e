"""The recommender interface: what a model must do to be trained, served, updated, saved
and evaluated, written once (in the spirit of `implicit`'s `RecommenderBase`).

Everything is in rows: users and items are the rows of the `InteractionGraph` the model
is fitted on; raw ids stay with the caller. As with implicit's `user_items`, the users'
known positives are passed to `scores`: EASE scores a user by their row of positives,
LightGCN scores a user it has not learnt yet by the mean of their movies' rows, and
most-popular ignores them. Ranking (masking the seen items, calibration) is the caller's,
on these scores (`ranking.top_k_of`); `recommend` is the plain top k.

Models: `lightgcn.recommender.LightGCNRecommender`, `baselines.popular.MostPopular`,
`baselines.ease.EASE`; every one passes tests/unit/engine/test_recommender_contract.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from tui_recommender.engine.graph import InteractionGraph


class Recommender(ABC):
    """A model over a fixed set of items. Build it with its hyperparameters, then `fit`."""

    name: ClassVar[str]  # as reports show it
    # True when `partial_fit_users` learns from new ratings; False when the model has no
    # per-user state to update and only a new `fit` changes it (it then raises).
    updates_users: ClassVar[bool]

    @property
    @abstractmethod
    def n_items(self) -> int:
        """Items the model scores (0 before `fit`)."""

    @abstractmethod
    def fit(self, interactions: InteractionGraph, on_epoch: Callable | None = None) -> None:
        """Learn from every positive (user, item) edge of `interactions`; `on_epoch` hears
        about the epochs of a model that trains in epochs."""

    @abstractmethod
    def scores(self, users: np.ndarray, interactions: InteractionGraph) -> np.ndarray:
        """A new (len(users) x n_items) float array: each user's score of every item,
        higher is better, with the users' positives in `interactions` (rows may lie beyond
        those the model was fitted on: a user it has not learnt). Seen items are not
        masked."""

    def partial_fit_users(self, users: np.ndarray, interactions: InteractionGraph) -> None:
        """Update the model for `users` after new ratings: `interactions` is the whole
        graph as it is now (new users appended as rows). Only models with
        `updates_users` do; the others raise `NotImplementedError` saying so."""
        raise NotImplementedError(f"{self.name} does not learn from new ratings; fit it again")

    @abstractmethod
    def save(self, path: Path) -> Path:
        """Write the fitted model to `path` atomically (`saved_arrays`); returns `path`."""

    @classmethod
    @abstractmethod
    def load(cls, path: Path) -> Self:
        """A model read from a file `save` wrote (`CheckpointError` if it cannot be)."""

    @abstractmethod
    def describe(self) -> dict:
        """The model's name and hyperparameters, JSON-ready (what a report shows)."""

    def recommend(self, users: np.ndarray, interactions: InteractionGraph, k: int) -> np.ndarray:
        """(len(users) x k) item rows, best first, never one of the user's positives in
        `interactions` (k at most the items; a user with fewer unseen items gets seen ones
        last)."""
        block = np.asarray(self.scores(users, interactions), dtype=np.float64)
        rows, items = interactions.edges_of(users)
        block[rows, items] = -np.inf
        return np.argsort(-block, axis=1, kind="stable")[:, :k]
