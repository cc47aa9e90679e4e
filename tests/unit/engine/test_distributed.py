"""A process's place in a torchrun launch, how a step is shared, and resuming a training
from the state saved after an epoch (the same weights as a training never stopped)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tui_recommender.core.errors import CheckpointError, ConfigError
from tui_recommender.engine.distributed import Team
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.resume import load_state, save_state
from tui_recommender.engine.lightgcn.training import train
from tui_recommender.engine.train_config import TrainConfig


def test_alone_without_the_launcher_variables():
    assert Team.from_environment({}) == Team(0, 0, 1)
    assert Team.from_environment({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4"}) == Team(3, 1, 4)


@pytest.mark.parametrize(
    "env", [{"RANK": "2", "WORLD_SIZE": "2"}, {"RANK": "x", "WORLD_SIZE": "2"}, {"WORLD_SIZE": "0"}]
)
def test_launcher_variables_that_are_no_rank_are_one_line(env):
    with pytest.raises(ConfigError, match="not a rank in a world"):
        Team.from_environment(env)


def test_shares_cover_a_step_once_and_differ_by_one_at_most():
    for n in (1, 7, 8, 130):
        parts = [Team(rank, 0, 3).share(n) for rank in range(3)]
        assert [p.start for p in parts[1:]] == [p.stop for p in parts[:-1]] and parts[0].start == 0
        assert parts[-1].stop == n and max(p.stop - p.start for p in parts) - min(p.stop - p.start for p in parts) <= 1


def test_a_step_smaller_than_the_team_is_refused():
    Team(0, 0, 4).check_split(4, "users")
    with pytest.raises(ConfigError, match="4 processes cannot share a training step of 3 users"):
        Team(0, 0, 4).check_split(3, "users")


def graph() -> InteractionGraph:
    rng = np.random.default_rng(0)
    return InteractionGraph.from_pairs(30, 20, rng.integers(0, 30, 300), rng.integers(0, 20, 300))


@pytest.mark.parametrize("loss", ["full_softmax", "bpr"])
@pytest.mark.parametrize("validation", [None, (np.arange(10), np.arange(10))])
def test_resuming_after_an_epoch_reaches_the_weights_of_an_unstopped_training(tmp_path, loss, validation):
    config = TrainConfig(
        dim=8, max_epochs=6, eval_every=2, patience=5, user_batch=8, batch_size=64, loss=loss, device="cpu"
    )
    states = []
    whole = train(graph(), config, validation, on_state=states.append)
    save_state(states[2], tmp_path / "state")  # stopped after epoch 3
    resumed = train(graph(), config, validation, resume=load_state(tmp_path / "state"))
    assert resumed.epochs == whole.epochs and resumed.best_epoch == whole.best_epoch
    assert [h.loss for h in resumed.history] == [h.loss for h in whole.history]
    torch.testing.assert_close(resumed.model.embedding.weight, whole.model.embedding.weight, rtol=0, atol=0)


def test_a_state_of_another_recipe_or_graph_is_refused(tmp_path):
    config = TrainConfig(dim=8, max_epochs=2, device="cpu")
    states = []
    train(graph(), config, on_state=states.append)
    with pytest.raises(ConfigError, match="other options"):
        train(graph(), TrainConfig(dim=8, max_epochs=3, device="cpu"), resume=states[0])
    other = InteractionGraph.from_pairs(30, 20, np.arange(30), np.arange(30) % 20)
    with pytest.raises(ConfigError, match="other data"):
        train(other, config, resume=states[0])
    with pytest.raises(CheckpointError, match="nothing to resume"):
        load_state(tmp_path / "none")
    (tmp_path / "bad").write_bytes(b"not a state")
    with pytest.raises(CheckpointError, match="cannot resume"):
        load_state(tmp_path / "bad")
