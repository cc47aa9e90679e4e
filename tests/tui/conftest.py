"""Fixtures for the TUI tests: the real app on the small generated dataset, headless."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from tui_recommender.config import Settings
from tui_recommender.tui.app import RecommenderApp

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def frozen_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the Input cursor still so that screenshots do not depend on timing."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def settings(small_data: Path, state_dir: Path) -> Settings:
    return Settings.resolve(data=small_data, state_dir=state_dir)


@pytest.fixture
def app(settings: Settings) -> RecommenderApp:
    return RecommenderApp(settings)


@pytest.fixture
def notifications(app: RecommenderApp) -> list[tuple[str, dict[str, Any]]]:
    """Every `notify` call of the app (widgets notify through the app), as (message, options)."""
    seen: list[tuple[str, dict[str, Any]]] = []
    notify = app.notify

    def recording(message: str, **options: Any) -> None:
        seen.append((str(message), options))
        notify(message, **options)

    app.notify = recording  # type: ignore[method-assign]
    return seen


async def settle(pilot: Pilot, timeout: float = 30.0) -> None:
    """Wait until no worker runs and the messages they caused have been handled; workers
    started by those messages (a fine-tune, then a refresh) are waited for too. A failed
    worker does not raise here: the app reports it, and tests check how."""

    async def idle() -> None:
        while True:
            try:
                await pilot.app.workers.wait_for_complete()
            except (WorkerFailed, WorkerCancelled):
                pass
            await pilot.pause()
            if not any(worker.is_running for worker in pilot.app.workers):
                await pilot.pause()
                if not any(worker.is_running for worker in pilot.app.workers):
                    return

    await asyncio.wait_for(idle(), timeout)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Pause until `condition()` holds (e.g. a debounce timer fired and its query ran)."""

    async def poll() -> None:
        while not condition():
            await pilot.pause(0.05)

    await asyncio.wait_for(poll(), timeout)


async def enter_user(pilot: Pilot, user_id: int) -> None:
    """Type a user ID on the first screen and press enter; waits for the service."""
    await settle(pilot)
    await pilot.press(*str(user_id), "enter")
    await settle(pilot)
