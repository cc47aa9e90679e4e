"""Scoring and ranking from propagated embeddings, with numpy only (no torch, no textual):
the first recommendations come up before torch loads.

- Scores: the dot product of the user's and the item's rows divided by |item|^p. p = 0 is
  LightGCN's dot product, p = 1 the per-user ranking of cosine similarity. Popular movies
  have large norms, so with few ratings the dot product answers "popular" whatever the
  taste; "adaptive" scoring sets p = min(1, TASTE_SCALE / max(n, TASTE_FLOOR)) for a user
  with n positives: a fifth of the way to cosine for a new user with up to 5, close to
  the dot product (what ranks best on the protocol) for a user the model knows well.
- Calibration (`engine/calibration.py`): `top_k_of` ranks each user with
  `calibration.ranked_order`, the order the app shows, so the protocol measures the app's lists.
- The popular <-> niche dial (`novelty` in `user_config.NOVELTY_RANGE`, 0..1) subtracts `novelty * log1p(pop) /
  log1p(max pop)`, scaled by the user's largest score, from the scores (pop = positives
  per movie).
- `new_user_vector` (a baseline of benchmarks/bench_learning.py; the app's start is
  `lightgcn.new_users.start_new_users`): the user node propagated exactly over the graph with
  them added, from a layer-0 vector that is the mean of their liked movies' layer-0
  rows, with the items' per-layer embeddings held fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import numpy as np

from tui_recommender.engine.calibration import (
    agreeing_count,
    calibration_strength,
    genre_rows,
    genre_weights,
    ranked_order,
)

Scoring = Literal["dot", "cosine", "adaptive"]
SCORINGS: tuple[str, ...] = get_args(Scoring)
DEFAULT_SCORING: Scoring = "adaptive"  # also for checkpoints that do not say (trained before scorings existed)
# "adaptive": a user with n positives divides by |item|^min(1, TASTE_SCALE / max(n, TASTE_FLOOR)):
# the same power over a new user's first ratings (cosine at the first let its list fade as
# n grew), 0.2 at 5, which ranks new users best with the calibration above (bench_learning)
TASTE_SCALE = 1.0
TASTE_FLOOR = 5


def item_norms(item_emb: np.ndarray) -> np.ndarray:
    """|item row| (float32, floored at 1e-12 so zero rows divide safely)."""
    return np.maximum(np.linalg.norm(item_emb, axis=1), 1e-12).astype(np.float32)


def norm_exponents(n_positives: np.ndarray | int, scoring: str) -> np.ndarray:
    """The power p of |item| each user's dot products are divided by: 0 ("dot"), 1
    ("cosine") or min(1, TASTE_SCALE / max(n, TASTE_FLOOR)) for a user with n positives
    ("adaptive")."""
    n = np.asarray(n_positives, dtype=np.float64)
    if scoring == "dot":
        return np.zeros_like(n)
    if scoring == "cosine":
        return np.ones_like(n)
    if scoring == "adaptive":
        return np.minimum(1.0, TASTE_SCALE / np.maximum(n, TASTE_FLOOR))
    raise ValueError(f"unknown scoring {scoring!r}; choose from {', '.join(SCORINGS)}")


def popularity_penalty(popularity: np.ndarray) -> np.ndarray:
    """log1p(positives) / log1p(max positives) per item, in [0, 1] (float32)."""
    pop = np.log1p(np.asarray(popularity, dtype=np.float64))
    return (pop / max(float(pop.max(initial=0.0)), 1e-12)).astype(np.float32)


def scores(
    item_emb: np.ndarray,
    norms: np.ndarray,
    user_vecs: np.ndarray,
    exponents: np.ndarray | float = 0.0,
    penalty: np.ndarray | None = None,
    novelty: float = 0.0,
) -> np.ndarray:
    """Scores of every item for one user vector (dim,) or a batch (n, dim): dot products
    divided by `norms` ** the user's exponent (`norm_exponents`), minus `novelty` *
    `penalty` scaled per user by their largest score (so the dial means the same at
    any exponent)."""
    raw = user_vecs @ item_emb.T
    p = np.asarray(exponents, dtype=np.float32)
    if p.any():
        raw = raw / norms ** (p[..., None] if p.ndim else p)
    if penalty is None or novelty == 0.0:
        return raw
    scale = np.maximum(np.abs(raw).max(axis=-1, keepdims=True), 1e-12)
    return raw - novelty * scale * penalty


def top_k_unseen(
    user_emb: np.ndarray,
    item_emb: np.ndarray,
    seen_users: np.ndarray,
    seen_items: np.ndarray,
    k: int,
    scoring: str = "dot",
    penalty: np.ndarray | None = None,
    novelty: float = 0.0,
    chunk: int = 1024,
    genres: np.ndarray | None = None,
    calibration: float = 0.0,
) -> np.ndarray:
    """Item indices (n_users x k) of each user's top k by embedding `scores`, best first,
    with the (seen_users[i], seen_items[i]) pairs excluded (they are also the users'
    positives that "adaptive" scoring counts); calibrated as `top_k_of` does."""
    norms = item_norms(item_emb)
    exponents = norm_exponents(np.bincount(seen_users, minlength=len(user_emb)), scoring)

    def score_rows(rows: np.ndarray) -> np.ndarray:
        return scores(item_emb, norms, user_emb[rows], exponents[rows], penalty, novelty)

    return top_k_of(score_rows, len(user_emb), seen_users, seen_items, k, chunk, genres, calibration)


def top_k_of(
    score_rows: Callable[[np.ndarray], np.ndarray],
    n_users: int,
    seen_users: np.ndarray,
    seen_items: np.ndarray,
    k: int,
    chunk: int = 1024,
    genres: np.ndarray | None = None,
    calibration: float = 0.0,
) -> np.ndarray:
    """Item indices (n_users x k) of each user's top k, best first, from `score_rows(rows)`
    (len(rows) x n_items, a new array: any model's scores of those users, called on blocks
    of `chunk` users), with the (seen_users[i], seen_items[i]) pairs excluded; with `genres` (n_items
    x n_genres) and `calibration` > 0, each list is re-ranked towards the genres of the
    user's seen items as the app's lists are (`calibration.ranked_order`, strength
    `calibration_strength` from base `calibration`)."""
    calibrate = genres is not None and calibration > 0
    if calibrate:
        weights = genre_weights(genres)
        rows = genre_rows(weights)
        by_user = np.argsort(seen_users, kind="stable")
        bounds = np.searchsorted(seen_users[by_user], np.arange(n_users + 1))
    out = []
    for start in range(0, n_users, chunk):
        block = score_rows(np.arange(start, min(start + chunk, n_users)))
        if calibrate:
            mine = [seen_items[by_user[bounds[u] : bounds[u + 1]]] for u in range(start, start + len(block))]
            out.append(np.stack([_calibrated_top(r, m, weights, rows, k, calibration) for r, m in zip(block, mine)]))
            continue
        mask = (seen_users >= start) & (seen_users < start + chunk)
        block[seen_users[mask] - start, seen_items[mask]] = -np.inf
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(block, part, axis=1), axis=1, kind="stable")
        out.append(np.take_along_axis(part, order, axis=1))
    return np.concatenate(out) if out else np.zeros((0, k), dtype=np.int64)


def _calibrated_top(
    row: np.ndarray, liked: np.ndarray, weights: np.ndarray, rows: tuple[np.ndarray, ...], k: int, calibration: float
) -> np.ndarray:
    """The first `k` of one user's `calibration.ranked_order` (scores `row`, the `liked` rows
    out), filled up with `liked` rows when fewer than `k` others are left."""
    eligible = np.ones(len(row), dtype=bool)
    eligible[liked] = False
    strength = float(calibration_strength(len(liked), agreeing_count(weights, liked), calibration))
    top = ranked_order(row, eligible, weights, rows, liked, k, strength)
    return np.concatenate([top, np.sort(liked)[: k - len(top)]]) if len(top) < k else top


def new_user_vector(
    item_layers: list[np.ndarray], item_degrees: np.ndarray, liked: np.ndarray, weights: tuple[float, ...]
) -> np.ndarray:
    """The final embedding of a user with positives `liked` (item indices) added to the
    graph: E_u = sum_k weights[k] e_u^(k) with e_u^(0) = mean of the liked items'
    layer-0 rows and e_u^(k) = sum_i e_i^(k-1) / sqrt(d_u (d_i + 1)), where `item_layers`
    are the items' layers 0..K-1 and `item_degrees` their degrees without the user."""
    ego = item_layers[0][liked].mean(axis=0)
    norm = 1.0 / np.sqrt(len(liked) * (item_degrees[liked] + 1.0))
    out = weights[0] * ego
    for k in range(1, len(weights)):
        out = out + weights[k] * (norm @ item_layers[k - 1][liked])
    return out.astype(np.float32)
