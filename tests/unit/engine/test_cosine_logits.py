"""A model trained on cosine logits (`TrainConfig.logits = "cosine"`, an option) is trained,
validated, ranked, fine-tuned and updated row by row on cosine / temperature, and its
checkpoint says so; by default, on dense and sparse data alike, the recipe stays the dot
product."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from tui_recommender.engine import ranking
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn import fine_tuning
from tui_recommender.engine.lightgcn import model as lightgcn_model
from tui_recommender.engine.lightgcn.fine_tuning import fine_tune
from tui_recommender.engine.lightgcn.model import LightGCN, listwise_loss
from tui_recommender.engine.lightgcn.recommender import LightGCNRecommender
from tui_recommender.engine.lightgcn.training import train
from tui_recommender.engine.lightgcn.user_rows import FineTuneConfig, folded_in_row, shifted_row
from tui_recommender.engine.train_config import DEFAULT_REG, EPOCH_STEPS, TrainConfig

CONFIG = TrainConfig(dim=8, n_layers=2, user_batch=16, max_epochs=2, eval_every=1, device="cpu")
COSINE = replace(CONFIG, logits="cosine")


def ring_graph(n_users: int, n_items: int, per_user: int) -> InteractionGraph:
    """Each user likes `per_user` consecutive items: density per_user / n_items."""
    users = np.repeat(np.arange(n_users), per_user)
    items = (users * 3 + np.tile(np.arange(per_user), n_users)) % n_items
    return InteractionGraph.from_pairs(n_users, n_items, users, items)


SPARSE = ring_graph(40, 2000, 3)  # 0.15%: below REG_DENSITY
DENSE = ring_graph(40, 100, 5)  # 5%


def test_the_loss_over_cosine_is_the_listwise_loss_of_cosine_over_temperature():
    torch.manual_seed(0)
    model = LightGCN(5, 12, dim=4)
    final = torch.randn(17, 4)
    users, rows, items = torch.tensor([0, 3]), torch.tensor([0, 0, 1]), torch.tensor([2, 5, 7])
    unit = final / final.norm(dim=1, keepdim=True)
    expected = -torch.log_softmax(unit[users] @ unit[5:].T / 0.2, dim=1)[rows, items]
    got = model.full_softmax_loss(final, users, rows, items, 0.0, temperature=0.2)
    assert got.item() == pytest.approx(((expected[0] + expected[1]) / 2 + expected[2]).item() / 2, rel=1e-5)
    assert model.full_softmax_loss(final * 7, users, rows, items, 0.0, temperature=0.2).item() == pytest.approx(
        got.item(), rel=1e-5
    )  # the scale of the rows no longer counts
    dot = model.full_softmax_loss(final, users, rows, items, 0.0)
    assert dot.item() != pytest.approx(got.item(), rel=1e-3)


def seen_in_training(monkeypatch, graph: InteractionGraph, config: TrainConfig = CONFIG) -> tuple[set, set, object]:
    """(temperatures the loss was given, scorings validation ranked by, the result)."""
    temperatures, scorings = set(), set()
    loss, top_k = lightgcn_model.LightGCN.full_softmax_loss, ranking.top_k_unseen

    def full_softmax_loss(self, *args, temperature=None, **options):
        temperatures.add(temperature)
        return loss(self, *args, temperature=temperature, **options)

    def top_k_unseen(*args):
        scorings.add(args[5])
        return top_k(*args)

    monkeypatch.setattr(lightgcn_model.LightGCN, "full_softmax_loss", full_softmax_loss)
    monkeypatch.setattr(ranking, "top_k_unseen", top_k_unseen)
    validation = (graph.users[::7], graph.items[::7])
    return temperatures, scorings, train(graph, config, validation)


def test_cosine_logits_train_validate_and_record_cosine(monkeypatch):
    temperatures, scorings, result = seen_in_training(monkeypatch, SPARSE, COSINE)
    assert temperatures == {CONFIG.temperature} and scorings == {"cosine"}
    assert (result.config.logits, result.config.scoring, result.config.reg) == ("cosine", "cosine", DEFAULT_REG)


@pytest.mark.parametrize("graph", [DENSE, SPARSE], ids=["dense", "sparse"])
def test_the_default_trains_on_dot_products_at_any_density(monkeypatch, graph):
    temperatures, scorings, result = seen_in_training(monkeypatch, graph)
    assert temperatures == {None} and scorings == {"adaptive"}
    assert result.config == CONFIG.sized(graph.n_users, graph.n_items, graph.n_edges)
    assert (result.config.logits, result.config.epoch_steps) == ("dot", EPOCH_STEPS)


def test_the_recommender_scores_by_cosine_and_its_checkpoint_keeps_the_applied_recipe(tmp_path):
    model = LightGCNRecommender(COSINE)
    model.fit(SPARSE)
    applied = model.config
    assert (applied.logits, applied.scoring, applied.reg) == ("cosine", "cosine", DEFAULT_REG)
    users = np.array([0, 5])
    unit = model.item_emb / np.linalg.norm(model.item_emb, axis=1, keepdims=True)
    np.testing.assert_allclose(
        model.scores(users, SPARSE), model.user_emb[users] @ unit.T, rtol=1e-4, atol=1e-6
    )  # dot products over the movies' norms: a user's ranking by cosine
    loaded = LightGCNRecommender.load(model.save(tmp_path / "cosine.npz"))
    assert loaded.config.hyperparameters() == applied.hyperparameters()  # checkpoints hold no device


def test_the_fine_tune_of_a_cosine_model_is_on_cosine_over_temperature(monkeypatch):
    seen = []

    def spy(user_vecs, item_vecs, *args):
        seen.append((user_vecs.detach().norm(dim=1), item_vecs.norm(dim=1)))
        return listwise_loss(user_vecs, item_vecs, *args)

    monkeypatch.setattr(fine_tuning, "listwise_loss", spy)
    torch.manual_seed(0)
    model = LightGCN(SPARSE.n_users, SPARSE.n_items, dim=8, n_layers=2)
    config = FineTuneConfig.for_model(replace(CONFIG, reg=0.01, logits="cosine", temperature=0.25))
    assert config.cosine and config.temperature == 0.25
    fine_tune(model, SPARSE.normalized_adjacency(), SPARSE, np.array([1, 2]), config, np.random.default_rng(0))
    assert len(seen) == config.steps
    for user_norms, item_norms in seen:  # rows of length 1 / sqrt(temperature): logits cosine / 0.25
        np.testing.assert_allclose(user_norms.numpy(), 2.0, rtol=1e-5)
        np.testing.assert_allclose(item_norms.numpy(), 2.0, rtol=1e-5)
    assert not FineTuneConfig.for_model(replace(CONFIG, reg=0.01, logits="dot")).cosine


def test_a_new_users_fold_in_follows_the_gradient_of_the_cosine_loss():
    rng = np.random.default_rng(3)
    items = (rng.standard_normal((50, 6)) * rng.uniform(0.2, 3.0, (50, 1))).astype(np.float32)
    norms = np.linalg.norm(items, axis=1).astype(np.float32)
    positives = np.array([1, 7, 9])
    config = FineTuneConfig(loss="full_softmax", lr=0.05, steps=1, temperature=0.2, cosine=True, anchor=0.0)
    moved = folded_in_row(items, positives, 0.5, config, norms=norms)
    start = (items[positives] / norms[positives, None]).mean(axis=0)
    # Adam's first step is -share * lr * sign(gradient): of the loss over cosine / temperature
    v = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    unit = torch.tensor(items / norms[:, None], dtype=torch.float64)
    logits = unit @ (v / v.norm()) / 0.2
    (torch.logsumexp(logits, 0) - logits[positives].mean()).backward()
    np.testing.assert_allclose(moved - start, -0.5 * 0.05 * np.sign(v.grad.numpy()), atol=1e-6)
    # a learnt user's row moves along the change of the mean unit row
    row = start * 4
    after = np.array([1, 7, 9, 20])
    unit_rows = items / norms[:, None]
    np.testing.assert_allclose(
        shifted_row(items, row, positives, after, norms=norms), shifted_row(unit_rows, row, positives, after), rtol=1e-5
    )
