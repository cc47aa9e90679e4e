"""How the app uses its workers: no disk write on the UI thread, writes in the order they
were asked for, and a failed write reported once without stopping the app."""

from __future__ import annotations

import threading
from typing import Any

from tests.functional.tui.conftest import SIZE, enter_user, settle, wait_for
from tui_recommender.storage.database import RatingsStore
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.history_screen import HistoryScreen
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.movie_table import MovieTable


async def test_no_database_write_runs_on_the_ui_thread(app: RecommenderApp, monkeypatch) -> None:
    writers: list[threading.Thread] = []
    for name in ("put", "remove", "add_user"):
        real = getattr(RatingsStore, name)

        def recording(self: RatingsStore, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            writers.append(threading.current_thread())
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(RatingsStore, name, recording)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")  # a new profile: a write
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await settle(pilot)
        await pilot.press("5")  # a rating
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        table = app.screen.query_one(MovieTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("delete")  # a removal
        await wait_for(pilot, lambda: table.row_count == 0)
        await settle(pilot)
    assert len(writers) == 3
    assert threading.main_thread() not in writers  # the UI runs on the main thread


async def test_ratings_typed_quickly_are_stored_in_the_order_typed(app: RecommenderApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 4)
        await pilot.press("1", "2", "3", "4", "5", "2")
        await settle(pilot)
        assert app.service is not None
        stored = app.service.store.events()
        assert stored["rating"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 2.0]
        # What the service holds is the last rating typed for each movie.
        last = stored.drop_duplicates("movieId", keep="last").set_index("movieId")["rating"].to_dict()
        current = {r.movie.movie_id: r.rating for r in app.service.user_ratings(4)}
        assert all(current[movie] == stars for movie, stars in last.items())


async def test_a_failed_write_is_reported_and_the_app_goes_on(
    app: RecommenderApp, notifications: list, monkeypatch
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 4)
        assert app.service is not None

        def disk_full(*args: object, **kwargs: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(app.service.store, "put", disk_full)
        await pilot.press("5")
        await settle(pilot)
        failures = [options for _, options in notifications if options.get("title") == "Rating failed"]
        assert len(failures) == 1
        assert app.is_running
        monkeypatch.undo()
        await pilot.press("escape")  # the error dialog
        await pilot.pause()
        await pilot.press("4")
        await settle(pilot)
        assert [options.get("title") for _, options in notifications].count("Rated") == 1


async def test_a_fine_tune_gone_wrong_is_said_and_the_rating_kept(
    app: RecommenderApp, notifications: list, monkeypatch
) -> None:
    import numpy as np

    import tui_recommender.app.live_model as live_model

    for rows in ("shifted_row", "folded_in_row"):  # every new row's values blow up
        monkeypatch.setattr(live_model, rows, lambda items, *args, **kwargs: np.full(items.shape[1], np.inf))
    async with app.run_test(size=SIZE) as pilot:
        await enter_user(pilot, 4)
        await pilot.press("5")
        await wait_for(pilot, lambda: any(o.get("title") == "Model not updated" for _, o in notifications))
        assert app.service is not None
        assert app.service.store.events()["rating"].tolist() == [5.0]
        assert app.is_running
