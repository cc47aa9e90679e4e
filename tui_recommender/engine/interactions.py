"""From ratings to the model's view of them: raw id <-> row maps for users and movies and
the graph of positive ratings (>= 3 stars)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
from tui_recommender.engine.graph import InteractionGraph, sorted_distinct
from tui_recommender.engine.id_map import IdMap


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
        known = np.asarray(user_ids if user_ids is not None else [], dtype=np.int64)
        others = sorted_distinct(ratings["userId"].to_numpy())  # np.setdiff1d's own np.unique is slow here
        users = IdMap(np.concatenate([known, np.setdiff1d(others, known, assume_unique=True)]))
        items = IdMap(movie_ids)
        positive = ratings["rating"].to_numpy() >= threshold  # the columns masked, not the whole frame copied
        graph = InteractionGraph.from_pairs(
            len(users),
            len(items),
            users.indices(ratings["userId"].to_numpy()[positive]),
            items.indices(ratings["movieId"].to_numpy()[positive]),
        )
        return cls(users, items, graph)


def pairs_graph(pairs: pd.DataFrame, users: IdMap, items: IdMap) -> InteractionGraph:
    """The graph of the (userId, movieId) rows of `pairs` (raw ids, all in the maps)."""
    return InteractionGraph.from_pairs(
        len(users), len(items), users.indices(pairs["userId"]), items.indices(pairs["movieId"])
    )
