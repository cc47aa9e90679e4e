"""Fixtures for the TUI tests: the real app on the small generated dataset, headless."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from tui_recommender.config.settings import Settings
from tui_recommender.tui.app import RecommenderApp

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def frozen_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the Input cursor still so that screenshots do not depend on timing."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The tiny test graphs train fastest on one thread; on a busy 2-core machine more
    threads only contend (a fine-tune went from 0.2 s to 6-10 s)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def trained_checkpoint(trained_model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared small model (tests.trained_model): each test opens it instead of training."""
    return trained_model.write(tmp_path_factory.mktemp("trained") / "model.npz")


@pytest.fixture
def settings(small_data: Path, state_dir: Path, trained_checkpoint: Path) -> Settings:
    return Settings.resolve(data=small_data, state_dir=state_dir, checkpoint=trained_checkpoint)


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


@pytest.fixture
def update_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Model updates wait until this event is set, so a test can look at the app while a
    fine-tune is under way. Set when the test ends, so no worker thread is left waiting."""
    from tui_recommender.app.service import RecommenderService

    gate = threading.Event()
    update_model = RecommenderService.update_model

    def gated(self: RecommenderService, *args: Any, **kwargs: Any) -> Any:
        gate.wait(timeout=60)
        return update_model(self, *args, **kwargs)

    monkeypatch.setattr(RecommenderService, "update_model", gated)
    yield gate
    gate.set()


async def settle(pilot: Pilot, timeout: float = 30.0) -> None:
    """Wait until no worker runs and the messages they caused have been handled; workers
    started by those messages (a fine-tune, then a refresh) are waited for too. A failed
    worker does not raise here: the app reports it, and tests check how."""

    async def idle() -> None:
        while True:
            with contextlib.suppress(WorkerFailed, WorkerCancelled):
                await pilot.app.workers.wait_for_complete()
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


async def land_reload(pilot: Pilot) -> None:
    """Let the main list's held live reload land now, as when the keys pause, and wait
    until every update and reload under way has landed (see `MainScreen.keys_quiet_seconds`)."""
    screen = pilot.app.screen
    quiet = screen.keys_quiet_seconds
    screen.keys_quiet_seconds = 0.0
    await settle(pilot)
    await wait_for(pilot, lambda: not screen.reload_held)
    screen.keys_quiet_seconds = quiet
