"""MovieLens datasets: the ml-latest-small layout (`movies.csv`, `ratings.csv`, half stars
0.5-5.0) and the ml-100k layout (`u.data`, `u.item`, `u.genre`, whole stars 1-5)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tui_recommender.errors import RatingError


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
        """Parse and check one rating (a number or a string); raise `RatingError` otherwise."""
        try:
            rating = float(str(value).strip())
        except ValueError:
            raise RatingError(f"rating {value!r} is not a number ({self.describe()})") from None
        steps = (rating - self.low) / self.step
        if not (self.low <= rating <= self.high) or abs(steps - round(steps)) > 1e-9:
            raise RatingError(f"rating {value!r} is not allowed ({self.describe()})")
        return rating

    def describe(self) -> str:
        return f"{self.low:g} to {self.high:g} in steps of {self.step:g}"


HALF_STARS = RatingScale(0.5, 5.0, 0.5)
WHOLE_STARS = RatingScale(1.0, 5.0, 1.0)


@dataclass(frozen=True)
class MovieLensData:
    """One loaded dataset.

    - `movies`: index `movieId` (int64, sorted); columns `title` (str, year stripped),
      `year` (pandas Int64, <NA> where the title has none), `genres` (tuple of str).
    - `ratings`: columns `userId` (int64), `movieId` (int64), `rating` (float32, stars),
      `timestamp` (int64, seconds); every movieId is in `movies`.
    - `genres`: the genre vocabulary found in the data, sorted, without the
      "no genres" placeholder.
    - `fingerprint`: SHA-256 hex of the ratings and movies files' bytes, to tie checkpoints
      to the data they were trained on.
    """

    name: str
    layout: str  # "ml-latest" or "ml-100k"
    path: Path
    movies: pd.DataFrame
    ratings: pd.DataFrame
    genres: tuple[str, ...]
    scale: RatingScale
    fingerprint: str
