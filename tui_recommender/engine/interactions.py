"""From ratings to the model's view of them: raw id <-> row maps for users and movies and
the graph of positive ratings (>= 3 stars)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
from tui_recommender.engine.graph import InteractionGraph, sorted_distinct
from tui_recommender.engine.id_map import IdMap

CHUNK_ROWS = 1 << 20  # ratings read at once: small buffers, reused, instead of 26M-entry temporaries


@dataclass
class Interactions:
    users: IdMap
    items: IdMap
    graph: InteractionGraph

    @classmethod
    def build(
        cls,
        ratings: pd.DataFrame,
        movie_ids: np.ndarray,
        user_ids: np.ndarray | None = None,
        threshold: float = POSITIVE_THRESHOLD,
    ) -> Interactions:
        """Maps and positive graph for `ratings` over every movie in `movie_ids`. Users are
        `user_ids` (e.g. a checkpoint's, keeping its row order) followed by any other user
        in `ratings`, in increasing id order."""
        users, items = user_map(ratings, user_ids), IdMap(movie_ids)
        return cls(users, items, PositiveEdges.of_ratings(ratings, users, items, threshold).graph)


def user_map(ratings: pd.DataFrame, user_ids: np.ndarray | None = None) -> IdMap:
    """`user_ids` (a checkpoint's, keeping its row order) followed by every other user of
    `ratings`, in increasing id order."""
    known = np.asarray(user_ids if user_ids is not None else [], dtype=np.int64)
    others = sorted_distinct(ratings["userId"].to_numpy())  # np.setdiff1d's own np.unique is slow here
    return IdMap(np.concatenate([known, np.setdiff1d(others, known, assume_unique=True)]))


class PositiveEdges:
    """The graph of the positive ratings (`InteractionGraph`), built at its first use where
    the ratings come sorted by user, as GroupLens files and the merged ratings do: a list
    needs only each movie's positive count, and a rating one user's positives, both read
    from the sorted columns. At ml-32m the graph's two 26M-entry index arrays took 1.4 of
    the 2.8 s of a CLI `recommend` that never used them. Thread-safe."""

    def __init__(
        self, n_users: int, n_items: int, graph: InteractionGraph | None, source: _RatingColumns | None
    ) -> None:
        """Use `built` or `of_ratings`."""
        self.n_users, self.n_items = n_users, n_items
        self._graph, self._source = graph, source
        self._lock = threading.Lock()  # held only to read or swap the two fields
        self._building = threading.Lock()  # one build at a time; readers go on with the columns
        self._counts: np.ndarray | None = None

    @classmethod
    def built(cls, graph: InteractionGraph) -> PositiveEdges:
        """The edges of a graph already built."""
        return cls(graph.n_users, graph.n_items, graph, None)

    @classmethod
    def of_ratings(
        cls, ratings: pd.DataFrame, users: IdMap, items: IdMap, threshold: float = POSITIVE_THRESHOLD
    ) -> PositiveEdges:
        """The edges of the `ratings` of `threshold` stars or more (one rating per user and
        movie, as the loader and `merge_ratings` give them), every user and movie in the maps
        (`users` may grow later: its rows never move). Ratings not sorted by user (no binary
        search) are built into the graph at once."""
        columns = (ratings[name].to_numpy() for name in ("userId", "movieId", "rating"))
        source = _RatingColumns(*columns, users, items, threshold)
        if not (source.user_ids[1:] < source.user_ids[:-1]).any():  # a bool temporary, not an int64 one
            return cls(len(users), len(items), None, source)
        return cls.built(source.graph(len(users), len(items)))

    @property
    def graph(self) -> InteractionGraph:
        """The graph, built at the first call (then the ratings' columns are let go)."""
        with self._building:
            if self._graph is None:
                graph = self._source.graph(self.n_users, self.n_items)  # a second at ml-32m
                with self._lock:
                    self._graph, self._source = graph, None
        return self._graph

    def user_items(self, user: int) -> np.ndarray:
        """Item rows of user row `user` (none beyond `n_users`), sorted."""
        with self._lock:
            graph, source = self._graph, self._source
        if user >= self.n_users:
            return np.zeros(0, dtype=np.int64)
        if graph is None:
            return source.user_items(user)
        first, last = np.searchsorted(graph.users, [user, user + 1])
        return graph.items[first:last]

    def item_counts(self) -> np.ndarray:
        """Positive ratings per item row (int64), counted at the first call."""
        with self._building:  # not twice at once, and from the graph if it is being built
            if self._counts is None:
                if self._graph is not None:
                    counts = np.bincount(self._graph.items, minlength=self.n_items)
                else:
                    counts = np.zeros(self.n_items, dtype=np.int64)
                    for _users, items in self._source.chunks(with_users=False):
                        counts += np.bincount(items, minlength=self.n_items)
                self._counts = counts
            return self._counts


@dataclass
class _RatingColumns:
    """The userId, movieId and rating columns of ratings, read `CHUNK_ROWS` rows at a time;
    `user_items` needs them sorted by user."""

    user_ids: np.ndarray
    movie_ids: np.ndarray
    stars: np.ndarray
    users: IdMap
    items: IdMap
    threshold: float

    def user_items(self, user: int) -> np.ndarray:
        """Positive item rows of user row `user`, sorted."""
        raw = self.users.raw_ids[user]
        first, last = np.searchsorted(self.user_ids, [raw, raw + 1])
        return np.sort(self.items.indices(self.movie_ids[first:last][self.stars[first:last] >= self.threshold]))

    def chunks(self, with_users: bool) -> Iterator[tuple[np.ndarray | None, np.ndarray]]:
        """(user rows, or None without `with_users`; item rows) of the positive ratings, a chunk at a time."""
        for start in range(0, len(self.stars), CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            positive = self.stars[rows] >= self.threshold
            found = self.users.indices(self.user_ids[rows][positive]) if with_users else None
            yield found, self.items.indices(self.movie_ids[rows][positive])

    def graph(self, n_users: int, n_items: int) -> InteractionGraph:
        """The positive graph, filled a chunk at a time (no 26M-entry temporaries)."""
        n_edges = sum(
            int(np.count_nonzero(self.stars[start : start + CHUNK_ROWS] >= self.threshold))
            for start in range(0, len(self.stars), CHUNK_ROWS)
        )
        user_rows, item_rows = np.empty(n_edges, np.int64), np.empty(n_edges, np.int64)
        done = 0
        for users, items in self.chunks(with_users=True):
            user_rows[done : done + len(items)], item_rows[done : done + len(items)] = users, items
            done += len(items)
        return InteractionGraph.from_pairs(n_users, n_items, user_rows, item_rows)


def pairs_graph(pairs: pd.DataFrame, users: IdMap, items: IdMap) -> InteractionGraph:
    """The graph of the (userId, movieId) rows of `pairs` (raw ids, all in the maps)."""
    return InteractionGraph.from_pairs(
        len(users), len(items), users.indices(pairs["userId"]), items.indices(pairs["movieId"])
    )
