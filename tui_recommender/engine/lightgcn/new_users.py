"""A new user's start in LightGCN: the layer-0 row that propagates to the mean of their
movies' rows, before the fine-tune refines it (torch is imported when it runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tui_recommender.engine.graph import InteractionGraph

if TYPE_CHECKING:
    import torch

    from tui_recommender.engine.lightgcn.model import LightGCN


def start_new_users(
    model: LightGCN,
    graph: InteractionGraph,
    adj: torch.Tensor,
    users: np.ndarray,
    trained_users: int,
    item_rows: np.ndarray,
) -> None:
    """Set the layer-0 row of each of `users` that the last full training never saw
    (row >= `trained_users`) so that its propagated embedding is the mean of its
    positives' published propagated rows (`item_rows`): the vector the app ranks a
    not-yet-learnt user by, so the list does not jump when the update lands (zero
    without any positive). Propagation is linear: E_u = rest_u + s_u e_u, with rest_u
    from the other rows and s_u = sum_k alpha_k (A^k)_uu (`LightGCN.own_share`). Exact
    for one new user; for several who share movies, their rows' small cross terms
    (A^2)_uv are left out. They restart from this at every update; the fine-tune then
    refines it."""
    import torch

    new = np.array([u for u in users if u >= trained_users], dtype=np.int64)
    if len(new) == 0:
        return
    with torch.no_grad():
        weight = model.embedding.weight
        rows = torch.as_tensor(new, device=model.device)
        weight[rows] = 0.0
        rest = model.propagate(adj)
        own = model.own_share(adj, rows)
        items = torch.as_tensor(item_rows, device=model.device)
        for k, user in enumerate(new):
            liked = graph.items[graph.users == user]
            weight[user] = (items[liked].mean(0) - rest[user]) / own[k] if len(liked) else 0.0
