from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_recommender.storage.database import RatingsStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RatingsStore]:
    with RatingsStore(tmp_path / "state" / "ratings.sqlite3") as opened:
        yield opened
