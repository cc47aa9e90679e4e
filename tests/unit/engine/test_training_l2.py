"""The listwise training's L2 weight follows the data's density (`TrainConfig.sized_reg`):
as given on data as dense as MovieLens, larger on sparser data; the pairwise losses keep it."""

from __future__ import annotations

import numpy as np
import pytest

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn import model as lightgcn_model
from tui_recommender.engine.lightgcn.training import train
from tui_recommender.engine.train_config import REG_DENSITY, TrainConfig

CONFIG = TrainConfig(dim=4, n_layers=1, reg=1e-3, user_batch=16, max_epochs=1, loss="full_softmax", device="cpu")


def ring_graph(n_users: int, n_items: int, per_user: int) -> InteractionGraph:
    """Each user likes `per_user` consecutive items: density per_user / n_items."""
    users = np.repeat(np.arange(n_users), per_user)
    items = (users + np.tile(np.arange(per_user), n_users)) % n_items
    return InteractionGraph.from_pairs(n_users, n_items, users, items)


def regs_seen(monkeypatch, graph: InteractionGraph, config: TrainConfig) -> set[float]:
    seen: set[float] = set()
    listwise, pairwise = lightgcn_model.LightGCN.full_softmax_loss, lightgcn_model.LightGCN.bpr_loss

    def full_softmax_loss(self, final, users, edge_rows, edge_items, reg, *rest, **options):
        seen.add(reg)
        return listwise(self, final, users, edge_rows, edge_items, reg, *rest, **options)

    def bpr_loss(self, final, users, pos, neg, reg):
        seen.add(reg)
        return pairwise(self, final, users, pos, neg, reg)

    monkeypatch.setattr(lightgcn_model.LightGCN, "full_softmax_loss", full_softmax_loss)
    monkeypatch.setattr(lightgcn_model.LightGCN, "bpr_loss", bpr_loss)
    train(graph, config)
    return seen


def test_dense_data_trains_with_the_l2_as_given(monkeypatch):
    graph = ring_graph(40, 100, 5)  # density 5%
    assert regs_seen(monkeypatch, graph, CONFIG) == {1e-3}


def test_sparse_data_trains_with_a_larger_l2(monkeypatch):
    graph = ring_graph(40, 2000, 2)  # density 0.1%, a quarter of REG_DENSITY
    density = graph.n_edges / (graph.n_users * graph.n_items)
    assert density < REG_DENSITY
    expected = CONFIG.sized_reg(graph.n_users, graph.n_items, graph.n_edges)
    assert expected == pytest.approx(1e-3 * REG_DENSITY / density)
    assert regs_seen(monkeypatch, graph, CONFIG) == {expected}
    bpr = TrainConfig(dim=4, n_layers=1, reg=1e-3, batch_size=64, max_epochs=1, loss="bpr", device="cpu")
    assert regs_seen(monkeypatch, graph, bpr) == {1e-3}  # per pair: not the listwise table's L2
