"""Interactions.build: the user and movie maps (a checkpoint's users keep their rows) and
the graph of positive ratings; PositiveEdges, which serves a list and a rating from sorted
ratings without building that graph (issue 17: 1.4 s of a 2.8 s `recommend` at ml-32m)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tui_recommender.engine import interactions
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.interactions import Interactions, PositiveEdges, user_map


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


def sorted_ratings(seed: int = 0) -> pd.DataFrame:
    """Ratings sorted by user, movies in no order: 40 users, 30 movies."""
    rng = np.random.default_rng(seed)
    rows = [
        (u, m, rng.integers(1, 11) / 2) for u in range(1, 41) for m in rng.permutation(30) + 100 if rng.random() < 0.4
    ]
    return ratings(rows)


def test_sorted_ratings_give_counts_and_a_users_movies_without_the_graph(monkeypatch, graph_builds) -> None:
    monkeypatch.setattr(interactions, "CHUNK_ROWS", 7)  # many chunks, one ending mid-user
    frame, movies = sorted_ratings(), np.arange(129, 99, -1)  # the catalogue's order is not the ids'
    users, items = user_map(frame, np.array([40, 3])), IdMap(movies)
    reference = Interactions.build(frame, movies, np.array([40, 3])).graph
    graph_builds.clear()  # the reference's own build
    graph_builds.stand_in = reference
    built = graph_builds
    edges = PositiveEdges.of_ratings(frame, users, items)
    assert np.array_equal(edges.item_counts(), np.bincount(reference.items, minlength=len(movies)))
    for user in range(len(users) + 2):  # and two rows beyond the start's users
        first, last = np.searchsorted(reference.users, [user, user + 1])
        assert np.array_equal(edges.user_items(user), reference.items[first:last]), user
    assert not built
    assert edges.graph is reference and edges.graph is reference and len(built) == 1  # built once, kept


def test_the_graph_built_a_chunk_at_a_time_is_the_whole_ratings_graph(monkeypatch) -> None:
    frame, movies = sorted_ratings(1), np.arange(100, 130)
    whole = Interactions.build(frame, movies).graph
    monkeypatch.setattr(interactions, "CHUNK_ROWS", 5)
    chunked = PositiveEdges.of_ratings(frame, user_map(frame), IdMap(movies)).graph
    assert np.array_equal(chunked.users, whole.users) and np.array_equal(chunked.items, whole.items)
    assert chunked.n_edges == int((frame["rating"] >= 3).sum())


def test_unsorted_ratings_are_built_into_the_graph_at_once(graph_builds) -> None:
    frame = sorted_ratings(2).iloc[::-1]  # no binary search by user in these
    built = graph_builds
    edges = PositiveEdges.of_ratings(frame, user_map(frame), IdMap(np.arange(100, 130)))
    assert len(built) == 1
    assert edges.graph.n_edges == int((frame["rating"] >= 3).sum()) and len(built) == 1


def test_a_users_movies_come_from_the_columns_while_the_graph_is_built(monkeypatch) -> None:
    """The catch-up builds the graph in the background (a second at ml-32m): a rating's
    lookup meanwhile does not wait for it."""
    import threading

    frame, movies = sorted_ratings(3), np.arange(100, 130)
    users, items = user_map(frame), IdMap(movies)
    building, release = threading.Event(), threading.Event()
    build = interactions._RatingColumns.graph

    def slow_build(self, *args):
        building.set()
        release.wait(10)
        return build(self, *args)

    monkeypatch.setattr(interactions._RatingColumns, "graph", slow_build)
    edges = PositiveEdges.of_ratings(frame, users, items)
    builder = threading.Thread(target=lambda: edges.graph)
    builder.start()
    assert building.wait(10)
    got = []
    reader = threading.Thread(target=lambda: got.append(edges.user_items(0)))
    reader.start()
    reader.join(2)
    release.set()
    builder.join(10)
    assert got, "the lookup waited for the build"
    first, last = np.searchsorted(edges.graph.users, [0, 1])
    assert np.array_equal(got[0], edges.graph.items[first:last])
