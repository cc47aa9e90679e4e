"""The one rule for a rating: a dataset's scale (`low`..`high` in steps of `step` stars),
checked one value at a time (typed, imported) or vectorised (dataset files, the store)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tui_recommender.core.errors import RatingError
from tui_recommender.core.text import shorten

POSITIVE_THRESHOLD = 3.0  # stars: a rating at or above this is a positive (an edge of the graph)
# A rating typed or imported as text: plain decimal digits ("4", "3.5", ".5"), no sign,
# exponent, underscore or non-ASCII digit (float() would take "0_5" as 5 and "٣" as 3).
_RATING_TEXT = re.compile(r"\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")


@dataclass(frozen=True)
class RatingScale:
    """The ratings a dataset allows: `low`..`high` in steps of `step` stars."""

    low: float
    high: float
    step: float

    @property
    def half_stars(self) -> bool:
        return self.step < 1.0

    def validate(self, value: object) -> float:
        """Parse and check one rating (a number, or text like "4" or "3.5"); raise
        `RatingError` otherwise."""
        if (isinstance(value, str) and _RATING_TEXT.fullmatch(value)) or (
            isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
        ):
            rating = float(value)
        else:
            raise RatingError(f"rating {shorten(repr(value))} is not a number ({self.describe()})")
        if not self.allowed(np.array([rating]))[0]:
            raise RatingError(f"rating {shorten(repr(value))} is not allowed ({self.describe()})")
        return rating

    def in_range(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Vectorised: True where a rating (stars) is within `low`..`high`; NaN is False."""
        values = np.asarray(values, dtype=np.float64)
        return (values >= self.low) & (values <= self.high)

    def on_step(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Vectorised: True where a rating is a whole number of steps from `low`."""
        steps = (np.asarray(values, dtype=np.float64) - self.low) / self.step
        with np.errstate(invalid="ignore"):  # infinities are simply not on the step
            return np.abs(steps - np.round(steps)) <= 1e-9

    def allowed(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Vectorised: the one rule for a rating, used by `validate`, the loaders and the
        store: in range and on the step."""
        return self.in_range(values) & self.on_step(values)

    def describe(self) -> str:
        return f"{self.low:g} to {self.high:g} in steps of {self.step:g}"


HALF_STARS = RatingScale(0.5, 5.0, 0.5)
WHOLE_STARS = RatingScale(1.0, 5.0, 1.0)
