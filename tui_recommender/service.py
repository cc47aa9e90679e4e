"""The recommender service: the one object the CLI and the TUI talk to.

It owns the dataset, the ratings store, the model and its checkpoint. Reads (recommend,
search, summaries) use an immutable snapshot of the propagated embeddings, so they never
see a half-updated model; all model changes go through one lock (`update_model`, `save`).
Every method may be called from a worker thread.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tui_recommender.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from tui_recommender.config import Settings
from tui_recommender.errors import CheckpointError, UnknownGenreError, UnknownMovieError, UnknownUserError, UserError
from tui_recommender.graph import POSITIVE_THRESHOLD
from tui_recommender.id_map import IdMap
from tui_recommender.interactions import Interactions
from tui_recommender.movielens import MovieLensData, RatingScale, load_dataset
from tui_recommender.ratings_store import RatingsStore, merge_ratings

if TYPE_CHECKING:  # torch is imported lazily: the first ranking needs only numpy
    from tui_recommender.model import LightGCN
    from tui_recommender.training import FineTuneConfig, TrainConfig, TrainResult

CHECKPOINT_NAME = "model.npz"
RATINGS_DB_NAME = "ratings.sqlite3"
RETRAIN_AFTER = 100  # ratings applied incrementally since the last full training


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
    score: float  # dot product of propagated embeddings; for a user with no liked movie yet, the movie's count of positive ratings
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


@dataclass(frozen=True)
class _Snapshot:
    """What ranking reads: propagated embeddings and the user rows they belong to. Never
    mutated; an update publishes a new one (one attribute assignment, atomic)."""

    users: IdMap
    user_emb: np.ndarray  # (n_users x dim) float32
    item_emb: np.ndarray  # (n_items x dim) float32, row = movie index


class RecommenderService:
    """See the module docstring. Build it with `RecommenderService.open` (slow: run it in a
    worker), then call the methods below; errors a user can cause are `UserError`s."""

    fine_tune_config: "FineTuneConfig | None" = None  # None: FineTuneConfig()'s defaults

    def __init__(
        self,
        settings: Settings,
        data: MovieLensData,
        store: RatingsStore,
        checkpoint: Checkpoint,
        checkpoint_source: str,
    ) -> None:
        self.settings = settings
        self.data = data
        self.dataset_name = data.name
        self.scale: RatingScale = data.scale
        self.checkpoint_source = checkpoint_source
        self.state_dir = settings.dataset_state_dir(data.name)
        self.store = store
        self._hyperparameters = dict(checkpoint.hyperparameters)
        self._metrics = dict(checkpoint.metrics)
        self._trained_seq = checkpoint.trained_seq
        self._applied_seq = checkpoint.applied_seq
        self._trained_users = checkpoint.n_users if checkpoint.trained_users is None else checkpoint.trained_users
        self._state_lock = threading.Lock()  # guards the per-user ratings below (fast)
        self._model_lock = threading.Lock()  # serialises every model change and save
        self._rng = np.random.default_rng(int(self._hyperparameters.get("seed", 0)))

        ratings = merge_ratings(data.ratings, store.events())
        self._by_user: dict[int, dict[int, tuple[float, int]]] = {
            int(user): dict(zip(group["movieId"].tolist(), zip(group["rating"].tolist(), group["timestamp"].tolist())))
            for user, group in ratings.groupby("userId", sort=False)
        }
        self._profiles = set(store.users())
        self._interactions = Interactions.build(ratings, data.movies.index.to_numpy(), checkpoint.user_ids)
        self._ego = self._extend_rows(checkpoint.ego, checkpoint.n_users)
        self._model: LightGCN | None = None  # built from self._ego on the first update
        final = self._extend_rows(checkpoint.final, checkpoint.n_users)
        n_users = len(self._interactions.users)
        self._snapshot = _Snapshot(IdMap(self._interactions.users.raw_ids), final[:n_users], final[n_users:])
        self._popularity = np.bincount(self._interactions.graph.items, minlength=len(self._interactions.items))
        years = data.movies["year"].map(lambda y: "" if pd.isna(y) else f" ({y})")
        self._titles = (data.movies["title"] + years).str.casefold().to_numpy(dtype=str)
        genres = data.movies["genres"]
        self._genre_matrix = np.stack([genres.map(lambda gs, g=g: g in gs).to_numpy() for g in data.genres], axis=1) if data.genres else np.zeros((len(genres), 0), bool)

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        settings: Settings,
        on_status: Callable[[str], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> "RecommenderService":
        """Load the dataset (picking the default if `settings.data` is None), the ratings
        store and a checkpoint (fine-tuned state > `settings.checkpoint` > shipped weights >
        train now), and merge stored ratings in. `on_status` gets one-line progress texts,
        `on_warning` (default: `on_status`) the ones a user should see even when quiet: a
        checkpoint skipped, a model trained from scratch."""
        report = on_status or (lambda _text: None)
        warn = on_warning or report
        # Interactive use: torch loads later (lazily); its idle OpenMP threads should then
        # sleep, not spin, or a fine-tune runs 2-10x slower whenever anything else wants a
        # core. Batch training keeps spinning threads, ~30% faster on an idle machine.
        if "torch" not in sys.modules:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        folder = settings.data
        if folder is None:
            from tui_recommender.download import default_dataset

            folder = default_dataset(settings.data_root, on_status=warn)
        report(f"Loading {folder.name}…")
        data = load_dataset(folder)
        store = RatingsStore(settings.dataset_state_dir(data.name) / RATINGS_DB_NAME)
        checkpoint, source = cls._find_checkpoint(settings, data, warn)
        if checkpoint is None:
            warn("No checkpoint for this data: training a model (this happens once)…")
            ratings = merge_ratings(data.ratings, store.events())
            checkpoint, _ = train_checkpoint(data, ratings, trained_seq=store.last_seq())
            source = "trained at start-up"
            save_checkpoint(checkpoint, settings.dataset_state_dir(data.name) / CHECKPOINT_NAME)
        report(f"Model: {source}")
        return cls(settings, data, store, checkpoint, source)

    @staticmethod
    def _find_checkpoint(
        settings: Settings, data: MovieLensData, report: Callable[[str], None]
    ) -> tuple[Checkpoint | None, str]:
        candidates = [
            (settings.dataset_state_dir(data.name) / CHECKPOINT_NAME, "fine-tuned state"),
            (settings.checkpoint, "checkpoint"),
            (settings.weights_dir / f"{data.name}.npz", "shipped weights"),
        ]
        for path, label in candidates:
            if path is None or (label != "checkpoint" and not path.exists()):
                continue
            try:
                checkpoint = load_checkpoint(path)
            except CheckpointError as error:
                report(f"Skipping {label}: {error}")
                continue
            if checkpoint.fingerprint != data.fingerprint or not np.array_equal(checkpoint.item_ids, data.movies.index.to_numpy()):
                report(f"Skipping {label} {path}: it was trained on other data")
                continue
            return checkpoint, f"{label} ({path})"
        return None, ""

    # ---- reading -------------------------------------------------------------------------

    def genre_counts(self) -> list[tuple[str, int]]:
        """Every genre in the data with its number of movies, in vocabulary order."""
        return list(zip(self.data.genres, self._genre_matrix.sum(axis=0).tolist()))

    def user_exists(self, user_id: int) -> bool:
        with self._state_lock:
            return user_id in self._by_user or user_id in self._profiles

    def next_user_id(self) -> int:
        """The smallest ID greater than every known user's."""
        with self._state_lock:
            return max([0, *self._by_user, *self._profiles]) + 1

    def create_user(self, user_id: int | None = None) -> int:
        """Register a new (empty) profile, durably; returns its ID."""
        new_id = self.next_user_id() if user_id is None else _positive_int(user_id, "user ID")
        self.store.add_user(new_id)
        with self._state_lock:
            self._profiles.add(new_id)
        return new_id

    def user_summary(self, user_id: int) -> UserSummary:
        ratings = self._ratings_of(user_id)
        if not ratings:
            return UserSummary(user_id, 0, None, ())
        movies = np.fromiter(ratings, dtype=np.int64)
        stars = np.array([r for r, _ in ratings.values()])
        liked = self._genre_matrix[self._interactions.items.indices(movies[stars >= POSITIVE_THRESHOLD])].sum(axis=0)
        top = [self.data.genres[g] for g in np.argsort(-liked, kind="stable")[:3] if liked[g] > 0]
        return UserSummary(user_id, len(ratings), round(float(stars.mean()), 2), tuple(top))

    def recommend(
        self, user_id: int, genres: Collection[str] = (), k: int = 20, offset: int = 0
    ) -> list[Recommendation]:
        """Top movies `offset`..`offset+k` the user has not rated, keeping those with any of
        `genres` (all genres if empty). A user with no ratings gets popular movies."""
        if k < 1 or offset < 0:
            raise UserError(f"ask for at least one recommendation (got k={k}, offset={offset})")
        ratings = self._ratings_of(user_id)
        snapshot = self._snapshot
        items = self._interactions.items
        rated = items.indices(np.fromiter(ratings, dtype=np.int64))
        liked = items.indices(np.array([m for m, (r, _) in ratings.items() if r >= POSITIVE_THRESHOLD], dtype=np.int64))
        user_vec = self._user_vector(user_id, liked, snapshot)
        if user_vec is None:
            scores = self._popularity.astype(np.float32)
        else:
            scores = snapshot.item_emb @ user_vec
        keep = self._genre_mask(genres)
        keep[rated] = False
        candidates = np.flatnonzero(keep)
        # A full stable sort (ties by movie row), so pages never overlap or skip (~1 ms).
        top = candidates[np.lexsort((candidates, -scores[candidates]))][offset : offset + k]
        if len(top) == 0:
            return []
        because = self._because(top, liked, snapshot)
        return [
            Recommendation(self._movie(int(i)), offset + rank + 1, float(scores[i]), because[rank])
            for rank, i in enumerate(top)
        ]

    def search_movies(self, query: str, limit: int = 50) -> list[Movie]:
        """Movies whose title contains every word of `query` (case-insensitive), the most
        rated first."""
        words = query.casefold().split()
        if not words:
            return []
        hit = np.ones(len(self._titles), dtype=bool)
        for word in words:
            hit &= np.char.find(self._titles, word) >= 0
        found = np.flatnonzero(hit)
        found = found[np.lexsort((found, -self._popularity[found]))][:limit]
        return [self._movie(int(i)) for i in found]

    def user_ratings(self, user_id: int) -> list[UserRating]:
        """The user's current ratings (dataset merged with stored ones), newest first."""
        ratings = self._ratings_of(user_id)
        rows = sorted(ratings.items(), key=lambda kv: (-kv[1][1], kv[0]))
        return [UserRating(self._movie(self._interactions.items.index(m)), r, t) for m, (r, t) in rows]

    def movie(self, movie_id: int) -> Movie:
        """One movie by its raw id; `UnknownMovieError` if the dataset has none."""
        if movie_id not in self._interactions.items:
            raise UnknownMovieError(f"movie {movie_id} is not in {self.dataset_name}")
        return self._movie(self._interactions.items.index(movie_id))

    # ---- writing -------------------------------------------------------------------------

    def rate(self, user_id: int, movie_id: int, rating: object) -> float:
        """Validate, store durably, and queue a model update; returns the stored rating."""
        user_id = _positive_int(user_id, "user ID")
        self.movie(movie_id)
        stars = self.scale.validate(rating)
        timestamp = int(time.time())
        self.store.put(user_id, movie_id, stars, timestamp)
        with self._state_lock:
            self._by_user.setdefault(user_id, {})[movie_id] = (stars, timestamp)
        return stars

    def remove_rating(self, user_id: int, movie_id: int) -> None:
        """Remove a rating durably (a dataset rating is hidden, not deleted from the file)."""
        if movie_id not in self._ratings_of(user_id):
            raise UserError(f"user {user_id} has not rated movie {movie_id}")
        self.store.remove(user_id, movie_id)
        with self._state_lock:
            self._by_user.get(user_id, {}).pop(movie_id, None)

    def pending_updates(self) -> int:
        """Ratings stored but not yet applied to the model."""
        return len(self.store.events(after_seq=self._applied_seq))

    def update_model(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[float], None] | None = None,
    ) -> UpdateReport:
        """Apply every pending rating (coalesced) with a bounded fine-tune; serialised."""
        started = time.perf_counter()
        with self._model_lock:
            events = self.store.events(after_seq=self._applied_seq)
            if events.empty:
                return UpdateReport(0, 0.0, False)
            import torch

            from tui_recommender.training import FineTuneConfig, fine_tune

            model = self._ensure_model()
            latest = events.drop_duplicates(["userId", "movieId"], keep="last")
            inter = self._interactions
            for user in np.setdiff1d(latest["userId"].unique(), inter.users.raw_ids):
                inter.users.add(int(user))
            users = inter.users.indices(latest["userId"])
            items = inter.items.indices(latest["movieId"])
            positive = latest["rating"].to_numpy() >= POSITIVE_THRESHOLD  # NaN (removed) is False
            graph = inter.graph.without_edges(users[~positive], items[~positive])
            graph = graph.with_edges(users[positive], items[positive], n_users=len(inter.users))
            if len(inter.users) > model.n_users:
                model.grow(len(inter.users), model.n_items)
            config = self.fine_tune_config or FineTuneConfig()
            with torch.no_grad():
                weight = model.embedding.weight
                folded_source = torch.from_numpy(self._snapshot.item_emb) if config.fold_in == "propagated" else weight[model.n_users :]
                for user in np.unique(users):
                    # Users the last full training never saw restart from the fold-in of
                    # all their positives at every update; the fine-tune then refines it.
                    if user >= self._trained_users:
                        liked = graph.items[graph.users == user]
                        weight[user] = folded_source[liked].mean(0) if len(liked) else 0.0
            adj = graph.normalized_adjacency()
            steps = fine_tune(model, adj, graph, np.unique(users), config, self._rng, should_stop, on_progress)
            cancelled = steps < config.steps
            with torch.no_grad():
                final = model.propagate(adj).numpy()
            inter.graph = graph
            self._popularity = np.bincount(graph.items, minlength=graph.n_items)
            self._snapshot = _Snapshot(IdMap(inter.users.raw_ids), final[: graph.n_users], final[graph.n_users :])
            self._applied_seq = int(events["seq"].max())
        return UpdateReport(len(latest), time.perf_counter() - started, cancelled)

    def prepare_updates(self) -> None:
        """Load torch and build the trainable model now, so the first rating's update is
        not slowed by them (~2 s `import torch`, ~2 s for the first optimizer's imports)."""
        with self._model_lock:
            import torch

            torch.optim.Adam(self._ensure_model().parameters())

    def retrain_due(self) -> bool:
        """True when enough ratings have accumulated that a full `train` is worth it."""
        return self.store.last_seq() - self._trained_seq >= RETRAIN_AFTER

    def save(self) -> Path:
        """Write the fine-tuned checkpoint atomically to the state dir; returns its path."""
        with self._model_lock:
            snapshot = self._snapshot
            ego = self._model.embedding.weight.detach().numpy() if self._model is not None else self._ego
            checkpoint = Checkpoint(
                ego=ego,
                final=np.concatenate([snapshot.user_emb, snapshot.item_emb]),
                user_ids=snapshot.users.raw_ids,
                item_ids=self._interactions.items.raw_ids,
                hyperparameters=self._hyperparameters,
                dataset=self.dataset_name,
                fingerprint=self.data.fingerprint,
                metrics=self._metrics,
                trained_seq=self._trained_seq,
                applied_seq=self._applied_seq,
                trained_users=self._trained_users,
            )
            return save_checkpoint(checkpoint, self.state_dir / CHECKPOINT_NAME)

    def close(self) -> None:
        self.store.close()

    # ---- internals -----------------------------------------------------------------------

    def _ratings_of(self, user_id: int) -> dict[int, tuple[float, int]]:
        with self._state_lock:
            if user_id not in self._by_user and user_id not in self._profiles:
                raise UnknownUserError(f"user {user_id} is not in {self.dataset_name}; create a profile first")
            return dict(self._by_user.get(user_id, {}))

    def _extend_rows(self, table: np.ndarray, n_users: int) -> np.ndarray:
        """A checkpoint table (users then items) fitted to the current user map: zero rows
        for users the checkpoint does not have (the next update folds them in)."""
        extra = len(self._interactions.users) - n_users
        return np.concatenate([table[:n_users], np.zeros((extra, table.shape[1]), table.dtype), table[n_users:]])

    def _ensure_model(self) -> "LightGCN":
        if self._model is None:
            import torch

            from tui_recommender.model import LightGCN

            n_users = len(self._interactions.users)
            model = LightGCN(n_users, len(self._interactions.items), self._ego.shape[1], int(self._hyperparameters.get("n_layers", 3)))
            model.embedding.weight.data.copy_(torch.from_numpy(self._ego))
            self._model = model
        return self._model

    def _user_vector(self, user_id: int, liked: np.ndarray, snapshot: _Snapshot) -> np.ndarray | None:
        """The user's propagated embedding, or (for a user the model has not seen yet) the
        mean of their liked movies' propagated embeddings; None without either."""
        if user_id in snapshot.users:
            row = snapshot.users.index(user_id)
            if row < len(snapshot.user_emb) and snapshot.user_emb[row].any():
                return snapshot.user_emb[row]
        if len(liked):
            return snapshot.item_emb[liked].mean(axis=0)
        return None

    def _genre_mask(self, genres: Collection[str]) -> np.ndarray:
        if not genres:
            return np.ones(len(self._titles), dtype=bool)
        lookup = {g.casefold(): i for i, g in enumerate(self.data.genres)}
        unknown = [g for g in genres if g.casefold() not in lookup]
        if unknown:
            raise UnknownGenreError(f"unknown genre {unknown[0]!r}; choose from {', '.join(self.data.genres)}")
        return self._genre_matrix[:, [lookup[g.casefold()] for g in genres]].any(axis=1)

    def _because(self, top: np.ndarray, liked: np.ndarray, snapshot: _Snapshot) -> list[str | None]:
        """For each recommended item, the title of the liked movie most similar to it
        (cosine of propagated embeddings)."""
        if len(liked) == 0 or len(top) == 0:
            return [None] * len(top)
        def unit(m: np.ndarray) -> np.ndarray:
            return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        best = liked[np.argmax(unit(snapshot.item_emb[top]) @ unit(snapshot.item_emb[liked]).T, axis=1)]
        return [self._movie(int(i)).title for i in best]

    def _movie(self, index: int) -> Movie:
        row = self.data.movies.iloc[index]
        year = row["year"]
        return Movie(int(self.data.movies.index[index]), str(row["title"]), None if pd.isna(year) else int(year), tuple(row["genres"]))


def _positive_int(value: object, what: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UserError(f"{what} {value!r} is not a whole number") from None
    if number < 1:
        raise UserError(f"{what} must be 1 or more (got {number})")
    return number


def train_checkpoint(
    data: MovieLensData,
    ratings: pd.DataFrame,
    config: "TrainConfig | None" = None,
    trained_seq: int = 0,
    on_epoch: Callable | None = None,
) -> tuple[Checkpoint, "TrainResult"]:
    """Train on every positive of `ratings` (early stopping on a per-user validation split)
    and pack the result, propagated over the whole graph, as a checkpoint."""
    import torch

    from tui_recommender.training import TrainConfig, train_on_pairs

    config = config or TrainConfig()
    inter = Interactions.build(ratings, data.movies.index.to_numpy())
    pairs = ratings.loc[ratings["rating"] >= POSITIVE_THRESHOLD, ["userId", "movieId"]]
    result = train_on_pairs(pairs, inter.users, inter.items, config, on_epoch=on_epoch)
    with torch.no_grad():
        final = result.model.propagate(inter.graph.normalized_adjacency()).numpy()
    checkpoint = Checkpoint(
        ego=result.model.embedding.weight.detach().numpy(),
        final=final,
        user_ids=inter.users.raw_ids,
        item_ids=inter.items.raw_ids,
        hyperparameters=config.to_dict(),
        dataset=data.name,
        fingerprint=data.fingerprint,
        metrics=result.summary(),
        trained_seq=trained_seq,
        applied_seq=trained_seq,
    )
    return checkpoint, result
