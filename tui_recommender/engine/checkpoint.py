"""Model checkpoints: one `.npz` file (numpy only, no pickle) holding the layer-0 and the
propagated embeddings, the raw id maps, hyperparameters, the data fingerprint, metrics and
a format version. Loading needs no torch, so the app can rank before torch is imported.

Saving is atomic (`saved_arrays`): a crash mid-save leaves the old file as it was, and the
next save removes the temp file it left. The state checkpoint is loaded, not followed: a
link or a special file is refused.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tui_recommender.core.errors import CheckpointError, ConfigError
from tui_recommender.core.ids import MAX_ID, MIN_ID, valid_id_mask
from tui_recommender.core.private_files import make_private_dir
from tui_recommender.core.text import shorten_path
from tui_recommender.engine.saved_arrays import load_arrays, os_reason, save_arrays, tmp_prefix
from tui_recommender.engine.train_config import TrainConfig

FORMAT_VERSION = 1
_ARRAYS = ("ego", "final", "user_ids", "item_ids")
NOT_FINITE = "its embeddings hold NaN or infinite values"
MAX_SEQ = 2**63 - 1  # SQLite's largest integer: ratings-store sequence numbers
MAX_ID_CHARS = 64  # a ratings database id (a UUID's 32 hex digits)


@dataclass
class Checkpoint:
    """Everything needed to rank and to go on training.

    - `ego`: layer-0 embeddings, users then items (float32, n_users + n_items x dim).
    - `final`: propagated embeddings, same shape (what scores are computed from).
    - `user_ids`, `item_ids`: raw ids in row order (int64).
    - `config`: the recipe it was trained with (saved as "hyperparameters", without the
      device: a checkpoint is plain numpy, loadable anywhere).
    - `trained_seq` / `applied_seq`: the ratings-store sequence number included by the
      last full training / by the last incremental update (0 = none).
    - `trained_users`: the first this-many users were in the last full training; later
      rows were folded in by incremental updates (None = all of them).
    - `ratings_database`: the id of the ratings database those seqs count in (None: not
      recorded); over another database they mean nothing (`model_source.for_database`).
    """

    ego: np.ndarray
    final: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray
    config: TrainConfig
    dataset: str
    fingerprint: str
    metrics: dict = field(default_factory=dict)
    trained_seq: int = 0
    applied_seq: int = 0
    trained_users: int | None = None
    ratings_database: str | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def _meta(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "hyperparameters": self.config.hyperparameters(),
            "dataset": self.dataset,
            "fingerprint": self.fingerprint,
            "metrics": self.metrics,
            "trained_seq": self.trained_seq,
            "applied_seq": self.applied_seq,
            "trained_users": self.n_users if self.trained_users is None else self.trained_users,
            "ratings_database": self.ratings_database,
        }


def save_checkpoint(checkpoint: Checkpoint, path: Path) -> Path:
    """Write `checkpoint` to `path` atomically (creating the folder); returns `path`.
    Raises `CheckpointError` (one line naming `path`) when it cannot be written, e.g. on a
    full disk; the file that was there before is then left as it was."""
    arrays = {  # copy=False: at ml-32m each table is 220 MB
        "ego": checkpoint.ego.astype(np.float32, copy=False),
        "final": checkpoint.final.astype(np.float32, copy=False),
        "user_ids": checkpoint.user_ids.astype(np.int64, copy=False),
        "item_ids": checkpoint.item_ids.astype(np.int64, copy=False),
    }
    return save_arrays(path, checkpoint._meta(), arrays)


def check_can_save(path: Path) -> None:
    """Raise `CheckpointError` now if a checkpoint could not be saved at `path` (a folder in
    its place, a file where a folder should be, a folder it may not write in), so a long
    training is not lost at its end. Creates the missing folders, as a save would."""
    try:
        if path.is_dir():
            raise CheckpointError(f"cannot save the checkpoint {shorten_path(path)}: it is a folder")
        make_private_dir(path.parent)
        fd, probe = tempfile.mkstemp(prefix=tmp_prefix(path), suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise CheckpointError(f"cannot save the checkpoint {shorten_path(path)}: {os_reason(error)}") from None


def load_checkpoint(path: Path, follow_links: bool = True) -> Checkpoint:
    """Read a checkpoint; a missing, corrupt, truncated or inconsistent file (also one
    crafted by hand: duplicate ids, wrong types, shapes or dtypes) raises `CheckpointError`
    naming the file and what is wrong, as does a special file (a FIFO, a device) and, with
    `follow_links` False (the state checkpoint), a symbolic link: refused before any read."""
    shown = shorten_path(path)
    meta, arrays = load_arrays(path, _ARRAYS, follow_links=follow_links, finite=("ego", "final"), not_finite=NOT_FINITE)
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {shown} has format version {version!r:.40}, this version reads {FORMAT_VERSION}"
        )
    problem = _array_problem(arrays) or _meta_problem(meta, arrays)
    if problem is not None:
        raise CheckpointError(f"checkpoint {shown} is damaged: {problem}")
    config = _config(meta["hyperparameters"], arrays["ego"].shape[1])
    if isinstance(config, str):
        raise CheckpointError(f"checkpoint {shown} is damaged: {config}")
    return Checkpoint(
        ego=arrays["ego"].astype(np.float32, copy=False),
        final=arrays["final"].astype(np.float32, copy=False),
        user_ids=arrays["user_ids"].astype(np.int64, copy=False),
        item_ids=arrays["item_ids"].astype(np.int64, copy=False),
        config=config,
        dataset=meta["dataset"],
        fingerprint=meta["fingerprint"],
        metrics=meta.get("metrics", {}),
        trained_seq=meta.get("trained_seq", 0),
        applied_seq=meta.get("applied_seq", 0),
        trained_users=meta.get("trained_users", len(arrays["user_ids"])),
        ratings_database=meta.get("ratings_database"),
    )


def _array_problem(arrays: dict[str, np.ndarray]) -> str | None:
    """What is wrong with the four arrays (dtypes, shapes, ids), or None."""
    for name in ("user_ids", "item_ids"):
        ids = arrays[name]
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            return f"{name} is {ids.dtype} of shape {ids.shape}, not a list of integer ids"
        if not valid_id_mask(ids).all():
            return f"{name} holds ids outside {MIN_ID} to {MAX_ID}"
        ordered = np.sort(ids)  # not np.unique: its hash path takes seconds on 200k int64 ids
        if (ordered[1:] == ordered[:-1]).any():
            return f"{name} lists an id twice"
    ego, final = arrays["ego"], arrays["final"]
    rows = len(arrays["user_ids"]) + len(arrays["item_ids"])
    for name, table in (("ego", ego), ("final", final)):
        if table.dtype.kind != "f":
            return f"the {name} embeddings are {table.dtype}, not floating point"
    if ego.ndim != 2 or ego.shape[0] != rows or ego.shape[1] < 1 or final.shape != ego.shape:
        return (
            f"inconsistent: {ego.shape} embeddings for {len(arrays['user_ids'])} users + "
            f"{len(arrays['item_ids'])} items"
        )
    return None  # finite values: `load_arrays` checked them as it read the file


def _meta_problem(meta: dict, arrays: dict[str, np.ndarray]) -> str | None:
    """What is wrong with the metadata's fields and types, or None."""
    for name in ("hyperparameters", "dataset", "fingerprint"):
        if name not in meta:
            return f"its metadata lacks {name}"
    if not isinstance(meta["hyperparameters"], dict):
        return "its hyperparameters are not an object"
    if not isinstance(meta["dataset"], str) or not isinstance(meta["fingerprint"], str):
        return "its dataset name or fingerprint is not text"
    if not isinstance(meta.get("metrics", {}), dict):
        return "its metrics are not an object"
    for name in ("trained_seq", "applied_seq"):
        if not _is_int(meta.get(name, 0), 0, MAX_SEQ):
            return f"{name} is {meta[name]!r:.40}, not a whole number from 0 to {MAX_SEQ}"
    database = meta.get("ratings_database")
    if database is not None and not (isinstance(database, str) and 0 < len(database) <= MAX_ID_CHARS):
        return f"ratings_database is {database!r:.40}, not a database id"
    n_users = len(arrays["user_ids"])
    if not _is_int(meta.get("trained_users", n_users), 0, n_users):
        return f"trained_users is {meta['trained_users']!r:.40}, not a whole number from 0 to {n_users}"
    return None


def _config(hyperparameters: dict, width: int) -> TrainConfig | str:
    """The training recipe `hyperparameters` describe, every field type- and range-checked
    (`TrainConfig.from_hyperparameters`), or what is wrong with them."""
    try:
        # The width is in the arrays: a checkpoint need not repeat it.
        config = TrainConfig.from_hyperparameters({"dim": width, **hyperparameters})
    except ConfigError as error:
        return str(error)
    if config.dim != width:
        return f"hyperparameter dim is {config.dim} but the embeddings have {width} columns"
    return config


def _is_int(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
