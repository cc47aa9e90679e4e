"""Every user's current ratings (the dataset's with the stored ones laid over them) and the
registered profiles, kept in memory and in the ratings store.

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
from tui_recommender.storage.database import RatingsStore

Ratings = dict[int, tuple[float, int]]  # movie id -> (stars, timestamp in seconds)


class UserRatings:
    """Built from the merged ratings (`merge_ratings(dataset, store.events())`)."""

    def __init__(self, store: RatingsStore, ratings: pd.DataFrame, dataset_name: str) -> None:
        self.store = store
        self.dataset_name = dataset_name
        self._lock = threading.Lock()
        self._by_user: dict[int, Ratings] = {
            int(user): dict(zip(group["movieId"].tolist(), zip(group["rating"].tolist(), group["timestamp"].tolist())))
            for user, group in ratings.groupby("userId", sort=False)
        }
        self._profiles = set(store.users())

    def exists(self, user_id: int) -> bool:
        with self._lock:
            return user_id in self._by_user or user_id in self._profiles

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
            if user_id not in self._by_user and user_id not in self._profiles:
                raise UnknownUserError(f"user {user_id} is not in {self.dataset_name}; create a profile first")
            return dict(self._by_user.get(user_id, {}))

    def put(self, user_id: int, movie_id: int, stars: float, timestamp: int | None = None) -> None:
        """Store a checked rating durably, then make it visible to readers; `timestamp`
        (seconds) defaults to now."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        with self._lock:
            self.store.put(user_id, movie_id, stars, timestamp)
            self._by_user.setdefault(user_id, {})[movie_id] = (stars, timestamp)

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
                if math.isnan(stars):  # an imported removal
                    self._by_user.get(user, {}).pop(movie, None)
                else:
                    self._by_user.setdefault(user, {})[movie] = (stars, timestamp)
            self._profiles.update(marks["userId"].tolist())

    def remove(self, user_id: int, movie_id: int) -> None:
        """Remove a rating durably; `UserError` if the user has not rated the movie."""
        with self._lock:
            if movie_id not in self._by_user.get(user_id, {}):
                if user_id not in self._by_user and user_id not in self._profiles:
                    raise UnknownUserError(f"user {user_id} is not in {self.dataset_name}; create a profile first")
                raise UserError(f"user {user_id} has not rated movie {movie_id}")
            self.store.remove(user_id, movie_id)
            del self._by_user[user_id][movie_id]

    def _next_id(self) -> int:
        return max([0, *self._by_user, *self._profiles]) + 1


def liked_movies(ratings: Ratings, threshold: float) -> np.ndarray:
    """The movie ids in `ratings` rated at least `threshold` stars (int64)."""
    return np.array([m for m, (r, _) in ratings.items() if r >= threshold], dtype=np.int64)
