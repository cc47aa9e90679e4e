"""Keys and layout a power user expects (issue 19, item 4): j/k, g/G, Home/End in every
list, the genre sidebar that folds, the detail pane on a wide terminal, list marks in the
main list, search and the detail view, every new key in help, footer and palette."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from tests.functional.tui.conftest import SIZE, enter_user, settle, wait_for
from tui_recommender.config.settings import Settings
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.commands import binding_commands
from tui_recommender.tui.components.detail_pane import DetailPane
from tui_recommender.tui.components.detail_screen import DetailScreen
from tui_recommender.tui.components.genre_list import GenreList
from tui_recommender.tui.components.help_screen import HelpScreen
from tui_recommender.tui.components.key_footer import KeyFooter
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.movie_table import MovieTable


def footer_keys(app: RecommenderApp) -> list[str]:
    return [key.key_display for key in app.screen.query_one(KeyFooter).query("FooterKey")]  # type: ignore[attr-defined]


async def test_vim_keys_and_home_end_move_through_every_list(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        table = app.screen.query_one(MovieTable)
        last = table.row_count - 1
        for keys, row in ((("j", "j"), 2), (("k",), 1), (("G",), last), (("g",), 0), (("end",), last), (("home",), 0)):
            await pilot.press(*keys)
            assert table.cursor_row == row, keys
        await pilot.press("tab")
        genres = app.screen.query_one(GenreList)
        assert genres.has_focus
        await pilot.press("j", "j", "k")
        assert genres.highlighted == 1
        await pilot.press("G")
        assert genres.highlighted == genres.option_count - 1
        await pilot.press("g")
        assert genres.highlighted == 0
        await pilot.press("tab", "slash", *"ghost", "enter")
        await wait_for(pilot, lambda: app.screen.query_one(MovieTable).row_count > 1)
        results = app.screen.query_one(MovieTable)
        await pilot.press("j", "G")
        assert results.cursor_row == results.row_count - 1
        await pilot.press("k", "home")
        assert results.cursor_row == 0
        await settle(pilot)


async def test_the_sidebar_folds_below_100_columns_and_with_b(app: RecommenderApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await enter_user(pilot, 2)
        genres = app.screen.query_one(GenreList)
        table = app.screen.query_one(MovieTable)
        assert not genres.display
        assert table.columns["title"].width >= 26  # type: ignore[index]  # was 17 beside the sidebar
        await pilot.press("tab")  # unfolds it to choose
        assert genres.display and genres.has_focus
        await pilot.press("down", "space", "tab", "b")
        assert not genres.display and table.has_focus
        await pilot.pause(0.4)
        await settle(pilot)
        assert "Comedy" in str(table.border_title)  # what the folded sidebar filters
        await pilot.resize_terminal(120, 30)
        assert not genres.display  # the user's choice holds
        await pilot.press("b")
        assert genres.display


async def test_a_wide_terminal_shows_the_detail_pane(app: RecommenderApp) -> None:
    async with app.run_test(size=(160, 45)) as pilot:
        await enter_user(pilot, 2)
        pane = app.screen.query_one(DetailPane)
        table = app.screen.query_one(MovieTable)
        assert pane.display and not app.screen.query_one("#detail").display
        assert table.row_count >= 38  # the first page fills the list: no empty rows
        await pilot.press("j")
        movie = table.highlighted_movie
        assert movie is not None
        await wait_for(pilot, lambda: pane.details is not None and pane.details.movie == movie)
        assert "Dataset" in str(pane.query_one("#pane-text").render())
        await pilot.resize_terminal(*SIZE)
        assert not pane.display
        await settle(pilot)


async def test_watchlist_marks_in_the_list_search_and_details(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        table = app.screen.query_one(MovieTable)
        movie = table.highlighted_movie
        assert movie is not None
        await pilot.press("w")
        await wait_for(pilot, lambda: str(table.get_cell(str(movie.movie_id), "listed")) == "w")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.details is not None)
        assert "on your watchlist" in str(app.screen.query_one("#detail-text").render())
        await pilot.press("w")  # off again, from the detail view
        await wait_for(pilot, lambda: "watchlist" not in str(app.screen.query_one("#detail-text").render()))
        await pilot.press("w", "escape", "slash", *movie.title.split()[-1], "enter")
        results = app.screen.query_one(MovieTable)
        await wait_for(pilot, lambda: results.has_movie(movie.movie_id))
        assert str(results.get_cell(str(movie.movie_id), "listed")) == "w"
        await pilot.press("4")  # a rating takes it off the list
        await wait_for(pilot, lambda: str(results.get_cell(str(movie.movie_id), "listed")) == "")
        await settle(pilot)


async def test_new_keys_in_footer_help_and_palette(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        assert {"f", "s", "?"} <= set(footer_keys(app))
        names = {c.name for c in binding_commands(app.screen.active_bindings, app.get_key_display)}
        assert {"Filter", "Sort", "Sidebar", "Down", "First", "Last"} <= names
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for line in ("j ", "g, home", "f ", "s ", "b ", "tab"):
            assert f"\n  {line}" in text, line
        await pilot.press("escape")
        await settle(pilot)


@pytest.fixture
def remapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_data: Path, state_dir: Path, trained_checkpoint: Path
) -> Settings:
    config_file = tmp_path / "config.toml"
    config_file.write_text('[keys]\nfilter = "e"\nrow-down = "y"\nsort = "v"\n')
    monkeypatch.setenv("TUI_RECOMMENDER_CONFIG", str(config_file))
    return Settings.resolve(data=small_data, state_dir=state_dir, checkpoint=trained_checkpoint)


async def test_the_new_keys_remap_through_the_config_file(remapped: Settings) -> None:
    app = RecommenderApp(remapped)
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        assert isinstance(app.screen, MainScreen)
        table = app.screen.query_one(MovieTable)
        await pilot.press("y")
        assert table.cursor_row == 1
        await pilot.press("j")  # remapped away
        assert table.cursor_row == 1
        await pilot.press("v")
        assert "by year" in str(table.border_subtitle)
        assert "e" in footer_keys(app) and "f" not in footer_keys(app)
        await pilot.press("e")
        assert app.screen.query_one("#filter").has_focus
        await settle(pilot)
        assert isinstance(app.screen.query_one(GenreList), OptionList)
