"""The epoch state beside a checkpoint: a write that fails is one line and leaves nothing."""

from __future__ import annotations

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
