"""`live_model.user_scores`, the list a user sees before the model has learnt them: the
mean of every liked movie's row, not of some of them (issue 19: the whole suite passed
when only the first liked film was used); the same scores from the rows of a mapped,
misaligned checkpoint, on one BLAS thread (issue 17)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from tui_recommender.app import live_model
from tui_recommender.app.live_model import LiveModel, Snapshot, user_scores
from tui_recommender.engine.blas_threads import OneBlasThread
from tui_recommender.engine.checkpoint import load_checkpoint
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.interactions import PositiveEdges
from tui_recommender.engine.ranking import norm_exponents, scores

# Movies 0 and 1 point two ways; 2 lies between them, 3 and 4 each near one of them.
ITEMS = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7], [1.0, -0.2], [-0.2, 1.0]], dtype=np.float32)
KNOWN = 1  # a user the model learnt: row [1, 0]
UNLEARNT = 2  # in the map, with a zero row (rated, not learnt yet)


def snapshot() -> Snapshot:
    graph = InteractionGraph.from_pairs(2, len(ITEMS), np.array([0]), np.array([3]))
    user_emb = np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.float32)
    return Snapshot(
        IdMap(np.array([KNOWN, UNLEARNT])),
        user_emb,
        ITEMS,
        PositiveEdges.built(graph),
        "dot",
    )


def best_unseen(scores: np.ndarray, liked: np.ndarray) -> int:
    return int(np.argmax(np.where(np.isin(np.arange(len(scores)), liked), -np.inf, scores)))


def test_a_user_not_learnt_yet_is_ranked_by_the_mean_of_every_liked_movie():
    liked = np.array([0, 1])
    for user in (UNLEARNT, 99):  # a zero row, and a user the snapshot has no row for
        scores = user_scores(snapshot(), user, liked)
        np.testing.assert_allclose(scores, ITEMS @ np.array([0.5, 0.5]), rtol=1e-6)
        assert best_unseen(scores, liked) == 2  # the first liked film alone would pick 3


def test_the_order_of_the_liked_movies_does_not_change_the_list():
    forward, backward = (user_scores(snapshot(), 99, np.array(liked)) for liked in ([0, 1], [1, 0]))
    np.testing.assert_allclose(forward, backward, rtol=1e-6)


def test_a_learnt_user_is_ranked_by_their_own_row_and_nobody_gets_a_list_from_nothing():
    np.testing.assert_allclose(user_scores(snapshot(), KNOWN, np.array([1])), ITEMS @ np.array([1.0, 0.0]))
    assert user_scores(snapshot(), 99, np.array([], dtype=np.int64)) is None


def misaligned(array: np.ndarray) -> np.ndarray:
    """A copy of `array` at an odd address, as arrays mapped from a checkpoint's zip file are."""
    raw = np.empty(array.nbytes + 1, dtype=np.uint8)
    out = raw[1:].view(array.dtype).reshape(array.shape)
    out[...] = array
    assert not out.flags.aligned
    return out


def blas_threads(of: str = "") -> set[int]:
    """Threads of each BLAS loaded (whose path has `of`)."""
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas" and of in pool["filepath"]}


def test_a_mapped_checkpoints_misaligned_rows_are_scored_as_aligned_ones(
    trained_model, small_data, state_dir, monkeypatch
):
    """numpy multiplies misaligned arrays without BLAS (139 against 2.5 ms for one user at
    ml-32m's size) and two BLAS threads wait for each other (12 ms): the served movie rows
    are an aligned copy, the user's row too, scored on one BLAS thread, to the same scores."""
    called = []

    def recording(items, norms, vector, *args):
        called.append((items.flags.aligned, vector.flags.aligned, blas_threads(of="numpy")))
        return scores(items, norms, vector, *args)

    monkeypatch.setattr(live_model, "scores", recording)
    checkpoint = load_checkpoint(trained_model.write(state_dir.parent / "model.npz"))
    service = trained_model.open_service(small_data, state_dir)
    try:
        mapped = replace(checkpoint, final=misaligned(checkpoint.final))
        model = LiveModel(mapped, service.data.ratings, service.catalogue.items, lambda seq: None, background=False)
    finally:
        service.close()
    snapshot = model.snapshot
    assert snapshot.item_emb.flags.aligned
    np.testing.assert_array_equal(snapshot.item_emb, checkpoint.final[checkpoint.n_users :])
    liked = np.array([0, 5, 9])
    with threadpool_limits(2, user_api="blas"):
        served = [user_scores(snapshot, int(snapshot.users.raw_ids[row]), liked, novelty=0.2) for row in (0, 3)]
    for row, got in zip((0, 3), served):
        with threadpool_limits(1, user_api="blas"):
            expected = scores(
                np.array(snapshot.item_emb),
                snapshot.norms,
                np.array(snapshot.user_emb[row]),
                norm_exponents(len(liked), snapshot.scoring),
                snapshot.penalty,
                0.2,
            )
        np.testing.assert_array_equal(got, expected)
    assert called == [(True, True, {1})] * 2


def test_one_blas_thread_holds_until_the_last_caller_leaves():
    """threadpoolctl's limit is process-wide: a rating's update and a list in two threads
    must not restore each other's limit (BLAS on two threads again while one is inside)."""
    with threadpool_limits(2, user_api="blas"):
        limit = OneBlasThread()
        limit.__enter__()
        limit.__enter__()  # a second caller, e.g. another thread
        assert blas_threads() == {1}
        limit.__exit__(None, None, None)
        assert blas_threads() == {1}
        limit.__exit__(None, None, None)
        assert blas_threads() == {2}
