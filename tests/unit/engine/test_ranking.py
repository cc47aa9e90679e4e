"""The numpy ranking: top-k without seen items, cosine scores, the popularity dial."""

from __future__ import annotations

import numpy as np
import pytest

from tui_recommender.engine.ranking import (
    item_norms,
    new_user_vector,
    norm_exponents,
    popularity_penalty,
    scores,
    top_k_unseen,
)


def brute_force_top_k(user_emb, item_emb, seen_users, seen_items, k):
    s = (user_emb @ item_emb.T).astype(np.float64)
    s[seen_users, seen_items] = -np.inf
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("chunk", [7, 1024])
def test_top_k_unseen_never_returns_a_seen_item_and_ranks_by_score(chunk):
    rng = np.random.default_rng(0)
    n_users, n_items, k = 40, 30, 10
    user_emb = rng.normal(size=(n_users, 8)).astype(np.float32)
    item_emb = rng.normal(size=(n_items, 8)).astype(np.float32)
    keys = rng.choice(n_users * n_items, size=500, replace=False)
    seen_users, seen_items = keys // n_items, keys % n_items
    top = top_k_unseen(user_emb, item_emb, seen_users, seen_items, k, chunk=chunk)
    assert top.shape == (n_users, k)
    seen = set(zip(seen_users.tolist(), seen_items.tolist()))
    assert not [(u, i) for u in range(n_users) for i in top[u].tolist() if (u, i) in seen]
    np.testing.assert_array_equal(top, brute_force_top_k(user_emb, item_emb, seen_users, seen_items, k))


def test_top_k_unseen_excludes_the_best_scoring_item_when_seen():
    user_emb = np.array([[1.0, 0.0], [0.0, 1.0]])
    item_emb = np.array([[5.0, 0.0], [1.0, 0.0], [0.0, 3.0], [0.0, 2.0]])
    top = top_k_unseen(user_emb, item_emb, np.array([0, 1]), np.array([0, 2]), k=2)
    assert top[0, 0] == 1 and top[1, 0] == 3


def test_cosine_scoring_ignores_item_norms_and_adaptive_fades_to_dot():
    # Item 0 is long (popular) but off the user's direction; item 1 short but aligned.
    items = np.array([[3.0, 3.0], [0.5, 0.0]])
    norms = item_norms(items)
    user = np.array([1.0, 0.0])
    assert np.argmax(scores(items, norms, user, norm_exponents(5, "dot"))) == 0
    assert np.argmax(scores(items, norms, user, norm_exponents(5, "cosine"))) == 1
    np.testing.assert_allclose(scores(items, norms, user, 1.0), items @ user / norms)
    # Adaptive: |item|^0.2 over a new user's first 5 positives (the same power at each, so a
    # list does not lose its niche films as they rate more), then |item|^(1/n): close to dot.
    np.testing.assert_allclose(
        norm_exponents(np.array([0, 1, 3, 5, 10, 50]), "adaptive"), [0.2, 0.2, 0.2, 0.2, 0.1, 0.02], rtol=1e-6
    )
    assert np.argmax(scores(items, norms, user, norm_exponents(500, "adaptive"))) == 0
    with pytest.raises(ValueError):
        norm_exponents(3, "euclid")


def test_top_k_unseen_counts_each_users_positives_for_adaptive_scoring():
    items = np.array([[1.0, 20.0], [0.6, 0.0], [0.0, 1.0]])
    users = np.array([[1.0, 0.0], [1.0, 0.0]])
    # User 0 has one positive (item 2): |item|^0.2, the short item 1 wins. User 1 has 100
    # (item 2 repeated): ~dot, the long item 0 wins.
    seen_users = np.array([0] + [1] * 100)
    seen_items = np.full(101, 2)
    top = top_k_unseen(users, items, seen_users, seen_items, k=1, scoring="adaptive")
    assert top[:, 0].tolist() == [1, 0]


def test_novelty_penalty_moves_niche_items_up_and_zero_changes_nothing():
    items = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.2]])
    norms = item_norms(items)
    user = np.array([1.0, 0.0])
    penalty = popularity_penalty(np.array([1000, 10, 1]))
    assert penalty.max() == pytest.approx(1.0) and penalty.min() > 0
    np.testing.assert_array_equal(scores(items, norms, user, 0.0, penalty, 0.0), items @ user)
    assert np.argmax(scores(items, norms, user, 0.0, penalty, 0.0)) == 0
    assert np.argmax(scores(items, norms, user, 0.0, penalty, 1.0)) == 2


def test_new_user_vector_is_the_exact_propagation_of_its_ego_row():
    # 2 items, 1 layer, weights (1/2, 1/2); the new user likes both items (d_u = 2).
    layer0 = np.array([[1.0, 0.0], [0.0, 2.0]])
    degrees = np.array([1.0, 3.0])  # without the new user
    got = new_user_vector([layer0], degrees, np.array([0, 1]), (0.5, 0.5))
    ego = layer0.mean(axis=0)
    layer1 = layer0[0] / np.sqrt(2 * 2) + layer0[1] / np.sqrt(2 * 4)
    np.testing.assert_allclose(got, 0.5 * ego + 0.5 * layer1, rtol=1e-6)


# Six items: 0-3 are genre A (best scores first), 4-5 genre B, item 5 has both.
GENRES_AB = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [1, 1]], dtype=bool)


def test_top_k_unseen_calibrates_each_user_towards_their_own_positives():
    rng = np.random.default_rng(0)
    item_emb = rng.normal(size=(6, 4)).astype(np.float32)
    user_emb = np.stack([item_emb[:4].mean(0) * 3] * 2)
    genres = GENRES_AB
    # User 0 liked an item of each genre; user 1 only A items.
    seen_u, seen_i = np.array([0, 0, 1]), np.array([4, 3, 2])
    calibrated = top_k_unseen(user_emb, item_emb, seen_u, seen_i, 3, "dot", genres=genres, calibration=0.9)
    assert 5 in calibrated[0]  # user 0's B taste brings the other B item in
    assert set(calibrated[1]) == {0, 1, 3}  # user 1 liked only A: the A items they have not seen
    assert not (set(calibrated[0]) & {4, 3})
