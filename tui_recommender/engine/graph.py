"""The user-item interaction graph and its symmetric-normalised adjacency.

Nodes are users `0..n_users-1` followed by items `n_users..n_users+n_items-1`; an edge
joins a user to every item they rated positively. LightGCN propagates over

    A_hat = D^-1/2 A D^-1/2,   A = [[0, R], [R^T, 0]],

where R is the n_users x n_items 0/1 interaction matrix and D the node degrees (nodes with
no edge keep a zero row).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch loads only when a model is trained
    import scipy.sparse
    import torch


@dataclass(frozen=True)
class InteractionGraph:
    """Positive user-item edges as parallel index arrays (int64, no duplicates)."""

    n_users: int
    n_items: int
    users: np.ndarray
    items: np.ndarray

    @classmethod
    def from_pairs(cls, n_users: int, n_items: int, users: np.ndarray, items: np.ndarray) -> InteractionGraph:
        """Build from (user, item) index pairs, dropping duplicates; order: by user, then item."""
        users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        if _rising_pairs(users, items):  # as a sorted file gives them: kept, no key array, no division
            return cls(n_users, n_items, users, items)
        return cls(n_users, n_items, *np.divmod(sorted_distinct(users * n_items + items), n_items))

    @property
    def n_nodes(self) -> int:
        return self.n_users + self.n_items

    @property
    def n_edges(self) -> int:
        return len(self.users)

    def edge_keys(self) -> np.ndarray:
        """Sorted `user * n_items + item` keys, for fast membership tests."""
        return self.users * self.n_items + self.items

    def with_edges(
        self, users: np.ndarray, items: np.ndarray, n_users: int | None = None, n_items: int | None = None
    ) -> InteractionGraph:
        """A new graph with edges added (and optionally more nodes)."""
        nu, ni = n_users or self.n_users, n_items or self.n_items
        return InteractionGraph.from_pairs(
            nu, ni, np.concatenate([self.users, users]), np.concatenate([self.items, items])
        )

    def without_edges(self, users: np.ndarray, items: np.ndarray) -> InteractionGraph:
        """A new graph with the given edges removed (absent ones are ignored)."""
        drop = np.isin(
            self.edge_keys(), np.asarray(users, dtype=np.int64) * self.n_items + np.asarray(items, dtype=np.int64)
        )
        return InteractionGraph(self.n_users, self.n_items, self.users[~drop], self.items[~drop])

    def edited(self, edits: Mapping[tuple[int, int], bool], n_users: int | None = None) -> InteractionGraph:
        """A new graph with each (user, item) of `edits` in (True) or out (False), and
        optionally more users: the few edits found by binary search and spliced in, the
        edges kept sorted without sorting them all (`with_edges` sorts every edge's key)."""
        keys = np.array(sorted(edits), dtype=np.int64).reshape(-1, 2)
        linked = np.array([edits[key] for key in map(tuple, keys.tolist())], dtype=bool)
        users, items = keys[:, 0], keys[:, 1]
        first = np.searchsorted(self.users, users, "left")
        last = np.searchsorted(self.users, users, "right")
        at = np.array([a + int(np.searchsorted(self.items[a:b], i)) for a, b, i in zip(first, last, items)], np.int64)
        present = at < last  # then the edge at `at` is the user's: is it this item?
        present[present] = self.items[at[present]] == items[present]
        drop = at[present & ~linked]
        add = ~present & linked
        places = at[add] - np.searchsorted(drop, at[add])  # where they go once `drop` is out
        new_users = np.insert(np.delete(self.users, drop), places, users[add])
        new_items = np.insert(np.delete(self.items, drop), places, items[add])
        return InteractionGraph(n_users or self.n_users, self.n_items, new_users, new_items)

    def edges_of(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in `users`, item) of every edge of `users` (edges are sorted by user);
        users without an edge, or beyond `n_users`, have none."""
        users = np.asarray(users, dtype=np.int64)
        first = np.searchsorted(self.users, users, "left")
        counts = np.searchsorted(self.users, users, "right") - first
        rows = np.repeat(np.arange(len(users)), counts)
        edges = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(len(rows))
        return rows, self.items[edges]

    def degrees(self) -> np.ndarray:
        """Node degrees (float64, length n_nodes)."""
        return np.concatenate(
            [
                np.bincount(self.users, minlength=self.n_users),
                np.bincount(self.items, minlength=self.n_items),
            ]
        ).astype(np.float64)

    def normalized_csr(self) -> scipy.sparse.csr_array:
        """A_hat as a float32 scipy CSR array with int32 indices (n_nodes x n_nodes), rows
        sorted: what the live model propagates with, without torch."""
        import scipy.sparse

        deg = self.degrees()
        inv_sqrt = np.divide(1.0, np.sqrt(deg), out=np.zeros_like(deg), where=deg > 0)
        item_nodes = self.items + self.n_users
        rows = np.concatenate([self.users, item_nodes])
        cols = np.concatenate([item_nodes, self.users])
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        values = (inv_sqrt[rows] * inv_sqrt[cols]).astype(np.float32)
        crow = np.zeros(self.n_nodes + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=self.n_nodes), out=crow[1:])
        return scipy.sparse.csr_array((values, cols.astype(np.int32), crow), shape=(self.n_nodes, self.n_nodes))

    def normalized_adjacency(self, device: torch.device | None = None) -> torch.Tensor:
        """A_hat (`normalized_csr`) as a float32 sparse CSR torch tensor with int32 indices,
        on `device` (None: torch's default, the CPU); built in numpy, copied there once.

        Built here, not with PyG's gcn_norm + to_torch_csr_tensor: the same matrix in 9.8 ms vs
        15 ms, and importing torch_geometric would add ~2.4 s to the app's first update
        (benchmarks/bench_handwritten.py; int32 and int64 indices multiply equally fast).
        """
        import torch

        csr = self.normalized_csr()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            return torch.sparse_csr_tensor(
                torch.as_tensor(csr.indptr, device=device),
                torch.as_tensor(csr.indices, device=device),
                torch.as_tensor(csr.data, device=device),
                size=(self.n_nodes, self.n_nodes),
                device=device,
                check_invariants=False,
            )


def _rising_pairs(users: np.ndarray, items: np.ndarray) -> bool:
    """Whether the (user, item) pairs are sorted by user then item without a repeat."""
    if (users[1:] < users[:-1]).any():  # comparisons only: bool temporaries, not int64 ones
        return False
    return bool(((users[1:] > users[:-1]) | (items[1:] > items[:-1])).all())


def sorted_distinct(keys: np.ndarray) -> np.ndarray:
    """`keys` sorted without repeats. Ratings files come sorted by user (then movie), so an
    ordered array is only checked, not sorted; `np.unique`'s hash path in numpy 2.4 took 84 s
    on 26M int64 keys here, where a sort takes 0.5 s."""
    if not (keys[1:] >= keys[:-1]).all():
        keys = np.sort(keys)
    first = np.concatenate(([True], keys[1:] != keys[:-1]))
    return keys if first.all() else keys[first]
