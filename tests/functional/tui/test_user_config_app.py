"""The config file's theme, keymap and genres, applied in the real app (headless)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import SelectionList

from tests.functional.tui.conftest import SIZE, enter_user, settle
from tests.paths import REPO_ROOT
from tui_recommender.config.settings import Settings
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.help_screen import HelpScreen
from tui_recommender.tui.components.main_screen import MainScreen


@pytest.fixture
def settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_data: Path, state_dir: Path, trained_checkpoint: Path
) -> Settings:
    """The conftest's settings, with a config file (Westerns: a genre the data lacks)."""
    config_file = tmp_path / "config.toml"
    config_file.write_text('theme = "nord"\ngenres = ["comedy", "Westerns"]\n[keys]\nhelp = "f1"\n')
    monkeypatch.setenv("TUI_RECOMMENDER_CONFIG", str(config_file))
    return Settings.resolve(data=small_data, state_dir=state_dir, checkpoint=trained_checkpoint)


async def test_theme_keymap_and_genres_apply_in_the_app(app: RecommenderApp, notifications) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        assert app.theme == "nord"
        assert isinstance(app.screen, MainScreen)
        genres = app.screen.query_one("#genres", SelectionList)
        assert genres.chosen == ("Comedy",)
        await settle(pilot)
        table = app.screen.table
        assert table.row_count > 0
        genre_column = [str(column.label) for column in table.columns.values()].index("Genres")
        assert all("Comedy" in str(table.get_row_at(row)[genre_column]) for row in range(table.row_count))
        await pilot.press("question_mark")  # remapped away from help
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text").render())
        assert "f1" in help_text.split("Show every key")[0].splitlines()[-1]  # the remapped key
        assert any("Westerns" in message for message, _ in notifications)


def test_the_readme_documents_every_binding_id_and_config_key():
    from tui_recommender.config.user_file import KEYS
    from tui_recommender.tui.app import RecommenderApp
    from tui_recommender.tui.config_check import binding_ids

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Config file") :]
    assert [i for i in sorted(binding_ids(RecommenderApp)) if f"`{i}`" not in section] == []
    assert [k for k in KEYS if f"\n{k} = " not in section and f"[{k}]" not in section] == []


async def test_a_key_bound_twice_is_one_line_and_the_app_works_with_the_default(
    app: RecommenderApp, notifications, tmp_path, monkeypatch
) -> None:
    config_file = app.settings.config_file
    assert config_file is not None
    config_file.write_text('[keys]\nmore = "q"\nrate-1 = "2"\nhelp = "f1"\n')
    app.settings = Settings.resolve(
        data=app.settings.data, state_dir=app.settings.state_dir, checkpoint=app.settings.checkpoint
    )
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        await settle(pilot)
        warned = [message for message, options in notifications if options.get("severity") == "warning"]
        assert [m for m in warned if "keys." in m] == [
            f"config file {config_file}: keys.more: 'q' is already quit's key; more keeps its default",
            f"config file {config_file}: keys.rate-1: '2' is already rate-2's key; rate-1 keeps its default",
        ]
        assert app.keymap_in_use == {"help": "f1"}  # the rest of the file still applies
        assert isinstance(app.screen, MainScreen)
        movie = app.screen.table.highlighted_movie
        assert movie is not None
        await pilot.press("2")
        await settle(pilot)
        assert app.service is not None and app.service.rating_of(1, movie.movie_id)[0] == 2.0
        await pilot.press("q")  # still quit's key
        await pilot.pause(1)
        assert not app.is_running
