"""The user's config file, read with `tomllib` (where it is: `config.default_config_file`,
the platform's config folder or `TUI_RECOMMENDER_CONFIG`). Every key is optional:

    data = "~/movies/ml-latest-small"   # default dataset folder
    genres = ["Comedy", "Drama"]        # genres selected at start (and for `recommend`)
    novelty = 0.3                       # 0 popular ... 1 niche
    theme = "nord"                      # a Textual theme
    device = "cuda"                     # where train and evaluate compute: auto, cpu, cuda, cuda:N, mps
    [keys]                              # binding id = key(s), comma-separated
    rate-prompt = "e"

A missing file is an empty config. A file that cannot be read or parsed (a FIFO or a
device, over `MAX_CONFIG_BYTES`, not UTF-8, nested too deep), an unknown key or a value of
the wrong type or range is a `ConfigError`: one line naming the file and the key.
Theme names and binding ids belong to the TUI, which checks them (`tui.config_check.check_config`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tui_recommender.core.device_names import DEVICE_NAMES, device_problem
from tui_recommender.core.errors import ConfigError
from tui_recommender.core.private_files import read_regular
from tui_recommender.core.text import shorten

NOVELTY_RANGE = (0.0, 1.0)  # the popular <-> niche dial
MAX_CONFIG_BYTES = 1 << 20  # a config file is a few lines: more is not one
KEYS = ("data", "genres", "novelty", "theme", "device", "keys")


@dataclass(frozen=True)
class UserConfig:
    """What a config file sets (None or empty: not set). `path` is the file read, if any."""

    path: Path | None = None
    data: Path | None = None
    genres: tuple[str, ...] = ()
    novelty: float | None = None
    theme: str | None = None
    device: str | None = None
    keys: Mapping[str, str] = field(default_factory=dict)

    def error(self, key: str, problem: str) -> ConfigError:
        """A `ConfigError` about `key` of this file."""
        return ConfigError(f"config file {self.path}: {key}: {problem}")


def load_user_config(path: Path) -> UserConfig:
    """Read and check the config file at `path` (`Settings` knows where it is)."""
    try:
        text = read_regular(path, MAX_CONFIG_BYTES).decode("utf-8-sig")  # a BOM, as some editors write, is fine
    except FileNotFoundError:
        return UserConfig()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(f"config file {path}: cannot be read ({reason})") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path}: not valid TOML ({error})") from None
    except RecursionError:
        raise ConfigError(f"config file {path}: nested too deeply to be a config file") from None
    where = UserConfig(path)
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise where.error(unknown[0], f"unknown key; the keys are {', '.join(KEYS)}")
    return UserConfig(
        path=path,
        data=_data(where, table["data"]) if "data" in table else None,
        genres=_genres(where, table["genres"]) if "genres" in table else (),
        novelty=parse_novelty(table["novelty"], lambda problem: where.error("novelty", problem))
        if "novelty" in table
        else None,
        theme=_text(where, "theme", table["theme"]) if "theme" in table else None,
        device=parse_device(table["device"], lambda problem: where.error("device", problem))
        if "device" in table
        else None,
        keys=_keys(where, table["keys"]) if "keys" in table else {},
    )


def parse_novelty(value: object, error: Callable[[str], Exception]) -> float:
    """`value` (a number, or its text from an environment variable) as a novelty in
    `NOVELTY_RANGE`; otherwise raises `error(problem)`."""
    low, high = NOVELTY_RANGE
    problem = f"must be a number from {low:g} to {high:g} (got {shorten(repr(value))})"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise error(problem)
    try:
        number = float(value)
    except ValueError:
        raise error(problem) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise error(problem)
    return number


def parse_device(value: object, error: Callable[[str], Exception]) -> str:
    """`value` as a device name (`core.device_names`; whether this machine has it is known
    only when training starts); otherwise raises `error(problem)`."""
    if device_problem(value) is not None:
        raise error(f"must be a device: {', '.join(DEVICE_NAMES)} (got {shorten(repr(value))})")
    return value


def _text(where: UserConfig, key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise where.error(key, f"must be a non-empty string (got {shorten(repr(value))})")
    return value.strip()


def _data(where: UserConfig, value: object) -> Path:
    """A dataset folder; a relative one is relative to the config file's folder."""
    path = Path(_text(where, "data", value)).expanduser()
    return path if path.is_absolute() else where.path.parent / path


def _genres(where: UserConfig, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(g, str) and g.strip() for g in value):
        raise where.error(
            "genres", f'must be a list of genre names, like ["Comedy", "Drama"] (got {shorten(repr(value))})'
        )
    return tuple(dict.fromkeys(g.strip() for g in value))


def _keys(where: UserConfig, value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise where.error("keys", 'must be a table of binding id = "key" lines, under [keys]')
    keymap = {}
    for binding_id, keys in value.items():
        names = keys.split(",") if isinstance(keys, str) else []
        if not names or not all(name.strip() and " " not in name.strip() for name in names):
            raise where.error(
                f"keys.{binding_id}",
                f'must be a key like "e" or "ctrl+e", or several joined by commas (got {shorten(repr(keys))})',
            )
        keymap[binding_id] = ",".join(name.strip() for name in names)
    return keymap


def known_genres(wanted: tuple[str, ...], available: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """The `wanted` genres found in `available` (case-insensitively; the dataset's spelling),
    and those not found. A genre list fits one dataset: others may lack some genres."""
    lookup = {genre.casefold(): genre for genre in available}
    found = tuple(lookup[g.casefold()] for g in wanted if g.casefold() in lookup)
    return found, [g for g in wanted if g.casefold() not in lookup]
