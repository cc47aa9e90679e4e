"""Calibrated lists (Steck 2018): the greedy re-ranking, new users' strength, target and floor,
the genre-aware pool."""

from __future__ import annotations

import numpy as np
import pytest

from tui_recommender.engine.calibration import (
    AGREED_CALIBRATION,
    CALIBRATION,
    NEW_USER_CALIBRATION,
    agreed_floor,
    agreed_target,
    agreeing_count,
    calibrated_head,
    calibrated_order,
    calibration_strength,
    genre_best,
    genre_rows,
    genre_weights,
    taste_distribution,
)

# ---- calibrated re-ranking (Steck 2018) ------------------------------------------------------

# Six items: 0-3 are genre A (best scores first), 4-5 genre B, item 5 has both.
GENRES_AB = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [1, 1]], dtype=bool)
SCORES_AB = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])


def test_genre_weights_split_each_movie_over_its_genres_and_taste_sums_to_one():
    w = genre_weights(GENRES_AB)
    np.testing.assert_allclose(w[5], [0.5, 0.5])
    np.testing.assert_allclose(w[0], [1.0, 0.0])
    np.testing.assert_allclose(taste_distribution(w, np.array([0, 4, 5])), [0.5, 0.5])
    assert not taste_distribution(genre_weights(np.zeros((3, 2), bool)), np.array([0, 1])).any()


def test_calibration_zero_keeps_the_score_order():
    top = calibrated_order(SCORES_AB, genre_weights(GENRES_AB), np.array([0.5, 0.5]), 4, strength=0.0)
    assert top.tolist() == [[0, 1, 2, 3]]


def test_calibration_brings_in_the_genre_the_user_likes_that_scores_lower():
    w = genre_weights(GENRES_AB)
    top = calibrated_order(SCORES_AB, w, np.array([0.5, 0.5]), 4, strength=0.3)[0]
    assert top[0] == 0  # the best item still leads
    assert 4 in top  # the B item enters though 3 A items score higher
    q = w[top].sum(axis=0) / 4
    score_order_q = w[[0, 1, 2, 3]].sum(axis=0) / 4
    assert abs(q[1] - 0.5) < abs(score_order_q[1] - 0.5)
    # A user whose taste is all A keeps the A items.
    assert calibrated_order(SCORES_AB, w, np.array([1.0, 0.0]), 4, strength=0.3)[0].tolist() == [0, 1, 2, 3]


def test_calibration_never_takes_left_out_items_while_others_remain():
    s = SCORES_AB.copy()
    s[[0, 4]] = -np.inf
    top = calibrated_order(s, genre_weights(GENRES_AB), np.array([0.0, 1.0]), 4, strength=0.9)[0]
    assert 0 not in top and 4 not in top and len(set(top.tolist())) == 4


def test_calibration_is_stronger_for_users_with_few_positives_and_off_at_zero():
    got = calibration_strength(np.array([1, 5, 10, 50, 500]), np.array([1, 2, 5, 20, 200]))
    assert got[0] == pytest.approx(NEW_USER_CALIBRATION)
    assert got[1] > got[2] > got[3] > got[4] >= CALIBRATION
    assert got[4] == pytest.approx(CALIBRATION, abs=1e-3)
    assert not calibration_strength(np.array([1, 50]), np.array([1, 20]), base=0.0).any()


def test_a_new_users_calibration_grows_as_more_of_their_films_share_a_genre():
    weights = genre_weights(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 1], [1, 0, 0], [1, 0, 0]]))
    assert agreeing_count(weights, np.array([0])) == 1
    assert agreeing_count(weights, np.array([0, 1, 2])) == 2  # two share genre 0
    assert agreeing_count(weights, np.arange(6)) == 5
    one_genre = [float(calibration_strength(n, n)) for n in range(1, 6)]
    assert one_genre[0] == pytest.approx(NEW_USER_CALIBRATION) and one_genre[-1] == pytest.approx(AGREED_CALIBRATION)
    assert np.all(np.diff(one_genre) > 0)
    # five films of five genres: no more sure of a genre than one film
    assert float(calibration_strength(5, 1)) == pytest.approx(NEW_USER_CALIBRATION)


# Twelve items by descending score: 0-8 genre A, 9-11 genre B (the niche, scoring last).
NICHE = np.array([[1, 0]] * 9 + [[0, 1]] * 3, dtype=bool)
NICHE_SCORES = np.arange(12, 0, -1, dtype=np.float64)


def test_a_genre_two_liked_films_share_reaches_the_head_however_deep_it_scores():
    w, rows = genre_weights(NICHE), genre_rows(genre_weights(NICHE))
    liked = np.array([9, 10])  # both B films liked (so rated: not eligible), one left
    eligible = np.ones(12, dtype=bool)
    eligible[liked] = False
    order = np.flatnonzero(eligible)  # by score
    plain = calibrated_head(order, NICHE_SCORES, w, liked, strength=0.9, depth=2)
    deep = calibrated_head(order, NICHE_SCORES, w, liked, strength=0.9, depth=2, rows=rows, eligible=eligible)
    assert 11 not in plain[:2]  # the pool (the first 4 by score) holds no B film
    assert deep[0] == 11 and sorted(deep.tolist()) == order.tolist()  # the B film leads, nothing rated returns
    # One liked B film is no agreed taste: the pool stays the first 2 * depth.
    one = calibrated_head(order, NICHE_SCORES, w, np.array([0, 9]), strength=0.9, depth=2, rows=rows, eligible=eligible)
    assert one.tolist() == calibrated_head(order, NICHE_SCORES, w, np.array([0, 9]), strength=0.9, depth=2).tolist()


def test_genre_best_adds_only_genres_the_pool_holds_too_little_of():
    w, rows = genre_weights(NICHE), genre_rows(genre_weights(NICHE))
    eligible = np.ones(12, dtype=bool)
    eligible[11] = False
    best = genre_best(NICHE_SCORES, eligible, rows, np.array([0.5, 0.5]), 4, np.arange(8), w)
    assert best.tolist() == [9, 10]  # B: 2 of its share of 4, the eligible best; A: the pool holds 8
    assert not len(genre_best(NICHE_SCORES, eligible, rows, np.array([1.0, 0.0]), 4, np.arange(8), w))


def test_rows_beyond_the_scale_depth_leave_the_others_trade_off_as_it_was():
    w = genre_weights(np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]], dtype=bool))
    s = np.array([8.0, 9.0, 6.0, 7.0, -20.0])  # the last, far below, is never taken
    without = calibrated_order(s[:4], w[:4], np.array([0.7, 0.3]), 3, 0.5, pool=4)[0]
    assert calibrated_order(s, w, np.array([0.7, 0.3]), 3, 0.5, pool=5, scale_depth=4)[0].tolist() == without.tolist()
    # scaled over all five, the first four's differences shrink and the genre mix weighs more
    assert calibrated_order(s, w, np.array([0.7, 0.3]), 3, 0.5, pool=5)[0].tolist() != without.tolist()


def test_a_genre_the_liked_films_agree_on_keeps_its_share_of_the_target_as_broader_films_join():
    # genres: Western, Comedy, Drama; films 0-3 Western alone, film 4 all three
    w = genre_weights(np.array([[1, 0, 0]] * 4 + [[1, 1, 1]], dtype=bool))
    plain = [taste_distribution(w, np.array([0, 1, 2, 3, 4][:n]))[0] for n in (4, 5)]
    agreed = [agreed_target(w, np.array([0, 1, 2, 3, 4][:n]))[0] for n in (4, 5)]
    assert plain[1] < plain[0]  # Steck's mix: the fifth, broader western takes westerns' share down
    assert agreed[0] - agreed[1] < (plain[0] - plain[1]) / 4  # 1 -> 0.87 unsharpened, 1 -> 0.97 here
    np.testing.assert_allclose(
        agreed_target(w, np.array([0, 4])), taste_distribution(w, np.array([0, 4]))
    )  # two agree: as is
    many = np.array([0, 1, 2, 3, 4] * 20)  # a seasoned user: (5 / n)^4 fades it away
    np.testing.assert_allclose(agreed_target(w, many), taste_distribution(w, many), atol=0.01)
    # at twice five, a sixteenth of the sharpening: the protocol's users (n >= ~10) rank as Steck's
    twice = np.array([0, 1, 2, 3, 4] * 2)
    sharpened = taste_distribution(w, twice) * np.array([10.0, 2.0, 2.0]) ** (1 / 16)
    np.testing.assert_allclose(agreed_target(w, twice), sharpened / sharpened.sum(), rtol=1e-5)


# genres: Western, Drama, Action. Three high-scoring films, one genre each; three lower ones with all three;
# rows 6 and 7 (a western, and one with all three) are the ones a user liked.
MIXED = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]] + [[1, 1, 1]] * 3 + [[1, 0, 0], [1, 1, 1]], dtype=bool)
MIXED_SCORES = np.array([10.0, 9.9, 9.8, 5.0, 4.9, 4.8, 0.0, 0.0])


def test_a_floor_keeps_the_films_carrying_a_genre_where_the_mix_of_weights_lets_one_stand_for_three():
    w, even = genre_weights(MIXED[:6]), np.full(3, 1 / 3)
    plain = calibrated_order(MIXED_SCORES[:6], w, even, 3, 0.6)[0]
    floored = calibrated_order(MIXED_SCORES[:6], w, even, 3, 0.6, floor=np.array([1.0, 0.0, 0.0]))[0]
    assert MIXED[plain, 0].sum() == 1  # a broad film, then Drama and Action alone: one carries Western
    assert MIXED[floored, 0].all()  # the mix met with films that all carry it
    # a floor, not a target: at half, half of four carry it, the rest follows the scores and the mix
    half = calibrated_order(MIXED_SCORES[:6], w, even, 4, 0.6, floor=np.array([0.5, 0.0, 0.0]))[0]
    assert MIXED[half, 0].sum() == 2 and MIXED[half[:2], 0].sum() == 1


def test_the_floor_is_the_genres_every_liked_film_carries_faded_beyond_five():
    w = genre_weights(MIXED)
    np.testing.assert_array_equal(agreed_floor(w, np.array([7])), [0, 0, 0])  # one film: no agreement yet
    np.testing.assert_array_equal(agreed_floor(w, np.array([6, 7])), [1, 0, 0])
    np.testing.assert_array_equal(agreed_floor(w, np.array([0, 3, 7])), [0, 1, 0])
    np.testing.assert_allclose(agreed_floor(w, np.array([3, 4, 5] * 4)), [(5 / 12) ** 2] * 3)


def test_a_new_users_head_holds_the_genre_their_liked_films_all_carry():
    w, order = genre_weights(MIXED), np.arange(6)
    assert MIXED[calibrated_head(order, MIXED_SCORES, w, np.array([6, 7]), depth=3)[:3], 0].all()
    # one liked film sets no floor: the pure Drama and Action films come back
    assert not MIXED[calibrated_head(order, MIXED_SCORES, w, np.array([7]), depth=3)[:3], 0].all()
