"""The contract every `Recommender` must keep (LightGCN, most-popular, EASE): each check is
a function run on every model, and `test_the_contract_catches_a_broken_model` proves each
check fails on a model that breaks the rule it names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.synthetic import tiny_graph
from tui_recommender.engine.baselines.ease import EASE
from tui_recommender.engine.baselines.popular import MostPopular
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.recommender import LightGCNRecommender
from tui_recommender.engine.recommender import Recommender
from tui_recommender.engine.train_config import TrainConfig


def lightgcn() -> LightGCNRecommender:
    # "dot" scoring: a user's scores then move only when the model learns (not with their count)
    config = TrainConfig(dim=16, max_epochs=4, eval_every=2, patience=1, scoring="dot", seed=0)
    return LightGCNRecommender(config)


MODELS: dict[str, Callable[[], Recommender]] = {
    "LightGCN": lightgcn,
    "most-popular": MostPopular,
    "EASE": lambda: EASE(lambdas=(1.0, 10.0)),
}


def fitted(make: Callable[[], Recommender], graph: InteractionGraph) -> Recommender:
    model = make()
    model.fit(graph)
    return model


def new_ratings(graph: InteractionGraph, user: int) -> InteractionGraph:
    """`graph` with three items `user` had not rated added to their positives, and a new
    user (the last row) with three positives."""
    unseen = np.setdiff1d(np.arange(graph.n_items), graph.items[graph.users == user])[:3]
    users = np.array([user] * len(unseen) + [graph.n_users] * 3)
    return graph.with_edges(users, np.concatenate([unseen, [0, 1, 2]]), n_users=graph.n_users + 1)


# ---- the checks ---------------------------------------------------------------------------


def check_scores(make: Callable[[], Recommender], graph: InteractionGraph, tmp_path: Path) -> None:
    model = fitted(make, graph)
    users = np.array([0, 5, 7])
    scores = model.scores(users, graph)
    assert model.n_items == graph.n_items
    assert scores.shape == (len(users), graph.n_items)
    assert scores.dtype.kind == "f" and np.isfinite(scores).all()


def check_never_recommends_seen(make: Callable[[], Recommender], graph: InteractionGraph, tmp_path: Path) -> None:
    model = fitted(make, graph)
    users = np.arange(graph.n_users)
    top = model.recommend(users, graph, k=10)
    assert top.shape == (graph.n_users, 10)
    seen = set(zip(graph.users.tolist(), graph.items.tolist(), strict=True))
    assert not [(int(u), int(i)) for u in users for i in top[u] if (int(u), int(i)) in seen]
    assert all(len(set(row.tolist())) == 10 for row in top)


def check_save_load(make: Callable[[], Recommender], graph: InteractionGraph, tmp_path: Path) -> None:
    model = fitted(make, graph)
    users = np.arange(graph.n_users)
    loaded = type(model).load(model.save(tmp_path / "model.npz"))
    np.testing.assert_array_equal(loaded.scores(users, graph), model.scores(users, graph))


def check_update(make: Callable[[], Recommender], graph: InteractionGraph, tmp_path: Path) -> None:
    model = fitted(make, graph)
    before = model.scores(np.array([4]), graph)
    changed = new_ratings(graph, 4)
    model.partial_fit_users(np.array([4, graph.n_users]), changed)
    after = model.scores(np.array([4, graph.n_users]), changed)
    assert not np.allclose(after[0], before[0]), "the user's new ratings did not change their scores"
    assert np.isfinite(after[1]).all() and np.ptp(after[1]) > 0, "the new user got no scores of their own"
    assert model.recommend(np.array([4]), changed, k=5).shape == (1, 5)


def check_deterministic(make: Callable[[], Recommender], graph: InteractionGraph, tmp_path: Path) -> None:
    users = np.arange(graph.n_users)
    np.testing.assert_array_equal(fitted(make, graph).scores(users, graph), fitted(make, graph).scores(users, graph))


CHECKS = [check_scores, check_never_recommends_seen, check_save_load, check_deterministic]


# ---- every model keeps the contract --------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", MODELS)
def test_contract(name, check, tmp_path):
    check(MODELS[name], tiny_graph(), tmp_path)


@pytest.mark.parametrize("name", MODELS)
def test_update_after_new_ratings(name, tmp_path):
    if not MODELS[name]().updates_users:
        pytest.skip(f"{name} does not learn from new ratings (updates_users is False): see the next test")
    check_update(MODELS[name], tiny_graph(), tmp_path)


@pytest.mark.parametrize("name", MODELS)
def test_a_model_without_updates_says_so(name):
    model = fitted(MODELS[name], tiny_graph())
    if model.updates_users:
        pytest.skip(f"{name} learns from new ratings")
    with pytest.raises(NotImplementedError, match=name):
        model.partial_fit_users(np.array([4]), new_ratings(tiny_graph(), 4))


# ---- and the contract catches a model that breaks it ---------------------------------------


class _Broken(EASE):
    """EASE with one rule broken, named by `flaw`."""

    flaw = ""

    def scores(self, users, interactions):
        out = super().scores(users, interactions)
        if self.flaw == "shape":
            return out[:, :-1]
        if self.flaw == "seen first":  # what `recommend` would do if it forgot to mask
            rows, items = interactions.edges_of(users)
            out[rows, items] = np.inf
        if self.flaw == "ignores new ratings":
            out = super().scores(users, tiny_graph())
        if self.flaw == "random":
            out = out + np.random.default_rng().random(out.shape)
        return out

    def recommend(self, users, interactions, k):
        if self.flaw != "seen first":
            return super().recommend(users, interactions, k)
        return np.argsort(-self.scores(users, interactions), axis=1, kind="stable")[:, :k]

    def save(self, path):
        if self.flaw != "forgets":
            return super().save(path)
        weights, self.weights = self.weights, self.weights * 0.5  # the file gets other weights
        try:
            return super().save(path)
        finally:
            self.weights = weights


@pytest.mark.parametrize(
    ("check", "flaw"),
    [
        (check_scores, "shape"),
        (check_never_recommends_seen, "seen first"),
        (check_save_load, "forgets"),
        (check_update, "ignores new ratings"),
        (check_deterministic, "random"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_the_contract_catches_a_broken_model(check, flaw, tmp_path):
    broken = type("Broken", (_Broken,), {"flaw": flaw})
    with pytest.raises(AssertionError):
        check(lambda: broken(lam=10.0), tiny_graph(), tmp_path)
    check(lambda: EASE(lam=10.0), tiny_graph(), tmp_path)  # the same check passes unbroken
