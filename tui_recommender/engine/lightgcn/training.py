"""Training LightGCN: by default with the listwise loss (each user's softmax over every
movie, batches of users), or BPR with vectorised negative sampling over mini-batches of
positive edges; early stopping on a validation split, then a refit.

Sampling runs in numpy on the host; each step's indices go to the model's device once, and
every tensor of a step is created there (the device of `TrainConfig.device`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import torch

from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
from tui_recommender.engine.checkpoint import Checkpoint
from tui_recommender.engine.device import resolve_device
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.split import VALIDATION_FRACTION
from tui_recommender.engine.train_config import TrainConfig

if TYPE_CHECKING:
    from tui_recommender.data.movielens import MovieLensData


@dataclass
class EpochStats:
    epoch: int  # 1-based
    loss: float
    seconds: float
    val_recall20: float | None = None
    total: int = 0  # epochs this run does at most (early stopping may end it sooner)


@dataclass
class TrainResult:
    model: LightGCN
    config: TrainConfig
    epochs: int  # epochs the returned model was trained (with refit: `best_epoch`)
    best_epoch: int  # epoch with the best validation recall (the refit trains this many)
    seconds: float  # wall time of the whole training
    history: list[EpochStats] = field(default_factory=list)
    val_metrics: dict[str, float] = field(default_factory=dict)
    stopped: bool = False  # `should_stop` ended it early
    validation_epochs: int = 0  # epochs run while early stopping watched the validation split

    @property
    def seconds_per_epoch(self) -> float:
        return sum(h.seconds for h in self.history) / max(len(self.history), 1)

    def summary(self) -> dict:
        """JSON-ready figures: epochs, best epoch, wall seconds, seconds per epoch, and the
        validation metrics of the kept weights."""
        return {
            "epochs": self.epochs,
            "validation_epochs": self.validation_epochs,
            "best_epoch": self.best_epoch,
            "seconds": round(self.seconds, 3),
            "seconds_per_epoch": round(self.seconds_per_epoch, 4),
            "validation": self.val_metrics,
        }


# Hand-written: PyG's structured_negative_sampling (x8) took 43x longer for one epoch's
# negatives (1.80 s vs 42 ms, benchmarks/bench_handwritten.py) and excludes only the pairs given.
class NegativeSampler:
    """Uniform negative items for users, never one of the user's positives."""

    def __init__(self, graph: InteractionGraph) -> None:
        self.n_items = graph.n_items
        self._keys = np.sort(graph.edge_keys())

    def is_positive(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        keys = users * self.n_items + items
        pos = np.searchsorted(self._keys, keys)
        pos[pos == len(self._keys)] = 0
        return self._keys[pos] == keys if len(self._keys) else np.zeros(len(keys), dtype=bool)

    def sample(self, users: np.ndarray, rng: np.random.Generator, per_user: int = 1) -> np.ndarray:
        """`per_user` negative item indices per entry of `users`, shape (len(users), per_user)."""
        users = np.repeat(users, per_user)
        items = rng.integers(0, self.n_items, size=len(users))
        clash = self.is_positive(users, items)
        for _ in range(20):
            if not clash.any():
                break
            items[clash] = rng.integers(0, self.n_items, size=int(clash.sum()))
            clash[clash] = self.is_positive(users[clash], items[clash])
        # Users who liked nearly every item: draw from their complement directly.
        for user in np.unique(users[clash]):
            rows = np.flatnonzero(clash & (users == user))
            liked = (
                self._keys[(self._keys >= user * self.n_items) & (self._keys < (user + 1) * self.n_items)]
                % self.n_items
            )
            free = np.setdiff1d(np.arange(self.n_items), liked)
            if len(free):  # a user who liked every item has no negative at all
                items[rows] = rng.choice(free, size=len(rows))
        return items.reshape(-1, per_user)


def sample_positives(
    graph: InteractionGraph, n: int, mode: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`n` (user, positive item) pairs: "edge" draws a random permutation of the edges,
    "user" draws a uniform user (among those with an edge) then one of their positives,
    which weights light users as the per-user-averaged metrics do."""
    if mode == "edge":
        order = rng.permutation(graph.n_edges)[:n]
        return graph.users[order], graph.items[order]
    counts = np.bincount(graph.users, minlength=graph.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])  # edges are sorted by user
    active = np.flatnonzero(counts)
    users = active[rng.integers(0, len(active), size=n)]
    picks = starts[users] + (rng.random(n) * counts[users]).astype(np.int64)
    return users, graph.items[picks]


def user_edges(graph: InteractionGraph, users: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(row into `users`, item) of every positive of `users` (`InteractionGraph.edges_of`),
    on `device`."""
    rows, items = graph.edges_of(users)
    return torch.as_tensor(rows, device=device), torch.as_tensor(items, device=device)


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
) -> float:
    """One pass over the (user, positive item) pairs in mini-batches of `batch_size`, with
    fresh negatives, for the pairwise losses: "bpr" (`negatives` per pair, never a positive
    of the user) or "softmax" (the sampled softmax: `negatives` uniform items shared by the
    batch, logits cosine / `temperature`); returns the mean batch loss."""
    device = model.device
    u_all = torch.as_tensor(users, device=device)
    i_all = torch.as_tensor(items, device=device)
    softmax = loss == "softmax"
    j_all = None if softmax else torch.as_tensor(sampler.sample(users, rng, negatives), device=device)
    losses = []
    for start in range(0, len(users), batch_size):
        if should_stop():
            break
        batch = slice(start, start + batch_size)
        optimizer.zero_grad(set_to_none=True)
        final = model.propagate(adj)
        if softmax:
            shared = torch.as_tensor(rng.integers(0, sampler.n_items, size=negatives), device=device)
            loss_value = model.softmax_loss(final, u_all[batch], i_all[batch], shared, temperature, reg)
        else:
            loss_value = model.bpr_loss(final, u_all[batch], i_all[batch], j_all[batch], reg)
        loss_value.backward()
        optimizer.step()
        losses.append(loss_value.detach())
    return _mean_loss(losses)


def _mean_loss(losses: list[torch.Tensor]) -> float:
    """The mean of an epoch's batch losses (read from the device once, at the end)."""
    return float(np.mean(torch.stack(losses).tolist())) if losses else float("nan")


def full_softmax_epoch(
    model: LightGCN,
    adj: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    graph: InteractionGraph,
    rng: np.random.Generator,
    user_batch: int,
    reg: float,
    should_stop: Callable[[], bool] = lambda: False,
) -> float:
    """One pass over every user with a positive, in shuffled batches of `user_batch`
    users, each scored against every item (`LightGCN.full_softmax_loss`); returns the mean
    batch loss. Every positive pair enters the loss once per epoch, as with BPR."""
    active = rng.permutation(np.unique(graph.users))
    device = model.device
    losses = []
    for start in range(0, len(active), user_batch):
        if should_stop():
            break
        batch = active[start : start + user_batch]
        optimizer.zero_grad(set_to_none=True)
        final = model.propagate(adj)
        users = torch.as_tensor(batch, device=device)
        loss_value = model.full_softmax_loss(final, users, *user_edges(graph, batch, device), reg)
        loss_value.backward()
        optimizer.step()
        losses.append(loss_value.detach())
    return _mean_loss(losses)


def train(
    graph: InteractionGraph,
    config: TrainConfig | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    on_epoch: Callable[[EpochStats], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> TrainResult:
    """Train a fresh model on `graph`, on the device `config.device` names. With
    `validation` (user, item) index pairs, stop early on validation Recall@20 and keep the
    best weights; else run `max_epochs`."""
    from tui_recommender.engine.metrics import recall_at_k
    from tui_recommender.engine.ranking import top_k_unseen

    started = time.perf_counter()
    config = config or TrainConfig()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = resolve_device(config.device)
    model = LightGCN(
        graph.n_users, graph.n_items, config.dim, config.n_layers, config.init_std, config.layer_weights, device
    )
    adj = graph.normalized_adjacency(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    sampler = NegativeSampler(graph)
    result = TrainResult(model, config, 0, 0, 0.0)
    best_recall, best_state, checks_without_gain = -1.0, None, 0
    for epoch in range(1, config.max_epochs + 1):
        if should_stop():
            result.stopped = True
            break
        t0 = time.perf_counter()
        if config.loss == "full_softmax":
            loss = full_softmax_epoch(model, adj, optimizer, graph, rng, config.user_batch, config.reg, should_stop)
        else:
            users, items = sample_positives(graph, graph.n_edges, config.sampling, rng)
            loss = bpr_epoch(
                model,
                adj,
                optimizer,
                users,
                items,
                sampler,
                rng,
                config.batch_size,
                config.reg,
                config.negatives,
                should_stop,
                config.loss,
                config.temperature,
            )
        stats = EpochStats(epoch, loss, time.perf_counter() - t0, total=config.max_epochs)
        result.history.append(stats)
        result.epochs = epoch
        if should_stop():
            result.stopped = True
            break
        if validation is not None and (epoch % config.eval_every == 0 or epoch == config.max_epochs):
            # Ranked on the host by the app's own (numpy) ranking: one copy per check.
            with torch.no_grad():
                final = model.propagate(adj).cpu().numpy()
            top = top_k_unseen(
                final[: graph.n_users], final[graph.n_users :], graph.users, graph.items, 20, config.scoring
            )
            stats.val_recall20 = recall_at_k(torch.as_tensor(top, device="cpu"), *validation, k=20)
            if stats.val_recall20 > best_recall:
                best_recall, result.best_epoch = stats.val_recall20, epoch
                result.val_metrics = {"recall@20": round(best_recall, 6)}
                best_state = model.embedding.weight.detach().clone()
                checks_without_gain = 0
            else:
                checks_without_gain += 1
        if on_epoch is not None:
            on_epoch(stats)
        if validation is not None and checks_without_gain >= config.patience:
            break
    if validation is not None:
        result.validation_epochs = result.epochs
    if best_state is not None:
        model.embedding.weight.data.copy_(best_state)
    else:
        result.best_epoch = result.epochs
    result.seconds = time.perf_counter() - started
    return result


def train_on_pairs(
    pairs: pd.DataFrame,
    users: IdMap,
    items: IdMap,
    config: TrainConfig | None = None,
    validation_fraction: float = VALIDATION_FRACTION,
    on_epoch: Callable[[EpochStats], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> TrainResult:
    """Train on positive (userId, movieId) `pairs` (raw ids, rows from the maps): a random
    `validation_fraction` of each user's pairs (users with >= 5) is held out for early
    stopping, the rest is trained on; with `config.refit`, a fresh model is then trained on
    every pair for the best epoch count, so no data is left out of the final model."""
    from tui_recommender.engine.interactions import pairs_graph
    from tui_recommender.engine.split import split_per_user

    config = config or TrainConfig()
    fit, val = (
        split_per_user(pairs, fraction=validation_fraction, seed=config.seed + 1)
        if validation_fraction > 0
        else (pairs, pairs.iloc[:0])
    )
    validation = (users.indices(val["userId"]), items.indices(val["movieId"])) if len(val) else None
    result = train(pairs_graph(fit, users, items), config, validation, on_epoch, should_stop)
    if not config.refit or validation is None or result.stopped:
        return result
    full = train(
        pairs_graph(pairs, users, items), replace(config, max_epochs=result.best_epoch), None, on_epoch, should_stop
    )
    full.history = result.history + full.history
    full.seconds += result.seconds
    full.best_epoch, full.val_metrics = result.best_epoch, result.val_metrics
    full.validation_epochs = result.validation_epochs
    return full


def train_checkpoint(
    data: MovieLensData,
    ratings: pd.DataFrame,
    config: TrainConfig | None = None,
    trained_seq: int = 0,
    on_epoch: Callable[[EpochStats], None] | None = None,
) -> tuple[Checkpoint, TrainResult]:
    """Train on every positive of `ratings` (early stopping on a per-user validation split)
    and pack the result, propagated over the whole graph, as a checkpoint that has learnt
    the ratings store up to seq `trained_seq`."""
    from tui_recommender.engine.interactions import Interactions

    config = config or TrainConfig()
    inter = Interactions.build(ratings, data.movies.index.to_numpy())
    pairs = ratings.loc[ratings["rating"] >= POSITIVE_THRESHOLD, ["userId", "movieId"]]
    result = train_on_pairs(pairs, inter.users, inter.items, config, on_epoch=on_epoch)
    with torch.no_grad():
        final = result.model.propagate(inter.graph.normalized_adjacency(result.model.device)).cpu().numpy()
    checkpoint = Checkpoint(
        ego=result.model.embedding.weight.detach().cpu().numpy(),
        final=final,
        user_ids=inter.users.raw_ids,
        item_ids=inter.items.raw_ids,
        config=config,
        dataset=data.name,
        fingerprint=data.fingerprint,
        metrics=result.summary(),
        trained_seq=trained_seq,
        applied_seq=trained_seq,
    )
    return checkpoint, result
