"""The steps of a user's list outside the service: the order (stable, seen and hidden
rows out, its head calibrated to the liked genres) and the page (genre filter, then the
slice); and the list from the order's first rows alone is the one the whole order gives."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tui_recommender.app.live_model import Snapshot, user_scores
from tui_recommender.app.ranked_lists import Taste, page, percentiles, ranked_order, recommendations
from tui_recommender.engine.calibration import CALIBRATION, genre_rows, genre_weights
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.interactions import PositiveEdges
from tui_recommender.engine.ranking import top_k_of

# six movies: rows 0-2 Comedy, rows 3-5 Drama
GENRES = np.array([[1, 0]] * 3 + [[0, 1]] * 3, dtype=bool)


def catalogue():
    return SimpleNamespace(
        genre_weights=genre_weights(GENRES),
        genre_rows=genre_rows(genre_weights(GENRES)),
        genre_mask=lambda genres: GENRES[:, 1] if "Drama" in genres else np.ones(len(GENRES), dtype=bool),
    )


def test_order_is_by_score_then_row_without_the_ineligible():
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.9, 0.5], dtype=np.float32)
    eligible = np.array([True, True, True, True, True, False])
    assert ranked_order(scores, eligible, catalogue(), np.array([], dtype=np.int64)).tolist() == [1, 4, 0, 2, 3]


def test_order_head_leans_towards_the_liked_genres():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], dtype=np.float32)
    eligible = np.ones(6, dtype=bool)
    eligible[3] = False  # the liked Drama is rated
    order = ranked_order(scores, eligible, catalogue(), np.array([3]))
    assert sorted(order.tolist()) == [0, 1, 2, 4, 5]
    assert order[0] == 4  # the best unseen Drama comes before three better-scored comedies


def test_page_filters_then_slices():
    order = np.array([1, 4, 0, 2, 3])
    assert page(order, catalogue(), (), 1, 2).tolist() == [4, 0]
    assert page(order, catalogue(), ("Drama",), 0, 5).tolist() == [4, 3]
    assert page(order, catalogue(), ("Drama",), 2, 5).tolist() == []


# The first rows of the order, found without sorting every candidate, are the whole order's.
N_MOVIES = 1500  # beyond the calibrated pool (200) and a few pages


def many_movies(seed: int = 0):
    rng = np.random.default_rng(seed)
    genres = rng.random((N_MOVIES, 4)) < 0.3
    genres[:, 3] = rng.random(N_MOVIES) < 0.03  # a niche genre, mostly beyond the calibrated pool
    genres[rng.random(N_MOVIES) < 0.02] = False  # a few movies without a genre
    names = ("Comedy", "Drama", "Western", "Documentary")
    return SimpleNamespace(
        genres=genres,
        genre_weights=genre_weights(genres),
        genre_rows=genre_rows(genre_weights(genres)),
        genre_mask=lambda wanted: (
            genres[:, [names.index(g) for g in wanted]].any(axis=1) if wanted else np.ones(N_MOVIES, dtype=bool)
        ),
        at=lambda row: SimpleNamespace(title=f"movie {row}"),
    )


def tied_scores(rng) -> np.ndarray:
    return np.round(rng.standard_normal(N_MOVIES), 1).astype(np.float32)  # ~60 distinct values: many ties


@pytest.mark.parametrize("liked", [[], [3, 50, 700], "two niche movies"])
def test_the_first_rows_of_the_order_are_the_whole_orders(liked):
    rng = np.random.default_rng(1)
    catalogue = many_movies()
    if liked == "two niche movies":  # their genre's best join the calibrated pool from deep in the order
        liked = catalogue.genre_rows[3][:2].tolist()
    for attempt in range(5):
        scores = tied_scores(rng)
        if attempt == 4:  # NaN scores, which compare to nothing, go last as a sort puts them
            scores[rng.random(N_MOVIES) < 0.95] = np.nan
        eligible = rng.random(N_MOVIES) > 0.1
        full = ranked_order(scores, eligible, catalogue, np.array(liked, dtype=np.int64))
        for length in (1, 20, 199, 200, 201, 457, int(eligible.sum()), N_MOVIES + 5):
            first = ranked_order(scores, eligible, catalogue, np.array(liked, dtype=np.int64), length)
            assert first.tolist() == full[:length].tolist()


@pytest.mark.parametrize("liked", [[3, 50, 700], "three niche movies"])
def test_evaluate_ranks_a_new_user_as_the_app_lists_them(liked):
    """`evaluate`'s lists (`ranking.top_k_of`, calibrated) are the app's `ranked_order` for
    every user: a new one (three liked movies), one with 40 and one with none."""
    rng = np.random.default_rng(3)
    catalogue = many_movies()
    if liked == "three niche movies":  # a floor, a sharpened target and the genre's best from deep down
        liked = catalogue.genre_rows[3][:3].tolist()
    scores = rng.standard_normal((3, N_MOVIES)).astype(np.float32)
    seen = {0: np.array(liked), 1: rng.choice(N_MOVIES, 40, replace=False), 2: np.zeros(0, dtype=np.int64)}
    seen_users = np.concatenate([np.full(len(rows), user) for user, rows in seen.items()])
    seen_items = np.concatenate(list(seen.values()))
    top = top_k_of(
        lambda rows: scores[rows].copy(),
        3,
        seen_users,
        seen_items,
        20,
        genres=catalogue.genres,
        calibration=CALIBRATION,
    )
    for user, rows in seen.items():
        eligible = np.ones(N_MOVIES, dtype=bool)
        eligible[rows] = False
        assert top[user].tolist() == ranked_order(scores[user], eligible, catalogue, rows, 20).tolist()


def test_a_page_is_the_one_the_whole_order_gives():
    """`recommendations` against the computation it replaced: the whole order sorted, then
    the genre filter, the page and each movie's percentile over every candidate."""
    rng = np.random.default_rng(2)
    catalogue = many_movies()
    items = rng.standard_normal((N_MOVIES, 8)).astype(np.float32)
    items[::7] = items[1::7][: len(items[::7])]  # identical rows: tied scores
    graph = InteractionGraph.from_pairs(1, N_MOVIES, np.array([0]), np.array([3]))
    snapshot = Snapshot(
        IdMap(np.array([1])),
        items[:1] * 0.5,
        items,
        PositiveEdges.built(graph),
        "adaptive",
    )
    taste = Taste(1, rated=np.array([3, 10, 11]), liked=np.array([3, 10]), hidden=np.array([12]))
    for genres in ((), ("Western",), ("Documentary", "Western")):
        for offset, k in ((0, 20), (20, 20), (180, 40), (300, 5), (N_MOVIES, 5)):
            got = recommendations(snapshot, catalogue, taste, genres, k, offset, 0.3)
            scores = user_scores(snapshot, 1, taste.liked, 0.3)
            eligible = np.ones(N_MOVIES, dtype=bool)
            eligible[np.concatenate([taste.rated, taste.hidden])] = False
            order = ranked_order(scores, eligible, catalogue, taste.liked)
            top = page(order, catalogue, genres, offset, k)
            assert [r.movie.title for r in got] == [f"movie {row}" for row in top]
            assert [r.rank for r in got] == list(range(offset + 1, offset + len(top) + 1))
            assert [r.score for r in got] == percentiles(order, top).tolist()
