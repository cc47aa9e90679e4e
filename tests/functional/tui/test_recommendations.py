"""The main screen: genre filter, recommendations, rating from the keyboard, fine-tuning."""

from __future__ import annotations

import threading

from textual.coordinate import Coordinate
from textual.widgets import Label

from tests.functional.tui.conftest import SIZE, enter_user, land_reload, settle, wait_for
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.genre_list import GenreList
from tui_recommender.tui.components.main_screen import GENRE_DEBOUNCE_SECONDS, PAGE_SIZE
from tui_recommender.tui.components.movie_table import MovieTable
from tui_recommender.tui.components.rating_modal import RatingModal


def listed(app: RecommenderApp) -> list[int]:
    """Movie IDs in the recommendations table, top to bottom."""
    table = app.screen.query_one("#recommendations", MovieTable)
    return [int(row.key.value or 0) for row in table.ordered_rows]


def ratings(app: RecommenderApp) -> dict[int, float]:
    assert app.service is not None and app.user_id is not None
    return {r.movie.movie_id: r.rating for r in app.service.user_ratings(app.user_id)}


async def test_recommendations_are_unseen_movies(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        movies = listed(app)
        assert len(movies) >= PAGE_SIZE  # and as many as the list has room for
        assert not set(movies) & set(ratings(app))
        table = app.screen.query_one(MovieTable)
        assert [str(table.get_cell_at(Coordinate(row, 0))) for row in range(3)] == ["1", "2", "3"]

        await pilot.press("m")  # the next page is appended
        await settle(pilot)
        more = listed(app)
        assert more[: len(movies)] == movies
        assert len(more) == len(set(more)) == len(movies) + PAGE_SIZE
        assert not set(more) & set(ratings(app))


async def test_genre_filter(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        everything = listed(app)
        genres = app.screen.query_one(GenreList)
        await pilot.press("tab")
        assert genres.has_focus
        await pilot.press("down", "space", "down", "space")  # Comedy and Drama
        assert genres.chosen == ("Comedy", "Drama")
        await pilot.pause(GENRE_DEBOUNCE_SECONDS + 0.1)
        await settle(pilot)
        table = app.screen.query_one(MovieTable)
        filtered = [table.movies[movie_id] for movie_id in listed(app)]
        assert filtered and all({"Comedy", "Drama"} & set(movie.genres) for movie in filtered)
        assert [m.movie_id for m in filtered] != everything
        assert genres.border_subtitle == "2 selected"

        await pilot.press("a")
        assert len(genres.selected) == genres.option_count
        await pilot.press("n")
        assert genres.chosen == ()
        await pilot.pause(GENRE_DEBOUNCE_SECONDS + 0.1)
        await settle(pilot)
        assert listed(app) == everything


async def test_rating_keys_store_and_refresh(
    app: RecommenderApp, notifications: list, update_gate: threading.Event
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        before = listed(app)
        top = before[0]
        await pilot.press("4")
        # Stored and marked in a moment; the fine-tune waits at the gate meanwhile.
        table = app.screen.query_one(MovieTable)
        await wait_for(pilot, lambda: str(table.get_cell(str(top), "rated")) == "4★")
        assert ratings(app)[top] == 4.0
        assert any(options.get("title") == "Rated" for _, options in notifications)
        assert app.update_progress == 0.0
        assert "learning from your ratings" in app.status_text
        assert app.service is not None and app.service.pending_updates() == 1
        summary = app.screen.query_one("#summary", Label)
        await wait_for(pilot, lambda: "16 ratings" in str(summary.render()))  # before the update

        update_gate.set()
        await land_reload(pilot)
        assert app.service.pending_updates() == 0
        assert app.update_progress is None
        assert "learning" not in app.status_text
        # Reloaded by itself, in place: the rated movie stays on its row, marked, the cursor on it.
        assert listed(app)[0] == top and table.cursor_row == 0
        assert str(table.get_cell(str(top), "rated")) == "4★"
        assert "list: " in app.status_text
        await pilot.press("ctrl+r")  # reloaded on purpose from the top: the learnt ranking, without it
        await settle(pilot)
        after = listed(app)
        assert top not in after and after != before


async def test_refused_ratings_are_notified(app: RecommenderApp, notifications: list) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        top = listed(app)[0]
        await pilot.press("0")
        await settle(pilot)
        assert top not in ratings(app)
        message, options = notifications[-1]
        assert options["severity"] == "warning"
        assert "not allowed" in message and "0.5 to 5" in message
        assert app.is_running


async def test_half_stars_with_shift_and_the_rating_dialog(app: RecommenderApp, update_gate: threading.Event) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        first, second = listed(app)[:2]
        await pilot.press("dollar_sign")  # shift+4 on a US keyboard
        await wait_for(pilot, lambda: ratings(app).get(first) == 3.5)

        await pilot.press("down", "r")
        await pilot.pause()
        assert isinstance(app.screen, RatingModal)
        await pilot.press("7", "enter")
        assert isinstance(app.screen, RatingModal)  # refused: stays open with a message
        assert "not allowed" in str(app.screen.query_one("#rating-error", Label).render())
        await pilot.press("backspace", "2", ".", "5", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, RatingModal)
        await wait_for(pilot, lambda: ratings(app).get(second) == 2.5)
        update_gate.set()
        await settle(pilot)


async def test_rapid_ratings_all_land(app: RecommenderApp, update_gate: threading.Event) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        movies = listed(app)[:4]
        # While the first update waits, more ratings arrive: all stored, then learnt together.
        await pilot.press("5", "down", "4", "down", "1", "down", "3")
        await wait_for(pilot, lambda: [ratings(app).get(movie) for movie in movies] == [5.0, 4.0, 1.0, 3.0])
        assert app.service is not None and app.service.pending_updates() == 4
        update_gate.set()
        await settle(pilot)
        assert app.service.pending_updates() == 0
        assert listed(app)[:4] == movies
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert not set(movies) & set(listed(app))


async def test_model_status_and_progress(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        assert app.service is not None
        assert app.status_text.startswith(f"{app.service.dataset_name} · model: ")
        seen: list[float | None] = []
        app.watch(app, "update_progress", lambda value: seen.append(value), init=False)
        await pilot.press("5")
        await wait_for(pilot, lambda: app.update_progress is None and bool(seen))
        await settle(pilot)
        assert seen[0] == 0.0 and seen[-1] is None
        assert any(value is not None and 0 < value <= 1 for value in seen)


async def test_the_dial_key_moves_towards_niche_saves_it_and_reloads(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 2)
        assert app.service is not None
        await wait_for(pilot, lambda: app.novelty == 0.0)
        assert app.status_text.endswith("popular ●──── niche")
        before = listed(app)
        await pilot.press("d")
        await wait_for(pilot, lambda: app.novelty == 0.25)
        await settle(pilot)
        assert app.service.novelty_of(2) == 0.25  # stored for the profile
        assert app.status_text.endswith("popular ─●─── niche")
        assert listed(app) != before  # the list was reloaded with the popularity penalty
