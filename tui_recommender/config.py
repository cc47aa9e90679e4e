"""Configuration, resolved once: CLI flags > environment (`TUI_RECOMMENDER_*`) > defaults.

Paths:
- data root: `TUI_RECOMMENDER_DATA_ROOT`, default `<project>/data` (datasets live in sub-folders).
- weights: `<project>/weights` (shipped checkpoints; never written by the app).
- state dir: `--state-dir` > `TUI_RECOMMENDER_STATE_DIR` > `$XDG_STATE_HOME/tui-recommender`
  (> `~/.local/state/tui-recommender`). Holds the ratings database and fine-tuned checkpoints,
  one sub-folder per dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_PREFIX = "TUI_RECOMMENDER_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
WEIGHTS_DIR = PROJECT_ROOT / "weights"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(ENV_PREFIX + name)
    return Path(value).expanduser() if value else None


def default_data_root() -> Path:
    return _env_path("DATA_ROOT") or PROJECT_ROOT / "data"


def default_state_dir() -> Path:
    env = _env_path("STATE_DIR")
    if env is not None:
        return env
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "tui-recommender"


@dataclass(frozen=True)
class Settings:
    """Where things are. `data` is one dataset folder, or None to pick the default."""

    data: Path | None = None
    data_root: Path = PROJECT_ROOT / "data"
    state_dir: Path = Path()
    checkpoint: Path | None = None
    weights_dir: Path = WEIGHTS_DIR

    @classmethod
    def resolve(
        cls,
        data: str | Path | None = None,
        state_dir: str | Path | None = None,
        checkpoint: str | Path | None = None,
    ) -> "Settings":
        env_data = _env_path("DATA")
        return cls(
            data=Path(data).expanduser() if data else env_data,
            data_root=default_data_root(),
            state_dir=Path(state_dir).expanduser() if state_dir else default_state_dir(),
            checkpoint=Path(checkpoint).expanduser() if checkpoint else _env_path("CHECKPOINT"),
        )

    def dataset_state_dir(self, dataset_name: str) -> Path:
        """Per-dataset folder for the ratings store and the fine-tuned checkpoint."""
        return self.state_dir / dataset_name
