"""Which torch device the engine computes on: a name (`TrainConfig.device`, `--device`;
`core.device_names` checks it) resolved once. "auto" takes the first CUDA GPU when there is
one, else the CPU; Apple's MPS only when asked for by name (its sparse support is partial)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_recommender.core.device_names import device_problem
from tui_recommender.core.errors import ConfigError
from tui_recommender.core.text import shorten

if TYPE_CHECKING:  # a name is checked without torch (checkpoints load before torch does)
    import torch


def resolve_device(name: str) -> torch.device:
    """The device `name` stands for on this machine. Raises `ConfigError` (one line) for a
    malformed name or a device this machine does not have."""
    import torch

    problem = device_problem(name)
    if problem is not None:
        raise ConfigError(f"device {shorten(repr(name))} is {problem}")
    if name == "auto":
        return torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name}: no CUDA GPU is available here (try --device cpu)")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ConfigError(f"device {name}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}")
        return torch.device("cuda", torch.cuda.current_device() if device.index is None else device.index)
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {name}: Apple's MPS is not available here (try --device cpu)")
    return device
