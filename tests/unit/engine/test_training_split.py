"""`train_on_pairs` early-stops on the split it is given (a benchmark's validation shaped like
its test split) instead of its random per-user one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.lightgcn.training import train_on_pairs
from tui_recommender.engine.train_config import TrainConfig

CONFIG = TrainConfig(
    dim=8, n_layers=1, lr=0.05, reg=1e-3, user_batch=8, max_epochs=2, eval_every=1, seed=3, loss="full_softmax"
)


def pairs_and_maps() -> tuple[pd.DataFrame, IdMap, IdMap]:
    """12 users with 6 positives each among 20 movies (every user enters the random split)."""
    rng = np.random.default_rng(0)
    rows = [(user, int(item)) for user in range(12) for item in rng.choice(20, size=6, replace=False)]
    pairs = pd.DataFrame(rows, columns=["userId", "movieId"])
    return pairs, IdMap(np.arange(12)), IdMap(np.arange(20))


def test_the_given_split_chooses_what_is_held_out_and_gets_the_seed():
    pairs, users, items = pairs_and_maps()
    calls = []

    def first_pair_of_each_user(given: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        calls.append((len(given), seed))
        held = given.groupby("userId").cumcount().to_numpy() == 0
        return given[~held], given[held]

    result = train_on_pairs(pairs, users, items, CONFIG, split=first_pair_of_each_user)
    assert calls == [(len(pairs), CONFIG.seed + 1)]
    assert result.validation_epochs == 2 and "recall@20" in result.val_metrics


def test_a_split_that_holds_nothing_out_trains_without_validation():
    pairs, users, items = pairs_and_maps()
    assert train_on_pairs(pairs, users, items, CONFIG).val_metrics  # the random split holds some out

    result = train_on_pairs(pairs, users, items, CONFIG, split=lambda given, seed: (given, given.iloc[:0]))
    assert result.val_metrics == {} and result.validation_epochs == 0 and result.epochs == CONFIG.max_epochs
