"""Where the live model starts from: the `--checkpoint` given (it must be usable: the user
asked for it) > the fine-tuned state > the shipped weights > a model trained now. An
automatic candidate that is damaged or was trained on other data is skipped with a warning."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tui_recommender.app.jobs import stored_events
from tui_recommender.config.settings import Settings
from tui_recommender.core.errors import CheckpointError
from tui_recommender.data.movielens import MovieLensData
from tui_recommender.engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.overlay import merge_ratings

if TYPE_CHECKING:  # torch loads only when a model is trained
    from tui_recommender.engine.lightgcn.training import EpochStats

logger = logging.getLogger(__name__)


class SourceKind(enum.StrEnum):
    STATE = "fine-tuned state"
    CHECKPOINT = "checkpoint"
    SHIPPED = "shipped weights"
    TRAINED = "trained at start-up"


@dataclass(frozen=True)
class ModelSource:
    """Which checkpoint the live model started from."""

    kind: SourceKind
    path: Path

    @property
    def reason(self) -> str:
        """Why this one, for the log."""
        return {
            SourceKind.CHECKPOINT: "given with --checkpoint",
            SourceKind.STATE: "the fine-tuned state comes first",
            SourceKind.SHIPPED: "no usable fine-tuned state; the weights shipped for this dataset",
            SourceKind.TRAINED: "no usable checkpoint for this data",
        }[self.kind]

    def __str__(self) -> str:
        return f"{self.kind} ({self.path})"


def find_checkpoint(
    settings: Settings, data: MovieLensData, warn: Callable[[str], None]
) -> tuple[Checkpoint, ModelSource] | None:
    """The checkpoint asked for with `--checkpoint`, which must be usable (else a
    `CheckpointError` says why); without one, the first usable automatic candidate (the
    fine-tuned state, then the shipped weights), skipping bad ones with a warning; or None."""
    if settings.checkpoint is not None:
        checkpoint = load_checkpoint(settings.checkpoint)
        problem = _foreign(checkpoint, data)
        if problem is not None:
            raise CheckpointError(f"checkpoint {settings.checkpoint} {problem}")
        return checkpoint, ModelSource(SourceKind.CHECKPOINT, settings.checkpoint)
    candidates = [
        (settings.state_checkpoint(data.name), SourceKind.STATE),
        (settings.shipped_weights(data.name), SourceKind.SHIPPED),
    ]
    for path, kind in candidates:
        if not path.exists():
            continue
        try:
            checkpoint = load_checkpoint(path, follow_links=kind is not SourceKind.STATE)  # a state file
        except CheckpointError as error:
            warn(f"Skipping {kind}: {error}")
            continue
        problem = _foreign(checkpoint, data)
        if problem is not None:
            warn(f"Skipping {kind} {path}: it {problem}")
            continue
        return checkpoint, ModelSource(kind, path)
    return None


def for_database(checkpoint: Checkpoint, database_id: str | None, last_seq: int) -> Checkpoint:
    """`checkpoint` as the model of the ratings database `database_id`, whose last event
    is `last_seq`. Its `applied_seq` and `trained_seq` count events of the database it
    records; over another one (a recreated or restored database, or none recorded) or
    beyond `last_seq` they would skip events never learnt, so they start again from 0:
    every stored event is applied by the next update."""
    if checkpoint.ratings_database == database_id and max(checkpoint.applied_seq, checkpoint.trained_seq) <= last_seq:
        return checkpoint
    return replace(checkpoint, ratings_database=database_id, trained_seq=0, applied_seq=0)


def _foreign(checkpoint: Checkpoint, data: MovieLensData) -> str | None:
    """Why `checkpoint` does not fit `data` ("was trained on other data ..."), or None."""
    if checkpoint.fingerprint == data.fingerprint and np.array_equal(checkpoint.item_ids, data.movies.index.to_numpy()):
        return None
    return f"was trained on other data ({checkpoint.dataset!r:.40}, not this {data.name})"


def open_checkpoint(
    settings: Settings,
    data: MovieLensData,
    store: RatingsStore,
    warn: Callable[[str], None],
    on_epoch: Callable[[EpochStats], None] | None = None,
) -> tuple[Checkpoint, ModelSource]:
    """The first usable candidate (`for_database` the ratings `store`), or else a model
    trained on the dataset's and the store's ratings (`on_epoch` gets its epochs) and saved
    as the fine-tuned state."""
    found = find_checkpoint(settings, data, warn)
    if found is not None:
        logger.info("model: %s; %s", found[1], found[1].reason)
        return for_database(found[0], store.database_id, store.last_seq()), found[1]
    from tui_recommender.app.training_options import on_device
    from tui_recommender.engine.lightgcn.training import train_checkpoint
    from tui_recommender.engine.train_config import TrainConfig

    warn("No checkpoint for this data: training a model (this happens once)…")
    config = on_device(TrainConfig() if settings.device is None else TrainConfig(device=settings.device), warn)
    merged, last_seq = merge_ratings(data.ratings, stored_events(store, data)), store.last_seq()
    logger.info("training at start-up on %d ratings of %s on %s", len(merged), data.name, config.device)
    checkpoint, result = train_checkpoint(data, merged, config, trained_seq=last_seq, on_epoch=on_epoch)
    checkpoint = replace(checkpoint, ratings_database=store.database_id)
    logger.info("training ran %d epochs in %.1f s", len(result.history), result.seconds)
    path = settings.state_checkpoint(data.name)
    try:
        save_checkpoint(checkpoint, path)
    except CheckpointError as error:  # the trained model still serves this session
        warn(f"{error}: the model trained now is used, but trained again at the next start")
    source = ModelSource(SourceKind.TRAINED, path)
    logger.info("model: %s; %s", source, source.reason)
    return checkpoint, source
