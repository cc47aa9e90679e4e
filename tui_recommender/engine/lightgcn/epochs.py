"""One epoch of training, as `training.train` runs it: the listwise loss over batches of
users (`full_softmax_epoch`), or a pairwise loss over mini-batches of positive edges with
fresh negatives (`bpr_epoch`). Sampling runs in numpy on the host; each step's indices go
to the model's device once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.lightgcn.sampling import NegativeSampler, PopularItems, user_edges
from tui_recommender.engine.lightgcn.steps import Steps


def bpr_epoch(
    model: LightGCN,
    adj: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    users: np.ndarray,
    items: np.ndarray,
    sampler: NegativeSampler,
    rng: np.random.Generator,
    batch_size: int,
    reg: float,
    negatives: int = 1,
    should_stop: Callable[[], bool] = lambda: False,
    loss: Literal["bpr", "softmax"] = "bpr",
    temperature: float = 0.1,
    steps: Steps | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> float:
    """One pass over the (user, positive item) pairs in mini-batches of `batch_size`, with
    fresh negatives, for the pairwise losses: "bpr" (`negatives` per pair, never a positive
    of the user) or "softmax" (the sampled softmax: `negatives` uniform items shared by the
    batch, logits cosine / `temperature`); returns the mean batch loss. `steps`: how the
    steps are taken (default: alone); in a team each rank scores its share of a batch.
    `on_step(done, total)` after each step."""
    device = model.device
    steps = steps or Steps(model, adj)
    u_all = torch.as_tensor(users, device=device)
    i_all = torch.as_tensor(items, device=device)
    softmax = loss == "softmax"
    j_all = None if softmax else torch.as_tensor(sampler.sample(users, rng, negatives), device=device)
    losses = []
    for start in range(0, len(users), batch_size):
        if should_stop():
            break
        shared = torch.as_tensor(rng.integers(0, sampler.n_items, size=negatives), device=device) if softmax else None

        def loss_of(final: torch.Tensor, part: slice, start: int = start, shared: torch.Tensor | None = shared):
            rows = slice(start + part.start, start + part.stop)
            if shared is not None:
                return model.softmax_loss(final, u_all[rows], i_all[rows], shared, temperature, reg)
            return model.bpr_loss(final, u_all[rows], i_all[rows], j_all[rows], reg)

        losses.append(steps.step(optimizer, min(batch_size, len(users) - start), loss_of))
        if on_step is not None:
            on_step(len(losses), -(-len(users) // batch_size))
    return steps.mean_loss(losses)


def full_softmax_epoch(
    model: LightGCN,
    adj: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    graph: InteractionGraph,
    rng: np.random.Generator,
    user_batch: int,
    reg: float,
    should_stop: Callable[[], bool] = lambda: False,
    steps: Steps | None = None,
    scored: tuple[PopularItems, int] | None = None,
    on_step: Callable[[int, int], None] | None = None,
    temperature: float | None = None,
) -> float:
    """One pass over every user with a positive, in shuffled batches of `user_batch`
    users, each scored against every item (`LightGCN.full_softmax_loss`), or with `scored`
    (items, k) against k items drawn afresh each step; returns the mean batch loss. Every
    positive pair enters the loss once per epoch, as with BPR. `steps`: how the steps are
    taken (default: alone); in a team each rank scores its share. `on_step(done, total)`
    after each step. `temperature`: logits cosine / temperature (default: dot products)."""
    active = rng.permutation(np.unique(graph.users))
    device = model.device
    steps = steps or Steps(model, adj)
    total = -(-len(active) // user_batch)
    losses = []
    for start in range(0, len(active), user_batch):
        if should_stop():
            break
        batch = active[start : start + user_batch]
        drawn = None if scored is None else scored[0].draw(scored[1], rng, device)

        def loss_of(final: torch.Tensor, part: slice, batch: np.ndarray = batch, drawn=drawn) -> torch.Tensor:
            mine = batch[part]
            users = torch.as_tensor(mine, device=device)
            edges = user_edges(graph, mine, device)
            return model.full_softmax_loss(final, users, *edges, reg, scored=drawn, temperature=temperature)

        losses.append(steps.step(optimizer, len(batch), loss_of))
        if on_step is not None:
            on_step(len(losses), total)
    return steps.mean_loss(losses)
