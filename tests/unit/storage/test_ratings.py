"""UserRatings: every user's current ratings in memory over the store, profiles, and the
liked movies of a user."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_recommender.core.errors import UnknownUserError, UserError
from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.export_files import ratings_frame
from tui_recommender.storage.overlay import merge_ratings
from tui_recommender.storage.ratings import UserRatings, liked_movies

NO_MARKS = pd.DataFrame(columns=["userId", "movieId", "list", "added", "timestamp"])


@pytest.fixture
def ratings(store: RatingsStore) -> UserRatings:
    return UserRatings(store, ratings_frame([(1, 10, 4.0, 100), (1, 20, 2.0, 101), (5, 10, 3.0, 102)]), "ml-test")


def test_a_user_reads_their_ratings_as_a_copy(ratings: UserRatings) -> None:
    mine = ratings.of(1)
    assert mine == {10: (4.0, 100), 20: (2.0, 101)}
    mine.clear()
    assert len(ratings.of(1)) == 2


def test_an_unknown_user_needs_a_profile_first(ratings: UserRatings) -> None:
    with pytest.raises(UnknownUserError, match="user 9 is not in ml-test; create a profile first"):
        ratings.of(9)
    assert ratings.create() == 6  # the next ID after every known user's
    assert ratings.of(6) == {} and ratings.exists(6)


def test_a_rating_is_durable_before_it_is_visible(ratings: UserRatings, store: RatingsStore) -> None:
    ratings.put(1, 30, 5.0, timestamp=200)
    assert ratings.of(1)[30] == (5.0, 200)
    assert store.latest()[["userId", "movieId", "rating"]].values.tolist() == [[1, 30, 5.0]]


def test_removing_a_rating_the_user_never_made_is_refused(ratings: UserRatings) -> None:
    with pytest.raises(UserError, match="user 1 has not rated movie 30"):
        ratings.remove(1, 30)
    ratings.remove(1, 20)
    assert 20 not in ratings.of(1)


def test_an_import_with_a_removal_applies_in_order(ratings: UserRatings) -> None:
    ratings.put_many(ratings_frame([(1, 10, np.nan, 300), (1, 30, 3.5, 301), (7, 10, 4.5, 302)]), NO_MARKS)
    assert ratings.of(1) == {20: (2.0, 101), 30: (3.5, 301)}
    assert ratings.of(7) == {10: (4.5, 302)}


def test_liked_movies_are_those_at_or_above_the_threshold() -> None:
    liked = liked_movies({10: (3.0, 0), 20: (2.5, 0), 30: (5.0, 0)}, 3.0)
    assert liked.dtype == np.int64 and sorted(liked.tolist()) == [10, 30]


def _by_dict(rows: list[tuple[int, int, float, int]]) -> dict[int, dict[int, tuple[float, int]]]:
    """What each user's ratings are: the last row of a (user, movie) wins."""
    expected: dict[int, dict[int, tuple[float, int]]] = {}
    for user, movie, stars, stamp in rows:
        expected.setdefault(user, {})[movie] = (stars, stamp)
    return expected


@pytest.mark.parametrize("tail", [2, 40], ids=["short unsorted tail", "mostly unsorted"])
def test_ratings_sorted_by_user_then_any_order_read_the_same(store: RatingsStore, tail: int) -> None:
    # A merged frame: the dataset's rows sorted by user, then stored ratings in any order
    # (read row by row when few, sorted when many).
    rng = np.random.default_rng(tail)
    head = [(u, m, 3.0, 100 + m) for u in range(1, 9) for m in range(10, 60, 10)]
    rest = [(int(u), int(m), 4.5, 500 + k) for k, (u, m) in enumerate(rng.integers(1, 12, (tail, 2)) * [1, 10])]
    rows = head + rest
    built = UserRatings(store, ratings_frame(rows), "ml-test")
    expected = _by_dict(rows)
    assert all(built.of(user) == ratings for user, ratings in expected.items())
    assert not built.exists(99) and built.next_user_id() == max(expected) + 1


def test_a_user_whose_every_rating_was_removed_still_exists(ratings: UserRatings) -> None:
    ratings.remove(5, 10)
    assert ratings.exists(5) and ratings.of(5) == {}
    with pytest.raises(UserError, match="user 5 has not rated movie 10"):
        ratings.remove(5, 10)


@pytest.mark.parametrize("seed", range(3))
def test_stored_events_laid_over_the_dataset_read_as_the_merged_ratings(store: RatingsStore, seed: int) -> None:
    rng = np.random.default_rng(seed)
    base_rows = sorted(
        {(int(u), int(m) * 10): float(rng.integers(1, 11)) / 2 for u, m in rng.integers(1, 20, (150, 2))}.items()
    )
    base = ratings_frame([(u, m, r, 100) for (u, m), r in base_rows])
    events = ratings_frame(
        [
            (int(u), int(m) * 10, np.nan if rng.random() < 0.3 else float(rng.integers(1, 11)) / 2, 200 + k)
            for k, (u, m) in enumerate(rng.integers(1, 25, (60, 2)))
        ]
    )
    laid_over = UserRatings(store, base, "ml-test", stored=events)
    merged = UserRatings(store, merge_ratings(base, events), "ml-test")
    for user in range(1, 26):
        assert laid_over.exists(user) >= merged.exists(user)  # a user whose every rating went still exists
        if merged.exists(user):
            assert laid_over.of(user) == merged.of(user)
        elif laid_over.exists(user):
            assert laid_over.of(user) == {}
