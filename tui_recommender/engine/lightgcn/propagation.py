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


def propagate(adj: scipy.sparse.csr_array, table: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    """sum_k weights[k] adj^k table (float32, the shape of `table`)."""
    total = weights[0] * table
    layer = table
    for weight in weights[1:]:
        layer = adj @ layer
        total += weight * layer
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
    keys = np.array(list(edits), dtype=np.int64).reshape(-1, 2)
    linked = np.fromiter(edits.values(), dtype=bool, count=len(edits))
    new = graph.without_edges(keys[~linked, 0], keys[~linked, 1])
    new = new.with_edges(keys[linked, 0], keys[linked, 1], n_users=n_users)
    have = len(ego) - graph.n_items
    extra = np.zeros((n_users - have, ego.shape[1]), ego.dtype)
    ego = np.concatenate([ego[:have], extra, ego[have:]])
    adj = new.normalized_csr()
    final = propagate(adj, ego, weights)
    if not served:
        return new, ego, final
    degrees = new.degrees()
    rows = np.fromiter(served, dtype=np.int64, count=len(served))
    first = np.searchsorted(new.users, rows)
    for k, user in enumerate(rows):
        liked = new.items[first[k] : first[k] + int(degrees[user])]
        share = own_share(int(degrees[user]), degrees[new.n_users + liked], weights)
        ego[user] += (served[user] - final[user]) / share
    return new, ego, propagate(adj, ego, weights)
