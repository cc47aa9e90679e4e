"""The evaluation protocol's positives: ratings at or above three stars (the split: test_split)."""

from __future__ import annotations

import pandas as pd

from tui_recommender.engine.evaluation import positives


def as_set(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame["userId"].tolist(), frame["movieId"].tolist()))


def test_positives_keeps_ratings_at_or_above_three_stars():
    ratings = pd.DataFrame(
        {
            "userId": [1, 1, 1, 2, 2],
            "movieId": [10, 20, 30, 10, 40],
            "rating": [2.5, 3.0, 5.0, 0.5, 3.5],
            "timestamp": [0] * 5,
        }
    )
    assert as_set(positives(ratings)) == {(1, 20), (1, 30), (2, 40)}
