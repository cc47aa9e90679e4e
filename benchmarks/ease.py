"""EASE (Steck 2019), a closed-form item-item baseline for the learning benchmark."""

from __future__ import annotations

import numpy as np


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
