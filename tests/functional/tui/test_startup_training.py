"""With no checkpoint for the data, the app trains once at start-up and says how far along
that training is, with the time left, in its status line."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.message import Message

from tests.functional.cli.test_cli import TINY
from tests.functional.tui.conftest import SIZE, settle
from tui_recommender.config.settings import Settings
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.messages import ServiceStatus


async def test_training_at_start_up_reports_its_epochs(
    small_data: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui_recommender.engine.lightgcn import training

    real = training.train_checkpoint
    monkeypatch.setattr(
        training, "train_checkpoint", lambda data, ratings, config=None, **kw: real(data, ratings, TINY, **kw)
    )
    statuses: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, ServiceStatus):
            statuses.append(message.text)

    app = RecommenderApp(Settings.resolve(data=small_data, state_dir=state_dir))
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(pilot)
        assert app.service is not None
    progress = [text for text in statuses if text.startswith("training a model for this data")]
    assert progress[0] == "training a model for this data: epoch 1, step 0 of 1"  # at once, before a step
    epochs = [text for text in progress if ", step " not in text]
    assert epochs and epochs[0].startswith("training a model for this data: epoch 1 of at most 2, loss ")
    assert all("left" in text for text in epochs)
    assert any("refit" in text for text in progress)  # the early-stopping run, then the refit
