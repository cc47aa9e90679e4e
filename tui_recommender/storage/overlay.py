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
    if NaN. Returns `columns` of the kept base rows with the stored ratings, with base's
    dtypes and a fresh index (without events: `base`'s columns, not copied). Where `base` is
    sorted by user (then movie), as GroupLens files are, each stored rating goes in its place,
    so the merged rows are too (and the graph built from them needs no sort); else they come
    after the base rows."""
    columns = list(columns)
    if events.empty:
        return base[columns].reset_index(drop=True)
    last = events.drop_duplicates(["userId", "movieId"], keep="last")
    added = last.loc[last["rating"].notna()]
    added = added.iloc[np.lexsort((added["movieId"].to_numpy(), added["userId"].to_numpy()))]
    users = base["userId"].to_numpy()
    ordered = bool((users[1:] >= users[:-1]).all())
    drop = np.flatnonzero(replaced_rows(base, last, ordered))
    new_users, new_movies = added["userId"].to_numpy(), added["movieId"].to_numpy()
    if ordered:
        at = _places(users, base["movieId"].to_numpy(), drop, new_users, new_movies)
    else:
        at = np.full(len(added), len(base), dtype=np.int64)
    merged = {}
    for name in columns:  # one new array per column (at ml-32m each is 128-256 MB), made once
        merged[name] = _spliced(base[name].to_numpy(), drop, at, added[name].to_numpy().astype(base[name].dtype))
    return pd.DataFrame(merged, copy=False)


def _spliced(values: np.ndarray, drop: np.ndarray, at: np.ndarray, inserted: np.ndarray) -> np.ndarray:
    """`values` without the rows `drop` (increasing) and with `inserted[k]` before row
    `at[k]` (non-decreasing; in their order where equal), in one new array: a copy without
    the rows, then one with the new ones, held two of each column at once (1 GB more at
    ml-32m)."""
    out = np.empty(len(values) - len(drop) + len(inserted), dtype=values.dtype)
    cuts = sorted([(int(row), 0, k) for k, row in enumerate(at)] + [(int(row), 1, -1) for row in drop])
    read = written = 0
    for row, is_drop, k in cuts:  # the few edits in row order, the rows between copied as slices
        out[written : written + row - read] = values[read:row]
        written, read = written + row - read, row
        if is_drop:
            read += 1
        else:
            out[written] = inserted[k]
            written += 1
    out[written:] = values[read:]
    return out


def _places(
    users: np.ndarray, movies: np.ndarray, drop: np.ndarray, new_users: np.ndarray, new_movies: np.ndarray
) -> np.ndarray:
    """Before which row of rows sorted by user each new (user, movie), in (user, movie) order,
    goes once the rows `drop` are out: in its user's block, before the first kept row of a
    larger movie where the block is sorted by movie (else the block's end)."""
    low = np.searchsorted(users, new_users, "left")
    high = np.searchsorted(users, new_users, "right")
    places = []
    for a, b, movie in zip(low.tolist(), high.tolist(), new_movies.tolist()):
        kept = np.setdiff1d(np.arange(a, b), drop[np.searchsorted(drop, a) : np.searchsorted(drop, b)])
        k = int(np.searchsorted(movies[kept], movie))
        places.append(int(kept[k]) if k < len(kept) else b)
    return np.array(places, dtype=np.int64)


def replaced_rows(base: pd.DataFrame, events: pd.DataFrame, ordered: bool = False) -> np.ndarray:
    """A mask of the `base` rows whose (userId, movieId) is in `events`. Only the rows of the
    events' users are keyed (found by binary search where `base` is `ordered` by user): at
    ml-32m's 32M rows, keying every row took seconds, and so did `np.isin` over every row."""
    users = base["userId"].to_numpy()
    mask = np.zeros(len(base), dtype=bool)
    event_users = events["userId"].to_numpy(dtype=np.int64)
    if ordered:
        distinct = pd.unique(event_users)
        low, high = np.searchsorted(users, distinct, "left"), np.searchsorted(users, distinct, "right")
        touched = np.concatenate([np.arange(a, b) for a, b in zip(low.tolist(), high.tolist())])
    else:
        touched = np.flatnonzero(np.isin(users, event_users))
    if len(touched) == 0:
        return mask
    movies = base["movieId"].to_numpy()[touched]
    # One int64 key per (user, movie): ids are below 2**31, so it cannot overflow.
    width = int(max(movies.max(), events["movieId"].max())) + 1
    keys = users[touched].astype(np.int64) * width + movies
    wanted = event_users * width + events["movieId"].to_numpy(dtype=np.int64)
    mask[touched[np.isin(keys, wanted)]] = True
    return mask
