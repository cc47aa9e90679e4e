"""Scoring and ranking from propagated embeddings, with numpy only (no torch, no textual):
the first recommendations come up before torch loads.

- Scores: the dot product of the user's and the item's rows divided by |item|^p. p = 0 is
  LightGCN's dot product, p = 1 the per-user ranking of cosine similarity. Popular movies
  have large norms, so with few ratings the dot product answers "popular" whatever the
  taste; "adaptive" scoring sets p = min(1, 5 / n) for a user with n positives: cosine
  for a new user, close to the dot product (what ranks best on the protocol) for a user
  the model knows well.
- The popular <-> niche dial (`novelty` in `user_config.NOVELTY_RANGE`, 0..1) subtracts `novelty * log1p(pop) /
  log1p(max pop)`, scaled by the user's largest score, from the scores (pop = positives
  per movie).
- A new user's start (`new_user_vector`): the user node propagated exactly over the graph
  with them added, from a layer-0 vector that is the mean of their liked movies' layer-0
  rows, with the items' per-layer embeddings held fixed.
"""

from __future__ import annotations

import numpy as np

SCORINGS = ("dot", "cosine", "adaptive")
DEFAULT_SCORING = "adaptive"  # also for checkpoints that do not say (trained before scorings existed)
TASTE_SCALE = 5.0  # "adaptive": a user with n positives divides by |item|^min(1, TASTE_SCALE / n)


def item_norms(item_emb: np.ndarray) -> np.ndarray:
    """|item row| (float32, floored at 1e-12 so zero rows divide safely)."""
    return np.maximum(np.linalg.norm(item_emb, axis=1), 1e-12).astype(np.float32)


def norm_exponents(n_positives: np.ndarray | int, scoring: str) -> np.ndarray:
    """The power p of |item| each user's dot products are divided by: 0 ("dot"), 1
    ("cosine") or min(1, TASTE_SCALE / n) for a user with n positives ("adaptive")."""
    n = np.asarray(n_positives, dtype=np.float64)
    if scoring == "dot":
        return np.zeros_like(n)
    if scoring == "cosine":
        return np.ones_like(n)
    if scoring == "adaptive":
        return np.minimum(1.0, TASTE_SCALE / np.maximum(n, 1.0))
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
) -> np.ndarray:
    """Item indices (n_users x k) of each user's top k, best first, with the
    (seen_users[i], seen_items[i]) pairs excluded (they are also the users' positives
    that "adaptive" scoring counts)."""
    norms = item_norms(item_emb)
    exponents = norm_exponents(np.bincount(seen_users, minlength=len(user_emb)), scoring)
    out = []
    for start in range(0, len(user_emb), chunk):
        block = scores(
            item_emb, norms, user_emb[start : start + chunk], exponents[start : start + chunk], penalty, novelty
        )
        mask = (seen_users >= start) & (seen_users < start + chunk)
        block[seen_users[mask] - start, seen_items[mask]] = -np.inf
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(block, part, axis=1), axis=1, kind="stable")
        out.append(np.take_along_axis(part, order, axis=1))
    return np.concatenate(out) if out else np.zeros((0, k), dtype=np.int64)


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
