"""Dataset text is untrusted: a title like "[REC]" (movie 57274 in ml-latest-small) is shown
as it is, never read as markup; a title holding terminal escapes (OSC 52 sets the clipboard,
OSC 0 the window title, CSI 2J clears the screen) or a bidi override reaches the terminal as
visible escapes, never as the sequence itself; links.csv cannot inject markup or actions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.content import Content
from textual.drivers.headless_driver import HeadlessDriver
from textual.widgets import Label

from tests.functional.tui.conftest import SIZE, enter_user, settle, wait_for
from tests.trained_model import DATASET_NAME, TrainedModel
from tui_recommender.app.service import RecommenderService
from tui_recommender.data.movielens import load_dataset
from tui_recommender.engine.checkpoint import load_checkpoint, save_checkpoint
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.detail_screen import DetailScreen
from tui_recommender.tui.components.movie_table import MovieTable

MARKUP_TITLE = "[REC] [b]not bold[/b]"
# Each would act on a terminal that received it raw.
SEQUENCES = ("\x1b]52;c;SGVsbG8=\x07", "\x1b]0;PWN\x07", "\x1b[2J\x1b[31m", "\u202e", "\x9b2J")
HOSTILE_TITLE = "Evil" + "".join(SEQUENCES) + " [@click=app.quit]x[/]"


def titled_app(
    trained_model: TrainedModel, data: Path, state_dir: Path, title: str, links: str | None = None
) -> RecommenderApp:
    """The app on `data` where user 1's top recommendation is titled `title` (the shipped
    weights re-tied to the changed file); `links`: a links.csv row body for that movie."""
    settings = trained_model.shipped_settings(data, state_dir)
    service = RecommenderService.open(settings)
    top = service.recommend(1, k=1)[0].movie.movie_id
    service.close()
    movies = data / "movies.csv"
    lines = movies.read_text().splitlines()
    quoted = '"' + title.replace('"', '""') + ' (2007)"'
    # Same genres: the calibrated list keeps the movie on top.
    lines = [f"{top},{quoted},{line.rsplit(',', 1)[1]}" if line.startswith(f"{top},") else line for line in lines]
    movies.write_text("\n".join(lines) + "\n")
    if links is not None:
        (data / "links.csv").write_text(f"movieId,imdbId,tmdbId\n{top},{links}\n")
    weights = settings.shipped_weights(DATASET_NAME)
    save_checkpoint(replace(load_checkpoint(weights), fingerprint=load_dataset(data).fingerprint), weights)
    return RecommenderApp(replace(settings))


@pytest.fixture
def app(trained_model: TrainedModel, small_data: Path, state_dir: Path) -> RecommenderApp:
    return titled_app(trained_model, small_data, state_dir, MARKUP_TITLE)


async def test_a_title_with_markup_shows_as_it_is(app: RecommenderApp, notifications: list) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        table = app.screen.query_one(MovieTable)
        assert MARKUP_TITLE in str(table.get_row_at(0))
        await wait_for(pilot, lambda: MARKUP_TITLE in str(app.screen.query_one("#detail", Label).render()))
        await pilot.press("4")
        await wait_for(pilot, lambda: any(o.get("title") == "Rated" for _, o in notifications))
        [message] = [m for m, o in notifications if o.get("title") == "Rated"]
        assert message.startswith(f"{MARKUP_TITLE}: 4★")
        # Read as markup, the toast would lose "[REC]" and the tags: it must be plain text.
        assert MARKUP_TITLE not in Content.from_markup(message).plain
        await settle(pilot)


class CapturingDriver(HeadlessDriver):
    """The headless driver, except that the app renders to it as to a terminal: every
    frame's bytes (what a real driver writes to the tty) are kept in `written`."""

    written: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        CapturingDriver.written.append(data)


async def test_terminal_escapes_in_a_title_never_reach_the_terminal(
    trained_model: TrainedModel, small_data: Path, state_dir: Path
) -> None:
    # links.csv: an IMDb id with markup and an action; a bad link is no link.
    app = titled_app(trained_model, small_data, state_dir, HOSTILE_TITLE, links="0114709[/] [@click=app.quit],862")
    app.driver_class = CapturingDriver
    CapturingDriver.written = []
    async with app.run_test(size=SIZE, headless=False) as pilot:
        await enter_user(pilot, 1)
        table = app.screen.query_one(MovieTable)
        await wait_for(pilot, lambda: "Evil" in str(table.get_row_at(0)))
        await pilot.press("4")  # the "Rated" toast names the title
        await settle(pilot)
        await pilot.press("i")  # the detail view: its title, and the links
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.details is not None)
        assert app.screen.details.facts.imdb_url is None
        await pilot.press("o")  # no IMDb link: nothing to open, no markup to parse
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, DetailScreen)
        await pilot.pause(0.2)
    output = "".join(CapturingDriver.written)
    for sequence in (*SEQUENCES, "\x1b]52", "\x1b]0;", "\x1b[2J"):
        assert sequence not in output
    # Shown, as visible escapes (the detail view's title is shown whole).
    assert r"Evil\x1b]52;c;SGVsbG8=\x07\x1b]0;PWN\x07" in output and r"\u202e" in output
