"""Configuration, resolved once: CLI flags > environment (`TUI_RECOMMENDER_*`) > the user's
config file (`user_config`) > defaults.
Every path the app reads or writes comes from `Settings`; no other module builds one.

Paths:
- data root (datasets live in sub-folders): `TUI_RECOMMENDER_DATA_ROOT` > a source
  checkout's `data/` folder > the platform's user data folder (platformdirs), never
  site-packages and never the current directory.
- weights: the shipped checkpoints, `<name>.npz` per dataset; never written by the app. An
  installed wheel carries them as package data (the build maps the top-level `weights/`
  folder into the package); a source checkout reads its `weights/` folder.
- config file: `TUI_RECOMMENDER_CONFIG` > `config.toml` in the platform's user config
  folder (`~/.config/tui-recommender/config.toml` on Linux); a missing one is fine.
- state dir: `--state-dir` > `TUI_RECOMMENDER_STATE_DIR` > the platform's user state folder
  (platformdirs: `$XDG_STATE_HOME/tui-recommender`, else `~/.local/state/tui-recommender` on
  Linux). Where versions before platformdirs made `~/.local/state/tui-recommender` on another
  OS and the platform's folder does not exist yet, that old folder stays in use. Holds the
  ratings database, the fine-tuned checkpoint (one sub-folder per dataset) and the log file.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from tui_recommender.config.user_file import load_user_config, parse_device, parse_novelty
from tui_recommender.core.errors import ConfigError

APP_NAME = "tui-recommender"
ENV_PREFIX = "TUI_RECOMMENDER_"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # tui_recommender/, above this config/ folder
CHECKPOINT_NAME = "model.npz"
RATINGS_DB_NAME = "ratings.sqlite3"
LOG_NAME = "tui-recommender.log"  # in the state dir, beside the per-dataset folders
# Every environment variable read, without the prefix: what it sets (the CLI's help lists them).
ENVIRONMENT = {
    "DATA": "a dataset folder, as --data",
    "DATA_ROOT": "where datasets are found and downloaded to",
    "STATE_DIR": "your ratings, fine-tuned models and log file, as --state-dir",
    "CHECKPOINT": "a model checkpoint to start from, as --checkpoint",
    "CONFIG": "the config file",
    "NOVELTY": "the popular (0) <-> niche (1) dial",
    "THEME": "the app's Textual theme",
    "DEVICE": "where training computes (auto, cpu, cuda, cuda:N, mps), as --device",
}


def _env_path(name: str) -> Path | None:
    value = os.environ.get(ENV_PREFIX + name)
    return Path(value).expanduser() if value else None


def source_checkout() -> Path | None:
    """The project folder when the package runs from a source checkout (pyproject.toml
    beside the package), None for an installed package."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() else None


def default_data_root() -> Path:
    checkout = source_checkout()
    return _env_path("DATA_ROOT") or (checkout / "data" if checkout else platformdirs.user_data_path(APP_NAME))


def state_dir_for(flag: str | Path | None) -> Path:
    """The state dir: the `--state-dir` flag if given, else `default_state_dir()`."""
    return Path(flag).expanduser() if flag else default_state_dir()


def log_file_for(state_flag: str | Path | None) -> Path:
    """The rotating log file, in the state dir of `state_dir_for(state_flag)`; known before
    the config file is read, so that a bad config file is logged too."""
    return state_dir_for(state_flag) / LOG_NAME


def default_state_dir() -> Path:
    env = _env_path("STATE_DIR")
    if env is not None:
        return env
    platform = platformdirs.user_state_path(APP_NAME)
    legacy = _hand_built_state_dir()
    # Ratings made by an older version on macOS or Windows stay where they are.
    if platform != legacy and not platform.exists() and legacy.is_dir():
        return legacy
    return platform


def _hand_built_state_dir() -> Path:
    """The state folder versions before platformdirs used on every OS."""
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / APP_NAME


def default_config_file() -> Path:
    return _env_path("CONFIG") or platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_weights_dir() -> Path:
    packaged = importlib.resources.files("tui_recommender") / "weights"
    return packaged if isinstance(packaged, Path) and packaged.is_dir() else PACKAGE_DIR.parent / "weights"


def path_problem(text: str) -> str | None:
    """Why `text` cannot name a file on this system (empty, a NUL byte, a name in it or the
    whole path longer than the OS allows), as a phrase; None if it can."""
    if not text:
        return "is empty"
    if "\0" in text:
        return "holds a NUL byte"
    encoded = os.fsencode(text)
    name_max, path_max = _os_limit("PC_NAME_MAX", 255), _os_limit("PC_PATH_MAX", 4096)
    if len(encoded) >= path_max:
        return f"is longer than the {path_max} bytes the OS allows for a path"
    if any(len(part) > name_max for part in encoded.split(b"/")):
        return f"has a name longer than the {name_max} bytes the OS allows"
    return None


def _os_limit(name: str, default: int) -> int:
    try:
        return os.pathconf("/", name)
    except (OSError, ValueError):
        return default


@dataclass(frozen=True)
class Settings:
    """Where things are. `data` is one dataset folder, or None to pick the default from
    `data_root`; `checkpoint` a model to start from when there is no fine-tuned state."""

    data: Path | None = None
    data_root: Path = field(default_factory=default_data_root)
    state_dir: Path = field(default_factory=default_state_dir)
    checkpoint: Path | None = None
    weights_dir: Path = field(default_factory=default_weights_dir)
    genres: tuple[str, ...] = ()  # selected at start; `recommend` without --genre uses them
    novelty: float = 0.0  # the popular (0) <-> niche (1) dial
    theme: str | None = None  # a Textual theme name; None: Textual's default
    device: str | None = None  # where training computes (a checked name); None: the recipe's default
    keymap: Mapping[str, str] = field(default_factory=dict)  # binding id -> keys
    config_file: Path | None = None  # the config file these came from, if one was read

    @classmethod
    def resolve(
        cls,
        data: str | Path | None = None,
        state_dir: str | Path | None = None,
        checkpoint: str | Path | None = None,
        novelty: float | None = None,
    ) -> Settings:
        """Raises `ConfigError` (one line) for a bad config file or environment value."""
        user = load_user_config(default_config_file())
        env_novelty = os.environ.get(ENV_PREFIX + "NOVELTY")
        if novelty is None and env_novelty:
            novelty = parse_novelty(env_novelty, lambda problem: ConfigError(f"{ENV_PREFIX}NOVELTY {problem}"))
        env_device = os.environ.get(ENV_PREFIX + "DEVICE")
        if env_device:
            env_device = parse_device(env_device, lambda problem: ConfigError(f"{ENV_PREFIX}DEVICE {problem}"))
        return cls(
            data=Path(data).expanduser() if data else _env_path("DATA") or user.data,
            state_dir=state_dir_for(state_dir),
            checkpoint=Path(checkpoint).expanduser() if checkpoint else _env_path("CHECKPOINT"),
            genres=user.genres,
            novelty=next((n for n in (novelty, user.novelty) if n is not None), 0.0),
            theme=os.environ.get(ENV_PREFIX + "THEME") or user.theme,
            device=env_device or user.device,
            keymap=user.keys,
            config_file=user.path,
        )

    def dataset_state_dir(self, dataset_name: str) -> Path:
        """Per-dataset folder for the ratings store and the fine-tuned checkpoint."""
        return self.state_dir / dataset_name

    def ratings_db(self, dataset_name: str) -> Path:
        """The SQLite ratings store of one dataset."""
        return self.dataset_state_dir(dataset_name) / RATINGS_DB_NAME

    def state_checkpoint(self, dataset_name: str) -> Path:
        """The fine-tuned checkpoint the app saves and loads first."""
        return self.dataset_state_dir(dataset_name) / CHECKPOINT_NAME

    def shipped_weights(self, dataset_name: str) -> Path:
        """The checkpoint shipped for one dataset (may not exist)."""
        return self.weights_dir / f"{dataset_name}.npz"
