"""Search every movie and rate it; change and remove ratings in the history screen."""

from __future__ import annotations

from textual.widgets import Input

from tests.functional.tui.conftest import SIZE, enter_user, settle, wait_for
from tui_recommender.core.titles import sort_key
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.history_screen import HistoryScreen
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.movie_table import MovieTable
from tui_recommender.tui.components.search_screen import SearchScreen


def ratings(app: RecommenderApp) -> dict[int, float]:
    assert app.service is not None and app.user_id is not None
    return {r.movie.movie_id: r.rating for r in app.service.user_ratings(app.user_id)}


async def test_search_and_rate(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 3)
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        assert app.screen.query_one(Input).has_focus
        await pilot.press(*"ghost star")
        table = app.screen.query_one(MovieTable)
        # On a busy machine a pause in the typing searches "ghost" first: wait for "ghost star"'s.
        searched = app.screen
        await wait_for(
            pilot,
            lambda: searched._current == "ghost star" and "searching" not in str(table.border_subtitle),  # type: ignore[attr-defined]
        )
        assert table.row_count > 0
        titles = [movie.title.lower() for movie in table.movies.values()]
        assert all("ghost" in title and "star" in title for title in titles)

        await pilot.press("down")  # into the results; digits rate from here
        assert table.has_focus
        movie = table.highlighted_movie
        assert movie is not None
        await pilot.press("2")
        await wait_for(pilot, lambda: str(table.get_cell(str(movie.movie_id), "rated")) == "2★")
        assert ratings(app)[movie.movie_id] == 2.0
        await settle(pilot)

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_history_change_sort_and_remove(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 4)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        table = app.screen.query_one(MovieTable)
        assert table.row_count == len(ratings(app)) == 15

        await pilot.press("s")  # by rating, best first
        shown = [table.movies[int(row.key.value or 0)] for row in table.ordered_rows]
        values = [ratings(app)[movie.movie_id] for movie in shown]
        assert values == sorted(values, reverse=True)
        await pilot.press("s")  # by title, A to Z, "The Star Night 40" among the S's
        shown = [table.movies[int(row.key.value or 0)].title for row in table.ordered_rows]
        assert shown == sorted(shown, key=sort_key)
        assert shown != sorted(shown, key=str.casefold)  # the user has a "The ..." title

        movie = table.highlighted_movie
        assert movie is not None
        await pilot.press("1")
        await wait_for(pilot, lambda: str(table.get_cell(str(movie.movie_id), "rated")) == "1★")
        assert ratings(app)[movie.movie_id] == 1.0

        await pilot.press("delete")
        await wait_for(pilot, lambda: not table.has_movie(movie.movie_id))
        assert movie.movie_id not in ratings(app)
        assert not table.has_movie(movie.movie_id)
        assert table.row_count == 14
        await settle(pilot)
        assert app.service is not None and app.service.pending_updates() == 0

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
