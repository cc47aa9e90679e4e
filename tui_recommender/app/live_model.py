"""The live model: LightGCN as the app serves it and keeps learning it.

Readers take `snapshot`: an immutable `Snapshot` of the propagated embeddings, the graph
they were propagated over and the popularity counts, published by one attribute assignment
(atomic), so a reader never mixes two versions. Every change (an update, a save, building
the trainable model) holds the one `_lock`. An update is five steps: the graph change, the
new users' start, growing the model, the bounded fine-tune, publishing.

The trainable model lives on a torch device (the CPU unless told otherwise); the snapshot
is where numpy meets torch: it is published as numpy arrays, which the ranking serves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
from tui_recommender.engine.checkpoint import Checkpoint, save_checkpoint
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.interactions import Interactions
from tui_recommender.engine.lightgcn.new_users import start_new_users
from tui_recommender.engine.ranking import Scoring, item_norms, norm_exponents, popularity_penalty, scores

if TYPE_CHECKING:  # torch is imported lazily: the first ranking needs only numpy
    import torch

    from tui_recommender.engine.lightgcn.model import LightGCN

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateReport:
    n_ratings: int  # ratings applied to the model by this update
    seconds: float
    cancelled: bool
    # The fine-tune produced NaN or infinite values and was undone: the ratings are in the
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
    user_emb: np.ndarray  # (n_users x dim) float32, propagated
    item_emb: np.ndarray  # (n_items x dim) float32, propagated, row = catalogue row
    graph: InteractionGraph  # the positive edges the embeddings were propagated over
    popularity: np.ndarray  # (n_items,) int64: positive ratings per item in `graph`
    scoring: Scoring = "dot"  # from the checkpoint's config

    @cached_property
    def norms(self) -> np.ndarray:
        """|item row| of every item (`ranking.item_norms`)."""
        return item_norms(self.item_emb)

    @cached_property
    def penalty(self) -> np.ndarray:
        """Each item's popularity penalty in [0, 1] (`ranking.popularity_penalty`)."""
        return popularity_penalty(self.popularity)


def user_scores(snapshot: Snapshot, user_id: int, liked: np.ndarray, novelty: float = 0.0) -> np.ndarray | None:
    """One score per item (float32) for `user_id` from the user's propagated embedding or,
    for a user the model has not learnt yet, the mean of the `liked` item rows'
    embeddings; scored as `ranking.scores` does for a user with `len(liked)` positives,
    with the popularity penalty of `novelty`. None when there is neither (the caller
    falls back)."""
    vector = None
    if user_id in snapshot.users:
        row = snapshot.users.index(user_id)
        if row < len(snapshot.user_emb) and snapshot.user_emb[row].any():
            vector = snapshot.user_emb[row]
    if vector is None and len(liked):
        vector = snapshot.item_emb[liked].mean(axis=0)
    if vector is None:
        return None
    return scores(
        snapshot.item_emb,
        snapshot.norms,
        vector,
        norm_exponents(len(liked), snapshot.scoring),
        snapshot.penalty,
        novelty,
    )


def most_similar(snapshot: Snapshot, rows: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """For each item row in `rows`, the row in `liked` (non-empty) most similar to it
    (cosine of propagated embeddings)."""

    def unit(m: np.ndarray) -> np.ndarray:
        return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)

    return liked[np.argmax(unit(snapshot.item_emb[rows]) @ unit(snapshot.item_emb[liked]).T, axis=1)]


class LiveModel:
    """Starts from `checkpoint` over the merged `ratings`; `pending_events(seq)` returns the
    stored events after `seq` in seq order (`RatingsStore.events`); `not_interested()` the
    (userId, movieId) pairs users said no to, negatives in their next update. Updates run
    on `device` (a torch device or its name; the CPU: an update is ten small steps, which a
    GPU's start-up and copies would only slow)."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        ratings: pd.DataFrame,
        items: IdMap,
        pending_events: Callable[[int], pd.DataFrame],
        not_interested: Callable[[], pd.DataFrame] | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        self._checkpoint = checkpoint  # metadata to carry into saved checkpoints
        self._device = device
        self._pending_events = pending_events
        self._not_interested = not_interested
        self.trained_seq = checkpoint.trained_seq
        self.applied_seq = checkpoint.applied_seq  # every event up to this seq is learnt
        self._trained_users = checkpoint.n_users if checkpoint.trained_users is None else checkpoint.trained_users
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(checkpoint.config.seed)
        inter = Interactions.build(ratings, items.raw_ids, checkpoint.user_ids)
        self._users, self._items = inter.users, inter.items
        self._ego = self._extend_rows(checkpoint.ego, checkpoint.n_users)
        self._model: LightGCN | None = None  # built from self._ego on the first update
        final = self._extend_rows(checkpoint.final, checkpoint.n_users)
        n_users = len(self._users)
        self._scoring = checkpoint.config.scoring
        self.snapshot = Snapshot(
            IdMap(self._users.raw_ids),
            final[:n_users],
            final[n_users:],
            inter.graph,
            _popularity(inter.graph),
            self._scoring,
        )

    def prepare(self) -> None:
        """Load torch and build the trainable model now, so the first update is not slowed
        by them (~2 s `import torch`, ~2 s for the first optimizer's imports)."""
        with self._lock:
            import torch

            torch.optim.Adam(self._trainable().parameters())

    def update(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[float], None] | None = None,
    ) -> UpdateReport:
        """Apply every pending rating (coalesced) with a bounded fine-tune; serialised. A
        fine-tune that produces NaN or infinite values is undone (`UpdateReport.discarded`)."""
        started = time.perf_counter()
        with self._lock:
            events = self._pending_events(self.applied_seq)
            if events.empty:
                return UpdateReport(0, 0.0, False)
            latest = events.drop_duplicates(["userId", "movieId"], keep="last")
            model = self._trainable()  # built before the user map grows: it has the checkpoint's rows
            graph, users = self._changed_graph(latest)
            _grow(model, graph.n_users)
            adj = graph.normalized_adjacency(model.device)
            before = model.embedding.weight.detach().clone()
            start_new_users(model, graph, adj, np.unique(users), self._trained_users, self.snapshot.item_emb)
            cancelled = self._fine_tune(
                model, adj, graph, np.unique(users), should_stop, on_progress, self._disliked(users)
            )
            final = _propagated(model, adj)
            discarded = not np.isfinite(final).all()
            if discarded:  # the model as it was, over the new graph
                model.embedding.weight.data.copy_(before)
                final = _propagated(model, adj)
            self._publish(final, graph)
            self.applied_seq = int(events["seq"].max())
        report = UpdateReport(len(latest), time.perf_counter() - started, cancelled, discarded)
        logger.info(
            "model updated: %d ratings of %d users in %.2f s%s%s",
            report.n_ratings,
            len(np.unique(users)),
            report.seconds,
            " (cancelled)" if cancelled else "",
            " (discarded: not finite)" if discarded else "",
        )
        return report

    def save(self, path: Path) -> Path:
        """Write the current state as a checkpoint, atomically; returns `path`."""
        with self._lock:
            snapshot = self.snapshot
            ego = self._model.embedding.weight.detach().cpu().numpy() if self._model is not None else self._ego
            checkpoint = Checkpoint(
                ego=ego,
                final=np.concatenate([snapshot.user_emb, snapshot.item_emb]),
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

    # ---- the steps of an update (called under the lock) ------------------------------------

    def _changed_graph(self, latest: pd.DataFrame) -> tuple[InteractionGraph, np.ndarray]:
        """The published graph with the latest ratings applied (>= 3 stars adds the edge,
        less or a removal drops it), new users appended to the map; and their user rows."""
        for user in np.setdiff1d(latest["userId"].unique(), self._users.raw_ids):
            self._users.add(int(user))
        users = self._users.indices(latest["userId"])
        items = self._items.indices(latest["movieId"])
        positive = latest["rating"].to_numpy() >= POSITIVE_THRESHOLD  # NaN (removed) is False
        graph = self.snapshot.graph.without_edges(users[~positive], items[~positive])
        return graph.with_edges(users[positive], items[positive], n_users=len(self._users)), users

    def _fine_tune(
        self,
        model: LightGCN,
        adj: torch.Tensor,
        graph: InteractionGraph,
        users: np.ndarray,
        should_stop: Callable[[], bool],
        on_progress: Callable[[float], None] | None,
        disliked: tuple[np.ndarray, np.ndarray] | None,
    ) -> bool:
        """The bounded fine-tune towards `users`' edges; True if `should_stop` cut it short."""
        from tui_recommender.engine.lightgcn.fine_tuning import FineTuneConfig, fine_tune

        config = FineTuneConfig.for_model(self._checkpoint.config)
        new = users[users >= self._trained_users]
        steps = fine_tune(
            model, adj, graph, users, config, self._rng, should_stop, on_progress, disliked=disliked, anchored=new
        )
        return steps < config.steps

    def _disliked(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(user rows, item rows) of the "not interested" pairs of `users` (rows)."""
        if self._not_interested is None:
            return None
        pairs = self._not_interested()
        pairs = pairs[pairs["userId"].isin(self._users.raw_ids[np.unique(users)])]
        if pairs.empty:
            return None
        return self._users.indices(pairs["userId"]), self._items.indices(pairs["movieId"])

    def _publish(self, final: np.ndarray, graph: InteractionGraph) -> None:
        """Publish the propagated embeddings `final` (users then items) over `graph`."""
        self.snapshot = Snapshot(
            IdMap(self._users.raw_ids),
            final[: graph.n_users],
            final[graph.n_users :],
            graph,
            _popularity(graph),
            self._scoring,
        )

    # ---- internals -------------------------------------------------------------------------

    def _extend_rows(self, table: np.ndarray, n_users: int) -> np.ndarray:
        """A checkpoint table (users then items) fitted to the current user map: zero rows
        for users the checkpoint does not have (the next update folds them in)."""
        extra = len(self._users) - n_users
        return np.concatenate([table[:n_users], np.zeros((extra, table.shape[1]), table.dtype), table[n_users:]])

    def _trainable(self) -> LightGCN:
        if self._model is None:
            import torch

            from tui_recommender.engine.lightgcn.model import LightGCN

            config = self._checkpoint.config
            model = LightGCN(
                len(self._users),
                len(self._items),
                self._ego.shape[1],
                config.n_layers,
                layer_weights=config.layer_weights,
                device=torch.device(self._device),
            )
            model.embedding.weight.data.copy_(torch.as_tensor(self._ego, device=model.device))
            self._model = model
        return self._model


def _grow(model: LightGCN, n_users: int) -> None:
    """Give the model a (zero) row for every user up to `n_users`."""
    if n_users > model.n_users:
        model.grow(n_users, model.n_items)


def _propagated(model: LightGCN, adj: torch.Tensor) -> np.ndarray:
    """The model's propagated table (users then items) as numpy: what the snapshot serves."""
    import torch

    with torch.no_grad():
        return model.propagate(adj).cpu().numpy()


def _popularity(graph: InteractionGraph) -> np.ndarray:
    return np.bincount(graph.items, minlength=graph.n_items)
