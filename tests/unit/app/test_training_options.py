"""The command line's training options and the device a job trains on."""

from __future__ import annotations

import pytest
import torch

from tui_recommender.app.training_options import FLAGS, flag_help, on_device, train_config
from tui_recommender.core.errors import ConfigError
from tui_recommender.engine.train_config import TrainConfig


def test_no_flag_is_the_default_recipe():
    assert train_config({}) == TrainConfig()


def test_every_flag_sets_its_field_and_names_itself_in_errors():
    for flag, name in FLAGS.items():
        assert name in TrainConfig.__dataclass_fields__, flag
        assert "default" in flag_help(flag)
    assert train_config({"--layers": "2", "--batch-size": "64"}) == TrainConfig(n_layers=2, batch_size=64)
    with pytest.raises(ConfigError, match=r"^--batch-size '0' is not a whole number"):
        train_config({"--batch-size": "0"})


def test_auto_says_when_it_trains_on_a_gpu(monkeypatch):
    said = []
    assert on_device(TrainConfig(), said.append).device == "cpu" and said == []  # no GPU here: quiet
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    assert on_device(TrainConfig(), said.append).device == "cuda:0"
    assert said == ["Training on cuda:0: the device is auto and a GPU was found"]
    assert on_device(TrainConfig(device="cpu"), said.append).device == "cpu" and len(said) == 1
