"""IdMap: raw ids <-> dense indices, appended only, and an unknown id is an error, never -1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tui_recommender.engine.id_map import IdMap, UnknownIdError


def test_id_map_round_trips_raw_to_index_to_raw():
    raw = [31, 7, 1000, 2]
    ids = IdMap(raw)
    idx = ids.indices(raw)
    assert idx.tolist() == [0, 1, 2, 3]
    assert ids.raw_ids[idx].tolist() == raw
    assert [int(ids.raw_ids[ids.index(r)]) for r in raw] == raw
    assert len(ids) == 4 and 1000 in ids and 5 not in ids


def test_id_map_takes_arrays_series_and_nothing():
    ids = IdMap(np.array([10, 20, 30]))
    assert ids.indices(pd.Series([30, 10])).tolist() == [2, 0]
    assert ids.indices(np.array([], dtype=np.int64)).tolist() == []


def test_an_unknown_id_raises_instead_of_picking_the_last_row():
    ids = IdMap([10, 20, 30])
    with pytest.raises(UnknownIdError, match=r"^2 unknown ids \(99, -1\)$"):
        ids.indices([20, 99, 10, -1])
    with pytest.raises(UnknownIdError, match=r"^unknown id 99$"):
        ids.index(99)


def test_many_unknown_ids_are_named_shortly():
    with pytest.raises(UnknownIdError) as raised:
        IdMap([1]).indices(range(2, 10_002))
    assert str(raised.value) == "10000 unknown ids (2, 3, 4, 5, 6, …)"


def test_id_map_add_appends_and_keeps_old_indices():
    ids = IdMap([50, 10, 30])
    before = ids.indices([50, 10, 30]).tolist()
    assert ids.add(5) == 3
    assert ids.add(10) == 1  # already known: same index, nothing appended
    assert len(ids) == 4
    assert ids.indices([50, 10, 30]).tolist() == before
    assert ids.raw_ids.tolist() == [50, 10, 30, 5]


def test_id_map_rejects_duplicates():
    with pytest.raises(ValueError):
        IdMap([1, 2, 1])


def test_many_ids_at_once_are_found_as_one_at_a_time(monkeypatch):
    # Past DENSE_LOOKUP_MIN ids over a range no wider than them, a table by raw id answers;
    # it must agree with the index, unknown ids (in the range, above it, negative) included.
    monkeypatch.setattr("tui_recommender.engine.id_map.DENSE_LOOKUP_MIN", 10)
    ids = IdMap([31, 7, 40, 2, 0])
    raw = np.tile([0, 40, 2, 7, 31], 10)
    assert ids.indices(raw).tolist() == [4, 2, 3, 1, 0] * 10
    with pytest.raises(UnknownIdError, match=r"^3 unknown ids \(5, 99, -11\)$"):
        ids.indices(np.concatenate([raw, [5, 99, -11]]))
