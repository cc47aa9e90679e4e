"""Help, the command palette, errors that must not crash the app, and saving on exit."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest
from textual.command import CommandPalette

from tests.functional.tui.conftest import SIZE, enter_user, settle, wait_for
from tui_recommender.app.service import SourceKind
from tui_recommender.config.settings import Settings
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.error_modal import ErrorModal
from tui_recommender.tui.components.help_screen import HelpScreen
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.movie_table import MovieTable
from tui_recommender.tui.components.search_screen import SearchScreen


async def test_help_screen(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        assert "1-5" in text and "shift+1-5" in text and "q, ^q, ^c" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_command_palette_runs_main_actions(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"search")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))


async def test_unexpected_worker_error_shows_a_dialog_and_the_app_goes_on(
    app: RecommenderApp, monkeypatch, caplog
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        assert app.service is not None

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(app.service, "recommend", broken)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert "boom" in str(app.screen.query_one("#error-title").render())
        # The log (the CLI's log file) keeps the bug with its traceback for a report.
        (bug,) = [record for record in caplog.records if record.name == "tui_recommender.tui.app"]
        assert "failed" in bug.getMessage() and isinstance(bug.exc_info[1], RuntimeError)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one("#recommendations").loading is False
        monkeypatch.undo()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen.query_one("#recommendations").row_count > 0


async def test_quit_saves_and_the_next_run_reloads(settings: Settings, state_dir: Path) -> None:
    app = RecommenderApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 5)
        table = app.screen.query_one(MovieTable)
        first = table.highlighted_movie
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("down")
        second = table.highlighted_movie
        await pilot.press("4")  # starts a fine-tune: quitting cancels it, then saves
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0
    assert app.saved_path is not None and app.saved_path.is_file()
    assert app.saved_path.is_relative_to(state_dir)

    again = RecommenderApp(replace(settings, checkpoint=None))  # without --checkpoint, the saved state wins
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)  # also learns whatever the cancelled update had not
        assert again.service is not None
        assert again.service.model_source.kind == SourceKind.STATE
        assert again.service.model_source.path == app.saved_path
        stored = {r.movie.movie_id: r.rating for r in again.service.user_ratings(5)}
        assert first is not None and second is not None
        assert stored[first.movie_id] == 5.0 and stored[second.movie_id] == 4.0
        assert again.service.pending_updates() == 0
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not again.is_running)


async def test_sigterm_saves_and_exits(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 6)
        os.kill(os.getpid(), signal.SIGTERM)
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0
    assert app.saved_path is not None and app.saved_path.is_file()


async def test_closed_terminal_saves_and_leaves_at_once(app: RecommenderApp, monkeypatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)  # the real one would end pytest too
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 7)
        await pilot.press("5")
        os.kill(os.getpid(), signal.SIGHUP)
        await wait_for(pilot, lambda: bool(exits))
        assert exits == [0]
        assert app.service is not None
        path = app.settings.dataset_state_dir(app.service.dataset_name)
        again = RecommenderApp(replace(app.settings, checkpoint=None))  # the saved state, not --checkpoint
        app.exit()
    assert any(path.glob("*.npz"))
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.service is not None
        assert again.service.model_source.kind == SourceKind.STATE
        assert again.service.pending_updates() == 0
        await pilot.press("ctrl+q")


async def test_ctrl_c_quits_even_while_typing(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4", "ctrl+c")
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0
    assert app.saved_path is not None and app.saved_path.is_file()


async def test_a_crash_still_saves(app: RecommenderApp, monkeypatch) -> None:
    def broken(self: MainScreen) -> None:
        raise RuntimeError("a bug in a key handler")

    monkeypatch.setattr(MainScreen, "action_more", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        async with app.run_test(size=SIZE) as pilot:
            await enter_user(pilot, 8)
            await pilot.press("m")
            await wait_for(pilot, lambda: not app.is_running)
    assert app.saved_path is None
    app.save_if_needed()  # what run_app does once the app has stopped
    assert app.saved_path is not None and app.saved_path.is_file()
