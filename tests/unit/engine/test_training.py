"""Training on tiny generated graphs, BPR and the listwise loss: negative sampling, loss
going down, early stopping keeping the best weights, determinism, cancelling, fine-tuning."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.epochs import full_softmax_epoch
from tui_recommender.engine.lightgcn.fine_tuning import FineTuneConfig, fine_tune
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.lightgcn.sampling import NegativeSampler, sample_positives
from tui_recommender.engine.lightgcn.training import train
from tui_recommender.engine.train_config import TrainConfig

# Every hyperparameter the tests depend on is pinned, so tuning the defaults cannot break them.
FAST = TrainConfig(
    dim=16,
    n_layers=2,
    lr=0.05,
    reg=1e-4,
    batch_size=128,
    max_epochs=15,
    seed=0,
    negatives=1,
    sampling="user",
    loss="bpr",
)
# The default, listwise loss (every user against every item), as small.
LISTWISE = TrainConfig(dim=16, n_layers=2, lr=0.05, reg=1e-3, user_batch=8, max_epochs=15, seed=0, loss="full_softmax")


def halves(model: LightGCN, final: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(user rows, item rows) of a propagated table."""
    return final[: model.n_users], final[model.n_users :]


def clustered_graph(
    n_users: int = 30, n_items: int = 40, clusters: int = 3, p: float = 0.5, seed: int = 0
) -> InteractionGraph:
    """Users of cluster c like (with probability `p`) items of cluster c, so there is
    structure to learn."""
    rng = np.random.default_rng(seed)
    users, items = np.meshgrid(np.arange(n_users), np.arange(n_items), indexing="ij")
    keep = (users % clusters == items % clusters) & (rng.random(users.shape) < p)
    return InteractionGraph.from_pairs(n_users, n_items, users[keep], items[keep])


def held_out(graph: InteractionGraph, fraction: float = 0.2, seed: int = 1):
    """(train graph, (val users, val items)): a random `fraction` of the edges held out."""
    rng = np.random.default_rng(seed)
    val = rng.random(graph.n_edges) < fraction
    fit = InteractionGraph(graph.n_users, graph.n_items, graph.users[~val], graph.items[~val])
    return fit, (graph.users[val], graph.items[val])


# ---- negative sampling -----------------------------------------------------------------


def test_negative_sampler_never_returns_a_positive():
    graph = clustered_graph(p=0.8)
    positives = set(zip(graph.users.tolist(), graph.items.tolist()))
    sampler = NegativeSampler(graph)
    users = np.repeat(np.arange(graph.n_users), 400)
    neg = sampler.sample(users, np.random.default_rng(0), per_user=3)
    assert neg.shape == (len(users), 3)
    assert ((neg >= 0) & (neg < graph.n_items)).all()
    clashes = [(u, j) for u, row in zip(users.tolist(), neg.tolist()) for j in row if (u, j) in positives]
    assert clashes == []
    # Every non-positive item can come up: the draw is uniform over the negatives.
    for user in range(3):
        drawn = set(neg[users == user].ravel().tolist())
        assert drawn == set(range(graph.n_items)) - {i for u, i in positives if u == user}


def test_negative_sampler_for_a_user_who_liked_all_but_one_item():
    n_items = 50
    users = np.concatenate([np.zeros(n_items - 1, dtype=np.int64), [1, 1]])
    items = np.concatenate([np.delete(np.arange(n_items), 17), [0, 1]])
    sampler = NegativeSampler(InteractionGraph.from_pairs(2, n_items, users, items))
    neg = sampler.sample(np.zeros(2000, dtype=np.int64), np.random.default_rng(0), per_user=2)
    assert set(neg.ravel().tolist()) == {17}


def test_is_positive_matches_the_edge_set():
    graph = clustered_graph()
    positives = set(zip(graph.users.tolist(), graph.items.tolist()))
    sampler = NegativeSampler(graph)
    users, items = np.meshgrid(np.arange(graph.n_users), np.arange(graph.n_items), indexing="ij")
    got = sampler.is_positive(users.ravel(), items.ravel())
    expected = [(u, i) in positives for u, i in zip(users.ravel().tolist(), items.ravel().tolist())]
    assert got.tolist() == expected


@pytest.mark.parametrize("mode", ["user", "edge"])
def test_sample_positives_draws_real_edges(mode):
    graph = clustered_graph()
    positives = set(zip(graph.users.tolist(), graph.items.tolist()))
    users, items = sample_positives(graph, 3000, mode, np.random.default_rng(0))
    assert set(zip(users.tolist(), items.tolist())) <= positives
    if mode == "edge":
        assert len(set(zip(users.tolist(), items.tolist()))) == min(3000, graph.n_edges)


# ---- training --------------------------------------------------------------------------


def test_bpr_loss_decreases_over_epochs():
    result = train(clustered_graph(), FAST)
    losses = [h.loss for h in result.history]
    assert len(losses) == FAST.max_epochs
    assert losses[0] == pytest.approx(math.log(2), abs=0.05)  # untrained: sigma(0) everywhere
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])


def test_training_learns_the_cluster_structure():
    graph, (val_users, val_items) = held_out(clustered_graph())
    result = train(graph, FAST)
    with torch.no_grad():
        users, items = halves(result.model, result.model.propagate(graph.normalized_adjacency()))
    scores = (users @ items.T).numpy()
    same = np.arange(graph.n_users)[:, None] % 3 == np.arange(graph.n_items)[None, :] % 3
    assert scores[same].mean() > scores[~same].mean() + 1.0
    # Held-out positives rank above the user's other unseen items most of the time.
    assert scores[val_users, val_items].mean() > scores[~same].mean()


def test_train_with_validation_keeps_the_best_epochs_weights():
    # 120 items, so validation Recall@20 is not saturated and moves from epoch to epoch.
    graph, validation = held_out(clustered_graph(n_users=40, n_items=120, p=0.3, seed=3))
    config = replace(FAST, lr=0.02, batch_size=64, max_epochs=30, eval_every=1, patience=3)
    seen = []
    result = train(graph, config, validation=validation, on_epoch=seen.append)
    recalls = [h.val_recall20 for h in result.history]
    assert all(r is not None for r in recalls)
    assert seen == result.history
    assert 1 < result.best_epoch < result.epochs, (
        "the config must improve, then run past its best epoch, for this test to mean anything"
    )
    assert len(set(recalls)) > 2
    assert result.epochs - result.best_epoch == config.patience  # stopped after `patience` checks without gain
    best = max(recalls)
    assert recalls[result.best_epoch - 1] == best and recalls.index(best) == result.best_epoch - 1
    assert result.val_metrics["recall@20"] == pytest.approx(best, abs=1e-6)
    # The kept weights are exactly those after the best epoch: a run stopped there matches.
    replay = train(graph, replace(config, max_epochs=result.best_epoch))
    torch.testing.assert_close(result.model.embedding.weight, replay.model.embedding.weight, rtol=0, atol=0)


def test_train_is_deterministic_for_a_seed():
    graph = clustered_graph()
    config = replace(FAST, max_epochs=4)
    a, b = train(graph, config), train(graph, config)
    torch.testing.assert_close(a.model.embedding.weight, b.model.embedding.weight, rtol=0, atol=0)
    assert [h.loss for h in a.history] == [h.loss for h in b.history]
    c = train(graph, replace(config, seed=1))
    assert not torch.allclose(a.model.embedding.weight, c.model.embedding.weight)


def test_should_stop_ends_training_within_the_epoch():
    graph = clustered_graph()
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 2  # allow two mini-batches, then stop

    config = replace(FAST, batch_size=16, max_epochs=50)
    result = train(graph, config, should_stop=should_stop)
    assert result.stopped
    assert result.epochs == 1
    assert math.isfinite(result.history[0].loss)


def test_should_stop_between_epochs_records_only_epochs_that_ran():
    """A stop requested after epoch 2 must leave the weights of epoch 2 and report 2
    epochs, not a third epoch in which no step ran (loss NaN)."""
    graph = clustered_graph()
    stop = []
    config = replace(FAST, max_epochs=10)
    result = train(
        graph,
        config,
        on_epoch=lambda stats: stop.append(stats.epoch == 2) if stats.epoch == 2 else None,
        should_stop=lambda: bool(stop),
    )
    assert result.stopped
    replay = train(graph, replace(config, max_epochs=2))
    torch.testing.assert_close(result.model.embedding.weight, replay.model.embedding.weight, rtol=0, atol=0)
    assert all(math.isfinite(h.loss) for h in result.history), [h.loss for h in result.history]
    assert result.epochs == 2


# 2 steps of 15 users, 15 of the 40 movies drawn per step: the plan of a large dataset, small
SAMPLED = replace(LISTWISE, epoch_steps=2, epoch_scores=30 * 15)


@pytest.mark.parametrize("config", [FAST, LISTWISE, SAMPLED], ids=["bpr", "full_softmax", "sampled_listwise"])
def test_both_losses_learn_the_clusters_and_rank_held_out_positives_first(config):
    graph, (val_users, val_items) = held_out(clustered_graph())
    result = train(graph, config)
    losses = [h.loss for h in result.history]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3])
    with torch.no_grad():
        users, items = halves(result.model, result.model.propagate(graph.normalized_adjacency()))
    scores = (users @ items.T).numpy()
    scores[graph.users, graph.items] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :5]
    assert (top % 3 == (np.arange(graph.n_users) % 3)[:, None]).mean() > 0.9  # own cluster first
    assert np.mean([v in top[u] for u, v in zip(val_users, val_items)]) > 0.4


def test_full_softmax_epoch_starts_at_log_n_items_and_uses_every_user_once():
    graph = clustered_graph()
    result = train(graph, replace(LISTWISE, init_std=1e-4, max_epochs=1, reg=0.0))
    assert result.history[0].loss == pytest.approx(math.log(graph.n_items), rel=0.1)
    steps = []
    model = LightGCN(graph.n_users, graph.n_items, 4, 1)
    optimizer = torch.optim.Adam(model.parameters())
    original = model.full_softmax_loss

    def spy(final, users, rows, items, reg, **options):
        steps.append((users.numpy().copy(), rows.numpy().copy(), items.numpy().copy()))
        return original(final, users, rows, items, reg, **options)

    model.full_softmax_loss = spy
    full_softmax_epoch(model, graph.normalized_adjacency(), optimizer, graph, np.random.default_rng(0), 7, 0.0)
    seen = np.concatenate([u for u, _, _ in steps])
    assert sorted(seen.tolist()) == sorted(np.unique(graph.users).tolist())  # each user once
    pairs = {(int(u[r]), int(i)) for u, rows, items in steps for r, i in zip(rows, items)}
    assert pairs == set(zip(graph.users.tolist(), graph.items.tolist()))  # every positive once


# ---- fine-tuning -----------------------------------------------------------------------


def trained_model(graph: InteractionGraph) -> LightGCN:
    return train(graph, replace(FAST, max_epochs=5)).model


def test_fine_tune_moves_the_focus_user_towards_their_new_edges():
    graph = clustered_graph()
    model = trained_model(graph)
    user = 0  # cluster 0; give them items of cluster 1 they did not have
    new_items = np.array([i for i in range(graph.n_items) if i % 3 == 1][:4])
    updated = graph.with_edges(np.full(len(new_items), user), new_items)
    adj = updated.normalized_adjacency()

    def new_item_margin() -> float:
        with torch.no_grad():
            users, items = halves(model, model.propagate(adj))
        scores = items @ users[user]
        others = np.setdiff1d(np.arange(graph.n_items), np.concatenate([new_items, graph.items[graph.users == user]]))
        return float(scores[new_items].mean() - scores[others].mean())

    before_margin, before = new_item_margin(), model.embedding.weight.detach().clone()
    config = FineTuneConfig(steps=15, lr=0.02)
    progress = []
    steps = fine_tune(
        model, adj, updated, np.array([user]), config, np.random.default_rng(0), on_progress=progress.append
    )
    assert steps == config.steps
    assert progress == pytest.approx([(k + 1) / config.steps for k in range(config.steps)])
    assert not torch.equal(before, model.embedding.weight)
    assert new_item_margin() > before_margin + 1.0


def test_listwise_fine_tune_moves_only_the_user_and_pushes_down_what_they_said_no_to():
    graph = clustered_graph()
    trained = train(graph, replace(LISTWISE, max_epochs=5)).model
    user = 0
    new_items = np.array([i for i in range(graph.n_items) if i % 3 == 1][:4])
    no_thanks = np.array([i for i in range(graph.n_items) if i % 3 == 1][4:6])
    updated = graph.with_edges(np.full(len(new_items), user), new_items)
    adj = updated.normalized_adjacency()
    others = np.setdiff1d(np.arange(graph.n_items), np.concatenate([new_items, no_thanks]))
    config = FineTuneConfig(loss="full_softmax", steps=15, lr=0.05)

    def tuned(disliked):
        model = LightGCN(graph.n_users, graph.n_items, 16, 2)
        model.load_state_dict(trained.state_dict())
        assert (
            fine_tune(model, adj, updated, np.array([user]), config, np.random.default_rng(0), disliked=disliked) == 15
        )
        with torch.no_grad():
            users, items = halves(model, model.propagate(adj))
        changed = (model.embedding.weight != trained.embedding.weight).any(dim=1)
        return (items @ users[user]).numpy(), np.flatnonzero(changed.numpy())

    with torch.no_grad():
        users, items = halves(trained, trained.propagate(adj))
    before = (items @ users[user]).numpy()
    plain, changed = tuned(None)
    assert changed.tolist() == [user]  # only the user's own row moves
    gain = (plain[new_items].mean() - plain[others].mean()) - (before[new_items].mean() - before[others].mean())
    assert gain > 0.5
    said_no, _ = tuned((np.full(len(no_thanks), user), no_thanks))
    # The items said no to drop against the same update without them, the positives stay up.
    assert (said_no[no_thanks] - said_no[new_items].mean()).mean() < (
        plain[no_thanks] - plain[new_items].mean()
    ).mean() - 0.02
    assert said_no[new_items].mean() - said_no[others].mean() > before[new_items].mean() - before[others].mean() + 0.5


def test_fine_tune_config_follows_the_checkpoints_loss():
    listwise = FineTuneConfig.for_model(TrainConfig(loss="full_softmax", reg=0.004))
    assert (listwise.loss, listwise.reg) == ("full_softmax", 0.004)
    softmax = FineTuneConfig.for_model(TrainConfig(loss="softmax", temperature=0.2, reg=0.001))
    assert (softmax.loss, softmax.temperature, softmax.reg) == ("softmax", 0.2, 0.001)
    assert FineTuneConfig.for_model(TrainConfig(loss="bpr")) == FineTuneConfig()
    # checkpoints from before the losses name none: they were trained with BPR
    assert FineTuneConfig.for_model(TrainConfig.from_hyperparameters({})).loss == "bpr"


def test_fine_tune_respects_should_stop():
    graph = clustered_graph()
    model = trained_model(graph)
    adj = graph.normalized_adjacency()
    before = model.embedding.weight.detach().clone()
    rng = np.random.default_rng(0)
    assert fine_tune(model, adj, graph, np.array([0]), FineTuneConfig(steps=10), rng, should_stop=lambda: True) == 0
    assert torch.equal(before, model.embedding.weight)

    calls = []

    def stop_after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    assert fine_tune(model, adj, graph, np.array([0]), FineTuneConfig(steps=10), rng, should_stop=stop_after_three) == 3
    assert not torch.equal(before, model.embedding.weight)


@pytest.mark.parametrize("config", [FAST, SAMPLED], ids=["bpr", "sampled_listwise"])
def test_a_progress_callback_with_on_step_hears_every_step_of_every_epoch(config):
    graph = clustered_graph()
    heard = []

    class Progress:
        def __call__(self, stats):
            heard.append(("epoch", stats.epoch))

        def on_step(self, epoch, done, total):
            heard.append((epoch, done, total))

    train(graph, replace(config, max_epochs=2), on_epoch=Progress())
    total = 2 if config is SAMPLED else -(-graph.n_edges // config.batch_size)
    one = [(1, step, total) for step in range(total + 1)] + [("epoch", 1)]
    assert heard == one + [(2, step, total) for step in range(total + 1)] + [("epoch", 2)]
