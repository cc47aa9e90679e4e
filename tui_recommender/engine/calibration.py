"""Calibrated lists (Steck, "Calibrated Recommendations", RecSys 2018), with numpy only:
the one ranked order of a user's candidates that the app shows and the protocol measures
(`ranked_order`; `ranking.top_k_of` ranks every user with it).

- The head of each list is re-ranked greedily so that its genre mix approaches the mix of
  the movies the user liked (`calibrated_order`), trading score for lower KL divergence with
  strength CALIBRATION; stronger for a new user the more of their liked movies share a genre
  (`calibration_strength`), so a genre's share of the list grows as they confirm it.
- The head is drawn from the 200 best scores and, for a genre two liked movies share that
  those hold too little of, from that genre's best (`genre_best`), so a niche taste is not
  capped by where its genre scores.
- A new user's target leans to the genre their liked movies agree on (`agreed_target`), and
  a genre they all carry is a floor on the share of the list's movies carrying it
  (`agreed_floor`), so its count holds as they rate more of it (a weighted cost, not a bound).
"""

from __future__ import annotations

import math

import numpy as np

# Strength of the calibrated re-ranking (`calibrated_order`) of every list: on the protocol
# it takes miscalibration@20 from 0.369 to 0.302 for -0.005 NDCG@20 (benchmarks/README.md).
CALIBRATION = 0.3
# ... and for a user with few positives: this with one liked movie, rising to AGREED_CALIBRATION
# as up to AGREEMENT of them share a genre, fading to CALIBRATION as (5 / n)^2 beyond 5; a
# strength that follows n alone (0.7 throughout) let a genre's share fall as a new user
# rated more of it (westerns 6 5 4 3 2; bench_steadiness, benchmarks/README.md).
NEW_USER_CALIBRATION = 0.5
AGREED_CALIBRATION = 0.9
AGREEMENT = 5
CALIBRATED_DEPTH = 100  # the app's lists are calibrated this deep, then follow the scores
# A genre that this many liked movies share draws its best unrated movies into the calibration's
# pool however deep they score (`genre_best`); at 1, a random new user's one niche film pulled
# its genre in and cost bench_learning a hit (0.4163 -> 0.4155).
POOL_AGREEMENT = 2
# A new user's target leans to the genres their liked movies agree on: p_g * (movies sharing g)^b,
# b rising from 0 at 2 to AGREED_SHARPNESS at AGREEMENT sharing one genre, faded as (5 / n)^4: a
# multi-genre film just rated took its genre's share of the target down; 2 with the floor below
# cost bench_learning 0.005 Recall@20; faded as (5 / n)^2, it moved 141 of the protocol's 610 lists
# (NDCG@20 0.30518 -> 0.30477; benchmarks/README.md).
AGREED_SHARPNESS = 1.0
# A genre every liked movie carries (two or more) is a floor on the share of the list's movies that
# carry it (`agreed_floor`), weighed this much against the KL: a mix of weights let pure-genre films
# stand for several broader ones, and a genre's count fell at 23 of 51 generated personas' ratings.
FLOOR_WEIGHT = 3.0


def genre_weights(genres: np.ndarray) -> np.ndarray:
    """(n_items x n_genres) float32: each movie's genres weighted 1 / |genres| (rows of
    movies without a genre stay zero), as Steck's calibration counts them."""
    g = np.asarray(genres, dtype=np.float32)
    return g / np.maximum(g.sum(axis=1, keepdims=True), 1.0)


def taste_distribution(weights: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """The genre distribution p of the movies `liked` (item indices): the mean of their
    `genre_weights` rows, renormalised to sum 1 (zeros when none has a genre)."""
    p = weights[liked].sum(axis=0, dtype=np.float64)
    total = p.sum()
    return (p / total).astype(np.float32) if total > 0 else p.astype(np.float32)


def agreed_target(weights: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """`taste_distribution` of `liked`, each genre g raised by (liked movies with g)^b and
    renormalised, b = AGREED_SHARPNESS * clip((agreeing - 2) / (AGREEMENT - 2), 0, 1) *
    min(1, (5 / n)^4) for n liked of which `agreeing_count` share a genre: for a new user whose
    films agree, the genre they share keeps its share as films with more genres join it."""
    target = taste_distribution(weights, liked)
    sharing = (weights[liked] > 0).sum(axis=0)
    agreed = min(1.0, max(0.0, (int(sharing.max(initial=0)) - 2) / (AGREEMENT - 2)))
    power = AGREED_SHARPNESS * agreed * min(1.0, (5.0 / max(len(liked), 1)) ** 4)
    if power == 0 or not target.any():
        return target
    sharpened = target * sharing.astype(np.float64) ** power
    return (sharpened / sharpened.sum()).astype(np.float32)


def agreed_floor(weights: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """Per genre (float64), the share of a list's movies that should carry it at least: min(1,
    (5 / n)^2) for a genre all n >= 2 movies `liked` carry, else 0 (`calibrated_order`'s floor)."""
    n = len(liked)
    every = (weights[liked] > 0).all(axis=0) if n >= 2 else np.zeros(weights.shape[1], dtype=bool)
    return np.where(every, min(1.0, (5.0 / max(n, 1)) ** 2), 0.0)


def agreeing_count(weights: np.ndarray, liked: np.ndarray) -> int:
    """How many of the movies `liked` (item rows of `genre_weights` `weights`) share their
    most common genre (0 when none has a genre)."""
    return int((weights[liked] > 0).sum(axis=0).max(initial=0))


def calibration_strength(
    n_positives: np.ndarray | int, agreeing: np.ndarray | int, base: float | None = None
) -> np.ndarray:
    """The calibration strength for users with `n_positives`, `agreeing` of which share
    their most common genre (`agreeing_count`): `base` (CALIBRATION), raised by min(1, (5 /
    n)^2) towards NEW_USER_CALIBRATION + (AGREED_CALIBRATION - NEW_USER_CALIBRATION) *
    min(1, (agreeing - 1) / (AGREEMENT - 1)); 0 when `base` is 0 (calibration off)."""
    base = CALIBRATION if base is None else base
    n = np.maximum(np.asarray(n_positives, dtype=np.float64), 1.0)
    if base <= 0:
        return np.zeros_like(n)
    agreed = np.clip((np.asarray(agreeing, dtype=np.float64) - 1.0) / (AGREEMENT - 1), 0.0, 1.0)
    new_user = NEW_USER_CALIBRATION + (AGREED_CALIBRATION - NEW_USER_CALIBRATION) * agreed
    return base + np.maximum(new_user - base, 0.0) * np.minimum(1.0, (5.0 / n) ** 2)


def calibrated_order(
    item_scores: np.ndarray,
    weights: np.ndarray,
    target: np.ndarray,
    k: int,
    strength: float | np.ndarray,
    pool: int = 200,
    alpha: float = 0.01,
    scale_depth: int | None = None,
    floor: np.ndarray | None = None,
) -> np.ndarray:
    """Steck's calibrated re-ranking ("Calibrated Recommendations", RecSys 2018), greedy:
    of each row's `pool` best items, repeatedly take the one that maximises
    (1 - strength) * its score (min-max scaled over the pool) - strength * KL(p || q~),
    where p is the row's `target` genre distribution, q that of the items taken so far
    plus this one, and q~ = (1 - alpha) q + alpha p. Returns (n x k) item indices (k
    capped at the pool); rows of `item_scores` may be -inf for items to leave out, which
    are never taken while the pool has others. With `scale_depth`, the min-max scale is
    that of each row's `scale_depth` best scores (the rest of the pool goes below 0). With
    `floor` f (per genre, per row or one for all), the loss also counts FLOOR_WEIGHT * sum_g
    f_g * max(0, log(f_g / c~_g)), c_g the share of the items taken so far plus this one
    that carry g, c~ = (1 - alpha) c + alpha f: the list's count of g held up, never down."""
    item_scores = np.atleast_2d(item_scores)
    target = np.atleast_2d(target).astype(np.float32)
    n, n_items = item_scores.shape
    pool = min(max(pool, k), n_items)
    k = min(k, pool)
    strength = np.broadcast_to(np.asarray(strength, dtype=np.float64).reshape(-1, 1), (n, 1))
    cand = np.argpartition(-item_scores, pool - 1, axis=1)[:, :pool]
    s = np.take_along_axis(item_scores, cand, axis=1).astype(np.float64)
    finite = np.isfinite(s)
    if scale_depth is not None and scale_depth < pool:
        low = -np.partition(-np.where(finite, s, -np.inf), scale_depth - 1, axis=1)[:, scale_depth - 1 : scale_depth]
        low = np.where(np.isfinite(low), low, np.where(finite, s, np.inf).min(axis=1, keepdims=True))
    else:
        low = np.where(finite, s, np.inf).min(axis=1, keepdims=True)
    high = np.where(finite, s, -np.inf).max(axis=1, keepdims=True)
    scaled = np.where(finite, (s - low) / np.maximum(high - low, 1e-12), -1e9)
    cand_genres = weights[cand]  # (n, pool, n_genres)
    has_p = target > 0
    log_p = np.log(np.where(has_p, target, 1.0))[:, None, :]
    floored = floor is not None and bool(np.any(floor))
    if floored:
        f = np.broadcast_to(np.atleast_2d(floor), target.shape)[:, None, :]
        log_f, carries = np.log(np.where(f > 0, f, 1.0)), (cand_genres > 0).astype(np.float32)
        carried = np.zeros((n, weights.shape[1]), dtype=np.float32)
    taken_sum = np.zeros((n, weights.shape[1]), dtype=np.float32)
    out = np.empty((n, k), dtype=np.int64)
    free = np.ones((n, pool), dtype=bool)
    rows = np.arange(n)
    for step in range(k):
        q = (taken_sum[:, None, :] + cand_genres) / (step + 1)
        q_mix = (1 - alpha) * q + alpha * target[:, None, :]
        loss = np.where(has_p[:, None, :], target[:, None, :] * (log_p - np.log(np.maximum(q_mix, 1e-12))), 0.0).sum(-1)
        if floored:
            c_mix = (1 - alpha) * (carried[:, None, :] + carries) / (step + 1) + alpha * f
            loss += FLOOR_WEIGHT * (f * np.maximum(log_f - np.log(np.maximum(c_mix, 1e-12)), 0.0)).sum(-1)
        objective = np.where(free, (1 - strength) * scaled - strength * loss, -np.inf)
        pick = objective.argmax(axis=1)
        out[:, step] = cand[rows, pick]
        taken_sum += cand_genres[rows, pick]
        if floored:
            carried += carries[rows, pick]
        free[rows, pick] = False
    return out


def genre_rows(weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per genre (a column of `weights`), the item rows that have it, ascending (int64):
    made once per catalogue, so a list looks for a genre's best only among its own rows."""
    return tuple(np.flatnonzero(weights[:, g] > 0) for g in range(weights.shape[1]))


def genre_best(
    item_scores: np.ndarray,
    eligible: np.ndarray,
    rows: tuple[np.ndarray, ...],
    target: np.ndarray,
    depth: int,
    pool: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """For each genre g whose `genre_weights` (`weights`) in the rows `pool` sum to less than
    target[g] * depth (its share of a calibrated head `depth` long), its ceil(target[g] *
    depth) best `eligible` rows by `item_scores` (of its `rows`, `genre_rows`): a niche
    taste reaches its genre however deep it scores; a pool that holds enough is left as is."""
    need = target * depth
    short = np.flatnonzero((target > 0) & (weights[pool].sum(axis=0) < need))
    best = []
    for g in short:
        mine = rows[g][eligible[rows[g]]]
        m = min(math.ceil(float(need[g])), len(mine))
        if m:
            best.append(mine[np.argpartition(-item_scores[mine], m - 1)[:m]] if m < len(mine) else mine)
    return np.unique(np.concatenate(best)) if best else np.zeros(0, dtype=np.int64)


def calibrated_head(
    order: np.ndarray,
    item_scores: np.ndarray,
    weights: np.ndarray,
    liked: np.ndarray,
    strength: float | None = None,
    depth: int | None = None,
    rows: tuple[np.ndarray, ...] | None = None,
    eligible: np.ndarray | None = None,
    length: int | None = None,
) -> np.ndarray:
    """`order` (item rows, best score first) with its first `depth` (CALIBRATED_DEPTH)
    re-ranked by `calibrated_order` (default strength: `calibration_strength`) towards the
    genre mix p of the `liked` rows (`agreed_target`; the genres they all carry as a floor,
    `agreed_floor`), drawn from its first 2 * `depth` and, given the `genre_rows` `rows` and
    the `eligible` mask, the best `eligible` rows of each genre that
    POOL_AGREEMENT liked rows share and those first rows hold too little of (`genre_best`: a
    niche taste reaches its genre however deep it scores; the score scale stays that of the
    first 2 * `depth`); the rest follows in score order (~5 ms). With `length`, only the first
    `length` are re-ranked (the greedy's first picks do not depend on how many follow)."""
    if strength is None:
        strength = float(calibration_strength(len(liked), agreeing_count(weights, liked)))
    depth = CALIBRATED_DEPTH if depth is None else depth
    if strength <= 0 or len(order) == 0 or len(liked) == 0:
        return order
    target = agreed_target(weights, liked)
    pool = order[: 2 * depth]
    if rows is not None and eligible is not None:
        shared = (weights[liked] > 0).sum(axis=0) >= POOL_AGREEMENT
        deeper = genre_best(item_scores, eligible, rows, np.where(shared, target, 0.0), depth, pool, weights)
        pool = np.concatenate([pool, deeper[~np.isin(deeper, pool)]])
    picked = calibrated_order(
        item_scores[pool][None, :],
        weights[pool],
        target,
        min(depth, len(order), len(order) if length is None else length),
        strength,
        pool=len(pool),
        scale_depth=2 * depth,
        floor=agreed_floor(weights, liked),
    )[0]
    head = pool[picked]
    return np.concatenate([head, order[~np.isin(order, head)]])


def by_score(scores: np.ndarray, candidates: np.ndarray, length: int | None = None) -> np.ndarray:
    """`candidates` (ascending rows) by descending score, ties by row; with `length`, the
    first `length` of that order: the rows above the `length`-th score, then the rows tied
    with it by row, sorted."""
    values = scores[candidates]
    if length is not None and length < len(candidates):
        negated = -values
        kth = np.partition(negated, length - 1)[length - 1]
        above = np.flatnonzero(negated < kth)
        tied = np.flatnonzero(negated == kth)[: length - len(above)]
        if len(above) + len(tied) == length:  # else NaN scores, which compare to nothing: sort all
            keep = np.concatenate([above, tied])
            candidates, values = candidates[keep], values[keep]
    return candidates[np.lexsort((candidates, -values))]


def ranked_order(
    scores: np.ndarray,
    eligible: np.ndarray,
    weights: np.ndarray,
    rows: tuple[np.ndarray, ...],
    liked: np.ndarray,
    length: int | None = None,
    strength: float | None = None,
) -> np.ndarray:
    """One user's list: the `eligible` rows by descending `scores`, ties by row, the head
    calibrated towards the genres of the `liked` rows (`calibrated_head` with the catalogue's
    `genre_weights` and `genre_rows`; none without a liked row). With `length`, only the
    order's first `length` rows, the same as the whole order's, without sorting every
    candidate (1-2 ms against 20-30 ms for a full sort of 87,585 movies)."""
    # the calibrated head is drawn from the score order's first 2 * CALIBRATED_DEPTH (and genres' best)
    head = length if length is None or not len(liked) else max(length, 2 * CALIBRATED_DEPTH)
    order = by_score(scores, np.flatnonzero(eligible), head)
    if len(liked):
        order = calibrated_head(order, scores, weights, liked, strength, rows=rows, eligible=eligible, length=length)
    return order if length is None else order[:length]
