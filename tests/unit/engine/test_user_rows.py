"""The live model's numpy update (`lightgcn.user_rows`, `lightgcn.propagation`): the
propagation and the own share agree with the torch model's, a catch-up serves each user
the row they were given, and a rating moves a seasoned user's row a little and a new
user's a lot, never shifting every untouched score together."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn import propagation, user_rows
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.lightgcn.propagation import BipartiteAdjacency, caught_up, propagate
from tui_recommender.engine.lightgcn.user_rows import FineTuneConfig, folded_in_row, own_share, shifted_row

WEIGHTS = (0.25, 0.25, 0.25, 0.25)


def graph_and_model(seed: int = 0, n_users: int = 30, n_items: int = 40, n_edges: int = 300):
    rng = np.random.default_rng(seed)
    graph = InteractionGraph.from_pairs(
        n_users, n_items, rng.integers(0, n_users, n_edges), rng.integers(0, n_items, n_edges)
    )
    torch.manual_seed(seed)
    return graph, LightGCN(n_users, n_items, 8, 3, init_std=0.5)


def test_the_numpy_propagation_and_own_share_are_the_torch_models():
    graph, model = graph_and_model()
    ego = model.embedding.weight.detach().numpy()
    with torch.no_grad():
        expected = model.propagate(graph.normalized_adjacency()).numpy()
    np.testing.assert_allclose(propagate(graph.normalized_csr(), ego, WEIGHTS), expected, rtol=1e-5, atol=1e-6)
    users = np.array([0, 3, 7])
    shares = model.own_share(graph.normalized_adjacency(), torch.as_tensor(users)).numpy()
    degrees = graph.degrees()
    for user, share in zip(users, shares):
        liked = graph.items[graph.users == user]
        assert own_share(int(degrees[user]), degrees[graph.n_users + liked], WEIGHTS) == pytest.approx(share, rel=1e-5)


def test_a_catch_up_applies_the_edits_and_serves_each_user_their_row():
    graph, model = graph_and_model()
    ego = model.embedding.weight.detach().numpy()
    liked = int(graph.items[graph.users == 2][0])
    unseen = int(np.setdiff1d(np.arange(graph.n_items), graph.items[graph.users == 2])[0])
    edits = {(2, liked): False, (2, unseen): True, (30, unseen): True}  # user 30 is new
    served = {2: np.full(8, 0.3, np.float32), 30: np.full(8, -0.2, np.float32)}
    new, new_ego, final = caught_up(graph, edits, 31, ego, served, WEIGHTS)
    assert new.n_users == 31 and {(2, unseen), (30, unseen)} <= set(zip(new.users.tolist(), new.items.tolist()))
    assert (2, liked) not in set(zip(new.users.tolist(), new.items.tolist()))
    np.testing.assert_array_equal(final, propagate(new.normalized_csr(), new_ego, WEIGHTS))
    for user, row in served.items():  # they share a movie: their (A^2)_uv term is left out
        np.testing.assert_allclose(final[user], row, atol=0.02)
    assert np.array_equal(ego, model.embedding.weight.detach().numpy())  # not modified


def test_the_catch_up_propagates_over_a_hats_two_blocks_to_the_same_floats(monkeypatch):
    """`BipartiteAdjacency` (R_hat and R_hat^T, each layer computed in place a block of rows
    at a time) gives the very floats of A_hat's CSR, in a fraction of the memory (issue 17:
    at the ml-32m shape the sorted CSR of 32M entries took 1.4 GB to build, the two blocks
    0.27 GB; a propagation held three tables at once, now two and the smaller half)."""
    import tracemalloc

    monkeypatch.setattr(propagation, "BLOCK_ROWS", 7)  # many blocks, the last one short
    for n_users, n_items in ((60, 50), (40, 70)):  # either half the smaller
        graph, model = graph_and_model(n_users=n_users, n_items=n_items, n_edges=900)
        ego = model.embedding.weight.detach().numpy()
        expected = propagate(graph.normalized_csr(), ego, WEIGHTS)
        np.testing.assert_array_equal(BipartiteAdjacency(graph).propagate(ego, WEIGHTS), expected)
    monkeypatch.setattr(propagation, "BLOCK_ROWS", 1 << 8)  # blocks as small beside this graph as at ml-32m
    rng = np.random.default_rng(0)
    big = InteractionGraph.from_pairs(5000, 2000, rng.integers(0, 5000, 200_000), rng.integers(0, 2000, 200_000))
    table = rng.standard_normal((big.n_nodes, 64)).astype(np.float32)
    adj, csr = BipartiteAdjacency(big), big.normalized_csr()
    jobs = (
        lambda: BipartiteAdjacency(big),
        big.normalized_csr,
        lambda: adj.propagate(table, WEIGHTS),
        lambda: propagate(csr, table, WEIGHTS),
    )
    peaks = []  # scipy is imported by now: its import's allocations are not counted
    for job in jobs:
        tracemalloc.start()
        job()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[0] < 0.4 * peaks[1]
    assert peaks[2] < 2.7 * table.nbytes < 3 * table.nbytes <= peaks[3]


def taste_items(seed: int = 0, n_items: int = 1000, dim: int = 16) -> np.ndarray:
    """Item rows in four taste clusters, with norms that vary like popularity does."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((4, dim))
    rows = centres[np.arange(n_items) % 4] + 0.6 * rng.standard_normal((n_items, dim))
    return (rows * rng.uniform(0.5, 1.5, (n_items, 1))).astype(np.float32)


def top(items: np.ndarray, row: np.ndarray, seen: np.ndarray, k: int = 10) -> set[int]:
    scores = items @ row
    scores[seen] = -np.inf
    return set(np.argsort(-scores)[:k].tolist())


def one_more(n_positives: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(items, positives after, row before, row after) of a user of one taste with
    `n_positives` who rates one movie of another taste, and that movie."""
    items = taste_items()
    rng = np.random.default_rng(1)
    before = np.sort(rng.choice(np.flatnonzero(np.arange(len(items)) % 4 == 0), n_positives, replace=False))
    row = items[before].mean(0) * 3
    other = int(np.flatnonzero(np.arange(len(items)) % 4 == 1)[0])
    after = np.union1d(before, [other])
    return items, after, row, shifted_row(items, row, before, after), other


def test_one_rating_moves_a_seasoned_list_a_little_and_a_short_one_much_more():
    items, after, row, new_row, other = one_more(120)
    assert len(top(items, row, after) & top(items, new_row, after)) >= 7
    assert items[other] @ new_row > items[other] @ row  # towards the movie rated
    untouched = np.setdiff1d(np.arange(len(items)), after)
    change = items[untouched] @ new_row - items[untouched] @ row
    assert abs(change.mean()) < 0.5 * change.std()  # no shift of every score together
    _, _, short_row, short_new, _ = one_more(3)
    assert np.linalg.norm(short_new - short_row) > 10 * np.linalg.norm(new_row - row)


def test_a_rating_that_changes_no_positive_changes_no_row():
    items, after, row, _, _ = one_more(20)
    np.testing.assert_array_equal(shifted_row(items, row, after, after), row)


def test_a_new_users_pooled_fold_in_is_close_to_the_exact_one(monkeypatch):
    items = taste_items(n_items=3000)
    positives = np.array([0, 4, 8, 12, 16])
    config = FineTuneConfig(loss="full_softmax", lr=0.05)
    exact = folded_in_row(items, positives, 0.3, config, disliked=np.array([1, 2]))
    monkeypatch.setattr(user_rows, "POOL", 200)
    pooled = folded_in_row(items, positives, 0.3, config, disliked=np.array([1, 2]))
    cosine = exact @ pooled / np.linalg.norm(exact) / np.linalg.norm(pooled)
    assert cosine > 0.999 and not np.array_equal(exact, pooled)
    start = items[positives].mean(0)
    assert np.linalg.norm(exact - start) > 0.01  # the steps moved it
