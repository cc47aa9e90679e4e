"""One user's recommendations as the app shows them, in four steps: the scores (the live
model's, or popularity for a user with no liked movie), the order (seen and "not
interested" movies out, stable, its head calibrated to the genres the user liked), the
page (the genre filter, then `offset`..`offset + k`), and each movie's "because" (the
liked movie most similar to it).

The score shown is the order's own: the percentage of the user's candidate movies (every
movie they have not rated or hidden, in every genre) that rank at or below the movie, so
it falls down every list, page and genre filter alike, and a rating moves only the movies
whose place it moves (a scale fitted to the page's best would move them all)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tui_recommender.app.catalogue import Catalogue, Movie
from tui_recommender.app.live_model import Snapshot, user_scores
from tui_recommender.engine import calibration
from tui_recommender.engine.blas_threads import ONE_BLAS_THREAD


@dataclass(frozen=True)
class Recommendation:
    movie: Movie
    rank: int  # 1-based, over the whole filtered list (offset included)
    score: float  # percent (0..100] of the user's candidates ranked at or below it (`percentiles`)
    because: str | None  # title of the rated movie most similar to this one, if any
    match: float | None  # score / 100, None for a popularity fallback (its order is no match to a taste)
    # Unitless, what the order starts from (calibration reorders its head): `ranking.scores` of the
    # user's row (or their liked movies' mean) and the movie's; with no liked movie, its positives.
    model_score: float

    @property
    def score_text(self) -> str:
        """`score` as shown: `100%` for the first, else rounded down to a tenth (`99.9%`), so
        that no movie shows more than one above it."""
        tenths = math.floor(self.score * 10 + 1e-6)
        return "100%" if tenths >= 1000 else f"{tenths / 10:.1f}%"


@dataclass(frozen=True)
class Taste:
    """What one user's list is built from, in catalogue rows."""

    user_id: int
    rated: np.ndarray  # every movie the user rated
    liked: np.ndarray  # the rated ones counted as liked (`POSITIVE_THRESHOLD`)
    hidden: np.ndarray  # "not interested"


def ranked_order(
    scores: np.ndarray, eligible: np.ndarray, catalogue: Catalogue, liked: np.ndarray, length: int | None = None
) -> np.ndarray:
    """The `eligible` rows by descending score, ties by row (so pages never overlap), the
    head calibrated towards the genres of `liked` (before any genre filter: a filter keeps
    the order): `calibration.ranked_order` over the catalogue's genres, the order `evaluate`
    measures. With `length`, only the order's first `length` rows."""
    return calibration.ranked_order(scores, eligible, catalogue.genre_weights, catalogue.genre_rows, liked, length)


def percentiles(order: np.ndarray, rows: np.ndarray, total: int | None = None) -> np.ndarray:
    """For each of `rows` (all in `order`), the percentage of the `total` candidates
    (default `len(order)`; `order` may be the first rows of their order) ranked at or below
    it: 100 for the first, 100 / total for the last (float64)."""
    total = len(order) if total is None else total
    place = np.empty(int(order.max(initial=-1)) + 1, dtype=np.int64)
    place[order] = np.arange(len(order))
    return 100.0 * (total - place[rows]) / max(total, 1)


def page(order: np.ndarray, catalogue: Catalogue, genres, offset: int, k: int) -> np.ndarray:
    """Rows `offset`..`offset + k` of `order` with any of `genres` (all if empty)."""
    return order[catalogue.genre_mask(genres)[order]][offset : offset + k]


def most_similar(snapshot: Snapshot, rows: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """For each item row in `rows`, the row in `liked` (non-empty) most similar to it
    (cosine of propagated embeddings)."""

    def unit(m: np.ndarray) -> np.ndarray:
        return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)

    with ONE_BLAS_THREAD:
        return liked[np.argmax(unit(snapshot.item_emb[rows]) @ unit(snapshot.item_emb[liked]).T, axis=1)]


def because_titles(snapshot: Snapshot, catalogue: Catalogue, rows: np.ndarray, liked: np.ndarray) -> list[str | None]:
    """For each of `rows`, the title of the `liked` movie most similar to it (None when
    the user liked nothing)."""
    if len(liked) == 0:
        return [None] * len(rows)
    return [catalogue.at(int(i)).title for i in most_similar(snapshot, rows, liked)]


def recommendations(
    snapshot: Snapshot, catalogue: Catalogue, taste: Taste, genres, k: int, offset: int, novelty: float
) -> list[Recommendation]:
    """Movies `offset`..`offset + k` of the user's list (see the module docstring), scored
    with the popular <-> niche dial `novelty`; a user with no liked movie gets popular
    movies, uncalibrated and without a match."""
    scores = user_scores(snapshot, taste.user_id, taste.liked, novelty)
    popular = scores is None
    if scores is None:
        scores = snapshot.popularity.astype(np.float32)
    eligible = np.ones(len(scores), dtype=bool)
    eligible[taste.rated] = False
    eligible[taste.hidden] = False
    n_candidates = int(eligible.sum())
    length = offset + k
    while True:  # the order's first `length` rows, until they hold the page or every candidate
        order = ranked_order(scores, eligible, catalogue, taste.liked, length)
        top = page(order, catalogue, genres, offset, k)
        if len(top) == k or len(order) == n_candidates:
            break
        length *= 4
    if len(top) == 0:
        return []
    because = because_titles(snapshot, catalogue, top, taste.liked)
    shown = percentiles(order, top, n_candidates)
    return [
        Recommendation(
            catalogue.at(int(i)),
            offset + rank + 1,
            float(shown[rank]),
            because[rank],
            None if popular else float(shown[rank]) / 100.0,
            float(scores[i]),
        )
        for rank, i in enumerate(top)
    ]
