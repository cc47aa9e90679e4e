"""The per-user random split of positive pairs: round(20%) of each user with 5 or more in
test, disjoint, deterministic in the seed, random within a user."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_recommender.data.movielens import load_dataset
from tui_recommender.engine.evaluation import positives
from tui_recommender.engine.split import split_per_user

# positives per user -> round(20%) in test; users under 5 keep everything in train.
COUNTS = {1: 10, 2: 4, 3: 7, 4: 5, 5: 13, 6: 1, 7: 23, 8: 8}


EXPECTED_TEST = {1: 2, 2: 0, 3: 1, 4: 1, 5: 3, 6: 0, 7: 5, 8: 2}


def pairs_frame(counts: dict[int, int] = COUNTS) -> pd.DataFrame:
    rows = [(user, 100 * user + k * 7) for user, n in counts.items() for k in range(n)]
    return pd.DataFrame(rows, columns=["userId", "movieId"])


def as_set(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame["userId"].tolist(), frame["movieId"].tolist()))


def test_split_sizes_per_user():
    train, test = split_per_user(pairs_frame())
    assert test.groupby("userId").size().reindex(list(COUNTS), fill_value=0).to_dict() == EXPECTED_TEST
    assert train.groupby("userId").size().to_dict() == {u: COUNTS[u] - EXPECTED_TEST[u] for u in COUNTS}


def test_split_is_disjoint_and_covers_the_input():
    pairs = pairs_frame()
    train, test = split_per_user(pairs)
    assert not as_set(train) & as_set(test)
    assert as_set(train) | as_set(test) == as_set(pairs)
    assert len(train) + len(test) == len(pairs)


def test_split_is_deterministic_and_independent_of_row_order():
    pairs = pairs_frame()
    train_a, test_a = split_per_user(pairs, seed=0)
    train_b, test_b = split_per_user(pairs.sample(frac=1.0, random_state=3), seed=0)
    assert as_set(test_a) == as_set(test_b) and as_set(train_a) == as_set(train_b)
    pd.testing.assert_frame_equal(test_a, split_per_user(pairs, seed=0)[1])
    others = [as_set(split_per_user(pairs, seed=s)[1]) for s in range(1, 6)]
    assert any(other != as_set(test_a) for other in others), "the seed must change which pairs are held out"


def test_split_picks_test_items_at_random_within_a_user():
    pairs = pairs_frame({1: 50})
    chosen = [as_set(split_per_user(pairs, seed=s)[1]) for s in range(20)]
    assert all(len(c) == 10 for c in chosen)
    # Not always the first / last movies in id order.
    assert len(set().union(*chosen)) > 30


@pytest.mark.realdata
def test_real_data_split_sizes_are_stable(ml_latest_small):
    data = load_dataset(ml_latest_small)
    pairs = positives(data.ratings)
    assert len(pairs) == 81_763
    train, test = split_per_user(pairs)
    per_user = pairs.groupby("userId").size()
    expected_test = int(np.where(per_user >= 5, np.round(per_user * 0.2), 0).sum())
    assert len(test) == expected_test == 16_349
    assert len(train) == 65_414
    assert test["userId"].nunique() == 608
    again_train, again_test = split_per_user(pairs)
    pd.testing.assert_frame_equal(test, again_test)
    pd.testing.assert_frame_equal(train, again_train)
