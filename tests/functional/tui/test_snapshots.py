"""SVG snapshots of the main screens at 80x24 (pytest-textual-snapshot).

Deterministic by construction: the service has loaded and every worker has finished
before the screenshot, toasts are cleared, dates are shown in UTC, the cursor does not
blink (see conftest), and the ranking is a fixed stand-in, so that these pictures test
the TUI, not the model (the other tests use the real ranking). Regenerate with
`pytest tests/functional/tui --snapshot-update` and look at the report before committing."""

from __future__ import annotations

import time
from collections.abc import Collection
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.functional.tui.conftest import enter_user, settle, wait_for
from tui_recommender.app.service import ModelSource, SourceKind
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.movie_table import MovieTable

TERMINAL = (80, 24)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def fixed_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recommend unrated movies of the chosen genres by ID, with made-up scores."""
    from tui_recommender.app.service import Recommendation, RecommenderService

    def recommend(
        self: RecommenderService, user_id: int, genres: Collection[str] = (), k: int = 20, offset: int = 0
    ) -> list[Recommendation]:
        rated = self.user_ratings(user_id)
        seen = {rating.movie.movie_id for rating in rated}
        because = rated[0].movie.title if rated else None
        movies = [self.movie(movie_id) for movie_id in range(10, 810, 10)]  # see tests.synthetic
        movies = [m for m in movies if m.movie_id not in seen and (not genres or set(genres) & set(m.genres))]
        return [
            Recommendation(movie, rank, 100 - rank, because, (100 - rank) / 100, 1 - rank / 100)
            for rank, movie in enumerate(movies[offset : offset + k], start=offset + 1)
        ]

    monkeypatch.setattr(RecommenderService, "recommend", recommend)


async def quiet(pilot: Pilot) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


def test_first_screen_with_a_bad_id(snap_compare, app: RecommenderApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await quiet(pilot)
        await pilot.press(*"12x")

    assert snap_compare(app, terminal_size=TERMINAL, run_before=run_before)


def test_recommendations(snap_compare, app: RecommenderApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await enter_user(pilot, 1)
        await pilot.press("down", "down")
        await quiet(pilot)

    assert snap_compare(app, terminal_size=TERMINAL, run_before=run_before)


def test_help(snap_compare, app: RecommenderApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await enter_user(pilot, 1)
        assert pilot.app.service is not None
        pilot.app.service.model_source = ModelSource(
            SourceKind.CHECKPOINT, Path("test")
        )  # the real one names a temporary path
        await pilot.press("question_mark")
        await quiet(pilot)

    assert snap_compare(app, terminal_size=TERMINAL, run_before=run_before)


def test_search(snap_compare, app: RecommenderApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await enter_user(pilot, 1)
        await pilot.press("slash", *"ghost")
        await wait_for(pilot, lambda: pilot.app.screen.query_one(MovieTable).row_count > 0)
        await pilot.press("down")
        await quiet(pilot)

    assert snap_compare(app, terminal_size=TERMINAL, run_before=run_before)


def test_history(snap_compare, app: RecommenderApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await enter_user(pilot, 1)
        await pilot.press("h")
        await quiet(pilot)

    assert snap_compare(app, terminal_size=TERMINAL, run_before=run_before)


def test_rating_dialog(snap_compare, app: RecommenderApp) -> None:
    async def run_before(pilot: Pilot) -> None:
        await enter_user(pilot, 1)
        await pilot.press("r", "6")
        await quiet(pilot)

    assert snap_compare(app, terminal_size=TERMINAL, run_before=run_before)
