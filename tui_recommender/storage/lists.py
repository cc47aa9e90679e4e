"""Each user's watchlist and "not interested" list, kept in the ratings store's marks log.

No copy in memory: the lists are small and read by SQL on each call, so the store's one
lock is all the thread safety they need. A movie is on at most one of the two lists, and
a rating settles it: rating a movie takes it off both."""

from __future__ import annotations

import time

import pandas as pd

from tui_recommender.core.list_names import NOT_INTERESTED
from tui_recommender.storage.database import MARK_COLUMNS, RatingsStore


class UserLists:
    def __init__(self, store: RatingsStore, movies: pd.Index | None = None) -> None:
        """`movies`: the dataset's movie ids (unique); marks of other movies are left out (None: keep all)."""
        self.store = store
        self._movies = movies

    def _marks(self, user_id: int | None = None) -> pd.DataFrame:
        marks = self.store.marks(user_id)
        # the index's own lookup table, built once: `isin` hashes all 87,585 ids at every call (1 ms)
        return marks if self._movies is None else marks[self._movies.get_indexer(marks["movieId"]) >= 0]

    def of(self, user_id: int, list_name: str) -> list[tuple[int, int]]:
        """(movie id, seconds when it was put on the list) per movie on the user's list,
        newest first."""
        marks = self._marks(user_id)
        marks = marks[marks["list"] == list_name].iloc[::-1]
        return list(zip(marks["movieId"].tolist(), marks["timestamp"].tolist()))

    def movies(self, user_id: int, list_name: str) -> set[int]:
        return {movie for movie, _ in self.of(user_id, list_name)}

    def lists_of(self, user_id: int, movie_id: int) -> set[str]:
        """The lists `movie_id` is on for the user (empty, or one name)."""
        marks = self.store.marks(user_id)
        return set(marks.loc[marks["movieId"] == movie_id, "list"].tolist())

    def put(self, user_id: int, movie_id: int, list_name: str) -> None:
        """Put the movie on `list_name`, off the other list, in one durable transaction."""
        now = int(time.time())
        rows = [(user_id, movie_id, other, False, now) for other in self.lists_of(user_id, movie_id) - {list_name}]
        rows.append((user_id, movie_id, list_name, True, now))
        self._write(rows)

    def take_off(self, user_id: int, movie_id: int, list_name: str) -> bool:
        """Take the movie off `list_name`; False (and nothing written) if it was not on it."""
        if list_name not in self.lists_of(user_id, movie_id):
            return False
        self._write([(user_id, movie_id, list_name, False, int(time.time()))])
        return True

    def settle(self, user_id: int, movie_id: int) -> None:
        """The user rated the movie: take it off whichever list it is on."""
        now = int(time.time())
        self._write([(user_id, movie_id, name, False, now) for name in self.lists_of(user_id, movie_id)])

    def with_settled(self, ratings: pd.DataFrame, marks: pd.DataFrame) -> pd.DataFrame:
        """`marks` (columns `MARK_COLUMNS`) after one taking each rated movie of
        `ratings` (userId, movieId, ...) off the list it is on: to store with them."""
        listed = self.store.marks()[["userId", "movieId", "list"]]
        settle = ratings[["userId", "movieId"]].merge(listed, on=["userId", "movieId"])
        if settle.empty:
            return marks
        settle = settle.assign(added=False, timestamp=int(time.time()))[list(MARK_COLUMNS)]
        return pd.concat([settle, marks.astype(settle.dtypes.to_dict())], ignore_index=True)

    def not_interested(self) -> pd.DataFrame:
        """Every user's "not interested" movies: columns userId, movieId (int64)."""
        marks = self._marks()
        return marks.loc[marks["list"] == NOT_INTERESTED, ["userId", "movieId"]].reset_index(drop=True)

    def _write(self, rows: list[tuple[int, int, str, bool, int]]) -> None:
        if rows:
            self.store.put_marks(pd.DataFrame(rows, columns=list(MARK_COLUMNS)))
