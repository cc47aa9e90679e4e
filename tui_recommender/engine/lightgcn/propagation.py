"""LightGCN's propagation in numpy and scipy, for the live model's catch-up: the same
E = sum_k alpha_k A_hat^k E0 as `LightGCN.propagate`, without torch (so a served app and
the CLI's `rate` never load it), and the layer-0 rows that make a user's propagated row
the one the app served them (`lightgcn.user_rows`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.user_rows import own_share
from tui_recommender.engine.train_config import TrainConfig

if TYPE_CHECKING:  # scipy loads at the first catch-up, not with the app
    import scipy.sparse


def layer_weights(config: TrainConfig) -> tuple[float, ...]:
    """alpha_k for k = 0..K: the recipe's, else the paper's 1 / (K + 1) each."""
    if config.layer_weights is not None:
        return tuple(config.layer_weights)
    return (1.0 / (config.n_layers + 1),) * (config.n_layers + 1)


BLOCK_ROWS = 1 << 15  # rows summed at once: a small temporary instead of a whole table's


class BipartiteAdjacency:
    """A_hat (`InteractionGraph.normalized_csr`) as its two blocks, R_hat (users x items) and
    R_hat^T, float32 CSR with int32 indices: A_hat @ X is R_hat @ X_items over
    R_hat^T @ X_users, the same sums in the same order, so the same floats. Built without
    sorting the 2 x edges entries of A_hat (a sort and copies of every entry: about 1.5 GB
    at the ml-32m shape's 16M edges)."""

    def __init__(self, graph: InteractionGraph) -> None:
        import scipy.sparse

        self.n_users, self.n_nodes = graph.n_users, graph.n_nodes
        deg = graph.degrees()
        inv_sqrt = np.divide(1.0, np.sqrt(deg), out=np.zeros_like(deg), where=deg > 0)
        values = np.empty(graph.n_edges, dtype=np.float32)
        for start in range(0, graph.n_edges, BLOCK_ROWS * 32):  # ~1M edges: float64 temporaries of 8 MB
            edges = slice(start, start + BLOCK_ROWS * 32)
            values[edges] = inv_sqrt[graph.users[edges]] * inv_sqrt[graph.n_users + graph.items[edges]]
        crow = np.zeros(graph.n_users + 1, dtype=np.int32)
        np.cumsum(np.bincount(graph.users, minlength=graph.n_users), out=crow[1:])
        shape = (graph.n_users, graph.n_items)
        self.users = scipy.sparse.csr_array((values, graph.items.astype(np.int32), crow), shape=shape)
        self.items = self.users.T.tocsr()  # each item's users in increasing order, as A_hat's rows hold them

    def propagate(self, table: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
        """sum_k weights[k] A_hat^k table (float32), as the module's `propagate` gives it, with
        each layer computed in place: a table for the sum and one for the layer (and a buffer
        the size of the smaller half), not a third for the next layer."""
        total = weights[0] * table
        layer = table.astype(np.result_type(self.users.dtype, table.dtype))  # what `adj @ table` gives
        for weight in weights[1:]:
            self._step(layer)
            _add_scaled(total, weight, layer)
        return total.astype(np.float32, copy=False)

    def _step(self, layer: np.ndarray) -> None:
        """`layer` <- A_hat @ `layer`: the smaller half's new rows wait in a buffer while the
        larger half's are written over their old rows (which the smaller half has read)."""
        halves = [
            (self.users, layer[: self.n_users], layer[self.n_users :]),  # (block, rows it gives, rows it reads)
            (self.items, layer[self.n_users :], layer[: self.n_users]),
        ]
        (small, small_out, small_in), (large, large_out, large_in) = sorted(halves, key=lambda half: len(half[1]))
        buffer = np.empty_like(small_out)
        _product(small, small_in, buffer)
        _product(large, large_in, large_out)
        small_out[...] = buffer


def _product(block: scipy.sparse.csr_array, rows: np.ndarray, into: np.ndarray) -> None:
    """`into` = `block` @ `rows`, a block of rows at a time (no whole-result temporary)."""
    for start in range(0, block.shape[0], BLOCK_ROWS):
        into[start : start + BLOCK_ROWS] = block[start : start + BLOCK_ROWS] @ rows


def _add_scaled(total: np.ndarray, weight: float, layer: np.ndarray) -> None:
    """`total` += `weight` * `layer`, a block of rows at a time (no whole-table temporary)."""
    for start in range(0, len(total), BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        total[rows] += weight * layer[rows]


def propagate(adj: scipy.sparse.csr_array, table: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    """sum_k weights[k] adj^k table (float32, the shape of `table`)."""
    total = weights[0] * table
    layer = table
    for weight in weights[1:]:
        layer = adj @ layer
        _add_scaled(total, weight, layer)
    return total.astype(np.float32, copy=False)


def caught_up(
    graph: InteractionGraph,
    edits: Mapping[tuple[int, int], bool],
    n_users: int,
    ego: np.ndarray,
    served: Mapping[int, np.ndarray],
    weights: tuple[float, ...],
) -> tuple[InteractionGraph, np.ndarray, np.ndarray]:
    """(graph, layer-0 table, propagated table), tables users then items, float32: `graph`
    with `edits` applied ((user row, item row) -> edge in or out) and `n_users` users;
    `ego` (not modified; users, then `graph`'s items) with zero rows for the users it
    lacks, and each user row u in `served` given the layer-0 row that propagates to
    `served[u]` (propagation is linear: E_u = rest_u + s_u e_u, with s_u from
    `own_share`; users who share movies also reach each other through small (A^2)_uv
    terms, which this leaves out). Two propagations of the whole graph."""
    new = graph.edited(edits, n_users)
    have = len(ego) - graph.n_items
    extra = np.zeros((n_users - have, ego.shape[1]), ego.dtype)
    ego = np.concatenate([ego[:have], extra, ego[have:]])
    adj = BipartiteAdjacency(new)
    final = adj.propagate(ego, weights)
    if not served:
        return new, ego, final
    degrees = new.degrees()
    rows = np.fromiter(served, dtype=np.int64, count=len(served))
    reached = final[rows]
    del final  # one propagated table at a time (220 MB at the ml-32m shape)
    first = np.searchsorted(new.users, rows)
    for k, user in enumerate(rows):
        liked = new.items[first[k] : first[k] + int(degrees[user])]
        share = own_share(int(degrees[user]), degrees[new.n_users + liked], weights)
        ego[user] += (served[user] - reached[k]) / share
    return new, ego, adj.propagate(ego, weights)
