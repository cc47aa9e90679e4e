"""`live_model.user_scores`, the list a user sees before the model has learnt them: the
mean of every liked movie's row, not of some of them (issue 19: the whole suite passed
when only the first liked film was used)."""

from __future__ import annotations

import numpy as np

from tui_recommender.app.live_model import Snapshot, user_scores
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.id_map import IdMap

# Movies 0 and 1 point two ways; 2 lies between them, 3 and 4 each near one of them.
ITEMS = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7], [1.0, -0.2], [-0.2, 1.0]], dtype=np.float32)
KNOWN = 1  # a user the model learnt: row [1, 0]
UNLEARNT = 2  # in the map, with a zero row (rated, not learnt yet)


def snapshot() -> Snapshot:
    graph = InteractionGraph.from_pairs(2, len(ITEMS), np.array([0]), np.array([3]))
    user_emb = np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.float32)
    return Snapshot(IdMap(np.array([KNOWN, UNLEARNT])), user_emb, ITEMS, graph, np.ones(len(ITEMS), np.int64), "dot")


def best_unseen(scores: np.ndarray, liked: np.ndarray) -> int:
    return int(np.argmax(np.where(np.isin(np.arange(len(scores)), liked), -np.inf, scores)))


def test_a_user_not_learnt_yet_is_ranked_by_the_mean_of_every_liked_movie():
    liked = np.array([0, 1])
    for user in (UNLEARNT, 99):  # a zero row, and a user the snapshot has no row for
        scores = user_scores(snapshot(), user, liked)
        np.testing.assert_allclose(scores, ITEMS @ np.array([0.5, 0.5]), rtol=1e-6)
        assert best_unseen(scores, liked) == 2  # the first liked film alone would pick 3


def test_the_order_of_the_liked_movies_does_not_change_the_list():
    forward, backward = (user_scores(snapshot(), 99, np.array(liked)) for liked in ([0, 1], [1, 0]))
    np.testing.assert_allclose(forward, backward, rtol=1e-6)


def test_a_learnt_user_is_ranked_by_their_own_row_and_nobody_gets_a_list_from_nothing():
    np.testing.assert_allclose(user_scores(snapshot(), KNOWN, np.array([1])), ITEMS @ np.array([1.0, 0.0]))
    assert user_scores(snapshot(), 99, np.array([], dtype=np.int64)) is None
