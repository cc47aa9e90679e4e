"""Sampling for training and updates: uniform negatives that are never a user's positive,
items by popularity (a sampled softmax's), positive pairs by user or by edge, and a batch
of users' positives as tensors."""

from __future__ import annotations

import numpy as np
import torch

from tui_recommender.engine.graph import InteractionGraph


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


# Popularity^0.75 (word2vec's unigram exponent) measured against uniform and popularity^1
# on ml-latest-small with the sampled softmax forced (benchmarks/README.md).
POPULARITY_EXPONENT = 0.75


class PopularItems:
    """Items drawn with replacement, item j with probability q_j proportional to
    (its positives + 1) ** `exponent`: the movies a sampled softmax scores. `correction`
    weighs the logQ correction they come with (`TrainConfig.logq`)."""

    def __init__(self, graph: InteractionGraph, exponent: float = POPULARITY_EXPONENT, correction: float = 1.0) -> None:
        weights = (np.bincount(graph.items, minlength=graph.n_items) + 1.0) ** exponent
        self.probabilities = weights / weights.sum()
        self.correction = correction

    def draw(self, k: int, rng: np.random.Generator, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """`k` item indices and, times `correction`, the log of each one's expected count
        among the `k` draws, log(k q_j) (float32), on `device`."""
        items = rng.choice(len(self.probabilities), size=k, p=self.probabilities)
        log_expected = (self.correction * np.log(k * self.probabilities[items])).astype(np.float32)
        return torch.as_tensor(items, device=device), torch.as_tensor(log_expected, device=device)


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
