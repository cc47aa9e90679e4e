"""Raw MovieLens ids <-> dense 0-based indices, both ways."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from tui_recommender.core.text import shorten_items

DENSE_LOOKUP_MIN = 100_000  # ids looked up at once from which a table by raw id is built


class UnknownIdError(KeyError):
    """A raw id the map does not hold. Callers filter ids against the dataset first, so this
    is a bug to report, not a user's mistake; it is raised rather than returning -1, which
    as a numpy index would silently pick the last row."""

    def __str__(self) -> str:
        return str(self.args[0])  # KeyError would quote its message


class IdMap:
    """An ordered set of raw integer ids; position = index. New ids are only ever appended,
    so existing indices (and the embedding rows behind them) never move."""

    def __init__(self, raw_ids: Iterable[int] = ()) -> None:
        ids = raw_ids if isinstance(raw_ids, np.ndarray) else list(raw_ids)
        self._index = pd.Index(np.asarray(ids, dtype=np.int64))
        if self._index.has_duplicates:
            raise ValueError("IdMap ids must be unique")

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, raw_id: object) -> bool:
        return raw_id in self._index

    @property
    def raw_ids(self) -> np.ndarray:
        """All raw ids in index order (int64)."""
        return self._index.to_numpy()

    def index(self, raw_id: int) -> int:
        """The index of one raw id; `UnknownIdError` if unknown."""
        try:
            return int(self._index.get_loc(raw_id))
        except KeyError:
            raise UnknownIdError(f"unknown id {raw_id}") from None

    def indices(self, raw_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Indices of many raw ids (int64); `UnknownIdError` naming the unknown ones if any."""
        raw = np.asarray(raw_ids, dtype=np.int64)
        found = self._dense_lookup(raw)
        if found is None:
            found = self._index.get_indexer(raw)
        if (found < 0).any():
            missing = raw[found < 0]
            raise UnknownIdError(f"{len(missing)} unknown ids ({shorten_items(missing.tolist())})")
        return found

    def _dense_lookup(self, raw: np.ndarray) -> np.ndarray | None:
        """Indices of `raw` (-1 if unknown) through a table indexed by raw id, for many ids
        over a range no larger than them: 26M ids in 0.1 s where `get_indexer` takes 2 s.
        None when a table does not pay (few ids, a sparse or negative range)."""
        if len(raw) < DENSE_LOOKUP_MIN or not len(self._index):
            return None
        ids = self._index.to_numpy()
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= len(raw):
            return None
        table = np.full(high + 2, -1, dtype=np.int64)  # the last slot: ids outside the range
        table[ids] = np.arange(len(ids))
        inside = int(raw.min()) >= 0 and int(raw.max()) <= high  # two passes, cheaper than a clipped copy
        return table[raw if inside else np.clip(raw, -1, high + 1)]

    def add(self, raw_id: int) -> int:
        """Append `raw_id` if new; returns its index either way."""
        if raw_id in self._index:
            return self.index(raw_id)
        self._index = self._index.append(pd.Index([raw_id], dtype=np.int64))
        return len(self._index) - 1
