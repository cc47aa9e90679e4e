"""Stored rating events laid over a dataset's ratings: the ratings every part of the app
sees. The dataset files are never changed; the last event per (user, movie) wins."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tui_recommender.data.movielens import RATINGS_COLUMNS


def merge_ratings(base: pd.DataFrame, events: pd.DataFrame, columns: tuple[str, ...] = RATINGS_COLUMNS) -> pd.DataFrame:
    """`base` (dataset ratings: userId, movieId, rating, timestamp) with stored `events`
    applied. `events` must be in seq order (as `RatingsStore.events()` and `latest()`
    return them): the last event per (userId, movieId) replaces the base rating, or drops it
    if NaN. Returns `columns` of the kept base rows then the stored ratings, with base's
    dtypes and a fresh index (without events: `base`'s columns, not copied)."""
    columns = list(columns)
    if events.empty:
        return base[columns].reset_index(drop=True)
    last = events.drop_duplicates(["userId", "movieId"], keep="last")
    added = last.loc[last["rating"].notna(), columns].astype(base[columns].dtypes.to_dict())
    kept = ~replaced_rows(base, last)
    everything = kept.all()
    # One copy per column (pd.concat of a masked frame made two: ~1 GB more at ml-32m's peak).
    merged = {
        name: np.concatenate(
            [base[name].to_numpy() if everything else base[name].to_numpy()[kept], added[name].to_numpy()]
        )
        for name in columns
    }
    return pd.DataFrame(merged, copy=False)


def replaced_rows(base: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """A mask of the `base` rows whose (userId, movieId) is in `events`. Only the rows of the
    events' users are keyed: at ml-32m's 32M rows, keying every row took seconds."""
    users = base["userId"].to_numpy()
    mask = np.zeros(len(base), dtype=bool)
    touched = np.flatnonzero(np.isin(users, events["userId"].to_numpy(dtype=np.int64)))
    if len(touched) == 0:
        return mask
    movies = base["movieId"].to_numpy()[touched]
    # One int64 key per (user, movie): ids are below 2**31, so it cannot overflow.
    width = int(max(movies.max(), events["movieId"].max())) + 1
    keys = users[touched].astype(np.int64) * width + movies
    wanted = events["userId"].to_numpy(dtype=np.int64) * width + events["movieId"].to_numpy(dtype=np.int64)
    mask[touched[np.isin(keys, wanted)]] = True
    return mask
