"""Undoing an import as one step: before an `ImportPlan` is stored, `before_import` notes
what each (user, movie) it touches had (a rating with its date, a list); `restore` writes
back whatever differs now, in one transaction, as the import itself was."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pandas as pd

from tui_recommender.core.errors import UnknownUserError
from tui_recommender.storage.database import MARK_COLUMNS
from tui_recommender.storage.export_files import ratings_frame
from tui_recommender.storage.importers import ImportPlan
from tui_recommender.storage.lists import UserLists
from tui_recommender.storage.ratings import UserRatings


@dataclass(frozen=True)
class Touched:
    """One (user, movie) an import touches, as it was before: its rating (stars, seconds)
    or None, and the list it was on or None."""

    user_id: int
    movie_id: int
    rating: tuple[float, int] | None
    listed: str | None


def _state(ratings: UserRatings, lists: UserLists, user_id: int) -> tuple[dict, dict[int, str]]:
    """The user's ratings (movie -> (stars, seconds)) and lists (movie -> name) now."""
    try:
        rated = ratings.of(user_id)
    except UnknownUserError:  # a profile the import creates
        rated = {}
    marks = lists.store.marks(user_id)
    return rated, dict(zip(marks["movieId"].tolist(), marks["list"].tolist()))


def before_import(ratings: UserRatings, lists: UserLists, plan: ImportPlan) -> tuple[Touched, ...]:
    """What `plan` would replace, for `restore`."""
    pairs = pd.concat([plan.ratings[["userId", "movieId"]], plan.marks[["userId", "movieId"]]]).drop_duplicates()
    touched = []
    for user_id, movies in pairs.groupby("userId")["movieId"]:
        rated, listed = _state(ratings, lists, int(user_id))
        touched += [Touched(int(user_id), int(m), rated.get(int(m)), listed.get(int(m))) for m in movies.tolist()]
    return tuple(touched)


def restore(ratings: UserRatings, lists: UserLists, touched: tuple[Touched, ...]) -> int:
    """Put back each of `touched` where it differs now, in one transaction (a rating the
    import added is removed, a replaced one returns with its date); returns how many
    ratings changed back."""
    now = int(time.time())
    rows: list[tuple[int, int, float, int]] = []
    marks: list[tuple[int, int, str, bool, int]] = []
    states: dict[int, tuple[dict, dict[int, str]]] = {}
    for entry in touched:
        rated, listed = states.setdefault(entry.user_id, _state(ratings, lists, entry.user_id))
        if rated.get(entry.movie_id) != entry.rating:
            stars, stamp = entry.rating if entry.rating is not None else (math.nan, now)
            rows.append((entry.user_id, entry.movie_id, stars, stamp))
        if (current := listed.get(entry.movie_id)) != entry.listed:
            if current is not None:
                marks.append((entry.user_id, entry.movie_id, current, False, now))
            if entry.listed is not None:
                marks.append((entry.user_id, entry.movie_id, entry.listed, True, now))
    ratings.put_many(ratings_frame(rows), pd.DataFrame(marks, columns=list(MARK_COLUMNS)))
    return len(rows)
