"""The per-user random split of positive (userId, movieId) pairs, shared by the evaluation
protocol (test split, docs/PROTOCOL.md) and training (validation split for early stopping)."""

from __future__ import annotations

import numpy as np
import pandas as pd

TEST_FRACTION = 0.2
MIN_POSITIVES_FOR_TEST = 5
SPLIT_SEED = 0
VALIDATION_FRACTION = 0.1  # of each user's training positives, to choose hyperparameters on


def split_per_user(
    pairs: pd.DataFrame,
    fraction: float = TEST_FRACTION,
    min_count: int = MIN_POSITIVES_FOR_TEST,
    seed: int = SPLIT_SEED,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): for each user with >= `min_count` rows, a random `fraction` of them
    (rounded) goes to test; other users keep everything in train. Deterministic in `seed`."""
    pairs = pairs.sort_values(["userId", "movieId"], kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    shuffled = pairs.assign(_key=rng.random(len(pairs))).sort_values(["userId", "_key"], kind="stable")
    rank = shuffled.groupby("userId").cumcount().to_numpy()
    count = shuffled.groupby("userId")["movieId"].transform("size").to_numpy()
    n_test = np.where(count >= min_count, np.round(count * fraction), 0)
    is_test = pd.Series(rank < n_test, index=shuffled.index).reindex(pairs.index).to_numpy()
    return pairs[~is_test].reset_index(drop=True), pairs[is_test].reset_index(drop=True)
