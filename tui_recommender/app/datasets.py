"""What the data root holds (`data list`): every dataset with its counts, the years its
ratings span and which checkpoint, if any, was trained on exactly its files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui_recommender.config.settings import Settings
from tui_recommender.core.errors import CheckpointError, DataError
from tui_recommender.data.cache import DatasetSummary, summarize
from tui_recommender.data.movielens import list_datasets
from tui_recommender.engine.checkpoint import load_checkpoint


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset of the data root: its summary, or why it cannot be read; and the first
    checkpoint (fine-tuned state, then shipped weights) whose fingerprint is its files'."""

    path: Path
    summary: DatasetSummary | None
    problem: str | None
    checkpoint: Path | None

    def to_dict(self) -> dict:
        summary = self.summary
        return {
            "name": summary.name if summary else self.path.name,
            "path": str(self.path),
            "layout": summary.layout if summary else None,
            "ratings": summary.ratings if summary else None,
            "users": summary.users if summary else None,
            "movies": summary.movies if summary else None,
            "years": [summary.first_year, summary.last_year] if summary else None,
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
            "problem": self.problem,
        }


def cache_fallback(settings: Settings) -> Path:
    """Where a dataset's parse is cached when the folder beside it is read-only."""
    return settings.state_dir / "data-cache"


def data_root_entries(
    settings: Settings,
    on_read: Callable[[str], Callable[[int, int], None]] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> list[DatasetEntry]:
    """Every dataset in the data root, by name. A dataset not yet cached is parsed (and
    cached) here: `on_read(name)` gives its progress callback. A dataset that does not load
    is listed with its one-line problem."""
    entries = []
    for path in list_datasets(settings.data_root):
        try:
            summary = summarize(path, cache_fallback(settings), on_read(path.name) if on_read else None, on_note)
        except DataError as error:
            entries.append(DatasetEntry(path, None, str(error), None))
            continue
        entries.append(DatasetEntry(path, summary, None, _matching_checkpoint(settings, summary)))
    return entries


def _matching_checkpoint(settings: Settings, summary: DatasetSummary) -> Path | None:
    for path in (settings.state_checkpoint(summary.name), settings.shipped_weights(summary.name)):
        if not path.is_file():
            continue
        try:
            if load_checkpoint(path).fingerprint == summary.fingerprint:
                return path
        except CheckpointError:
            continue
    return None
