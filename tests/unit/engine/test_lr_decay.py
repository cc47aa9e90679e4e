"""Adam's step size is cut once, by `TrainConfig.lr_decay`, at the first validation check
without a gain: sized to 1 (never) on data as dense as MovieLens and LR_DECAY_SPARSE over dot
products on sparser data (tested beside logq's sizing in `test_logq.py`); the refit repeats
the cut at the same epoch, and a resumed training neither loses nor repeats it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tests.unit.engine.test_logq import DENSE, SPARSE
from tests.unit.engine.test_training_l2 import CONFIG, ring_graph
from tui_recommender.core.errors import ConfigError
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.lightgcn import training
from tui_recommender.engine.train_config import LR_DECAY_SPARSE, TrainConfig

# Validation pairs that are train edges: ranking leaves them out, so recall is 0 at every check
# and only the first gains (on -1)
STALLED = (SPARSE.users[::2].copy(), SPARSE.items[::2].copy())
CHECKED = replace(CONFIG, max_epochs=6, eval_every=2, patience=3, epoch_scores=40 * 50)


def step_sizes(states: list) -> list[float]:
    return [state.optimizer["param_groups"][0]["lr"] for state in states]


def test_a_checkpoint_saved_before_the_cut_existed_reads_as_no_cut():
    assert TrainConfig.from_hyperparameters({"dim": 4}).lr_decay == 1.0


@pytest.mark.parametrize("bad", [0, 1.5, -0.1, float("nan")])
def test_a_factor_outside_0_to_1_is_refused(bad):
    with pytest.raises(ConfigError, match="lr_decay"):
        TrainConfig(lr_decay=bad)


def test_the_first_check_without_a_gain_cuts_the_step_size_once():
    states: list = []
    result = training.train(SPARSE, CHECKED, STALLED, on_state=states.append)
    first = step_sizes(states)[0]
    # checks at epochs 2 (gains on -1), 4 (no gain: the cut), 6 (no gain: no second cut)
    assert result.decayed_after == 4 and result.summary()["lr_decayed_after"] == 4
    assert step_sizes(states) == pytest.approx([first] * 3 + [first * LR_DECAY_SPARSE] * 3)


def test_dense_data_are_never_cut():
    states: list = []
    stalled = (DENSE.users[::2].copy(), DENSE.items[::2].copy())
    result = training.train(DENSE, CHECKED, stalled, on_state=states.append)
    assert result.decayed_after == 0 and result.summary()["lr_decayed_after"] is None
    assert len(set(step_sizes(states))) == 1


def test_without_validation_the_cut_comes_after_the_epoch_given():
    states: list = []
    result = training.train(SPARSE, CHECKED, decay_after=3, on_state=states.append)
    first = step_sizes(states)[0]
    assert result.decayed_after == 3
    assert step_sizes(states) == pytest.approx([first] * 2 + [first * LR_DECAY_SPARSE] * 4)


def test_a_resumed_training_keeps_the_cut_and_does_not_repeat_it():
    states: list = []
    whole = training.train(SPARSE, CHECKED, STALLED, on_state=states.append)
    after_cut = states[4]  # epoch 5: cut after 4
    resumed_states: list = []
    resumed = training.train(SPARSE, CHECKED, STALLED, resume=after_cut, on_state=resumed_states.append)
    assert resumed.decayed_after == whole.decayed_after == 4
    assert step_sizes(resumed_states) == pytest.approx(step_sizes(states)[5:])
    assert np.allclose(resumed.model.embedding.weight.detach().numpy(), whole.model.embedding.weight.detach().numpy())


def test_the_refit_repeats_the_cut_when_the_best_epoch_came_after_it(monkeypatch):
    calls: list[int] = []
    real = training.train

    def recorded(graph, config, validation, *rest):
        result = real(graph, config, validation, *rest)
        calls.append(rest[5] if len(rest) == 6 else 0)  # decay_after, given positionally by the refit
        if validation is not None:  # early stopping: say it cut after 2 and then gained at 4
            result.decayed_after, result.best_epoch = 2, 4
        return result

    monkeypatch.setattr(training, "train", recorded)
    graph = ring_graph(40, 2000, 6)  # 0.3%: sparse, and enough positives per user for a validation split
    pairs = pd.DataFrame({"userId": graph.users, "movieId": graph.items})
    users, items = IdMap(np.arange(graph.n_users)), IdMap(np.arange(graph.n_items))
    result = training.train_on_pairs(pairs, users, items, replace(CHECKED, max_epochs=4))
    assert calls == [0, 2] and result.decayed_after == 2
