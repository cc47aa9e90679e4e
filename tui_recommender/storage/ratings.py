"""Every user's current ratings (the dataset's with the stored ones laid over them) and the
registered profiles, kept in memory and in the ratings store.

At full size (ml-32m: 32M ratings) a dict per user would take minutes and gigabytes to
build, so the ratings are kept as columns sorted by user (views of the merged frame where
it is sorted), and only the users whose ratings changed since the start get a dict.

One lock covers both the store write and the in-memory change, so a reader never sees a
rating the store does not hold, and two writers cannot interleave the two halves."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pandas as pd

from tui_recommender.core.errors import UnknownUserError, UserError
from tui_recommender.core.ids import parse_id
from tui_recommender.data.movielens import RATINGS_COLUMNS
from tui_recommender.storage.database import RatingsStore

Ratings = dict[int, tuple[float, int]]  # movie id -> (stars, timestamp in seconds)
UNSORTED_SHARE = 8  # an unsorted tail up to 1/this of the rows is read row by row, a longer one sorted


class UserRatings:
    """Built from the dataset's `ratings` with the store's events `stored` (seq order, as
    `RatingsStore.events()`; a NaN rating removes) laid over them, or from ratings already
    merged (`merge_ratings`). Given apart, the dataset's columns are kept without a copy."""

    def __init__(
        self, store: RatingsStore, ratings: pd.DataFrame, dataset_name: str, stored: pd.DataFrame | None = None
    ) -> None:
        self.store = store
        self.dataset_name = dataset_name
        self._lock = threading.Lock()
        users = ratings["userId"].to_numpy()
        columns = [users, ratings["movieId"].to_numpy(), ratings["rating"].to_numpy(), ratings["timestamp"].to_numpy()]
        sorted_rows = _sorted_prefix(users)
        if len(users) - sorted_rows > len(users) // UNSORTED_SHARE:
            order = np.argsort(users, kind="stable")
            columns, sorted_rows = [column[order] for column in columns], len(users)
        tail = [column[sorted_rows:] for column in columns]
        if stored is not None:
            tail = [np.concatenate([rows, stored[name].to_numpy()]) for rows, name in zip(tail, RATINGS_COLUMNS)]
        users, self._movies, self._stars, self._stamps = (column[:sorted_rows] for column in columns)
        starts = np.flatnonzero(np.concatenate(([True], users[1:] != users[:-1]))) if len(users) else np.zeros(0, int)
        self._ids = users[starts]  # each user once, increasing
        self._starts = np.append(starts, len(users))  # user k's rows: starts[k]:starts[k + 1]
        self._edited: dict[int, Ratings] = {}  # every rating of a user changed since the start
        for user, movie, stars, stamp in zip(*(column.tolist() for column in tail), strict=True):
            self._apply(user, movie, stars, stamp)
        self._profiles = set(store.users())

    def exists(self, user_id: int) -> bool:
        with self._lock:
            return self._rated(user_id) or user_id in self._profiles

    def next_user_id(self) -> int:
        """The smallest ID greater than every known user's."""
        with self._lock:
            return self._next_id()

    def create(self, user_id: object | None = None) -> int:
        """Register a new (empty) profile durably, under `user_id` or the next free ID."""
        with self._lock:
            new_id = self._next_id() if user_id is None else parse_id(user_id, "user ID")
            self.store.add_user(new_id)
            self._profiles.add(new_id)
        return new_id

    def of(self, user_id: int) -> Ratings:
        """A copy of the user's ratings; `UnknownUserError` for a user with no profile."""
        with self._lock:
            if not self._rated(user_id) and user_id not in self._profiles:
                raise UnknownUserError(f"user {user_id} is not in {self.dataset_name}; create a profile first")
            return dict(self._edited[user_id]) if user_id in self._edited else self._dataset_ratings(user_id)

    def put(self, user_id: int, movie_id: int, stars: float, timestamp: int | None = None) -> None:
        """Store a checked rating durably, then make it visible to readers; `timestamp`
        (seconds) defaults to now."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        with self._lock:
            self.store.put(user_id, movie_id, stars, timestamp)
            self._editable(user_id)[movie_id] = (stars, timestamp)

    def put_many(self, ratings: pd.DataFrame, marks: pd.DataFrame) -> None:
        """Store checked `ratings` (columns as `RatingsStore.put_many`) and list `marks` in
        one transaction, all or nothing, then make them visible to readers."""
        with self._lock:
            self.store.put_many(ratings, marks)
            rows = zip(
                ratings["userId"].tolist(),
                ratings["movieId"].tolist(),
                ratings["rating"].tolist(),
                ratings["timestamp"].tolist(),
            )
            for user, movie, stars, timestamp in rows:
                self._apply(user, movie, stars, timestamp)
            self._profiles.update(marks["userId"].tolist())

    def remove(self, user_id: int, movie_id: int) -> None:
        """Remove a rating durably; `UserError` if the user has not rated the movie."""
        with self._lock:
            rated = self._rated(user_id)
            if not rated and user_id not in self._profiles:
                raise UnknownUserError(f"user {user_id} is not in {self.dataset_name}; create a profile first")
            if not rated or movie_id not in self._editable(user_id):
                raise UserError(f"user {user_id} has not rated movie {movie_id}")
            self.store.remove(user_id, movie_id)
            del self._edited[user_id][movie_id]

    def _next_id(self) -> int:
        dataset_max = int(self._ids[-1]) if len(self._ids) else 0
        return max([0, dataset_max, *self._edited, *self._profiles]) + 1

    # ---- the columns and the edited users (called under the lock) ---------------------------

    def _row_of(self, user_id: int) -> int | None:
        """The user's position in the sorted columns, or None if the dataset has no rating of theirs."""
        k = int(np.searchsorted(self._ids, user_id))
        return k if k < len(self._ids) and self._ids[k] == user_id else None

    def _rated(self, user_id: int) -> bool:
        """Whether the user has (or had, in this session) ratings: a user whose every rating
        was removed still exists."""
        return user_id in self._edited or self._row_of(user_id) is not None

    def _dataset_ratings(self, user_id: int) -> Ratings:
        """A new dict of the user's ratings as the columns hold them (empty if none)."""
        k = self._row_of(user_id)
        if k is None:
            return {}
        rows = slice(self._starts[k], self._starts[k + 1])
        pairs = zip(self._stars[rows].tolist(), self._stamps[rows].tolist(), strict=True)
        return dict(zip(self._movies[rows].tolist(), pairs, strict=True))

    def _apply(self, user_id: int, movie_id: int, stars: float, timestamp: int) -> None:
        """Lay one rating over the user's, or remove it where `stars` is NaN."""
        if not math.isnan(stars):
            self._editable(user_id)[movie_id] = (stars, timestamp)
        elif self._rated(user_id):
            self._editable(user_id).pop(movie_id, None)

    def _editable(self, user_id: int) -> Ratings:
        """The user's ratings as a dict that changes replace from now on."""
        if user_id not in self._edited:
            self._edited[user_id] = self._dataset_ratings(user_id)
        return self._edited[user_id]


def liked_movies(ratings: Ratings, threshold: float) -> np.ndarray:
    """The movie ids in `ratings` rated at least `threshold` stars (int64)."""
    return np.array([m for m, (r, _) in ratings.items() if r >= threshold], dtype=np.int64)


def _sorted_prefix(users: np.ndarray) -> int:
    """How many leading rows of `users` are in non-decreasing order (all of them for a
    GroupLens file; the stored ratings merged in come after them)."""
    falls = np.flatnonzero(users[1:] < users[:-1])
    return int(falls[0]) + 1 if len(falls) else len(users)
