"""The checks behind `TrainConfig`'s fields: each says what is wrong with a value (None when
nothing is) and parses one typed on a command line. No torch here, as for the config."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui_recommender.core.device_names import device_problem


@dataclass(frozen=True)
class Whole:
    low: int
    high: int

    def problem(self, value: object) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and self.low <= value <= self.high:
            return None
        return f"not a whole number from {self.low} to {self.high}"

    def parse(self, text: str) -> object:
        try:
            return int(text)
        except ValueError:
            return text


@dataclass(frozen=True)
class Real:
    low: float  # exclusive when `above`, else inclusive
    high: float  # inclusive
    above: bool = False

    def problem(self, value: object) -> str | None:
        number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if number and (value > self.low if self.above else value >= self.low) and value <= self.high:
            return None
        if self.above:
            return f"not a number above {self.low:g} and at most {self.high:g}"
        return f"not a number from {self.low:g} to {self.high:g}"

    def parse(self, text: str) -> object:
        try:
            return float(text)
        except ValueError:
            return text


@dataclass(frozen=True)
class OrSized:
    """`check`, or None: the default, which `TrainConfig.sized` sets from the data as `sized` says."""

    check: Real
    sized: str

    def problem(self, value: object) -> str | None:
        return None if value is None else self.check.problem(value)

    def parse(self, text: str) -> object:
        return self.check.parse(text)


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]

    def problem(self, value: object) -> str | None:
        return None if isinstance(value, str) and value in self.choices else f"not one of {', '.join(self.choices)}"

    def parse(self, text: str) -> object:
        return text


@dataclass(frozen=True)
class Flag:
    def problem(self, value: object) -> str | None:
        return None if isinstance(value, bool) else "not true or false"

    def parse(self, text: str) -> object:
        return {"true": True, "false": False}.get(text.lower(), text)


@dataclass(frozen=True)
class DeviceName:
    def problem(self, value: object) -> str | None:
        return device_problem(value)

    def parse(self, text: str) -> object:
        return text


@dataclass(frozen=True)
class Weights:
    def problem(self, value: object) -> str | None:
        ok = value is None or (
            isinstance(value, tuple | list)
            and len(value) > 0
            and all(isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w) for w in value)
            and value[0] > 0
            and min(value) >= 0
        )
        return None if ok else "not n_layers + 1 finite numbers, none below 0 and the first above 0"

    def parse(self, text: str) -> object:
        try:
            return tuple(float(part) for part in text.split(","))
        except ValueError:
            return text


def about(check: object, help: str) -> dict:
    """A field's metadata: its check and its --help text."""
    return {"check": check, "help": help}
