"""The main list refreshes itself, in place, when the model has learnt (issue 19, item 1),
and stays usable through bad input: a filter of control characters or 10,000 characters,
a resize to 40x10 during an update, an update that fails."""

from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label

from tests.functional.tui.conftest import SIZE, enter_user, land_reload, settle, wait_for
from tui_recommender.config.settings import Settings
from tui_recommender.core.list_names import NOT_INTERESTED
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components import recommendation_table
from tui_recommender.tui.components.error_modal import ErrorModal
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.recommendation_table import RecommendationTable
from tui_recommender.tui.live_list import FILTER_MAX_CHARS


def table(app: RecommenderApp) -> RecommendationTable:
    return app.screen.query_one(RecommendationTable)


def listed(app: RecommenderApp) -> list[int]:
    return [int(row.key.value or 0) for row in table(app).ordered_rows]


def ratings(app: RecommenderApp) -> dict[int, float]:
    assert app.service is not None and app.user_id is not None
    return {r.movie.movie_id: r.rating for r in app.service.user_ratings(app.user_id)}


def rows_text(app: RecommenderApp) -> list[list[str]]:
    t = table(app)
    return [[str(cell) for cell in t.get_row_at(row)] for row in range(t.row_count)]


def highlighted(app: RecommenderApp) -> int | None:
    movie = table(app).highlighted_movie
    return None if movie is None else movie.movie_id


@pytest.fixture
def shifting_ranking(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in ranking that reshuffles with every rating stored (a function of the
    user's ratings alone, as an ideal model's), so a reload between two keys shows."""
    from tui_recommender.app.service import Recommendation, RecommenderService

    def recommend(
        self: RecommenderService, user_id: int, genres: Collection[str] = (), k: int = 20, offset: int = 0
    ) -> list[Recommendation]:
        seen = {r.movie.movie_id for r in self.user_ratings(user_id)}
        hidden = {entry.movie.movie_id for entry in self.listed(user_id, NOT_INTERESTED)}
        order = sorted(range(10, 810, 10), key=lambda movie: (movie * (len(seen) + 3)) % 101)  # see tests.synthetic
        movies = [self.movie(m) for m in order if m not in seen | hidden]
        movies = [m for m in movies if not genres or set(genres) & set(m.genres)]
        return [
            Recommendation(movie, rank, 100 - rank, None, (100 - rank) / 100, 1 - rank / 100)
            for rank, movie in enumerate(movies[offset : offset + k], start=offset + 1)
        ]

    monkeypatch.setattr(RecommenderService, "recommend", recommend)
    monkeypatch.setattr(recommendation_table, "MARK_SECONDS", 0.2)


async def test_the_list_reloads_itself_in_place(
    app: RecommenderApp, update_gate: threading.Event, shifting_ranking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recommendation_table, "MARK_SECONDS", 3.0)  # long enough to see them
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        before = listed(app)
        await pilot.press("j", "j", "4")
        await wait_for(pilot, lambda: ratings(app).get(before[2]) == 4.0)
        update_gate.set()
        await land_reload(pilot)
        after = listed(app)
        assert after != before  # reloaded without ctrl+r
        assert after[2] == before[2] and highlighted(app) == before[2]  # rated row and cursor stay
        assert str(table(app).get_cell(str(before[2]), "rated")) == "4★"
        assert "list: " in app.status_text and ("new" in app.status_text or " up " in app.status_text)
        assert "ctrl+r" not in str(table(app).border_subtitle)
        marks = [str(table(app).get_cell(str(m), "rated"))[0] for m in after if m != before[2]]
        assert {"+", "↑"} & set(marks)  # arrivals and moves are marked, for a moment
        await wait_for(pilot, lambda: all(text[0][0].isdigit() or "★" in text[0] for text in rows_text(app)))
        await pilot.press("ctrl+r")  # still reloads from the top, without the rated movie
        await settle(pilot)
        assert before[2] not in listed(app)


async def test_the_same_keys_give_the_same_screen_whenever_the_updates_land(
    settings: Settings, update_gate: threading.Event, shifting_ranking: None, tmp_path: Path
) -> None:
    """Held at the gate until the keys are done, or landed after each rating: keys typed
    ahead act on the rows they were typed for, and the screens end the same."""
    keys = ("4", "j", "5", "j", "j", "3", "k")

    async def run(app: RecommenderApp, gated: bool) -> tuple[Any, ...]:
        async with app.run_test(size=SIZE) as pilot:
            await enter_user(pilot, 2)
            assert isinstance(app.screen, MainScreen)
            app.screen.keys_quiet_seconds = 60.0  # the keys below come faster than that
            for key in keys:
                await pilot.press(key)
                if not gated and key.isdigit():
                    await settle(pilot)  # this rating's update and reload have landed
                    assert app.screen.reload_held or app.screen._waiting is not None or ratings(app)
            cursor_movie = highlighted(app)
            update_gate.set()
            await land_reload(pilot)
            await wait_for(pilot, lambda: "+" not in str(rows_text(app)) and "↑" not in str(rows_text(app)))
            # The cursor stays on its movie, or on the nearest row still there when it left.
            assert highlighted(app) == cursor_movie or cursor_movie not in listed(app)
            t = table(app)
            return rows_text(app), t.cursor_row, t.border_title, t.border_subtitle, ratings(app)

    gated = await run(RecommenderApp(settings), gated=True)
    other = Settings.resolve(data=settings.data, state_dir=tmp_path / "other", checkpoint=settings.checkpoint)
    landed = await run(RecommenderApp(other), gated=False)
    assert landed == gated
    rows = gated[0]
    assert [row[0] for row in rows[:4]] == ["4★", "5★", rows[2][0], "3★"]  # the keys rated the rows they were typed for


async def test_a_new_profile_leaves_popular_movies_by_itself(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await settle(pilot)
        assert table(app).border_title == "Popular movies"
        await pilot.press("5")
        await land_reload(pilot)
        assert table(app).border_title == "Recommendations"


async def test_a_filter_of_control_characters_or_10000_characters(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        shown = listed(app)
        await pilot.press("f")
        box = app.screen.query_one("#filter", Input)
        assert box.has_focus
        box.insert_text_at_cursor("\x1b[2J\x07" + "\u202e")
        await pilot.pause()
        assert box.value == "[2J"
        assert "control characters left out" in str(table(app).border_subtitle)
        assert listed(app) == [] and "Nothing matches" in str(app.screen.query_one("#detail", Label).render())
        box.value = ""
        box.insert_text_at_cursor("x" * 10_000)
        await pilot.pause()
        assert box.value == "x" * FILTER_MAX_CHARS
        assert f"cut to {FILTER_MAX_CHARS} characters" in str(table(app).border_subtitle)
        await pilot.press("escape")  # clears it: every row again, and the keys act on the list
        assert listed(app) == shown and not box.display
        await pilot.press("4")
        await wait_for(pilot, lambda: ratings(app).get(shown[0]) == 4.0)
        await settle(pilot)


async def test_a_word_filters_the_list_and_s_sorts_it(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        t = table(app)
        word = t.movies[listed(app)[1]].title.split()[0]
        await pilot.press("f", *word.lower(), "enter")
        assert t.has_focus and listed(app)
        assert all(word.lower() in t.movies[m].title.lower() for m in listed(app))
        await pilot.press("escape", "s")
        years = [t.movies[m].year or 0 for m in listed(app)]
        assert years == sorted(years, reverse=True) and "by year" in str(t.border_subtitle)
        await pilot.press("s")
        assert "by title" in str(t.border_subtitle)
        await pilot.press("s")
        assert "by" not in str(t.border_subtitle)


async def test_a_resize_to_40x10_during_an_update(app: RecommenderApp, update_gate: threading.Event) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        top = listed(app)[0]
        await pilot.press("4")
        await wait_for(pilot, lambda: ratings(app).get(top) == 4.0)
        await pilot.resize_terminal(40, 10)
        update_gate.set()
        await land_reload(pilot)
        assert app.is_running and not isinstance(app.screen, ErrorModal)
        assert highlighted(app) == top and table(app).row_count > 1
        assert table(app).size.height >= 1 and table(app).columns["title"].width >= 8  # type: ignore[index]
        await pilot.press("j", "3")
        second = listed(app)[1]
        await wait_for(pilot, lambda: ratings(app).get(second) == 3.0)
        await pilot.resize_terminal(*SIZE)
        await land_reload(pilot)
        assert ratings(app)[top] == 4.0


async def test_a_failed_update_leaves_the_list_usable_and_loses_no_rating(
    app: RecommenderApp, notifications: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui_recommender.app.service import RecommenderService

    def broken(self: RecommenderService, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(RecommenderService, "update_model", broken)
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        rows = listed(app)
        await pilot.press("4")
        await settle(pilot)
        assert not isinstance(app.screen, ErrorModal) and isinstance(app.screen, MainScreen)
        assert "not learnt, stored: the disk is on fire" in app.status_text
        failures = [n for n in notifications if n[1].get("severity") == "error"]
        assert len(failures) == 1 and "the disk is on fire" in failures[0][0]
        await pilot.press("j", "5")  # the list still takes keys
        await settle(pilot)
        assert ratings(app)[rows[0]] == 4.0 and ratings(app)[rows[1]] == 5.0
        assert app.service is not None and app.service.pending_updates() == 2
        assert listed(app)[:2] == rows[:2]
