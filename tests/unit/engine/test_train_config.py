"""The one typed recipe: every field type- and range-checked on construction, checkpoints'
hyperparameters read back strictly, command-line text parsed by the same checks."""

from __future__ import annotations

import math
from dataclasses import fields, replace

import pytest

from tui_recommender.core.errors import ConfigError
from tui_recommender.engine.train_config import (
    DEFAULT_REG,
    EPOCH_STEPS,
    LEGACY_LOGITS,
    LEGACY_LOSS,
    LOGQ_SPARSE,
    LR_DECAY_SPARSE,
    REG_DENSITY,
    REG_DENSITY_POWER,
    TrainConfig,
    option_help,
)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("dim", 0, "dim is 0, not a whole number from 1 to 4096"),
        ("dim", 8.0, "dim is 8.0, not a whole number"),
        ("n_layers", True, "n_layers is True, not a whole number"),
        ("lr", 0.0, "lr is 0.0, not a number above 0"),
        ("lr", math.inf, "lr is inf, not a number above 0"),
        ("reg", math.nan, "reg is nan, not a number from 0"),
        ("reg", [1], "reg is [1], not a number"),
        ("temperature", "abc", "temperature is 'abc', not a number above 0"),
        ("temperature", 0, "temperature is 0, not a number above 0"),
        ("seed", -1, "seed is -1, not a whole number from 0"),
        ("loss", "hinge", "loss is 'hinge', not one of full_softmax, bpr, softmax"),
        ("scoring", "euclid", "scoring is 'euclid', not one of dot, cosine, adaptive"),
        ("sampling", None, "sampling is None, not one of user, edge"),
        ("refit", 1, "refit is 1, not true or false"),
        ("device", "gpu", "device is 'gpu', not a device (auto, cpu, cuda, cuda:N, mps)"),
        ("layer_weights", (0.0, 1.0, 1.0, 1.0), "layer_weights is (0.0, 1.0, 1.0, 1.0), not n_layers + 1"),
        ("layer_weights", (1.0, -1.0, 1.0, 1.0), "layer_weights is (1.0, -1.0, 1.0, 1.0), not n_layers + 1"),
        ("layer_weights", (1.0, 1.0), "layer_weights is [1.0, 1.0], not n_layers + 1 = 4 numbers"),
    ],
)
def test_every_field_is_checked(name, value, words):
    with pytest.raises(ConfigError) as error:
        TrainConfig(**{name: value})
    assert str(error.value).startswith(words), str(error.value)


def test_every_field_has_a_check_and_a_help_text():
    for spec in fields(TrainConfig):
        assert spec.metadata["check"].problem(spec.default) is None, spec.name
        check = spec.metadata["check"]
        default = getattr(check, "sized", spec.default)  # None: sized to the data, as the help says
        assert option_help(spec.name).endswith(f"default {default})"), spec.name


def test_numbers_are_stored_as_their_type():
    config = TrainConfig(lr=1, layer_weights=[1, 1, 1, 1])
    assert isinstance(config.lr, float) and config.layer_weights == (1.0, 1.0, 1.0, 1.0)


def test_hyperparameters_round_trip_without_the_device():
    config = TrainConfig(dim=16, loss="softmax", temperature=0.2, layer_weights=(0.4, 0.3, 0.2, 0.1), device="cpu")
    saved = config.hyperparameters()
    assert "device" not in saved and saved["layer_weights"] == [0.4, 0.3, 0.2, 0.1]
    assert TrainConfig.from_hyperparameters(saved) == replace(config, device="auto")


@pytest.mark.parametrize(
    ("hyperparameters", "words"),
    [
        ([1], "hyperparameters are not an object"),
        ({"dropout": 0.1}, "unknown hyperparameter 'dropout'"),
        ({"device": "cpu"}, "unknown hyperparameter 'device'"),
        ({"loss": "softmax", "temperature": "abc"}, "hyperparameter temperature is 'abc'"),
        ({"lr": "0.01"}, "hyperparameter lr is '0.01'"),  # JSON text is not a number
    ],
)
def test_checkpoint_hyperparameters_are_read_strictly(hyperparameters, words):
    with pytest.raises(ConfigError, match=words):
        TrainConfig.from_hyperparameters(hyperparameters)


def test_a_checkpoint_that_names_no_loss_was_trained_with_bpr():
    assert TrainConfig.from_hyperparameters({}).loss == LEGACY_LOSS == "bpr"
    legacy = TrainConfig.from_hyperparameters({"loss": "full_softmax"})
    assert legacy == TrainConfig(reg=DEFAULT_REG, logits=LEGACY_LOGITS, logq=1.0, lr_decay=1.0)


def test_options_from_text_use_the_same_checks_and_name_the_flag():
    config = TrainConfig.from_options({"lr": "0.02", "dim": "64", "loss": "bpr", "layer_weights": "1,1,1,1"})
    assert (config.lr, config.dim, config.loss, config.layer_weights) == (0.02, 64, "bpr", (1.0,) * 4)
    with pytest.raises(ConfigError, match=r"^--dim '6\.5' is not a whole number from 1 to 4096$"):
        TrainConfig.from_options({"dim": "6.5"}, labels={"dim": "--dim"})
    with pytest.raises(ConfigError, match="'dropout' is not a training option"):
        TrainConfig.from_options({"dropout": "0.1"})


def test_the_default_listwise_l2_grows_only_on_data_sparser_than_the_reference():
    config = TrainConfig()
    assert config.reg is None  # sized to the data
    # ml-latest-small's protocol graph (58,899 positives of 610 users x 9,742 movies) keeps the default
    assert config.sized_reg(610, 9742, 58_899) == DEFAULT_REG
    assert config.sized_reg(100, 100, int(REG_DENSITY * 100 * 100)) == DEFAULT_REG
    assert config.sized_reg(10, 10, 0) == DEFAULT_REG  # no edge: nothing to scale by
    thinner = REG_DENSITY / 8
    expected = DEFAULT_REG * 8**REG_DENSITY_POWER
    assert config.sized_reg(1000, 1000, int(thinner * 1000 * 1000)) == pytest.approx(expected)
    cosine = TrainConfig(logits="cosine")
    assert cosine.sized_reg(1000, 1000, int(thinner * 1000 * 1000)) == DEFAULT_REG  # over cosine logits
    # the pairwise losses' L2 is per pair: not sized
    assert TrainConfig(loss="bpr").sized_reg(1000, 1000, int(thinner * 1000 * 1000)) == DEFAULT_REG


def test_a_given_l2_means_what_it_says_at_any_density():
    config = TrainConfig(reg=0.002)
    for n_edges in (58_899, 1_000, 1):
        assert config.sized_reg(610, 9742, n_edges) == 0.002
        assert config.sized(610, 9742, n_edges).reg == 0.002
    assert TrainConfig(reg=0).sized(1000, 1000, 1).reg == 0.0


def test_the_default_logits_are_dot_products_at_any_density_and_cosine_ranks_by_cosine():
    dense, sparse = (610, 9742, 58_899), (1000, 1000, int(REG_DENSITY / 8 * 1000 * 1000))
    config = TrainConfig()
    assert (config.logits, config.scoring, config.epoch_steps) == ("dot", "adaptive", EPOCH_STEPS)
    assert config.sized(*dense) == replace(config, reg=DEFAULT_REG, logq=1.0, lr_decay=1.0)  # as it was
    thinned = config.sized(*sparse)
    assert thinned.reg == pytest.approx(DEFAULT_REG * 8**REG_DENSITY_POWER)
    assert thinned == replace(config, reg=thinned.reg, logq=LOGQ_SPARSE, lr_decay=LR_DECAY_SPARSE)
    assert config.sized(*sparse).cosine_temperature is None
    cosine = TrainConfig(logits="cosine").sized(*sparse)  # given: its L2 is not scaled
    assert (cosine.logits, cosine.scoring, cosine.cosine_temperature, cosine.reg) == (
        "cosine", "cosine", config.temperature, DEFAULT_REG,
    )  # fmt: skip
    assert TrainConfig(loss="bpr", logits="cosine").cosine_temperature is None


def test_a_checkpoint_of_before_the_sized_defaults_loads_as_it_trained():
    old = TrainConfig.from_hyperparameters({"loss": "full_softmax", "reg": 0.003})
    assert (old.logits, old.reg, old.scoring) == (LEGACY_LOGITS, 0.003, "adaptive")
    assert TrainConfig.from_hyperparameters({"loss": "full_softmax"}).reg == DEFAULT_REG
    saved = TrainConfig(logits="cosine").sized(1000, 1000, 10).hyperparameters()
    assert (saved["reg"], saved["logits"], saved["scoring"]) == (DEFAULT_REG, "cosine", "cosine")
    assert TrainConfig.from_hyperparameters(saved) == TrainConfig(logits="cosine").sized(1000, 1000, 10)
