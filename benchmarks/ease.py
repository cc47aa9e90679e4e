"""EASE (Steck 2019), a closed-form item-item baseline for the quality, learning and
persona benchmarks."""

from __future__ import annotations

import numpy as np


def ease_weights(
    train_users: np.ndarray, train_items: np.ndarray, n_items: int, lam: float = 200.0, min_count: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """EASE fitted in closed form on the (user, item) training pairs: (kept item indices,
    their item-item weight matrix B). Only items with >= `min_count` positives enter the
    Gram matrix (the full 9.7k x 9.7k inverse is slow)."""
    counts = np.bincount(train_items, minlength=n_items)
    kept = np.flatnonzero(counts >= min_count)
    col = np.full(n_items, -1)
    col[kept] = np.arange(len(kept))
    mask = col[train_items] >= 0
    x = np.zeros((int(train_users.max()) + 1, len(kept)), dtype=np.float64)
    x[train_users[mask], col[train_items[mask]]] = 1.0
    p = np.linalg.inv(x.T @ x + lam * np.eye(len(kept)))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return kept, b


def ease_user_scores(kept: np.ndarray, b: np.ndarray, n_items: int, history: np.ndarray) -> np.ndarray:
    """Scores of every item for one user's `history` item indices under `ease_weights`;
    items outside `kept` score 0."""
    rows = np.flatnonzero(np.isin(kept, history))
    scores = np.zeros(n_items)
    scores[kept] = b[rows].sum(axis=0)
    return scores


def ease_scores(
    train_users: np.ndarray,
    train_items: np.ndarray,
    n_items: int,
    history: np.ndarray,
    lam: float = 200.0,
    min_count: int = 5,
) -> np.ndarray:
    """EASE scores of every item for one user's `history` (see `ease_weights`)."""
    kept, b = ease_weights(train_users, train_items, n_items, lam, min_count)
    return ease_user_scores(kept, b, n_items, history)
