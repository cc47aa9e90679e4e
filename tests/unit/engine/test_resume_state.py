"""The epoch state beside a checkpoint: a write that fails is one line and leaves nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from tui_recommender.core.errors import CheckpointError
from tui_recommender.engine.lightgcn import resume

STATE = resume.EpochState(
    epoch=1,
    weights=torch.zeros(2, 2),
    optimizer={},
    numpy_rng={},
    torch_rng=torch.zeros(1),
    hyperparameters={},
    graph_key="2x2:1:00000000",
    history=[],
)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 2240 vs 2134"), "is the disk full?"),
        (OSError(28, "No space left on device"), "No space left on device"),
    ],
)
def test_a_state_that_cannot_be_written_is_one_line_and_leaves_no_file(tmp_path, monkeypatch, failure, reason):
    def failing_save(obj, out) -> None:
        out.write(b"half a state")
        raise failure

    monkeypatch.setattr(resume.torch, "save", failing_save)
    path = tmp_path / "model.npz.resume"
    with pytest.raises(CheckpointError, match=r"cannot save the epoch state .*model\.npz\.resume") as caught:
        resume.save_state(STATE, path)
    assert reason in str(caught.value)
    assert list(tmp_path.iterdir()) == []


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_states_are_written_as_often_as_pays(tmp_path, monkeypatch):
    clock, written = Clock(), []

    def timed_save(state, path) -> None:
        written.append(state.epoch)
        clock.now += 2.0  # a write takes 2 s: the next waits max(60, 20 x 2) = 60 s

    monkeypatch.setattr(resume, "save_state", timed_save)
    writer = resume.StateWriter(tmp_path / "model.npz.resume", clock=clock)
    for epoch, seconds in enumerate([10, 30, 25, 10, 50, 5], start=1):
        clock.now += seconds  # the epoch's training
        writer(replace(STATE, epoch=epoch))
    # Epoch 1 always; 2 and 3 end 30 and 55 s after its write, 4 65 s after; 5 and 6 50 and 55 s after 4's.
    assert written == [1, 4] and writer.written == 2


def test_a_slow_write_waits_longer(tmp_path, monkeypatch):
    clock, written = Clock(), []

    def slow_save(state, path) -> None:
        written.append(state.epoch)
        clock.now += 10.0  # 20 x 10 s = 200 s before the next

    monkeypatch.setattr(resume, "save_state", slow_save)
    writer = resume.StateWriter(tmp_path / "model.npz.resume", clock=clock)
    for epoch in range(1, 8):
        clock.now += 70
        writer(replace(STATE, epoch=epoch))
    assert written == [1, 4, 7]


def test_the_first_state_is_written_to_the_file(tmp_path):
    path = tmp_path / "model.npz.resume"
    resume.StateWriter(path)(STATE)
    assert resume.load_state(path).epoch == STATE.epoch
