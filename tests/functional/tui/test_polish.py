"""The app as a demanding user meets it: keys that rate the same movies however fast they
are typed, undo, the detail view, readable genres, columns that fit, a score people read,
and the keys shown where they work (issue 10)."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import pytest
from textual import events
from textual.command import CommandPalette
from textual.widgets import Input, Label

from tests.functional.tui.conftest import SIZE, enter_user, land_reload, settle, wait_for
from tui_recommender.core.titles import sort_key
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.commands import binding_commands
from tui_recommender.tui.components.detail_screen import DetailScreen
from tui_recommender.tui.components.genre_list import GenreList
from tui_recommender.tui.components.help_screen import HelpScreen
from tui_recommender.tui.components.history_screen import HistoryScreen
from tui_recommender.tui.components.key_footer import KeyFooter
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.movie_table import MovieTable
from tui_recommender.tui.components.search_screen import SearchScreen
from tui_recommender.tui.components.status_bar import StatusBar
from tui_recommender.tui.components.user_screen import UserScreen


def listed(app: RecommenderApp) -> list[int]:
    table = app.screen.query_one(MovieTable)
    return [int(row.key.value or 0) for row in table.ordered_rows]


def ratings(app: RecommenderApp) -> dict[int, float]:
    assert app.service is not None and app.user_id is not None
    return {r.movie.movie_id: r.rating for r in app.service.user_ratings(app.user_id)}


def cell(app: RecommenderApp, movie_id: int, column: str) -> str:
    return str(app.screen.query_one(MovieTable).get_cell(str(movie_id), column))


def footer_keys(app: RecommenderApp) -> list[str]:
    return [key.key_display for key in app.screen.query_one(KeyFooter).query("FooterKey")]  # type: ignore[attr-defined]


# ---- deterministic rating --------------------------------------------------------------


@pytest.mark.parametrize("refresh_first", [False, True], ids=["before-the-refresh", "after-the-refresh"])
async def test_the_same_keys_rate_the_same_movies_whenever_the_update_lands(
    app: RecommenderApp, update_gate: threading.Event, refresh_first: bool
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        rows = listed(app)
        if refresh_first:
            update_gate.set()
        await pilot.press("5")
        if refresh_first:
            await land_reload(pilot)  # the model learnt the first rating and the list reloaded
            rows = listed(app)
        await pilot.press("down", "4", "down", "down", "3")
        assert [ratings(app).get(movie) for movie in rows[:4]] == [5.0, 4.0, None, 3.0]
        assert [cell(app, movie, "rated").endswith("★") for movie in rows[:4]] == [True, True, False, True]
        update_gate.set()
        await land_reload(pilot)
        after = listed(app)  # reloaded in place: the rated rows stay where they were
        assert [after[row] for row in (0, 1, 3)] == [rows[0], rows[1], rows[3]]
        assert app.screen.query_one(MovieTable).highlighted_movie.movie_id == rows[3]  # type: ignore[union-attr]


async def test_leaving_search_keeps_the_cursor_on_the_same_movie(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        rows = listed(app)
        await pilot.press("down", "down", "4", "slash", *"ghost")
        await settle(pilot)  # the update lands while search is open
        await pilot.press("escape")
        await land_reload(pilot)
        assert listed(app)[2] == rows[2]  # reloaded in place: the rated row stays
        assert app.screen.query_one(MovieTable).highlighted_movie.movie_id == rows[2]  # type: ignore[union-attr]


# ---- undo ------------------------------------------------------------------------------


async def test_undo_puts_back_what_the_last_ratings_replaced(app: RecommenderApp, notifications: list) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        top = listed(app)[0]
        await pilot.press("1", "2")  # an ID typed on the wrong screen rates one movie, and says so
        assert ratings(app)[top] == 2.0
        message, options = notifications[-1]
        assert options["title"] == "Rated" and "was 1★" in message and "ctrl+z" in message
        await pilot.press("ctrl+z")
        assert ratings(app)[top] == 1.0
        assert notifications[-1][1]["title"] == "Undone" and "back to 1★" in notifications[-1][0]
        await pilot.press("ctrl+z")
        assert top not in ratings(app)
        assert "unrated again" in notifications[-1][0]
        assert cell(app, top, "rated") == "1"  # its rank again
        await pilot.press("ctrl+z")
        assert notifications[-1][0] == "Nothing to undo."
        await settle(pilot)


async def test_a_removed_rating_comes_back_with_its_date(app: RecommenderApp, notifications: list) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 4)
        before = {r.movie.movie_id: (r.rating, r.timestamp) for r in app.service.user_ratings(4)}  # type: ignore[union-attr]
        await pilot.press("h")
        await settle(pilot)
        table = app.screen.query_one(MovieTable)
        movie = table.highlighted_movie
        assert movie is not None
        await pilot.press("delete")
        assert movie.movie_id not in ratings(app) and not table.has_movie(movie.movie_id)
        assert notifications[-1][1]["title"] == "Rating removed" and "ctrl+z" in notifications[-1][0]
        await pilot.press("ctrl+z")
        after = {r.movie.movie_id: (r.rating, r.timestamp) for r in app.service.user_ratings(4)}  # type: ignore[union-attr]
        assert after == before
        assert table.has_movie(movie.movie_id)
        await settle(pilot)


# ---- titles, columns, scores -------------------------------------------------------------


async def test_titles_read_with_the_article_in_front(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 4)
        await pilot.press("m", "m", "m")
        await settle(pilot)
        table = app.screen.query_one(MovieTable)
        titles = [str(table.get_cell(str(movie), "title")) for movie in listed(app)]
        assert any(title.startswith("The ") for title in titles)
        assert not any(title.endswith(", The") for title in titles)


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 45)])
async def test_columns_use_the_width_and_cut_text_ends_with_an_ellipsis(app: RecommenderApp, size) -> None:
    async with app.run_test(size=size) as pilot:
        await enter_user(pilot, 1)
        table = app.screen.query_one(MovieTable)
        if size[0] == 80:
            await pilot.press("b")  # the sidebar back (it folds by itself at 80): a narrow list
            await pilot.pause()
        widths = {str(key.value): column.get_render_width(table) for key, column in table.columns.items()}
        assert sum(widths.values()) == table.size.width - 1  # the last cell is kept for the scrollbar
        for column in ("title", "year", "score", "genres"):
            assert widths[column] >= 6, (column, widths)
        assert widths["title"] == max(widths.values())
        # At 160 columns the detail pane beside the list says why instead.
        assert widths["why"] <= 2 and app.screen.query_one("#pane").display == (size[0] >= 160)
        lines = [table.render_line(y).text for y in range(1, 6)]
        if size[0] == 80:
            assert any("…" in line for line in lines)
        assert all("%" in line for line in lines)  # the match, readable at 80 columns too


async def test_a_new_user_sees_popular_movies_labelled_so(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        table = app.screen.query_one(MovieTable)
        assert table.border_title == "Popular movies"
        assert {cell(app, movie, "score") for movie in listed(app)} == {"pop."}


async def test_a_user_with_only_low_ratings_is_told_why_the_list_is_popular(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("1", "down", "2")
        await settle(pilot)
        summary = str(app.screen.query_one("#summary", Label).render())
        assert "2 ratings" in summary and "none 3★ or more yet, so popular movies first" in summary
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen.query_one(MovieTable).border_title == "Popular movies"


async def test_m_at_the_end_of_the_list_says_so(app: RecommenderApp, notifications: list) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        for _ in range(6):  # 80 movies, pages of 20
            await pilot.press("m")
            await settle(pilot)
        assert notifications and notifications[-1][1].get("title") == "No more"
        assert "m for more" not in str(app.screen.query_one(MovieTable).border_subtitle)


# ---- the detail view -------------------------------------------------------------------


async def test_details_of_the_highlighted_movie_on_any_list(app: RecommenderApp, monkeypatch) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        movie = app.screen.query_one(MovieTable).highlighted_movie
        assert movie is not None
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        text = str(app.screen.query_one("#detail-text").render())
        assert ", ".join(movie.genres) in text and "not rated yet" in text and "on average from" in text
        assert "Because" in text
        assert movie.title in str(app.screen.query_one("#detail-title").render())
        opened: list[str] = []
        monkeypatch.setattr(app, "open_url", lambda url, **_: opened.append(url))
        await pilot.press("o")  # no links.csv in the generated data: nothing to open
        assert opened == []
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)

        await pilot.press("h")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert "Your rating" in str(app.screen.query_one("#detail-text").render())


async def test_details_link_to_imdb_and_open_it(small_data: Path, settings, monkeypatch) -> None:
    (small_data / "links.csv").write_text(
        "movieId,imdbId,tmdbId\n" + "".join(f"{m},{m:07d},{m + 5}\n" for m in range(10, 810, 10))
    )
    app = RecommenderApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        movie = app.screen.query_one(MovieTable).highlighted_movie
        assert movie is not None
        await pilot.press("i")
        await settle(pilot)
        text = str(app.screen.query_one("#detail-text").render())
        assert f"https://www.imdb.com/title/tt{movie.movie_id:07d}/" in text
        opened: list[str] = []
        monkeypatch.setattr(app, "open_url", lambda url, **_: opened.append(url))
        monkeypatch.setattr(webbrowser, "get", lambda: webbrowser.BackgroundBrowser("firefox"))
        await pilot.press("o", "t")
        assert opened == [
            f"https://www.imdb.com/title/tt{movie.movie_id:07d}/",
            f"https://www.themoviedb.org/movie/{movie.movie_id + 5}",
        ]


@pytest.mark.parametrize("browser", ["none", "text"])
async def test_without_a_browser_o_says_so_and_copies_the_address(
    small_data: Path, app: RecommenderApp, monkeypatch, notifications, browser
) -> None:
    (small_data / "links.csv").write_text(
        "movieId,imdbId,tmdbId\n" + "".join(f"{m},{m:07d},\n" for m in range(10, 810, 10))
    )

    def no_browser() -> webbrowser.BaseBrowser:
        if browser == "text":
            return webbrowser.GenericBrowser("lynx")  # would take over the terminal
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", no_browser)
    opened: list[str] = []
    copied: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **_: opened.append(url))
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        movie = app.screen.query_one(MovieTable).highlighted_movie
        assert movie is not None
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        url = f"https://www.imdb.com/title/tt{movie.movie_id:07d}/"
        assert opened == [] and copied == [url]
        assert notifications[-1][1]["title"] == "No web browser here" and notifications[-1][0].startswith(url)


# ---- genres, keys, palette, help --------------------------------------------------------


async def test_genre_selection_reads_without_colour(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        genres = app.screen.query_one(GenreList)
        await pilot.press("tab")
        assert genres.has_focus
        assert footer_keys(app)[:3] == ["space", "a", "n"]  # the footer follows focus

        def marks() -> list[str]:
            return [genres.render_line(y).text[:3] for y in range(genres.option_count)]

        assert set(marks()) == {"[ ]"}
        await pilot.press("a")
        assert set(marks()) == {"[x]"} and genres.border_subtitle == "all ticked"
        await pilot.press("n", "down", "space")
        assert marks()[:3] == ["[ ]", "[x]", "[ ]"]
        await pilot.press("tab")
        assert footer_keys(app)[:2] == ["1-5", "⏎"]
        await settle(pilot)


async def test_palette_offers_what_the_keys_here_do_and_nothing_twice(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        await pilot.press("h")
        await settle(pilot)
        names = [c.name for c in binding_commands(app.screen.active_bindings, app.get_key_display)]
        assert "Search" not in names and "Back" in names and "Undo" in names
        assert len(names) == len(set(names))
        system = [c.title for c in app.get_system_commands(app.screen)]
        assert "Keys" not in system and "Quit" not in system and "Screenshot" in system
        await pilot.press("escape")
        await pilot.pause()
        names = [c.name for c in binding_commands(app.screen.active_bindings, app.get_key_display)]
        assert {"Search", "History", "More", "Details", "Quit", "Help"} <= set(names)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"history", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await settle(pilot)


async def test_help_lists_every_palette_command_and_is_centred(app: RecommenderApp) -> None:
    async with app.run_test(size=(160, 45)) as pilot:
        await enter_user(pilot, 1)
        names = [c.name for c in binding_commands(app.screen.active_bindings, app.get_key_display)]
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        shown = {}  # description -> its tooltips: help shows one line per description
        for active in app.screen_stack[-2].active_bindings.values():
            if active.binding.description and active.binding.id:  # ours, not Textual's cursor keys
                shown.setdefault(active.binding.description, set()).add(
                    active.binding.tooltip or active.binding.description
                )
        missing = [name for name, tips in shown.items() if not any(tip in text for tip in tips)]
        assert not missing and set(names) <= set(shown)
        dialog = app.screen.query_one("#help-dialog").region
        assert abs(dialog.x - (160 - dialog.right)) <= 1
        assert abs(dialog.y - (45 - dialog.bottom)) <= 1


async def test_screenshot_without_a_downloads_folder(app: RecommenderApp, monkeypatch, tmp_path: Path) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_downloads_path", lambda: tmp_path / "no-such-folder")
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 1)
        app.action_screenshot()
        shots = list(app.settings.state_dir.glob("*.svg"))
        assert len(shots) == 1 and shots[0].read_text().startswith("<svg")


async def test_u_asks_for_another_user_and_escape_comes_back(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        await pilot.press("down", "down")
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, UserScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.user_id == 2
        assert app.screen.query_one(MovieTable).cursor_row == 2
        await pilot.press("u", *"3", "enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.user_id == 3
        assert len(app.screen_stack) == 2


async def test_a_pasted_search_arrives_whole(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        before = ratings(app)
        for character in "/ghost 2":  # one write: every key queued before the first is handled
            key = {"/": "slash", " ": "space"}.get(character, character)
            app.post_message(events.Key(key, character))
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.pause(0.2)
        assert app.screen.query_one(Input).value == "ghost 2"
        assert ratings(app) == before  # the digit was typed, not a rating
        await settle(pilot)


async def test_toasts_stay_above_the_status_line(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await enter_user(pilot, 2)
        await pilot.press("5")
        await pilot.pause(0.5)
        toasts = list(app.screen.query("Toast"))
        assert toasts
        status = app.screen.query_one(StatusBar).region
        assert all(toast.region.bottom <= status.y for toast in toasts)
        await settle(pilot)


async def test_history_sort_starts_at_the_top_and_an_empty_history_says_so(app: RecommenderApp) -> None:
    async with app.run_test(size=(80, 12)) as pilot:
        await enter_user(pilot, 4)
        await pilot.press("h")
        await settle(pilot)
        table = app.screen.query_one(MovieTable)
        await pilot.press(*["down"] * (table.row_count - 1))
        assert table.cursor_row == table.row_count - 1 and table.scroll_y > 0
        await pilot.press("s")
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("u", "ctrl+n")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        empty = app.screen.query_one("#history-empty", Label)
        assert empty.display and "No ratings yet" in str(empty.render())
        assert not app.screen.query_one(MovieTable).display


def test_history_title_order_is_a_librarys(app: RecommenderApp) -> None:
    titles = ["The Zoo", "Alien", "A Beautiful Mind", "(no title)", "10 Things", "2 Fast"]
    assert sorted(titles, key=sort_key) == ["2 Fast", "10 Things", "Alien", "A Beautiful Mind", "The Zoo", "(no title)"]
