"""The optimiser steps of a training, alone or shared by a team of processes: in a team,
each rank computes the loss of its share of a step's users (or pairs), and
DistributedDataParallel averages the gradients. A rank's loss is weighted by its share of
the step, so the averaged gradient is the whole step's: N ranks reach the weights one
process reaches with the same step size and seed."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from tui_recommender.engine.distributed import SOLO, Team


class StepLoss(nn.Module):
    """A step's loss as a module call, `loss_of(E)` of the propagated embeddings E: what
    DistributedDataParallel wraps, so its gradient hooks see the forward pass."""

    def __init__(self, model: nn.Module, adj: Tensor) -> None:
        super().__init__()
        self.model = model
        self.adj = adj  # a plain attribute: the graph is data, not a parameter or buffer to sync

    def forward(self, loss_of: Callable[[Tensor], Tensor]) -> Tensor:
        return loss_of(self.model.propagate(self.adj))


class Steps:
    """The optimiser steps of one training of `model` (a `LightGCN`) over `adj`, shared by
    `team`: alone, plain steps; in a team, each rank's share of every step, under DDP."""

    def __init__(self, model: nn.Module, adj: Tensor, team: Team = SOLO) -> None:
        self.team = team
        module: nn.Module = StepLoss(model, adj)
        if team.distributed:
            from torch.nn.parallel import DistributedDataParallel

            device = model.device
            module = DistributedDataParallel(module, device_ids=[device] if device.type == "cuda" else None)
        self._module = module

    def step(self, optimizer: torch.optim.Optimizer, n: int, loss_of: Callable[[Tensor, slice], Tensor]) -> Tensor:
        """One step over `n` entries (users or pairs); `loss_of(E, part)` is the mean loss
        of the entries in slice `part` (this rank's share). Returns this rank's loss,
        weighted so that the mean over ranks is the step's loss."""
        part = self.team.share(n)
        size = part.stop - part.start

        def local(final: Tensor) -> Tensor:
            if size == 0:  # a rank with no share still joins the gradient average, with zeros
                return final.sum() * 0.0
            loss = loss_of(final, part)
            return loss * (size * self.team.world_size / n) if self.team.distributed else loss

        optimizer.zero_grad(set_to_none=True)
        loss = self._module(local)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def mean_loss(self, losses: list[Tensor]) -> float:
        """The mean step loss of an epoch over every rank (read from the device once)."""
        if not losses:
            return float("nan")
        stacked = torch.stack(losses)
        if self.team.distributed:
            import torch.distributed as dist

            dist.all_reduce(stacked)
            stacked = stacked / self.team.world_size
        return float(np.mean(stacked.tolist()))
