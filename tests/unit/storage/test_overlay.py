"""merge_ratings: the store's events over the dataset's ratings (a removal hides, a change
replaces), against a naive reference and at dataset scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.export_files import ratings_frame
from tui_recommender.storage.overlay import merge_ratings


def replayed(base_rows: list[tuple], event_rows: list[tuple]) -> dict[tuple, tuple]:
    """The naive reference: (user, movie) -> (rating, timestamp) after applying each event in
    order to the base rows (a NaN rating removes the pair)."""
    expected = {(u, m): (r, t) for u, m, r, t in base_rows}
    for u, m, r, t in event_rows:
        if np.isnan(r):
            expected.pop((u, m), None)
        else:
            expected[(u, m)] = (r, t)
    return expected


def test_merge_removal_hides_and_change_replaces_base_rating() -> None:
    base = ratings_frame([(1, 10, 4.0, 100), (1, 20, 3.0, 101), (2, 10, 5.0, 102)])
    events = ratings_frame([(1, 10, np.nan, 200), (2, 10, 1.5, 201), (3, 30, 2.5, 202)])
    merged = merge_ratings(base, events)
    assert merged.dtypes.equals(base.dtypes)
    assert sorted(map(tuple, merged.to_numpy().tolist())) == [
        (1, 20, 3.0, 101),
        (2, 10, 1.5, 201),
        (3, 30, 2.5, 202),
    ]
    assert base.shape == (3, 4), "the base frame is not modified"


def test_merge_with_no_events_is_the_base(store: RatingsStore) -> None:
    base = ratings_frame([(1, 10, 4.0, 100), (2, 20, 3.0, 101)])
    merged = merge_ratings(base, store.events())
    pd.testing.assert_frame_equal(merged, base)


@pytest.mark.parametrize("seed", range(5))
def test_merge_matches_a_naive_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = {(int(u), int(m)) for u, m in rng.integers(1, 30, size=(400, 2))}
    base_rows = [(u, m, float(rng.integers(1, 11)) / 2, int(rng.integers(1e6))) for u, m in keys]
    event_rows = []
    for _ in range(300):
        u, m = (int(v) for v in rng.integers(1, 35, size=2))
        rating = np.nan if rng.random() < 0.25 else float(rng.integers(1, 11)) / 2
        event_rows.append((u, m, rating, int(rng.integers(1e6))))

    expected = replayed(base_rows, event_rows)

    base = ratings_frame(base_rows)
    merged = merge_ratings(base, ratings_frame(event_rows))
    assert merged.dtypes.equals(base.dtypes)
    got = {(u, m): (r, t) for u, m, r, t in merged.itertuples(index=False)}
    assert len(got) == len(merged), "one row per (user, movie)"
    assert got == expected


def test_merge_at_dataset_scale_drops_exactly_the_removed_rows() -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    base = pd.DataFrame(
        {
            "userId": rng.integers(1, 611, n).astype(np.int64),
            "movieId": np.arange(n, dtype=np.int64),
            "rating": np.full(n, 3.5, dtype=np.float32),
            "timestamp": np.zeros(n, dtype=np.int64),
        }
    )
    events = base.sample(5_000, random_state=0).assign(rating=np.float32(np.nan))
    merged = merge_ratings(base, events)
    assert len(merged) == n - 5_000
    assert not set(merged["movieId"].tolist()) & set(events["movieId"].tolist())
    assert merged.dtypes.equals(base.dtypes)


def test_merge_of_some_columns_is_those_of_the_whole_merge() -> None:
    base = ratings_frame([(1, 10, 4.0, 100), (1, 20, 3.0, 101), (2, 10, 5.0, 102)])
    events = ratings_frame([(1, 10, np.nan, 200), (2, 10, 1.5, 201), (3, 30, 2.5, 202)])
    some = merge_ratings(base, events, ("userId", "movieId", "rating"))
    pd.testing.assert_frame_equal(some, merge_ratings(base, events)[["userId", "movieId", "rating"]])


@pytest.mark.parametrize("seed", range(4))
def test_over_ratings_sorted_by_user_and_movie_the_merge_stays_sorted(seed: int) -> None:
    # As GroupLens files come: the stored ratings go in their places (the graph then needs
    # no sort), and the merge is the naive one all the same.
    rng = np.random.default_rng(seed)
    keys = sorted({(int(u), int(m)) for u, m in rng.integers(1, 30, size=(300, 2))})
    base_rows = [(u, m, float(rng.integers(1, 11)) / 2, 100) for u, m in keys]
    event_rows = [
        (int(u), int(m), np.nan if rng.random() < 0.25 else float(rng.integers(1, 11)) / 2, 200 + k)
        for k, (u, m) in enumerate(rng.integers(1, 35, size=(80, 2)))
    ]
    expected = replayed(base_rows, event_rows)
    merged = merge_ratings(ratings_frame(base_rows), ratings_frame(event_rows))
    pairs = list(zip(merged["userId"].tolist(), merged["movieId"].tolist()))
    assert pairs == sorted(expected)
    assert {(u, m): (r, t) for u, m, r, t in merged.itertuples(index=False)} == expected


@pytest.mark.parametrize("ordered", [True, False])
def test_the_merge_makes_each_column_once(ordered: bool) -> None:
    """A few stored ratings over many: each merged column is one new array, not a copy
    without the replaced rows and then one with the stored ones (at ml-32m the app held
    1 GB more while it merged)."""
    import tracemalloc

    n = 400_000
    users = np.repeat(np.arange(1, 4_001, dtype=np.int64), n // 4_000)
    base = pd.DataFrame(
        {
            "userId": users if ordered else users[::-1].copy(),
            "movieId": np.tile(np.arange(1, n // 4_000 + 1, dtype=np.int64), 4_000),
            "rating": np.full(n, 3.5, dtype=np.float32),
            "timestamp": np.zeros(n, dtype=np.int64),
        }
    )
    events = ratings_frame([(7, 3, 5.0, 1), (9, 1_000, 4.0, 2), (10, 5, np.nan, 3), (5_000, 1, 2.0, 4)])
    merge_ratings(base, events)  # imports and caches out of the count
    tracemalloc.start()
    merged = merge_ratings(base, events)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(merged) == n + 1  # one replaced, one added, one removed, a new user's added
    assert peak < 1.2 * sum(merged[name].to_numpy().nbytes for name in merged)
