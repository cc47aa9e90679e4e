"""Dataset titles are untrusted text: a title like "[REC]" (movie 57274 in ml-latest-small)
is shown as it is in the table, the detail line and the rating toast, never read as markup."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.content import Content
from textual.widgets import Label

from tests.functional.tui.conftest import SIZE, enter_user, settle, wait_for
from tests.trained_model import DATASET_NAME, shipped_settings
from tui_recommender.app.service import RecommenderService
from tui_recommender.data.movielens import load_dataset
from tui_recommender.engine.checkpoint import load_checkpoint, save_checkpoint
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.movie_table import MovieTable

MARKUP_TITLE = "[REC] [b]not bold[/b]"


@pytest.fixture
def app(small_data: Path, state_dir: Path) -> RecommenderApp:
    """The app on `small_data` where user 1's top recommendation is titled `MARKUP_TITLE`
    (the shipped weights re-tied to the changed file)."""
    settings = shipped_settings(small_data, state_dir)
    service = RecommenderService.open(settings)
    top = service.recommend(1, k=1)[0].movie.movie_id
    service.close()
    movies = small_data / "movies.csv"
    lines = movies.read_text().splitlines()
    # Same genres: the calibrated list keeps the movie on top.
    lines = [
        f"{top},{MARKUP_TITLE} (2007),{line.rsplit(',', 1)[1]}" if line.startswith(f"{top},") else line
        for line in lines
    ]
    movies.write_text("\n".join(lines) + "\n")
    weights = settings.shipped_weights(DATASET_NAME)
    save_checkpoint(replace(load_checkpoint(weights), fingerprint=load_dataset(small_data).fingerprint), weights)
    return RecommenderApp(replace(settings))


async def test_a_title_with_markup_shows_as_it_is(app: RecommenderApp, notifications: list) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        table = app.screen.query_one(MovieTable)
        assert MARKUP_TITLE in str(table.get_row_at(0))
        await wait_for(pilot, lambda: MARKUP_TITLE in str(app.screen.query_one("#detail", Label).render()))
        await pilot.press("4")
        await wait_for(pilot, lambda: any(o.get("title") == "Rated" for _, o in notifications))
        [(message, options)] = [(m, o) for m, o in notifications if o.get("title") == "Rated"]
        assert message.startswith(f"{MARKUP_TITLE}: 4★")
        # Read as markup, the toast would lose "[REC]" and the tags: it must be plain text.
        assert MARKUP_TITLE not in Content.from_markup(message).plain
        assert options.get("markup") is False
        await settle(pilot)
