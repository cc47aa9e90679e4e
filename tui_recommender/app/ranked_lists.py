"""One user's recommendations as the app shows them, in four steps: the scores (the live
model's, or popularity for a user with no liked movie), the order (seen and "not
interested" movies out, stable, its head calibrated to the genres the user liked), the
page (the genre filter, then `offset`..`offset + k`), and each movie's "because" (the
liked movie most similar to it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_recommender.app.catalogue import Catalogue, Movie
from tui_recommender.app.live_model import Snapshot, most_similar, user_scores
from tui_recommender.engine.ranking import calibrated_head


@dataclass(frozen=True)
class Recommendation:
    movie: Movie
    rank: int  # 1-based, over the whole filtered list (offset included)
    # Unitless, only its order and `match` mean anything: `ranking.scores` of the user's row (or
    # their liked movies' mean) and the movie's; with no liked movie, its positives in the graph.
    score: float
    because: str | None  # title of the rated movie most similar to this one, if any
    match: float | None  # score / the best score among the user's unrated movies, 0..1; None for a popularity fallback


@dataclass(frozen=True)
class Taste:
    """What one user's list is built from, in catalogue rows."""

    user_id: int
    rated: np.ndarray  # every movie the user rated
    liked: np.ndarray  # the rated ones counted as liked (`POSITIVE_THRESHOLD`)
    hidden: np.ndarray  # "not interested"


def ranked_order(scores: np.ndarray, eligible: np.ndarray, catalogue: Catalogue, liked: np.ndarray) -> np.ndarray:
    """The `eligible` rows by descending score, ties by row (so pages never overlap), the
    head calibrated towards the genres of `liked` (before any genre filter: a filter keeps
    the order); no calibration without a liked movie."""
    candidates = np.flatnonzero(eligible)
    order = candidates[np.lexsort((candidates, -scores[candidates]))]
    return calibrated_head(order, scores, catalogue.genre_weights, liked) if len(liked) else order


def page(order: np.ndarray, catalogue: Catalogue, genres, offset: int, k: int) -> np.ndarray:
    """Rows `offset`..`offset + k` of `order` with any of `genres` (all if empty)."""
    return order[catalogue.genre_mask(genres)[order]][offset : offset + k]


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
    best = float(scores[eligible].max()) if not popular and eligible.any() else 0.0
    top = page(ranked_order(scores, eligible, catalogue, taste.liked), catalogue, genres, offset, k)
    if len(top) == 0:
        return []
    because = because_titles(snapshot, catalogue, top, taste.liked)
    return [
        Recommendation(
            catalogue.at(int(i)),
            offset + rank + 1,
            float(scores[i]),
            because[rank],
            None if popular else max(float(scores[i]), 0.0) / best if best > 0 else 0.0,
        )
        for rank, i in enumerate(top)
    ]
