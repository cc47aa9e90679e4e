"""The state of a training at the end of an epoch, so a stopped training (a rank died, the
machine rebooted) can go on from there with `train --resume`: the weights, the optimiser,
the random generators, early stopping's record and which stage it was in. One torch file
(tensors and plain values only, loaded with `weights_only`), replaced atomically, as often
as pays (`StateWriter`)."""

from __future__ import annotations

import os
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from tui_recommender.core.errors import CheckpointError
from tui_recommender.core.text import shorten_path
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.saved_arrays import os_reason

FIRST, REFIT = 0, 1  # stages of `train_on_pairs`: early stopping's training, then the refit
MIN_INTERVAL_S = 60.0  # `StateWriter`: seconds of training at least between two written states
COST_FACTOR = 20.0  # ... and at least this many times the last write's seconds (writes <= 5%)


@dataclass
class EpochState:
    """Where a training was after epoch `epoch` of stage `stage` (FIRST or REFIT)."""

    epoch: int
    weights: torch.Tensor  # layer-0 table, on the CPU
    optimizer: dict  # Adam's state_dict, tensors on the CPU
    numpy_rng: dict  # the sampling generator's bit_generator.state
    torch_rng: torch.Tensor
    hyperparameters: dict  # TrainConfig.hyperparameters() of this stage
    graph_key: str  # `graph_key` of the graph this stage trains on
    history: list[dict]  # EpochStats as dicts
    best_recall: float = -1.0
    best_epoch: int = 0
    best_weights: torch.Tensor | None = None
    checks_without_gain: int = 0
    val_metrics: dict = field(default_factory=dict)
    seconds: float = 0.0  # of training in this stage so far
    stage: int = FIRST
    earlier: dict | None = None  # REFIT: the FIRST stage's figures (TrainResult fields)
    decayed_after: int = 0  # the epoch after which the step size was cut (`TrainConfig.lr_decay`); 0: not yet


def graph_key(graph: InteractionGraph) -> str:
    """A short fingerprint of `graph`'s nodes and edges: a state resumes on the same graph only."""
    crc = zlib.crc32(np.ascontiguousarray(graph.edge_keys()).tobytes())
    return f"{graph.n_users}x{graph.n_items}:{graph.n_edges}:{crc:08x}"


def state_path(checkpoint: Path) -> Path:
    """Where the epoch state of a training that will write `checkpoint` is kept: beside it."""
    return checkpoint.with_name(checkpoint.name + ".resume")


def save_state(state: EpochState, path: Path) -> None:
    """Write `state` to `path` atomically: a temp file in the same folder renamed over it
    (not fsynced: a power cut may lose the last epoch's state, never leave half of one).
    Raises `CheckpointError` (one line naming `path`) when it cannot be written, e.g. on a
    full disk; the state that was there before is then left as it was."""
    failed = f"cannot save the epoch state {shorten_path(path)}"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise CheckpointError(f"{failed}: {os_reason(error)}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            torch.save(asdict(state), out)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise CheckpointError(f"{failed}: {os_reason(error)}") from None
    except RuntimeError:  # torch's zip writer reports a short write (a full disk) this way
        Path(tmp).unlink(missing_ok=True)
        raise CheckpointError(f"{failed}: the file could not be written whole (is the disk full?)") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(path: Path) -> EpochState:
    """The state saved at `path`. Raises `CheckpointError` (one line) when there is none or
    it cannot be read."""
    if not path.is_file():
        raise CheckpointError(f"nothing to resume: no epoch state at {shorten_path(path)} (train without --resume)")
    try:
        return EpochState(**torch.load(path, map_location="cpu", weights_only=True))
    except Exception as error:  # a damaged file fails in many ways (zip, pickle, fields)
        raise CheckpointError(f"cannot resume from {shorten_path(path)}: {type(error).__name__}") from None


class StateWriter:
    """Hands each epoch state a training gives it to `save_state` at `path`, but only as often
    as pays: the first always, then one once `max(min_interval, cost_factor x the last write's
    seconds)` of training have passed since the last write. At ml-32m a state is ~0.9 GB
    (the layer-0 table, Adam's two moments and the best table): written after every epoch it
    cost seconds and the disk's bandwidth each epoch when epochs are fast (a GPU). A stopped
    training loses at most that interval; `--resume` redoes the epochs after the state it
    finds, to the same weights (the state holds the random generators)."""

    def __init__(
        self,
        path: Path,
        min_interval: float = MIN_INTERVAL_S,
        cost_factor: float = COST_FACTOR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.min_interval = min_interval
        self.cost_factor = cost_factor
        self._clock = clock
        self._last_write: float | None = None  # when the last write ended
        self._last_cost = 0.0  # its seconds
        self.written = 0  # states written so far

    def __call__(self, state: EpochState) -> None:
        now = self._clock()
        wait = max(self.min_interval, self.cost_factor * self._last_cost)
        if self._last_write is not None and now - self._last_write < wait:
            return
        save_state(state, self.path)
        self._last_write = self._clock()
        self._last_cost = self._last_write - now
        self.written += 1
