"""The listwise training's default L2 weight follows the data's density (`TrainConfig.sized_reg`):
as on data as dense as MovieLens, larger over dot products on sparser data; the pairwise losses
and a value given keep it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn import model as lightgcn_model
from tui_recommender.engine.lightgcn.training import train
from tui_recommender.engine.train_config import DEFAULT_REG, REG_DENSITY, REG_DENSITY_POWER, TrainConfig

# reg and logits: the sized defaults
CONFIG = TrainConfig(dim=4, n_layers=1, user_batch=16, max_epochs=1, loss="full_softmax", device="cpu")


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
    assert regs_seen(monkeypatch, graph, CONFIG) == {DEFAULT_REG}


def test_sparse_data_trains_with_a_larger_l2(monkeypatch):
    graph = ring_graph(40, 2000, 2)  # density 0.1%, a quarter of REG_DENSITY
    density = graph.n_edges / (graph.n_users * graph.n_items)
    assert density < REG_DENSITY
    expected = CONFIG.sized_reg(graph.n_users, graph.n_items, graph.n_edges)
    assert expected == pytest.approx(DEFAULT_REG * (REG_DENSITY / density) ** REG_DENSITY_POWER)
    assert regs_seen(monkeypatch, graph, CONFIG) == {expected}
    cosine = replace(CONFIG, logits="cosine")  # over cosine logits the L2 stays as it is
    assert regs_seen(monkeypatch, graph, cosine) == {DEFAULT_REG}
    bpr = TrainConfig(dim=4, n_layers=1, batch_size=64, max_epochs=1, loss="bpr", device="cpu")
    assert regs_seen(monkeypatch, graph, bpr) == {DEFAULT_REG}  # per pair: not the listwise table's L2


def test_a_given_l2_trains_as_given_and_the_result_records_what_applied(monkeypatch):
    graph = ring_graph(40, 2000, 2)  # sparse: the default would grow
    given = replace(CONFIG, reg=1e-3)
    assert regs_seen(monkeypatch, graph, given) == {1e-3}
    assert train(graph, given).config.reg == 1e-3
    dot = replace(CONFIG, logits="dot")
    assert train(graph, dot).config.reg == dot.sized_reg(graph.n_users, graph.n_items, graph.n_edges) > DEFAULT_REG


def test_a_checkpoint_records_the_l2_and_logits_applied(tmp_path):
    from tests.synthetic import write_movielens
    from tui_recommender.data.movielens import load_dataset
    from tui_recommender.engine.lightgcn.training import train_checkpoint

    data = load_dataset(write_movielens(tmp_path / "ml-test"))
    config = replace(CONFIG, max_epochs=2)  # reg and logits: the sized defaults
    checkpoint, result = train_checkpoint(data, data.ratings, config)
    assert checkpoint.config == result.config
    assert (checkpoint.config.reg, checkpoint.config.logits) == (DEFAULT_REG, "dot")  # dense: as before
    given, _ = train_checkpoint(data, data.ratings, replace(config, reg=0.5, logits="cosine"))
    assert (given.config.reg, given.config.logits, given.config.scoring) == (0.5, "cosine", "cosine")
