r"""EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): an
item-item model in closed form. With X the (users x items) 0/1 matrix of positives,

    P = (X^T X + lambda I)^-1,        B = I - P diagMat(1 / diag(P))

(so B has a zero diagonal: B_ij = -P_ij / P_jj for i != j), and a user's scores are
their row of X times B. Only items with at least `min_count` positives enter X^T X; the
others score 0, as their all-zero columns of X give them in the full formula. `lambda`
is chosen, when not given, from a small grid by Recall@20 on a per-user validation split
of the training positives (never on a test split).

Memory: the Gram matrix, its Cholesky factor and the inverse are dense (n x n float64,
`EASE.memory_needed`); `fits_in_memory` says whether they can be built here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd

from tui_recommender.core.errors import CheckpointError
from tui_recommender.core.text import shorten_path
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.recommender import Recommender
from tui_recommender.engine.saved_arrays import load_arrays, save_arrays
from tui_recommender.engine.split import VALIDATION_FRACTION, split_per_user

LAMBDAS = (50.0, 100.0, 200.0, 400.0)  # the grid `lambda` is chosen from
DENSE_MATRICES = 3  # n x n float64 at the peak of a fit: the Gram matrix, its factor, the inverse
MEMORY_MARGIN = 0.5  # of the available memory a fit may take


def available_memory() -> int:
    """Bytes of memory the OS says are available now."""
    import psutil

    return int(psutil.virtual_memory().available)


def fits_in_memory(needed: int, available: int) -> bool:
    """Whether `needed` bytes are at most `MEMORY_MARGIN` of `available`."""
    return needed <= MEMORY_MARGIN * available


def ease_weights(interactions: InteractionGraph, lam: float, min_count: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(kept item rows, their float64 weight matrix B) of EASE fitted in closed form on
    `interactions`; items with fewer than `min_count` positives are left out."""
    import torch

    kept = np.flatnonzero(_item_counts(interactions) >= max(min_count, 1))
    x = _rows_matrix(interactions, np.arange(interactions.n_users), kept)
    gram = torch.from_numpy(x.T @ x)
    gram.diagonal().add_(lam)
    # Cholesky (the Gram matrix is positive definite): half the time of a general inverse.
    p = torch.cholesky_inverse(torch.linalg.cholesky(gram))
    del gram
    b = p.div_(-p.diagonal()).numpy()
    np.fill_diagonal(b, 0.0)
    return kept, b


def _item_counts(interactions: InteractionGraph) -> np.ndarray:
    return np.bincount(interactions.items, minlength=interactions.n_items)


def _rows_matrix(interactions: InteractionGraph, users: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The (len(users) x len(kept)) float64 0/1 rows of X for `users`, columns `kept`."""
    column = np.full(interactions.n_items, -1)
    column[kept] = np.arange(len(kept))
    rows, items = interactions.edges_of(users)
    hit = column[items] >= 0
    x = np.zeros((len(users), len(kept)), dtype=np.float64)
    x[rows[hit], column[items[hit]]] = 1.0
    return x


class EASE(Recommender):
    """EASE with L2 weight `lam` (None: chosen from `lambdas` on validation at `fit`, the
    split drawn with `seed + 1` as LightGCN's early stopping draws it). A user's scores
    are their positives times B, so new ratings count at once: `partial_fit_users` has
    nothing to learn."""

    name = "EASE"
    updates_users = True

    def __init__(
        self, lam: float | None = None, lambdas: tuple[float, ...] = LAMBDAS, min_count: int = 1, seed: int = 0
    ) -> None:
        self.lam = lam
        self.lambdas = tuple(lambdas)
        self.min_count = min_count
        self.seed = seed
        self.chosen: float | None = lam  # the lambda of the fitted weights
        self.validation: dict[float, float] = {}  # lambda -> validation Recall@20 of the choice
        self.kept = np.zeros(0, dtype=np.int64)
        self.weights = np.zeros((0, 0))
        self._n_items = 0

    @property
    def n_items(self) -> int:
        return self._n_items

    def memory_needed(self, interactions: InteractionGraph) -> int:
        """Bytes a fit on `interactions` holds at its peak: `DENSE_MATRICES` n x n float64
        matrices, n the items with at least `min_count` positives."""
        n = int(np.count_nonzero(_item_counts(interactions) >= max(self.min_count, 1)))
        return DENSE_MATRICES * n * n * 8

    def fit(self, interactions: InteractionGraph, on_epoch: Callable | None = None) -> None:
        self.chosen = self.lam if self.lam is not None else self._choose_lambda(interactions)
        self.kept, self.weights = ease_weights(interactions, self.chosen, self.min_count)
        self._n_items = interactions.n_items

    def _choose_lambda(self, interactions: InteractionGraph) -> float:
        """The lambda of `lambdas` with the best validation Recall@20 (the smaller on a tie)."""
        from tui_recommender.engine.metrics import recall_at_k
        from tui_recommender.engine.ranking import top_k_of

        pairs = pd.DataFrame({"userId": interactions.users, "movieId": interactions.items})
        rest, held = split_per_user(pairs, fraction=VALIDATION_FRACTION, seed=self.seed + 1)
        fit = InteractionGraph.from_pairs(
            interactions.n_users, interactions.n_items, rest["userId"].to_numpy(), rest["movieId"].to_numpy()
        )
        self.validation = {}
        for lam in self.lambdas:
            kept, weights = ease_weights(fit, lam, self.min_count)
            top = top_k_of(
                lambda rows, kept=kept, weights=weights: _scores(fit, rows, kept, weights, fit.n_items),
                fit.n_users,
                fit.users,
                fit.items,
                20,
            )
            recall = recall_at_k(top, held["userId"].to_numpy(), held["movieId"].to_numpy(), k=20)
            self.validation[lam] = round(recall, 6)
        return max(self.lambdas, key=lambda lam: (self.validation[lam], -lam))

    def scores(self, users: np.ndarray, interactions: InteractionGraph) -> np.ndarray:
        return _scores(interactions, users, self.kept, self.weights, self._n_items)

    def partial_fit_users(self, users: np.ndarray, interactions: InteractionGraph) -> None:
        """Nothing to learn: `scores` reads the users' positives from `interactions`."""

    def save(self, path: Path) -> Path:
        meta = {"model": self.name, "lambda": self.chosen, "min_count": self.min_count, "n_items": self._n_items}
        return save_arrays(path, meta, {"kept": self.kept, "weights": self.weights}, what="model file")

    @classmethod
    def load(cls, path: Path) -> Self:
        meta, arrays = load_arrays(path, ("kept", "weights"), what="model file")
        kept, weights = arrays["kept"], arrays["weights"]
        n_items = meta.get("n_items")
        if not (
            meta.get("model") == cls.name
            and isinstance(meta.get("lambda"), int | float)
            and isinstance(n_items, int)
            and kept.ndim == 1
            and kept.dtype.kind in "iu"
            and (len(kept) == 0 or 0 <= kept.min() <= kept.max() < n_items)
            and weights.shape == (len(kept), len(kept))
            and weights.dtype.kind == "f"
        ):
            raise CheckpointError(f"model file {shorten_path(path)} is not a consistent {cls.name} model")
        model = cls(float(meta["lambda"]), min_count=int(meta.get("min_count", 1)))
        model.kept, model.weights, model._n_items = kept.astype(np.int64), weights, n_items
        return model

    def describe(self) -> dict:
        out: dict = {"model": self.name, "lambda": self.chosen, "min_count": self.min_count}
        if self.validation:
            out["validation_recall@20"] = {f"{lam:g}": recall for lam, recall in self.validation.items()}
        return out


def _scores(
    interactions: InteractionGraph, users: np.ndarray, kept: np.ndarray, weights: np.ndarray, n_items: int
) -> np.ndarray:
    """(len(users) x n_items) float64: each user's row of X times B; items outside `kept` 0."""
    out = np.zeros((len(users), n_items), dtype=np.float64)
    out[:, kept] = _rows_matrix(interactions, users, kept) @ weights
    return out
