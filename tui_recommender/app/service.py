"""The recommender service: the one front the CLI and the TUI talk to.

It is thin: each job is done by one part. `Catalogue` knows the movies, genres and title
search; `UserRatings` every user's ratings and profiles (store and memory under one lock);
`UserLists` the watchlists and "not interested" lists; `imports` reads other apps' exports;
`LiveModel` the model, its published snapshot and the one lock that serialises every model
change; `model_source` picks the checkpoint to start from; `ranked_lists` builds a user's
list (ranking, calibration, paging, "because") from the published snapshot. Every method may be called from
a worker thread; errors a user can cause are `UserError`s.

The batch jobs the CLI runs without opening the live model are in `batch_jobs`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tui_recommender.app.catalogue import Catalogue, Movie, MovieFacts
from tui_recommender.app.jobs import load_data, ratings_changed, stored_events, warn_unknown_movies
from tui_recommender.app.live_model import LiveModel, UpdateReport
from tui_recommender.app.model_source import ModelSource, SourceKind, open_checkpoint
from tui_recommender.app.ranked_lists import Recommendation, Taste, because_titles, recommendations
from tui_recommender.config.settings import Settings
from tui_recommender.config.user_file import parse_novelty
from tui_recommender.core.errors import CheckpointError, UserError
from tui_recommender.core.ids import parse_id
from tui_recommender.core.list_names import LISTS, NOT_INTERESTED, WATCHLIST
from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD, RatingScale
from tui_recommender.core.text import shorten
from tui_recommender.data.movielens import MovieLensData
from tui_recommender.engine.checkpoint import Checkpoint
from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.import_report import report_lines
from tui_recommender.storage.import_undo import Touched, before_import, restore
from tui_recommender.storage.importers import Importer, ImportPlan
from tui_recommender.storage.lists import UserLists
from tui_recommender.storage.overlay import merge_ratings
from tui_recommender.storage.ratings import UserRatings, liked_movies

if TYPE_CHECKING:
    from tui_recommender.engine.lightgcn.training import EpochStats

__all__ = [
    "LISTS",
    "NOT_INTERESTED",
    "WATCHLIST",
    "ImportPlan",
    "ListedMovie",
    "ModelSource",
    "Movie",
    "MovieDetails",
    "RatingScale",
    "Recommendation",
    "RecommenderService",
    "SourceKind",
    "Touched",
    "UpdateReport",
    "UserRating",
    "UserSummary",
    "report_lines",
]

RETRAIN_AFTER = 100  # ratings applied incrementally since the last full training
NOVELTY_KEY = "novelty"  # the profile setting of the popular <-> niche dial


@dataclass(frozen=True)
class UserRating:
    movie: Movie
    rating: float
    timestamp: int  # seconds since the epoch


@dataclass(frozen=True)
class ListedMovie:
    movie: Movie
    timestamp: int  # seconds since the epoch, when it was put on the list


@dataclass(frozen=True)
class UserSummary:
    user_id: int
    n_ratings: int
    mean_rating: float | None
    top_genres: tuple[str, ...]  # up to three, most liked first
    n_liked: int  # ratings of `like_threshold` stars or more
    like_threshold: float  # stars from which a rating counts as liked


@dataclass(frozen=True)
class MovieDetails:
    """Everything the detail view shows about one movie, for one user."""

    movie: Movie
    your_rating: float | None  # stars; None if the user has not rated it
    because: str | None  # title of the user's liked movie most similar to this one
    facts: MovieFacts  # the dataset's ratings, tags and links


class RecommenderService:
    """See the module docstring. Build it with `RecommenderService.open` (slow: run it in a
    worker), then call the methods below."""

    def __init__(
        self,
        settings: Settings,
        data: MovieLensData,
        store: RatingsStore,
        checkpoint: Checkpoint,
        model_source: ModelSource,
    ) -> None:
        self.settings = settings
        self.data = data
        self.dataset_name = data.name
        self.scale: RatingScale = data.scale
        self.model_source = model_source
        self.store = store
        events = stored_events(store, data)
        self.catalogue = Catalogue(data)
        self.ratings = UserRatings(store, data.ratings, data.name, stored=events)  # the dataset's columns, not a copy
        self.lists = UserLists(store, data.movies.index)
        self.model = LiveModel(
            checkpoint,
            merge_ratings(data.ratings, events, ("userId", "movieId", "rating")),  # the graph's: no timestamps
            self.catalogue.items,
            lambda seq: stored_events(store, data, seq),
            self.lists.not_interested,
        )
        self.importer = Importer(data)
        self._learnt_count: tuple[tuple[int, int], int] | None = None  # see `_ratings_learnt`

    @classmethod
    def open(
        cls,
        settings: Settings,
        on_status: Callable[[str], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
        on_epoch: Callable[[EpochStats], None] | None = None,
        on_read: Callable[[int, int], None] | None = None,
    ) -> RecommenderService:
        """Load the dataset (the default if `settings.data` is None; `on_read` follows a first
        parse, in bytes), the ratings store and a checkpoint (see `model_source`), and merge
        stored ratings in. `on_status` gets progress lines, `on_warning` (default: `on_status`) the ones
        a user sees even when quiet (a checkpoint skipped, a model trained); `on_epoch` that training's epochs."""
        report = on_status or (lambda _text: None)
        warn = on_warning or report
        data = load_data(settings, warn, on_status, on_read)
        store = RatingsStore(settings.ratings_db(data.name), on_warning=warn)
        warn_unknown_movies(store, data, warn)
        checkpoint, source = open_checkpoint(settings, data, store, warn, on_epoch)
        report(f"Model: {source}")
        return cls(settings, data, store, checkpoint, source)

    # ---- reading -------------------------------------------------------------------------

    def genre_counts(self) -> list[tuple[str, int]]:
        """Every genre in the data with its number of movies, in vocabulary order."""
        return self.catalogue.genre_counts()

    def movie(self, movie_id: int) -> Movie:
        """One movie by its raw id; `UnknownMovieError` if the dataset has none."""
        return self.catalogue.movie(movie_id)

    def search_movies(self, query: str, limit: int = 50) -> list[Movie]:
        """Movies whose title contains every word of `query` (case-insensitive), the most
        liked first."""
        return self.catalogue.search(query, self.model.snapshot.popularity, limit)

    def user_exists(self, user_id: int) -> bool:
        return self.ratings.exists(user_id)

    def next_user_id(self) -> int:
        """The smallest ID greater than every known user's."""
        return self.ratings.next_user_id()

    def user_ratings(self, user_id: int) -> list[UserRating]:
        """The user's current ratings (dataset merged with stored ones), newest first."""
        rows = sorted(self.ratings.of(user_id).items(), key=lambda kv: (-kv[1][1], kv[0]))
        return [UserRating(self.catalogue.movie(m), r, t) for m, (r, t) in rows]

    def user_summary(self, user_id: int) -> UserSummary:
        ratings = self.ratings.of(user_id)
        if not ratings:
            return UserSummary(user_id, 0, None, (), 0, POSITIVE_THRESHOLD)
        stars = np.array([r for r, _ in ratings.values()])
        liked = self.catalogue.items.indices(liked_movies(ratings, POSITIVE_THRESHOLD))
        mean = round(float(stars.mean()), 2)
        return UserSummary(
            user_id, len(ratings), mean, self.catalogue.top_genres(liked), len(liked), POSITIVE_THRESHOLD
        )

    def movie_details(self, user_id: int, movie_id: int) -> MovieDetails:
        """The detail view of one movie for `user_id` (see `MovieDetails`)."""
        facts = self.catalogue.facts(movie_id)
        ratings = self.ratings.of(user_id)
        because = None
        if movie_id not in ratings:
            liked = self.catalogue.items.indices(liked_movies(ratings, POSITIVE_THRESHOLD))
            row = np.array([self.catalogue.items.index(movie_id)])
            because = because_titles(self.model.snapshot, self.catalogue, row, liked)[0]
        rating = ratings.get(movie_id)
        return MovieDetails(self.catalogue.movie(movie_id), None if rating is None else rating[0], because, facts)

    def recommend(
        self, user_id: int, genres: Collection[str] = (), k: int = 20, offset: int = 0, novelty: float | None = None
    ) -> list[Recommendation]:
        """Top movies `offset`..`offset+k` the user has not rated, with any of `genres` (all
        if empty), re-ranked by the popular <-> niche dial `novelty` (None: the profile's)
        and calibrated to the genres the user liked (`ranked_lists.recommendations`); a user with
        no liked movie gets popular movies."""
        if k < 1 or offset < 0:
            raise UserError(f"ask for at least one recommendation (got k={k}, offset={offset})")
        novelty = self.novelty_of(user_id) if novelty is None else _novelty(novelty)
        ratings = self.ratings.of(user_id)
        items = self.catalogue.items
        taste = Taste(
            user_id,
            rated=items.indices(np.fromiter(ratings, dtype=np.int64)),
            liked=items.indices(liked_movies(ratings, POSITIVE_THRESHOLD)),
            hidden=items.indices(np.fromiter(self.lists.movies(user_id, NOT_INTERESTED), dtype=np.int64)),
        )
        return recommendations(self.model.snapshot, self.catalogue, taste, genres, k, offset, novelty)

    def novelty_of(self, user_id: int) -> float:
        """The profile's popular (0) <-> niche (1) setting: saved, else the default."""
        saved = self.store.profile_value(user_id, NOVELTY_KEY)
        if saved is not None:
            try:
                return parse_novelty(saved, ValueError)
            except ValueError:
                pass  # a damaged value reads as the default, like an unset one
        return self.settings.novelty

    def set_novelty(self, user_id: int, novelty: object) -> float:
        """Save the profile's popular <-> niche setting durably; returns it."""
        value = _novelty(novelty)
        self.store.set_profile_value(user_id, NOVELTY_KEY, repr(value))
        return value

    # ---- writing -------------------------------------------------------------------------

    def create_user(self, user_id: object | None = None) -> int:
        """Register a new (empty) profile durably, under `user_id` or the next free ID;
        returns its ID."""
        return self.ratings.create(user_id)

    def rate(self, user_id: object, movie_id: int, rating: object, timestamp: int | None = None) -> float:
        """Validate, store durably, and queue a model update; returns the stored rating.
        `timestamp` (seconds since the epoch) defaults to now; undo passes the old one."""
        user = parse_id(user_id, "user ID")
        self.catalogue.movie(movie_id)
        stars = self.scale.validate(rating)
        self.ratings.put(user, movie_id, stars, timestamp)
        self.lists.settle(user, movie_id)
        return stars

    def rating_of(self, user_id: int, movie_id: int) -> tuple[float, int] | None:
        """The user's current (stars, timestamp in seconds) for the movie; None if unrated."""
        return self.ratings.of(user_id).get(movie_id)

    def remove_rating(self, user_id: int, movie_id: int) -> None:
        """Remove a rating durably (a dataset rating is hidden, not deleted from the file)."""
        self.ratings.remove(user_id, movie_id)

    @property
    def model_label(self) -> str:
        """Where the live model stands, for the status bar: e.g. `shipped weights`,
        `shipped weights + 12 ratings learnt`, `fine-tuned on 40 ratings`."""
        learnt = self._ratings_learnt()
        ratings = f"{learnt} rating{'s' if learnt != 1 else ''}"
        if self.model_source.kind == SourceKind.STATE:
            return f"fine-tuned on {ratings}" if learnt else "saved state, nothing learnt yet"
        return f"{self.model_source.kind} + {ratings} learnt" if learnt else str(self.model_source.kind)

    def _ratings_learnt(self) -> int:
        """`jobs.ratings_changed` since the full training, as learnt; remembered per (trained,
        applied) seq, since the status line asks often."""
        seqs = (self.model.trained_seq, self.model.applied_seq)
        if self._learnt_count is None or self._learnt_count[0] != seqs:
            self._learnt_count = (seqs, ratings_changed(self.store, self.data, *seqs))
        return self._learnt_count[1]

    # ---- watchlist and "not interested" ----------------------------------------------------

    def listed(self, user_id: int, list_name: str) -> list[ListedMovie]:
        """The movies on the user's `list_name` (`WATCHLIST` or `NOT_INTERESTED`), newest first."""
        self.ratings.of(user_id)  # UnknownUserError for a user with no profile
        return [ListedMovie(self.catalogue.movie(m), t) for m, t in self.lists.of(user_id, _list(list_name))]

    def add_to_list(self, user_id: object, movie_id: int, list_name: str) -> Movie:
        """Put the movie on the user's list, durably (and off the other list); "not
        interested" also drops it from the recommendations and makes it a negative in the
        user's next model update. A rated movie cannot be "not interested"."""
        user = parse_id(user_id, "user ID")
        movie = self.catalogue.movie(movie_id)
        if _list(list_name) == NOT_INTERESTED and movie_id in self.ratings.of(user):
            raise UserError(f"you rated {movie.title}: remove the rating to mark it not interested")
        self.ratings.of(user)  # UnknownUserError for a user with no profile
        self.lists.put(user, movie_id, list_name)
        return movie

    def list_of(self, user_id: int, movie_id: int) -> str | None:
        """The list the movie is on for the user (`WATCHLIST` or `NOT_INTERESTED`), or None."""
        return next(iter(self.lists.lists_of(user_id, movie_id)), None)

    def remove_from_list(self, user_id: int, movie_id: int, list_name: str) -> bool:
        """Take the movie off the user's list, durably; False if it was not on it."""
        return self.lists.take_off(user_id, movie_id, _list(list_name))

    # ---- importing ------------------------------------------------------------------------

    def read_import(self, path: Path, user_id: object | None = None, keep_export_users: bool = False) -> ImportPlan:
        """Read an IMDb, Letterboxd or own export and match its movies (see `imports`);
        stores nothing. `user_id` gets the ratings (not needed for our own export, which it
        moves to that user unless `keep_export_users`)."""
        user = None if user_id is None else parse_id(user_id, "user ID")
        return self.importer.read(Path(path), user, keep_export_users)

    def apply_import(self, plan: ImportPlan) -> int:
        """Store the plan's ratings and list entries in one transaction, all or nothing
        (later than any earlier rating of the same movies, so they win); rated movies leave
        the lists. The next `update_model` learns them all at once. Returns the ratings stored."""
        self.ratings.put_many(plan.ratings, self.lists.with_settled(plan.ratings, plan.marks))
        return len(plan.ratings)

    def import_before(self, plan: ImportPlan) -> tuple[Touched, ...]:
        """What storing `plan` would replace (each rating and list entry it touches), for `undo_import`."""
        return before_import(self.ratings, self.lists, plan)

    def undo_import(self, touched: tuple[Touched, ...]) -> int:
        """Put back what an import replaced (`import_before`), in one transaction; the next
        `update_model` learns it. Returns the ratings changed back."""
        return restore(self.ratings, self.lists, touched)

    def pending_updates(self) -> int:
        """Ratings stored but not yet applied to the model."""
        return self.store.count_after(self.model.applied_seq)

    def retrain_due(self) -> bool:
        """True when enough ratings have accumulated that a full `train` is worth it."""
        return self.store.last_seq() - self.model.trained_seq >= RETRAIN_AFTER

    def update_model(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[float], None] | None = None,
    ) -> UpdateReport:
        """Apply every pending rating (coalesced) to the served rows of the users who rated,
        in milliseconds; the rest of the model catches up in the background (and before a
        save). Serialised (`LiveModel.update`)."""
        return self.model.update(should_stop, on_progress)

    def save(self) -> Path:
        """Bring the whole model up to date with every rating learnt (`LiveModel.save`), then
        write the fine-tuned checkpoint atomically to the state dir; returns its path.
        A failed save (e.g. a full disk) is a `CheckpointError` saying what is safe."""
        try:
            return self.model.save(self.settings.state_checkpoint(self.dataset_name))
        except CheckpointError as error:
            raise CheckpointError(
                f"{error}; every rating is stored, and the model catches up on them at the next start"
            ) from None

    def close(self) -> None:
        self.model.close()
        self.store.close()


def _novelty(value: object) -> float:
    """The dial's value by `user_config.parse_novelty`, or a `UserError`."""
    return parse_novelty(value, lambda problem: UserError(f"novelty {problem}"))


def _list(name: str) -> str:
    if name not in LISTS:
        raise UserError(f"unknown list {shorten(name)!r}; the lists are {', '.join(LISTS)}")
    return name
