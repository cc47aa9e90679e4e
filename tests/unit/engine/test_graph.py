"""The interaction graph: the normalised adjacency against a dense numpy
reference D^-1/2 A D^-1/2 built by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tui_recommender.engine.graph import InteractionGraph, sorted_distinct


def dense_reference(n_users: int, n_items: int, pairs: list[tuple[int, int]]) -> np.ndarray:
    """A_hat = D^-1/2 A D^-1/2 with A = [[0, R], [R^T, 0]], built entry by entry."""
    r = np.zeros((n_users, n_items))
    for u, i in pairs:
        r[u, i] = 1.0
    a = np.zeros((n_users + n_items, n_users + n_items))
    a[:n_users, n_users:] = r
    a[n_users:, :n_users] = r.T
    deg = a.sum(axis=1)
    out = np.zeros_like(a)
    for row in range(len(a)):
        for col in range(len(a)):
            if a[row, col]:
                out[row, col] = 1.0 / np.sqrt(deg[row] * deg[col])
    return out


# ---- graph -----------------------------------------------------------------------------

# 3 users, 4 items; user 2 and item 3 have no edge; (0, 1) is listed twice.
N_USERS, N_ITEMS = 3, 4
PAIRS = [(0, 0), (0, 1), (1, 1), (0, 1), (1, 2)]
UNIQUE_PAIRS = sorted(set(PAIRS))


def tiny_graph() -> InteractionGraph:
    users, items = zip(*PAIRS)
    return InteractionGraph.from_pairs(N_USERS, N_ITEMS, np.array(users), np.array(items))


def test_from_pairs_drops_duplicates_and_sorts():
    graph = tiny_graph()
    assert graph.n_edges == len(UNIQUE_PAIRS)
    assert list(zip(graph.users.tolist(), graph.items.tolist())) == UNIQUE_PAIRS
    assert graph.n_nodes == N_USERS + N_ITEMS
    assert graph.degrees().tolist() == [2, 2, 0, 1, 2, 1, 0]


def test_normalized_adjacency_equals_dense_reference():
    adj = tiny_graph().normalized_adjacency().to_dense().numpy()
    expected = dense_reference(N_USERS, N_ITEMS, UNIQUE_PAIRS)
    np.testing.assert_allclose(adj, expected, rtol=1e-6, atol=1e-7)
    # Spot-check one entry by hand: user 0 (degree 2) - item 1 (degree 2) = 1/2.
    assert adj[0, N_USERS + 1] == pytest.approx(0.5)
    # The node without an edge keeps a zero row and column.
    assert not adj[2].any() and not adj[:, 2].any()
    assert not adj[N_USERS + 3].any()


@pytest.mark.parametrize("seed", range(5))
def test_normalized_adjacency_equals_dense_reference_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items = 6, 9
    users, items = rng.integers(0, n_users, 25), rng.integers(0, n_items, 25)
    graph = InteractionGraph.from_pairs(n_users, n_items, users, items)
    adj = graph.normalized_adjacency().to_dense().numpy()
    expected = dense_reference(n_users, n_items, list(zip(users.tolist(), items.tolist())))
    np.testing.assert_allclose(adj, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(adj, adj.T)


def test_normalized_adjacency_is_symmetric_and_spectrally_bounded():
    adj = tiny_graph().normalized_adjacency().to_dense().numpy().astype(np.float64)
    np.testing.assert_array_equal(adj, adj.T)
    # D^-1/2 A D^-1/2 of a bipartite graph has eigenvalues in [-1, 1], with 1 attained.
    eig = np.linalg.eigvalsh(adj)
    assert eig.max() == pytest.approx(1.0, abs=1e-6) and eig.min() >= -1 - 1e-6


def test_with_edges_adds_edges_and_nodes_without_touching_the_original():
    graph = tiny_graph()
    grown = graph.with_edges(np.array([2, 3, 0]), np.array([3, 4, 0]), n_users=4, n_items=5)
    assert (grown.n_users, grown.n_items) == (4, 5)
    pairs = set(zip(grown.users.tolist(), grown.items.tolist()))
    assert pairs == set(UNIQUE_PAIRS) | {(2, 3), (3, 4)}  # (0, 0) was already there
    assert graph.n_edges == len(UNIQUE_PAIRS) and graph.n_users == N_USERS
    expected = dense_reference(4, 5, sorted(pairs))
    np.testing.assert_allclose(grown.normalized_adjacency().to_dense().numpy(), expected, rtol=1e-6, atol=1e-7)


def test_without_edges_removes_only_the_given_edges():
    graph = tiny_graph()
    smaller = graph.without_edges(np.array([0, 2]), np.array([1, 0]))  # (2, 0) is absent
    assert set(zip(smaller.users.tolist(), smaller.items.tolist())) == set(UNIQUE_PAIRS) - {(0, 1)}
    assert graph.n_edges == len(UNIQUE_PAIRS)
    expected = dense_reference(N_USERS, N_ITEMS, sorted(set(UNIQUE_PAIRS) - {(0, 1)}))
    np.testing.assert_allclose(smaller.normalized_adjacency().to_dense().numpy(), expected, rtol=1e-6, atol=1e-7)


def test_without_then_with_edges_restores_the_graph():
    graph = tiny_graph()
    users, items = np.array([0, 1]), np.array([0, 2])
    back = graph.without_edges(users, items).with_edges(users, items)
    np.testing.assert_array_equal(back.users, graph.users)
    np.testing.assert_array_equal(back.items, graph.items)


@pytest.mark.parametrize(
    "keys", [[], [5], [1, 2, 9], [1, 1, 2, 9, 9], [9, 1, 2, 1, 9, 0]], ids=["empty", "one", "rising", "ordered", "any"]
)
def test_sorted_distinct_is_numpys_unique(keys):
    got = sorted_distinct(np.array(keys, dtype=np.int64))
    assert got.tolist() == np.unique(np.array(keys, dtype=np.int64)).tolist()


def test_pairs_in_any_order_give_the_same_graph_as_sorted_ones():
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 7, 60), rng.integers(0, 5, 60)
    shuffled = InteractionGraph.from_pairs(7, 5, users, items)
    order = np.lexsort((items, users))
    ordered = InteractionGraph.from_pairs(7, 5, users[order], items[order])
    pairs = sorted(set(zip(users.tolist(), items.tolist())))
    for graph in (shuffled, ordered):
        assert list(zip(graph.users.tolist(), graph.items.tolist())) == pairs


@pytest.mark.parametrize(
    ("users", "items"),
    [([0, 0, 1], [3, 1, 0]), ([0, 0, 1], [1, 1, 0]), ([1, 0], [0, 1])],
    ids=["items fall within a user", "a repeat", "users fall"],
)
def test_pairs_sorted_only_by_user_are_sorted_and_deduplicated(users, items):
    graph = InteractionGraph.from_pairs(2, 4, np.array(users), np.array(items))
    expected = sorted(set(zip(users, items)))
    assert list(zip(graph.users.tolist(), graph.items.tolist())) == expected


def test_edited_splices_the_edits_in_as_without_then_with_edges_would():
    """`edited` (the catch-up's: a few edits found by binary search) against the two steps it
    replaced, on random graphs: edits in and out, present and absent, and new users."""
    rng = np.random.default_rng(0)
    for trial in range(300):
        n_users, n_items, n_edges = rng.integers(1, 30), rng.integers(1, 30), rng.integers(0, 200)
        graph = InteractionGraph.from_pairs(
            n_users, n_items, rng.integers(0, n_users, n_edges), rng.integers(0, n_items, n_edges)
        )
        more = n_users + int(rng.integers(0, 3))
        edits = {
            (int(rng.integers(0, more)), int(rng.integers(0, n_items))): bool(rng.random() < 0.6)
            for _ in range(rng.integers(0, 15))
        }
        keys = np.array(list(edits), dtype=np.int64).reshape(-1, 2)
        linked = np.array(list(edits.values()), dtype=bool)
        expected = graph.without_edges(*keys[~linked].T).with_edges(*keys[linked].T, n_users=more)
        got = graph.edited(edits, more)
        assert got.n_users == more and got.n_items == n_items, trial
        np.testing.assert_array_equal(got.users, expected.users)
        np.testing.assert_array_equal(got.items, expected.items)
