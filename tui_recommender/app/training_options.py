"""The training options `train` and `evaluate` take on the command line, each a field of the
engine's `TrainConfig`, which parses and checks every value (defaults and ranges live
there only), and the device a training runs on. Light: the command line builds its parser
from this without pandas or torch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from tui_recommender.engine.device import resolve_device
from tui_recommender.engine.train_config import TrainConfig, option_help

# flag -> TrainConfig field
FLAGS = {
    "--dim": "dim",
    "--layers": "n_layers",
    "--lr": "lr",
    "--reg": "reg",
    "--loss": "loss",
    "--temperature": "temperature",
    "--logits": "logits",
    "--negatives": "negatives",
    "--batch-size": "batch_size",
    "--user-batch": "user_batch",
    "--epoch-steps": "epoch_steps",
    "--epoch-scores": "epoch_scores",
    "--logq": "logq",
    "--lr-decay": "lr_decay",
    "--epochs": "max_epochs",
    "--patience": "patience",
    "--seed": "seed",
    "--device": "device",
}


def flag_help(flag: str) -> str:
    """The --help text of `flag`: what it sets, its choices or range, its default."""
    return option_help(FLAGS[flag])


def train_config(values: Mapping[str, str]) -> TrainConfig:
    """The default recipe with the flags given (`{"--lr": "0.02"}`, as typed) applied.
    Raises `ConfigError` naming the flag for a value of the wrong type, out of range or
    not among the choices."""
    return TrainConfig.from_options(
        {FLAGS[flag]: text for flag, text in values.items()}, labels={field: flag for flag, field in FLAGS.items()}
    )


def on_device(config: TrainConfig, on_warning: Callable[[str], None] | None = None) -> TrainConfig:
    """`config` with its device resolved on this machine ("auto" picking a GPU is said to
    `on_warning`). Raises `ConfigError` for a device this machine does not have."""
    device = resolve_device(config.device)
    if config.device == "auto" and device.type != "cpu" and on_warning is not None:
        on_warning(f"Training on {device}: the device is auto and a GPU was found")
    return replace(config, device=str(device))
