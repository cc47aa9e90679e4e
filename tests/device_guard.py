"""A guard that proves the engine creates every tensor on the device it was given, on a
machine with only a CPU: under it, a tensor created without that device fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class _DeviceCheck(TorchDispatchMode):
    """Records every op whose tensor outputs are not on `device`."""

    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self.device = device
        self.strays: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for tensor in tree_flatten(out)[0]:
            if isinstance(tensor, torch.Tensor) and tensor.device != self.device:
                self.strays.append(f"{func} made a tensor on {tensor.device}")
        return out


@contextmanager
def only_on(device: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the body with torch's default device set to `meta`, so a factory call without
    the engine's device makes a meta tensor, and `torch.from_numpy` (always the CPU)
    refused; fails if any op made a tensor anywhere but `device`."""

    def refused(array):
        raise AssertionError("torch.from_numpy: the engine copies arrays onto its device with torch.as_tensor")

    monkeypatch.setattr(torch, "from_numpy", refused)
    check = _DeviceCheck(torch.device(device))
    with torch.device("meta"), check:
        yield
    assert not check.strays, check.strays[:5]
