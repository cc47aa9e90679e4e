"""The recommender service: the one object the CLI and the TUI talk to.

It owns the dataset, the ratings store, the model and its checkpoint. Reads (recommend,
search, summaries) use an immutable snapshot of the propagated embeddings, so they never
see a half-updated model; all model changes go through one lock (`update_model`, `save`).
Every method may be called from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from tui_recommender.config import Settings
from tui_recommender.movielens import RatingScale


@dataclass(frozen=True)
class Movie:
    movie_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    movie: Movie
    rank: int  # 1-based, over the whole filtered list (offset included)
    score: float  # dot product of propagated user and item embeddings
    because: str | None  # title of the rated movie most similar to this one, if any


@dataclass(frozen=True)
class UserRating:
    movie: Movie
    rating: float
    timestamp: int  # seconds since the epoch


@dataclass(frozen=True)
class UserSummary:
    user_id: int
    n_ratings: int
    mean_rating: float | None
    top_genres: tuple[str, ...]  # up to three, most liked first


@dataclass(frozen=True)
class UpdateReport:
    n_ratings: int  # ratings applied to the model by this update
    seconds: float
    cancelled: bool


class RecommenderService:
    """See the module docstring. Build it with `RecommenderService.open` (slow: run it in a
    worker), then call the methods below; errors a user can cause are `UserError`s."""

    @classmethod
    def open(cls, settings: Settings, on_status: Callable[[str], None] | None = None) -> "RecommenderService":
        """Load the dataset (picking the default if `settings.data` is None), the ratings
        store and a checkpoint (fine-tuned state > `settings.checkpoint` > shipped weights >
        train now), and merge stored ratings in. `on_status` gets one-line progress texts."""
        raise NotImplementedError

    dataset_name: str
    scale: RatingScale
    checkpoint_source: str  # a short text: where the model came from

    def genre_counts(self) -> list[tuple[str, int]]:
        """Every genre in the data with its number of movies, in vocabulary order."""
        raise NotImplementedError

    def user_exists(self, user_id: int) -> bool:
        raise NotImplementedError

    def next_user_id(self) -> int:
        """The smallest ID greater than every known user's."""
        raise NotImplementedError

    def create_user(self, user_id: int | None = None) -> int:
        """Register a new (empty) profile, durably; returns its ID."""
        raise NotImplementedError

    def user_summary(self, user_id: int) -> UserSummary:
        raise NotImplementedError

    def recommend(
        self, user_id: int, genres: Collection[str] = (), k: int = 20, offset: int = 0
    ) -> list[Recommendation]:
        """Top movies `offset`..`offset+k` the user has not rated, keeping those with any of
        `genres` (all genres if empty). A user with no ratings gets popular movies."""
        raise NotImplementedError

    def search_movies(self, query: str, limit: int = 50) -> list[Movie]:
        """Movies whose title contains every word of `query` (case-insensitive)."""
        raise NotImplementedError

    def user_ratings(self, user_id: int) -> list[UserRating]:
        """The user's current ratings (dataset merged with stored ones), newest first."""
        raise NotImplementedError

    def rate(self, user_id: int, movie_id: int, rating: object) -> float:
        """Validate, store durably, and queue a model update; returns the stored rating."""
        raise NotImplementedError

    def remove_rating(self, user_id: int, movie_id: int) -> None:
        """Remove a rating durably (a dataset rating is hidden, not deleted from the file)."""
        raise NotImplementedError

    def pending_updates(self) -> int:
        """Ratings stored but not yet applied to the model."""
        raise NotImplementedError

    def update_model(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[float], None] | None = None,
    ) -> UpdateReport:
        """Apply every pending rating (coalesced) with a bounded fine-tune; serialised."""
        raise NotImplementedError

    def retrain_due(self) -> bool:
        """True when enough ratings have accumulated that a full `train` is worth it."""
        raise NotImplementedError

    def save(self) -> Path:
        """Write the fine-tuned checkpoint atomically to the state dir; returns its path."""
        raise NotImplementedError
