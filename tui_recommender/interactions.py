"""From ratings to the model's view of them: raw id <-> row maps for users and movies and
the graph of positive ratings (>= 3 stars)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tui_recommender.graph import POSITIVE_THRESHOLD, InteractionGraph
from tui_recommender.id_map import IdMap


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
    ) -> "Interactions":
        """Maps and positive graph for `ratings` over every movie in `movie_ids`. Users are
        `user_ids` (e.g. a checkpoint's, keeping its row order) followed by any other user
        in `ratings`, in increasing id order."""
        users = IdMap(user_ids if user_ids is not None else np.empty(0, dtype=np.int64))
        extra = np.setdiff1d(ratings["userId"].unique(), users.raw_ids)
        users = IdMap(np.concatenate([users.raw_ids, extra]))
        items = IdMap(movie_ids)
        pos = ratings[ratings["rating"] >= threshold]
        graph = InteractionGraph.from_pairs(
            len(users), len(items), users.indices(pos["userId"]), items.indices(pos["movieId"])
        )
        return cls(users, items, graph)
