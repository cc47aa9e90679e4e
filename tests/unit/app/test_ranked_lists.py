"""The steps of a user's list outside the service: the order (stable, seen and hidden
rows out, its head calibrated to the liked genres) and the page (genre filter, then the
slice)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tui_recommender.app.ranked_lists import page, ranked_order
from tui_recommender.engine.ranking import genre_weights

# six movies: rows 0-2 Comedy, rows 3-5 Drama
GENRES = np.array([[1, 0]] * 3 + [[0, 1]] * 3, dtype=bool)


def catalogue():
    return SimpleNamespace(
        genre_weights=genre_weights(GENRES),
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
