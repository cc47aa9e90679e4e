"""Who are you: the user ID input, unknown IDs, new profiles, and a fast first screen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from textual.widgets import Input, Label

from tests.functional.tui.conftest import SIZE, enter_user, settle, wait_for
from tui_recommender.config.settings import Settings
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.new_profile_modal import NewProfileModal
from tui_recommender.tui.components.user_screen import UserScreen


def test_importing_the_app_loads_no_model_code() -> None:
    code = (
        "import sys, tui_recommender.tui.app\n"
        "heavy = [m for m in ('torch', 'pandas', 'tui_recommender.app.service') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_user_id_is_checked_as_you_type(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        # Interactive before the service has loaded.
        assert isinstance(app.screen, UserScreen)
        error = app.screen.query_one("#user-id-error", Label)
        await pilot.press("a", "b", "c")
        assert "'abc' is not a user ID" in str(error.render())
        await pilot.press("enter")
        assert isinstance(app.screen, UserScreen)
        await pilot.press("backspace", "backspace", "backspace", "0")
        assert "between 1 and" in str(error.render())
        await pilot.press("backspace", "4", "2")
        assert str(error.render()) == ""
        assert app.screen.query_one(Input).is_valid
        await settle(pilot)


async def test_q_types_into_the_input_instead_of_quitting(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running
        assert app.screen.query_one(Input).value == "q"
        await settle(pilot)


async def test_known_user_goes_to_recommendations(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        assert isinstance(app.screen, MainScreen)
        assert app.user_id == 1
        summary = str(app.screen.query_one("#summary", Label).render())
        assert summary.startswith("User 1 · 15 ratings · mean ")
        assert "likes " in summary


async def test_id_typed_while_loading_goes_on_when_ready(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "enter")  # the service is still opening
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.user_id == 3


async def test_unknown_user_is_asked_about_a_new_profile(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.service is not None
        new_id = app.service.next_user_id() + 100
        await enter_user(pilot, new_id)
        assert isinstance(app.screen, NewProfileModal)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, UserScreen)
        assert not app.service.user_exists(new_id)

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, NewProfileModal))
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.user_id == new_id
        assert app.service.user_exists(new_id)
        assert "new profile" in str(app.screen.query_one("#summary", Label).render())


async def test_new_user_key_and_button(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.service is not None
        first = app.service.next_user_id()
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.user_id == first
        assert app.service.user_exists(first)

        await pilot.press("u")  # back to the first screen
        await pilot.pause()
        assert isinstance(app.screen, UserScreen)
        await pilot.click("#new-user-button")
        await settle(pilot)
        assert app.user_id == first + 1


async def test_a_dataset_that_cannot_load_is_reported_not_raised(tmp_path: Path, state_dir: Path) -> None:
    app = RecommenderApp(Settings.resolve(data=tmp_path / "missing", state_dir=state_dir))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.is_running
        assert app.service is None
        assert app.status_text.startswith("Could not load the model")
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
