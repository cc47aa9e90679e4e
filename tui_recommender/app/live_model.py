"""The live model: LightGCN as the app serves it and keeps learning it, in numpy (torch
is for full training only: neither serving nor an update loads it).

Readers take `snapshot`: an immutable `Snapshot` of the propagated embeddings, the graph
they were propagated over, the popularity counts and the rows of users who rated since,
published by one attribute assignment (atomic), so a reader never mixes two versions.

A rating is learnt in two steps. `update` (on the rating's path, milliseconds at any size)
records the graph change and gives each user whose positives changed a new served row from
the published item rows alone (`lightgcn.user_rows`); a user whose positives did not change
(a re-rating on the same side of `POSITIVE_THRESHOLD`) is left as they are. `catch_up`
(in the background, every rating since the last one at once, and always before a save)
applies the graph changes, gives those users the layer-0 rows that propagate to what they
were served, and propagates the whole graph (`lightgcn.propagation`): the other users'
rows and the movies' rows then reflect the ratings too. Every change holds the one
`_lock`; a catch-up computes outside it (so ratings go on being learnt meanwhile) and holds
`_catch_up_lock`, so there is one at a time. (`Recommender.partial_fit_users` is one
synchronous step over a fitted torch model; serving needs these two, without torch.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
from tui_recommender.engine.blas_threads import ONE_BLAS_THREAD
from tui_recommender.engine.checkpoint import Checkpoint, save_checkpoint
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.interactions import PositiveEdges, user_map
from tui_recommender.engine.lightgcn.propagation import caught_up, layer_weights
from tui_recommender.engine.lightgcn.user_rows import FineTuneConfig, folded_in_row, own_share, shifted_row
from tui_recommender.engine.ranking import Scoring, item_norms, norm_exponents, popularity_penalty, scores

logger = logging.getLogger(__name__)

# A background catch-up starts this long after the rating that asked for it, so that a
# burst of ratings is propagated once (seconds).
CATCH_UP_DELAY = 2.0


@dataclass(frozen=True)
class UpdateReport:
    n_ratings: int  # ratings applied to the model by this update
    seconds: float
    cancelled: bool
    # The update produced NaN or infinite values and was undone: the ratings are in the
    # graph (and stay stored), but the model did not learn from them.
    discarded: bool = False

    DISCARDED = (
        "the model update produced NaN or infinite values and was undone: the ratings are stored,"
        " but the model did not learn from them (tui-recommender train retrains it)"
    )


@dataclass(frozen=True)
class Snapshot:
    """What ranking reads. Never mutated; an update publishes a new one."""

    users: IdMap  # its own copy: the live map grows under the lock
    user_emb: np.ndarray  # (n_users x dim) float32, propagated over `graph`; rows beyond: none yet
    item_emb: np.ndarray  # (n_items x dim) float32, propagated, row = catalogue row
    edges: PositiveEdges  # the positive edges the embeddings were propagated over
    scoring: Scoring = "dot"  # from the checkpoint's config
    # user row -> the row served since their last rating's update, until a catch-up
    # propagates it into `user_emb` (`lightgcn.user_rows`)
    fresh: Mapping[int, np.ndarray] = field(default_factory=dict)

    @property
    def graph(self) -> InteractionGraph:
        """`edges` as a graph (built at the first call: seconds at ml-32m)."""
        return self.edges.graph

    @property
    def popularity(self) -> np.ndarray:
        """(n_items,) int64: positive ratings per item in `graph`, counted at the first call
        (0.2-0.3 s at ml-32m, which a list for a user with liked movies and no novelty skips)."""
        return self.edges.item_counts()

    @cached_property
    def norms(self) -> np.ndarray:
        """|item row| of every item (`ranking.item_norms`)."""
        return item_norms(self.item_emb)

    @cached_property
    def penalty(self) -> np.ndarray:
        """Each item's popularity penalty in [0, 1] (`ranking.popularity_penalty`)."""
        return popularity_penalty(self.popularity)

    def user_row(self, row: int) -> np.ndarray | None:
        """The served row of user `row`: fresh, else propagated; None beyond both."""
        fresh = self.fresh.get(row)
        if fresh is not None:
            return fresh
        return self.user_emb[row] if row < len(self.user_emb) else None


def user_scores(snapshot: Snapshot, user_id: int, liked: np.ndarray, novelty: float = 0.0) -> np.ndarray | None:
    """One score per item (float32) for `user_id` from the user's served row or,
    for a user the model has not learnt yet, the mean of the `liked` item rows'
    embeddings; scored as `ranking.scores` does for a user with `len(liked)` positives,
    with the popularity penalty of `novelty`. None when there is neither (the caller
    falls back)."""
    vector = None
    if user_id in snapshot.users:
        row = snapshot.user_row(snapshot.users.index(user_id))
        if row is not None and row.any():
            vector = row
    if vector is None and len(liked):
        vector = snapshot.item_emb[liked].mean(axis=0)
    if vector is None:
        return None
    with ONE_BLAS_THREAD:
        return scores(
            snapshot.item_emb,
            snapshot.norms,
            np.require(vector, requirements="A"),  # a row of a mapped checkpoint may be misaligned
            norm_exponents(len(liked), snapshot.scoring),
            snapshot.penalty if novelty else None,  # unused without novelty: not counted for it
            novelty,
        )


class LiveModel:
    """Starts from `checkpoint` over the merged `ratings`; `pending_events(seq)` returns the
    stored events after `seq` in seq order (`RatingsStore.events`); `not_interested()` the
    (userId, movieId) pairs users said no to, pushed down in a new user's next update.
    With `background`, each update schedules a catch-up `CATCH_UP_DELAY` seconds later in
    a daemon thread (else only `catch_up` and `save` run one)."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        ratings: pd.DataFrame,
        items: IdMap,
        pending_events: Callable[[int], pd.DataFrame],
        not_interested: Callable[[], pd.DataFrame] | None = None,
        background: bool = True,
    ) -> None:
        self._checkpoint = checkpoint  # metadata to carry into saved checkpoints
        self._pending_events = pending_events
        self._not_interested = not_interested
        self._background = background
        self.trained_seq = checkpoint.trained_seq
        self.applied_seq = checkpoint.applied_seq  # every event up to this seq is learnt
        self._trained_users = checkpoint.n_users if checkpoint.trained_users is None else checkpoint.trained_users
        self._lock = threading.Lock()
        self._catch_up_lock = threading.Lock()
        self._closed = threading.Event()
        self._scheduled: threading.Thread | None = None
        self._weights = layer_weights(checkpoint.config)
        self._users, self._items = user_map(ratings, checkpoint.user_ids), IdMap(items.raw_ids)
        edges = PositiveEdges.of_ratings(ratings, self._users, self._items)  # no graph until a catch-up needs it
        # Layer 0 of the published rows; users the checkpoint lacks get theirs at the first
        # catch-up (`caught_up` adds their zero rows), not in a copy of both tables now.
        self._ego = checkpoint.ego
        # (user row, item row) -> whether the edge is in: rating changes not yet in the graph
        self._edits: dict[tuple[int, int], bool] = {}
        final, n_users = checkpoint.final, checkpoint.n_users
        self.snapshot = Snapshot(
            IdMap(self._users.raw_ids),
            final[:n_users],
            # numpy multiplies a mapped checkpoint's misaligned rows without BLAS: copied (67 MB at ml-32m)
            np.require(final[n_users:], requirements="A"),
            edges,
            checkpoint.config.scoring,
        )

    def update(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[float], None] | None = None,
    ) -> UpdateReport:
        """Apply every pending rating (coalesced) to the served rows of the users who rated
        (see the module docstring); serialised. `should_stop` leaves the remaining users'
        rows as they were (their ratings reach the graph all the same). A row that comes
        out NaN or infinite is not served (`UpdateReport.discarded`)."""
        started = time.perf_counter()
        with self._lock:
            events = self._pending_events(self.applied_seq)
            if events.empty:
                return UpdateReport(0, 0.0, False)
            latest = events.drop_duplicates(["userId", "movieId"], keep="last")
            for user in latest["userId"].unique().tolist():
                if user not in self._users:
                    self._users.add(int(user))
            users = self._users.indices(latest["userId"])
            items = self._items.indices(latest["movieId"])
            positive = latest["rating"].to_numpy() >= POSITIVE_THRESHOLD  # NaN (removed) is False
            touched = np.unique(users)
            before = {int(u): self._positives(int(u)) for u in touched}
            self._edits.update(zip(zip(users.tolist(), items.tolist()), positive.tolist()))
            fresh, cancelled, discarded = dict(self.snapshot.fresh), False, False
            disliked = self._disliked(touched)
            with ONE_BLAS_THREAD:
                for done, user in enumerate(before):
                    if should_stop():
                        cancelled = True
                        break
                    row = self._new_row(user, before[user], self._positives(user), disliked.get(user))
                    if row is not None and np.isfinite(row).all():
                        fresh[user] = row
                    discarded |= row is not None and not np.isfinite(row).all()
                    if on_progress is not None:
                        on_progress((done + 1) / len(before))
            self._publish(fresh)
            self.applied_seq = int(events["seq"].max())
        report = UpdateReport(len(latest), time.perf_counter() - started, cancelled, discarded)
        logger.info(
            "model updated: %d ratings of %d users in %.3f s%s%s",
            report.n_ratings,
            len(touched),
            report.seconds,
            " (cancelled)" if cancelled else "",
            " (discarded: not finite)" if discarded else "",
        )
        self._schedule_catch_up()
        return report

    def positives(self, user_id: int) -> np.ndarray:
        """Item rows the model links to `user_id` now (its graph with the changes a
        catch-up has yet to propagate), sorted."""
        with self._lock:
            return self._positives(self._users.index(user_id)) if user_id in self._users else np.zeros(0, np.int64)

    def catch_up(self) -> bool:
        """Propagate every change since the last catch-up (see the module docstring) and
        publish it; False when there was none. Serialised; updates go on meanwhile."""
        with self._catch_up_lock:
            with self._lock:
                work = self._catch_up_work()
            if work is None:
                return False
            result = _caught_up(work, self._weights)
            with self._lock:
                self._finish_catch_up(work, result)
        return True

    def save(self, path: Path) -> Path:
        """Catch up, then write the current state as a checkpoint, atomically; returns `path`."""
        with self._catch_up_lock, self._lock:
            work = self._catch_up_work()
            if work is not None:
                self._finish_catch_up(work, _caught_up(work, self._weights))
            snapshot = self.snapshot
            n_items = len(snapshot.item_emb)  # below: zero rows for users no catch-up has given one
            checkpoint = Checkpoint(
                ego=self._extend_rows(self._ego, len(self._ego) - n_items),
                final=self._extend_rows(np.concatenate([snapshot.user_emb, snapshot.item_emb]), len(snapshot.user_emb)),
                user_ids=snapshot.users.raw_ids,
                item_ids=self._items.raw_ids,
                config=self._checkpoint.config,
                dataset=self._checkpoint.dataset,
                fingerprint=self._checkpoint.fingerprint,
                metrics=self._checkpoint.metrics,
                trained_seq=self.trained_seq,
                applied_seq=self.applied_seq,
                trained_users=self._trained_users,
                ratings_database=self._checkpoint.ratings_database,
            )
            return save_checkpoint(checkpoint, path)

    def close(self) -> None:
        """Cancel a scheduled catch-up (one already running finishes)."""
        self._closed.set()

    # ---- the rating's path (called under the lock) -----------------------------------------

    def _published_positives(self, user: int) -> np.ndarray:
        """Item rows of user row `user` in the published graph, sorted."""
        return self.snapshot.edges.user_items(user)

    def _positives(self, user: int) -> np.ndarray:
        """Item rows of user row `user`: the published graph's, with `_edits` applied."""
        edges = set(self._published_positives(user).tolist())
        for (u, item), linked in self._edits.items():
            if u == user:
                (edges.add if linked else edges.discard)(item)
        return np.array(sorted(edges), dtype=np.int64)

    def _new_row(
        self, user: int, before: np.ndarray, after: np.ndarray, disliked: np.ndarray | None
    ) -> np.ndarray | None:
        """The served row of user row `user` whose positives went from `before` to `after`;
        None to leave it as it is (nothing changed)."""
        if np.array_equal(before, after):
            return None
        snapshot = self.snapshot
        if len(after) == 0:
            return np.zeros(snapshot.item_emb.shape[1], dtype=np.float32)
        current = snapshot.user_row(user)
        config = FineTuneConfig.for_model(self._checkpoint.config)
        norms = snapshot.norms if config.cosine else None  # cosine logits: rows move among the movies' unit rows
        if user < self._trained_users and len(before) and current is not None and current.any():
            return shifted_row(snapshot.item_emb, current, before, after, disliked, norms)
        in_graph = np.isin(after, self._published_positives(user))
        share = own_share(len(after), snapshot.popularity[after] + ~in_graph, self._weights)
        return folded_in_row(snapshot.item_emb, after, share, config, disliked, norms)

    def _disliked(self, users: np.ndarray) -> dict[int, np.ndarray]:
        """User row -> item rows of their "not interested" movies, for `users` (rows)."""
        if self._not_interested is None:
            return {}
        pairs = self._not_interested()
        pairs = pairs[pairs["userId"].isin(self._users.raw_ids[users])]
        rows, items = self._users.indices(pairs["userId"]), self._items.indices(pairs["movieId"])
        return {int(u): items[rows == u] for u in np.unique(rows)}

    def _publish(self, fresh: dict[int, np.ndarray], **changes) -> None:
        """Publish `snapshot` with the served rows `fresh` and any field `changes`."""
        users = self.snapshot.users if len(self.snapshot.users) == len(self._users) else IdMap(self._users.raw_ids)
        old = self.snapshot
        fields = {**old.__dict__, "users": users, "fresh": MappingProxyType(fresh), **changes}
        new = Snapshot(**{name: fields[name] for name in Snapshot.__dataclass_fields__})
        if new.item_emb is old.item_emb and new.edges is old.edges:  # keep what they cached
            new.__dict__.update({k: v for k, v in old.__dict__.items() if k in ("norms", "penalty")})
        self.snapshot = new

    # ---- the catch-up -----------------------------------------------------------------------

    def _catch_up_work(self) -> _CatchUp | None:
        """What a catch-up starts from (under the lock); None if nothing changed."""
        if not self._edits and not self.snapshot.fresh:
            return None
        return _CatchUp(self.snapshot, dict(self._edits), dict(self.snapshot.fresh), len(self._users), self._ego)

    def _finish_catch_up(self, work: _CatchUp, result: tuple[PositiveEdges, np.ndarray, np.ndarray]) -> None:
        """Publish a catch-up's `result` (under the lock), keeping what changed meanwhile."""
        edges, ego, final = result
        if not np.isfinite(final).all():
            logger.error("the catch-up produced NaN or infinite values: the served rows stay as they were")
            return
        for key, linked in work.edits.items():
            if self._edits.get(key) is linked:
                del self._edits[key]
        fresh = {u: row for u, row in self.snapshot.fresh.items() if work.fresh.get(u) is not row}
        self._ego = ego
        users = edges.n_users
        self._publish(fresh, user_emb=final[:users], item_emb=final[users:], edges=edges)
        logger.info("caught up: %d rating changes of %d users propagated", len(work.edits), len(work.fresh))

    def _schedule_catch_up(self) -> None:
        """With `background`, a catch-up `CATCH_UP_DELAY` from now unless one is pending."""
        if not self._background or self._closed.is_set():
            return
        with self._lock:
            if self._scheduled is not None and self._scheduled.is_alive():
                return
            self._scheduled = threading.Thread(target=self._background_catch_up, name="catch-up", daemon=True)
            self._scheduled.start()

    def _background_catch_up(self) -> None:
        if self._closed.wait(CATCH_UP_DELAY):
            return
        try:
            self.catch_up()
        except Exception:  # the served rows stay; the next catch-up or save tries again
            logger.exception("background catch-up failed")

    # ---- internals -------------------------------------------------------------------------

    def _extend_rows(self, table: np.ndarray, n_users: int) -> np.ndarray:
        """A table (users then items) fitted to the current user map: zero rows for
        users it does not have (their first catch-up folds them in)."""
        extra = len(self._users) - n_users
        if extra == 0:
            return table
        return np.concatenate([table[:n_users], np.zeros((extra, table.shape[1]), table.dtype), table[n_users:]])


@dataclass(frozen=True)
class _CatchUp:
    """A catch-up's start: snapshot, graph changes, served rows, users, layer-0 table."""

    snapshot: Snapshot
    edits: dict[tuple[int, int], bool]
    fresh: dict[int, np.ndarray]
    n_users: int
    ego: np.ndarray


def _caught_up(work: _CatchUp, weights: tuple[float, ...]) -> tuple[PositiveEdges, np.ndarray, np.ndarray]:
    """(edges of the graph with the edits, layer-0 table, propagated table) of a catch-up."""
    graph, ego, final = caught_up(work.snapshot.graph, work.edits, work.n_users, work.ego, work.fresh, weights)
    edges = PositiveEdges.built(graph)
    edges.item_counts()  # counted here, in the catch-up's thread, not by the next list
    return edges, ego, final
