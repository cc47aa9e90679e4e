"""The watchlist and the "not interested" list over the store's marks: a movie is on at
most one list, a rating settles it, and marks of movies the dataset lacks are left out."""

from __future__ import annotations

import pandas as pd

from tui_recommender.core.list_names import NOT_INTERESTED, WATCHLIST
from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.export_files import ratings_frame
from tui_recommender.storage.lists import UserLists


def test_putting_a_movie_on_one_list_takes_it_off_the_other(store: RatingsStore) -> None:
    lists = UserLists(store)
    lists.put(1, 10, WATCHLIST)
    lists.put(1, 10, NOT_INTERESTED)
    assert lists.lists_of(1, 10) == {NOT_INTERESTED}
    assert lists.movies(1, WATCHLIST) == set() and lists.movies(1, NOT_INTERESTED) == {10}


def test_taking_off_says_whether_the_movie_was_on_the_list(store: RatingsStore) -> None:
    lists = UserLists(store)
    lists.put(1, 10, WATCHLIST)
    assert lists.take_off(1, 10, WATCHLIST) is True
    seq = len(store.marks())
    assert lists.take_off(1, 10, WATCHLIST) is False
    assert len(store.marks()) == seq == 0  # nothing was written for a movie that was not on it


def test_a_list_is_newest_first_and_per_user(store: RatingsStore) -> None:
    lists = UserLists(store)
    for movie in (10, 20, 30):
        lists.put(1, movie, WATCHLIST)
    lists.put(2, 40, WATCHLIST)
    assert [movie for movie, _ in lists.of(1, WATCHLIST)] == [30, 20, 10]
    assert [movie for movie, _ in lists.of(2, WATCHLIST)] == [40]


def test_rating_a_movie_settles_it(store: RatingsStore) -> None:
    lists = UserLists(store)
    lists.put(1, 10, NOT_INTERESTED)
    lists.settle(1, 10)
    assert lists.lists_of(1, 10) == set()


def test_an_import_takes_its_rated_movies_off_the_lists(store: RatingsStore) -> None:
    lists = UserLists(store)
    lists.put(1, 10, WATCHLIST)
    lists.put(1, 20, NOT_INTERESTED)
    no_marks = pd.DataFrame(columns=["userId", "movieId", "list", "added", "timestamp"])
    marks = lists.with_settled(ratings_frame([(1, 10, 4.0, 5)]), no_marks)
    store.put_many(ratings_frame([(1, 10, 4.0, 5)]), marks)
    assert lists.lists_of(1, 10) == set() and lists.lists_of(1, 20) == {NOT_INTERESTED}


def test_marks_of_movies_the_dataset_lacks_are_left_out(store: RatingsStore) -> None:
    UserLists(store).put(1, 999, NOT_INTERESTED)
    UserLists(store).put(1, 10, NOT_INTERESTED)
    lists = UserLists(store, pd.Index([10, 20]))
    assert lists.movies(1, NOT_INTERESTED) == {10}
    assert lists.not_interested().to_dict("list") == {"userId": [1], "movieId": [10]}
