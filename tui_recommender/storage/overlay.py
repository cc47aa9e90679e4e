"""Stored rating events laid over a dataset's ratings: the ratings every part of the app
sees. The dataset files are never changed; the last event per (user, movie) wins."""

from __future__ import annotations

import pandas as pd

from tui_recommender.data.movielens import RATINGS_COLUMNS


def merge_ratings(base: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """`base` (dataset ratings: userId, movieId, rating, timestamp) with stored `events`
    applied. `events` must be in seq order (as `RatingsStore.events()` and `latest()`
    return them): the last event per (userId, movieId) replaces the base rating, or drops it
    if NaN. Returns the kept base rows then the stored ratings, with base's dtypes and a
    fresh index."""
    columns = list(RATINGS_COLUMNS)
    last = events.drop_duplicates(["userId", "movieId"], keep="last")
    keys = pd.MultiIndex.from_frame(last[["userId", "movieId"]])
    replaced = pd.MultiIndex.from_frame(base[["userId", "movieId"]]).isin(keys)
    added = last.loc[last["rating"].notna(), columns].astype(base[columns].dtypes.to_dict())
    return pd.concat([base.loc[~replaced, columns], added], ignore_index=True)
