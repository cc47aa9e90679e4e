"""Model checkpoints: one `.npz` file (numpy only, no pickle) holding the layer-0 and the
propagated embeddings, the raw id maps, hyperparameters, the data fingerprint, metrics and
a format version. Loading needs no torch, so the app can rank before torch is imported.

Saving is atomic: write a temp file in the same folder, fsync, rename over the target,
fsync the folder. A crash mid-save leaves the old file as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tui_recommender.errors import CheckpointError

FORMAT_VERSION = 1
_ARRAYS = ("ego", "final", "user_ids", "item_ids")


@dataclass
class Checkpoint:
    """Everything needed to rank and to go on training.

    - `ego`: layer-0 embeddings, users then items (float32, n_users + n_items x dim).
    - `final`: propagated embeddings, same shape (what scores are computed from).
    - `user_ids`, `item_ids`: raw ids in row order (int64).
    - `trained_seq` / `applied_seq`: the ratings-store sequence number included by the
      last full training / by the last incremental update (0 = none).
    - `trained_users`: the first this-many users were in the last full training; later
      rows were folded in by incremental updates (None = all of them).
    """

    ego: np.ndarray
    final: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray
    hyperparameters: dict
    dataset: str
    fingerprint: str
    metrics: dict = field(default_factory=dict)
    trained_seq: int = 0
    applied_seq: int = 0
    trained_users: int | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def _meta(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "hyperparameters": self.hyperparameters,
            "dataset": self.dataset,
            "fingerprint": self.fingerprint,
            "metrics": self.metrics,
            "trained_seq": self.trained_seq,
            "applied_seq": self.applied_seq,
            "trained_users": self.n_users if self.trained_users is None else self.trained_users,
        }


def save_checkpoint(checkpoint: Checkpoint, path: Path) -> Path:
    """Write `checkpoint` to `path` atomically (creating the folder); returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(
                out,
                meta=np.array(json.dumps(checkpoint._meta())),
                ego=checkpoint.ego.astype(np.float32),
                final=checkpoint.final.astype(np.float32),
                user_ids=checkpoint.user_ids.astype(np.int64),
                item_ids=checkpoint.item_ids.astype(np.int64),
            )
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint; a missing, corrupt, truncated or inconsistent file raises
    `CheckpointError` naming the file and what is wrong."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            arrays = {name: npz[name] for name in _ARRAYS}
    # NotImplementedError: zipfile's answer to a damaged compression-method field.
    except (OSError, ValueError, KeyError, EOFError, NotImplementedError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path} is corrupt: its metadata is not an object")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} has format version {version}, this version reads {FORMAT_VERSION}")
    try:
        checkpoint = Checkpoint(
            ego=arrays["ego"],
            final=arrays["final"],
            user_ids=arrays["user_ids"],
            item_ids=arrays["item_ids"],
            hyperparameters=dict(meta["hyperparameters"]),
            dataset=str(meta["dataset"]),
            fingerprint=str(meta["fingerprint"]),
            metrics=dict(meta.get("metrics", {})),
            trained_seq=int(meta.get("trained_seq", 0)),
            applied_seq=int(meta.get("applied_seq", 0)),
            trained_users=int(meta.get("trained_users", len(arrays["user_ids"]))),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} has incomplete metadata ({exc})") from None
    rows = checkpoint.n_users + checkpoint.n_items
    if checkpoint.ego.ndim != 2 or checkpoint.ego.shape[0] != rows or checkpoint.final.shape != checkpoint.ego.shape:
        raise CheckpointError(
            f"checkpoint {path} is inconsistent: {checkpoint.ego.shape} embeddings for "
            f"{checkpoint.n_users} users + {checkpoint.n_items} items"
        )
    return checkpoint
