"""The device boundary: `--device` names resolve to what this machine has, and training,
fine-tuning and the adjacency create every tensor on the device they were given."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.device_guard import only_on
from tests.unit.engine.test_training import FAST, LISTWISE, clustered_graph, held_out
from tui_recommender.core.errors import ConfigError
from tui_recommender.engine.device import resolve_device
from tui_recommender.engine.lightgcn.fine_tuning import FineTuneConfig, fine_tune
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.lightgcn.training import train


@pytest.mark.parametrize("loss", ["bpr", "softmax", "full_softmax"])
def test_training_creates_every_tensor_on_its_device(monkeypatch, loss):
    fit, validation = held_out(clustered_graph())
    config = replace(LISTWISE if loss == "full_softmax" else FAST, loss=loss, max_epochs=2, eval_every=1)
    with only_on("cpu", monkeypatch):
        result = train(fit, replace(config, device="cpu"), validation)
    assert result.model.device == torch.device("cpu") and result.val_metrics


@pytest.mark.parametrize("loss", ["bpr", "softmax", "full_softmax"])
def test_fine_tuning_creates_every_tensor_on_its_device(monkeypatch, loss):
    graph = clustered_graph()
    config = replace(LISTWISE if loss == "full_softmax" else FAST, loss=loss, max_epochs=1, device="cpu")
    model = train(graph, config).model
    adj = graph.normalized_adjacency(model.device)
    users = np.array([0, 1])
    disliked = (np.array([0, 1]), np.array([3, 5]))
    tune = replace(FineTuneConfig.for_model(config), steps=2, replay=64, softmax_negatives=16)
    with only_on("cpu", monkeypatch):
        done = fine_tune(model, adj, graph, users, tune, np.random.default_rng(0), disliked=disliked, anchored=users)
    assert done == 2


def test_the_guard_catches_a_tensor_made_without_the_device(monkeypatch):
    """The guard above is no rubber stamp: one factory call without the device fails it."""
    with pytest.raises(AssertionError, match="tensor on meta"), only_on("cpu", monkeypatch):
        torch.arange(3)
    with pytest.raises(AssertionError, match="from_numpy"), only_on("cpu", monkeypatch):
        torch.from_numpy(np.zeros(3))


def test_model_and_adjacency_are_built_on_the_device_given():
    """On `meta` (no data, so no propagation): the table and A_hat are created there."""
    graph = clustered_graph()
    meta = torch.device("meta")
    assert graph.normalized_adjacency(meta).device == meta
    assert LightGCN(graph.n_users, graph.n_items, 8, 2, device=meta).embedding.weight.device == meta


def test_device_names_resolve_to_what_this_machine_has(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == resolve_device("cpu") == torch.device("cpu")
    for name, words in [
        ("cuda", "no CUDA GPU"),
        ("cuda:1", "no CUDA GPU"),
        ("mps", "MPS is not available"),
        ("gpu", "not a device .auto, cpu, cuda, cuda:N, mps."),
        ("cuda:x", "not a device"),
        ("cpu ", "not a device"),
    ]:
        with pytest.raises(ConfigError, match=words) as error:
            resolve_device(name)
        assert "\n" not in str(error.value)


def test_auto_takes_the_gpu_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    assert resolve_device("auto") == torch.device("cuda", 0)
    assert resolve_device("cuda") == torch.device("cuda", 0)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ConfigError, match="has 2 CUDA GPU"):
        resolve_device("cuda:2")


class _Stop(Exception):
    pass


def test_train_builds_the_model_and_graph_on_the_device_its_config_names(monkeypatch):
    from tui_recommender.engine.lightgcn import training

    seen = {}
    meta = torch.device("meta")  # stands for a GPU: `resolve_device` says where "cuda:3" is

    def resolve(name: str) -> torch.device:
        seen["name"] = name
        return meta

    def first_step(model, adj, table=None):
        seen["model"], seen["adj"] = model.device, adj.device
        raise _Stop

    monkeypatch.setattr(training, "resolve_device", resolve)
    monkeypatch.setattr(LightGCN, "propagate", first_step)
    for loss in ("bpr", "full_softmax"):
        with pytest.raises(_Stop):
            train(clustered_graph(), replace(FAST, loss=loss, device="cuda:3"))
        assert seen == {"name": "cuda:3", "model": meta, "adj": meta}
