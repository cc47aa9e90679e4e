from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_recommender.storage.database import RatingsStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RatingsStore]:
    with RatingsStore(tmp_path / "state" / "ratings.sqlite3") as opened:
        yield opened


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database holding two ratings of user 1, closed."""
    path = tmp_path / "state" / "ratings.sqlite3"
    with RatingsStore(path) as store:
        store.put(1, 10, 4.0, timestamp=100)
        store.put(1, 20, 2.5, timestamp=101)
    return path
