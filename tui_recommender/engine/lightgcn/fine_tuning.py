"""Online learning: a bounded fine-tune of a trained LightGCN after new ratings, on the
focus users' edges plus a replay sample of old edges (so the rest of the model does not
drift), optionally pushing down items the users said no to. Its settings,
`FineTuneConfig`, live with the torch-free update of one user row (`user_rows`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.model import LightGCN, cosine_rows, listwise_loss
from tui_recommender.engine.lightgcn.sampling import NegativeSampler, user_edges
from tui_recommender.engine.lightgcn.user_rows import FineTuneConfig


def fine_tune(
    model: LightGCN,
    adj: torch.Tensor,
    graph: InteractionGraph,
    focus_users: np.ndarray,
    config: FineTuneConfig,
    rng: np.random.Generator,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[float], None] | None = None,
    disliked: tuple[np.ndarray, np.ndarray] | None = None,
    anchored: np.ndarray | None = None,
) -> int:
    """Fine-tune `model` in place towards the focus users' edges; returns steps done
    (fewer than `config.steps` when `should_stop` ended it). `disliked` (user rows, item
    rows): items users said no to; each focus pair of such a user gets one of them as its
    first negative, so the update pushes them down. `anchored`: focus users whose rows
    were just started (the listwise update keeps them near that start)."""
    if config.loss == "full_softmax":
        return _fine_tune_listwise(model, adj, graph, focus_users, config, should_stop, on_progress, disliked, anchored)
    device = model.device
    focus = np.isin(graph.users, focus_users)
    focus_u = torch.as_tensor(graph.users[focus], device=device)
    focus_i = torch.as_tensor(graph.items[focus], device=device)
    sampler = NegativeSampler(graph)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    for step in range(config.steps):
        if should_stop():
            return step
        replay = rng.integers(0, graph.n_edges, size=min(config.replay, graph.n_edges))
        replay_u, replay_i = graph.users[replay], graph.items[replay]
        replay_users, replay_items = torch.as_tensor(replay_u, device=device), torch.as_tensor(replay_i, device=device)
        optimizer.zero_grad(set_to_none=True)
        final = model.propagate(adj)
        if config.loss == "softmax":
            shared = torch.as_tensor(rng.integers(0, graph.n_items, size=config.softmax_negatives), device=device)
            loss = model.softmax_loss(final, replay_users, replay_items, shared, config.temperature, config.reg)
            if len(focus_u):
                loss = loss + model.softmax_loss(final, focus_u, focus_i, shared, config.temperature, config.reg)
        else:
            replay_neg = torch.as_tensor(sampler.sample(replay_u, rng, config.negatives), device=device)
            loss = model.bpr_loss(final, replay_users, replay_items, replay_neg, config.reg)
            if len(focus_u):
                focus_neg = sampler.sample(graph.users[focus], rng, config.negatives)
                if disliked is not None:
                    _use_disliked(focus_neg, graph.users[focus], disliked, rng)
                focus_j = torch.as_tensor(focus_neg, device=device)
                loss = loss + model.bpr_loss(final, focus_u, focus_i, focus_j, config.reg)
        loss.backward()
        optimizer.step()
        if on_progress is not None:
            on_progress((step + 1) / config.steps)
    return config.steps


def _fine_tune_listwise(
    model: LightGCN,
    adj: torch.Tensor,
    graph: InteractionGraph,
    focus_users: np.ndarray,
    config: FineTuneConfig,
    should_stop: Callable[[], bool],
    on_progress: Callable[[float], None] | None,
    disliked: tuple[np.ndarray, np.ndarray] | None,
    anchored: np.ndarray | None,
) -> int:
    """`fine_tune` for a model trained with the listwise loss: only the focus users'
    layer-0 rows move, towards that loss on their positives, the `anchored` ones with an
    L2 pull (`config.anchor`) towards where they started. The loss reaches every
    movie, and Adam would move each by about `lr` a step however small its gradient: rare
    movies would drift into everyone's lists (bench_learning: ARP@20 1.6). So movies and
    other users stay as trained, and a focus user's propagated row is the linear
    rest_u + s_u e_u of their own row (`lightgcn.new_users.start_new_users`), the movies' rows held
    at their propagated values: each step is one small product, not a propagation. A model
    trained on cosine logits (`config.cosine`) is fine-tuned on them."""
    focus_users = np.unique(np.asarray(focus_users, dtype=np.int64))
    focus_users = focus_users[np.isin(focus_users, graph.users)]
    if len(focus_users) == 0:
        return config.steps
    device = model.device
    focus_rows, focus_items = user_edges(graph, focus_users, device)
    focus_disliked = None
    if disliked is not None:
        where = np.searchsorted(focus_users, disliked[0]).clip(max=len(focus_users) - 1)
        hit = focus_users[where] == disliked[0]
        focus_disliked = (
            torch.as_tensor(where[hit], device=device),
            torch.as_tensor(np.asarray(disliked[1])[hit], device=device),
        )
    users = torch.as_tensor(focus_users, device=device)
    weight = model.embedding.weight
    with torch.no_grad():
        items = model.propagate(adj)[model.n_users :]
        if config.cosine:
            items = cosine_rows(items, config.temperature)
        rest = model.propagate(adj, weight.detach().index_fill(0, users, 0.0))[users]
        share = model.own_share(adj, users).unsqueeze(1)
    rows = weight.detach()[users].clone().requires_grad_(True)
    start = rows.detach().clone()
    new = np.isin(focus_users, [] if anchored is None else anchored)
    pull = config.anchor * torch.as_tensor(new, dtype=torch.float32, device=device)
    optimizer = torch.optim.Adam([rows], lr=config.lr)
    for step in range(config.steps):
        if should_stop():
            return step
        optimizer.zero_grad(set_to_none=True)
        user_vecs = rest + share * rows
        if config.cosine:
            user_vecs = cosine_rows(user_vecs, config.temperature)
        loss = listwise_loss(user_vecs, items, focus_rows, focus_items, focus_disliked)
        l2 = config.reg * rows.square().sum() / model.n_users
        (loss + l2 + (pull[:, None] * (rows - start).square()).sum()).backward()
        optimizer.step()
        with torch.no_grad():
            weight[users] = rows
        if on_progress is not None:
            on_progress((step + 1) / config.steps)
    return config.steps


def _use_disliked(
    negatives: np.ndarray, users: np.ndarray, disliked: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
) -> None:
    """Replace column 0 of `negatives` (one row per entry of `users`) by a random disliked
    item of that user, where the user has one."""
    order = np.argsort(disliked[0], kind="stable")
    by_user, items = disliked[0][order], disliked[1][order]
    first, end = np.searchsorted(by_user, users, "left"), np.searchsorted(by_user, users, "right")
    has = end > first
    pick = first[has] + (rng.random(int(has.sum())) * (end[has] - first[has])).astype(np.int64)
    negatives[has, 0] = items[pick]
