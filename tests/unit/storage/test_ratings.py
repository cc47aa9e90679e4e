"""UserRatings: every user's current ratings in memory over the store, profiles, and the
liked movies of a user."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_recommender.core.errors import UnknownUserError, UserError
from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.export_files import ratings_frame
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
