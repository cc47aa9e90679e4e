"""Interactions.build: the user and movie maps (a checkpoint's users keep their rows) and
the graph of positive ratings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tui_recommender.engine.interactions import Interactions


def ratings(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["userId", "movieId", "rating"]).assign(timestamp=0)


def test_known_users_keep_their_rows_and_new_ones_follow_in_id_order() -> None:
    built = Interactions.build(
        ratings([(9, 10, 4.0), (3, 20, 5.0), (5, 10, 2.0), (7, 30, 3.0)]),
        np.array([30, 20, 10, 40]),
        user_ids=np.array([7, 5]),
    )
    assert built.users.raw_ids.tolist() == [7, 5, 3, 9]
    assert built.items.raw_ids.tolist() == [30, 20, 10, 40]  # the dataset's order; 40 unrated keeps its row
    assert (built.graph.n_users, built.graph.n_items) == (4, 4)


def test_the_graph_holds_the_ratings_at_or_above_the_threshold() -> None:
    built = Interactions.build(ratings([(1, 10, 3.0), (1, 20, 2.5), (2, 20, 5.0)]), np.array([10, 20]))
    edges = set(zip(built.users.raw_ids[built.graph.users].tolist(), built.items.raw_ids[built.graph.items].tolist()))
    assert edges == {(1, 10), (2, 20)}
    stricter = Interactions.build(ratings([(1, 10, 3.0), (2, 20, 5.0)]), np.array([10, 20]), threshold=4.0)
    assert stricter.graph.items.tolist() == [1]
