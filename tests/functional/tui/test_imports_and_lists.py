"""Watchlist, "not interested" and importing ratings, driven through the real app."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label, Static

from tests.functional.tui.conftest import SIZE, enter_user, settle, wait_for
from tui_recommender.core.list_names import NOT_INTERESTED, WATCHLIST
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.import_modal import ImportModal
from tui_recommender.tui.components.lists_screen import ListsScreen
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.movie_table import MovieTable


def shown(app: RecommenderApp) -> list[int]:
    table = app.screen.query_one(MovieTable)
    return [int(row.key.value or 0) for row in table.ordered_rows]


def on_list(app: RecommenderApp, name: str) -> list[int]:
    assert app.service is not None and app.user_id is not None
    return [entry.movie.movie_id for entry in app.service.listed(app.user_id, name)]


def ratings(app: RecommenderApp) -> dict[int, float]:
    assert app.service is not None and app.user_id is not None
    return {r.movie.movie_id: r.rating for r in app.service.user_ratings(app.user_id)}


async def test_watchlist_key_and_screen_and_rating_takes_it_off(app: RecommenderApp, notifications) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 3)
        first = shown(app)[0]
        await pilot.press("w")
        await settle(pilot)
        assert on_list(app, WATCHLIST) == [first]
        assert notifications[-1][1]["title"] == "On your watchlist"
        assert first in shown(app)  # still recommended

        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, ListsScreen)
        assert shown(app) == [first]
        await pilot.press("4")  # watched it: rate it from the list
        await wait_for(pilot, lambda: shown(app) == [])
        await settle(pilot)
        assert ratings(app)[first] == 4.0
        assert on_list(app, WATCHLIST) == []

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("w", "w")  # a second press takes it off again
        await settle(pilot)
        assert on_list(app, WATCHLIST) == []


async def test_not_interested_leaves_at_once_and_the_lists_screen_undoes_it(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 3)
        first, second = shown(app)[:2]
        await pilot.press("x")
        await wait_for(pilot, lambda: first not in shown(app))
        assert shown(app)[0] == second  # the cursor's row is the next movie
        await settle(pilot)
        assert on_list(app, NOT_INTERESTED) == [first]
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert first not in shown(app)  # for good, not until the next reload

        await pilot.press("l")
        await settle(pilot)
        assert shown(app) == []  # the watchlist is empty
        await pilot.press("l")  # the other list
        assert shown(app) == [first]
        await pilot.press("delete")
        await wait_for(pilot, lambda: shown(app) == [])
        await settle(pilot)
        assert on_list(app, NOT_INTERESTED) == []
        await pilot.press("escape")
        await settle(pilot)
        assert shown(app)[0] == first  # recommended again


async def test_after_x_the_detail_line_describes_the_row_now_under_the_cursor(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 3)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        first, second = shown(app)[:2]

        def detail() -> str:
            return str(screen.query_one("#detail", Label).render())

        assert app.service is not None
        assert detail().endswith(app.service.movie(first).title + f" ({app.service.movie(first).year})")
        await pilot.press("x")
        await wait_for(pilot, lambda: first not in shown(app))
        await pilot.pause()
        assert detail().endswith(app.service.movie(second).title + f" ({app.service.movie(second).year})")


def letterboxd(small_data: Path, n: int) -> str:
    """Letterboxd ratings (5 stars) of the first `n` movies of `small_data`, then one unknown."""
    movies = list(csv.DictReader(io.StringIO((small_data / "movies.csv").read_text())))[:n]
    rows = [f'2024-01-01,"{m["title"][:-7]}",{m["title"][-5:-1]},https://boxd.it/x,5' for m in movies]
    return (
        "\n".join(
            ["Date,Name,Year,Letterboxd URI,Rating", *rows, "2024-01-02,Not In The Data,1999,https://boxd.it/y,3"]
        )
        + "\n"
    )


def report(app: RecommenderApp) -> str:
    return str(app.screen.query_one("#import-report", Static).render())


async def test_import_reads_reports_then_stores_and_learns_in_one_update(
    app: RecommenderApp, small_data, tmp_path, monkeypatch
) -> None:
    from tui_recommender.app.service import RecommenderService

    path = tmp_path / "ratings.csv"
    path.write_text(letterboxd(small_data, 6))
    imported = [
        int(m["movieId"]) for m in list(csv.DictReader(io.StringIO((small_data / "movies.csv").read_text())))[:6]
    ]
    updates: list[Any] = []
    update_model = RecommenderService.update_model

    def counted(self: RecommenderService, *args: Any, **kwargs: Any) -> Any:
        result = update_model(self, *args, **kwargs)
        updates.append(result)
        return result

    monkeypatch.setattr(RecommenderService, "update_model", counted)
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 7)
        before = dict(ratings(app))
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, ImportModal)
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "would import" in report(app))
        assert "ratings.csv (Letterboxd ratings): would import" in report(app)
        assert "line 8: Not In The Data (1999): not in the dataset" in report(app)
        assert ratings(app) == before  # read and shown, nothing stored

        await pilot.press("enter")
        await wait_for(pilot, lambda: "Learnt in" in str(app.screen.query_one("#import-next").render()))
        assert "imported" in report(app)
        assert all(ratings(app)[m] == 5.0 for m in imported)
        assert [u.n_ratings for u in updates if u.n_ratings] == [len(imported)]  # one update learnt them all
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert not set(imported) & set(shown(app))  # the refreshed list leaves them out


@pytest.mark.parametrize(
    "content, words",
    [
        ("Title,Seen\nAlien,yes\n", "unknown format"),
        ("Date,Name,Year,Letterboxd URI,Rating\n2024-01-01,Alien,1979,u,9\n", "line 2"),
    ],
    ids=["unknown-format", "malformed-row"],
)
async def test_a_bad_file_is_explained_in_the_dialog_alone_and_stores_nothing(
    app: RecommenderApp, tmp_path, notifications, content, words
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(content)
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 7)
        before = dict(ratings(app))
        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: words in report(app))
        await pilot.pause()
        assert not [n for n in notifications if n[1].get("severity") == "warning"]  # no toast over the dialog
        await pilot.press("enter")  # no report to confirm: it reads the file again
        await settle(pilot)
        assert ratings(app) == before
        assert isinstance(app.screen, ImportModal)


async def test_our_export_goes_back_to_its_users_and_ctrl_z_undoes_the_whole_import(
    app: RecommenderApp, tmp_path, notifications
) -> None:
    """Imported from user 7's session, an export of user 5's ratings and watchlist lands on
    user 5; one ctrl+z takes every rating and list entry back, a replaced rating with its date."""
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 7)
        service = app.service
        assert service is not None
        before_5 = {r.movie.movie_id: (r.rating, r.timestamp) for r in service.user_ratings(5)}
        before_7 = dict(ratings(app))
        rated_5 = next(iter(before_5))
        new_5, listed_5 = [m for m in range(10, 810, 10) if m not in before_5][:2]
        old_stars = before_5[rated_5][0]
        stars = 1.0 if old_stars != 1.0 else 2.0
        path = tmp_path / "export.csv"
        path.write_text(
            "userId,movieId,rating,timestamp,list\n"
            f"5,{rated_5},{stars},1700000000,\n5,{new_5},4.5,1700000001,\n5,{listed_5},,1700000002,watchlist\n"
        )
        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "would import" in report(app))
        assert "for user 5" in report(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Learnt in" in str(app.screen.query_one("#import-next").render()))
        after_5 = {r.movie.movie_id: r.rating for r in service.user_ratings(5)}
        assert (after_5[rated_5], after_5[new_5]) == (stars, 4.5)
        assert [e.movie.movie_id for e in service.listed(5, WATCHLIST)] == [listed_5]
        assert ratings(app) == before_7  # not the current user's

        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: any(n[1].get("title") == "Import undone" for n in notifications))
        await settle(pilot)
        assert {r.movie.movie_id: (r.rating, r.timestamp) for r in service.user_ratings(5)} == before_5
        assert service.listed(5, WATCHLIST) == []
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert notifications[-1][0] == "Nothing to undo."  # one step, all of it


async def test_the_palette_opens_the_import_dialog(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 7)
        await pilot.press("ctrl+p")
        await pilot.press(*"Import ratings")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportModal))


async def test_ctrl_z_undoes_list_changes_too(app: RecommenderApp, notifications) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 3)
        first, second = shown(app)[:2]
        await pilot.press("x")
        await settle(pilot)
        assert on_list(app, NOT_INTERESTED) == [first]
        await pilot.press("w")  # the next movie, now under the cursor
        await settle(pilot)
        assert on_list(app, WATCHLIST) == [second]

        await pilot.press("ctrl+z")
        await settle(pilot)
        assert on_list(app, WATCHLIST) == []
        assert notifications[-1][1]["title"] == "Undone"
        assert notifications[-1][0].endswith(" · off your watchlist")
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert on_list(app, NOT_INTERESTED) == []
        await wait_for(pilot, lambda: first in shown(app))  # recommended again


async def test_ctrl_z_after_rating_from_the_watchlist_puts_it_back_on_the_watchlist(
    app: RecommenderApp, notifications
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 3)
        first = shown(app)[0]
        await pilot.press("w", "l")
        await wait_for(pilot, lambda: isinstance(app.screen, ListsScreen) and shown(app) == [first])
        await pilot.press("4")
        await wait_for(pilot, lambda: shown(app) == [])
        await settle(pilot)
        await pilot.press("ctrl+z")
        await wait_for(pilot, lambda: shown(app) == [first])  # back on the screen, not only in the database
        await settle(pilot)
        assert first not in ratings(app)
        assert on_list(app, WATCHLIST) == [first]
        assert any(n[0].endswith("is unrated again, back on your watchlist") for n in notifications)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
async def test_a_fifo_or_a_device_is_refused_at_once_and_the_app_still_quits(
    app: RecommenderApp, tmp_path, kind
) -> None:
    path = tmp_path / "ratings.csv"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 7)
        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "not a regular file" in report(app), timeout=10)
        assert "FIFO" in report(app) if kind == "fifo" else "character device" in report(app)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, timeout=20)
