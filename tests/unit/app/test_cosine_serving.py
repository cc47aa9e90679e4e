"""A checkpoint trained on cosine logits is served as it was trained: ranked by cosine, and a
rating moves the user's row among the movies' unit rows (`user_rows`, with their norms)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

NEW_USER = 9001


def checkpoint_with(trained_model, path, logits: str):
    """The shared checkpoint, its recipe saying `logits`."""
    from tui_recommender.engine.checkpoint import load_checkpoint, save_checkpoint

    checkpoint = load_checkpoint(trained_model.write(path))
    return save_checkpoint(replace(checkpoint, config=replace(checkpoint.config, logits=logits)), path)


@pytest.mark.parametrize("logits", ["cosine", "dot"])
def test_ranking_and_the_rating_path_follow_the_checkpoints_logits(
    trained_model, small_data, state_dir, monkeypatch, logits
):
    import tui_recommender.app.live_model as live_model

    path = checkpoint_with(trained_model, state_dir.parent / "model.npz", logits)
    service = trained_model.open_service(small_data, state_dir, checkpoint=path)
    try:
        snapshot = service.model.snapshot
        assert snapshot.scoring == ("cosine" if logits == "cosine" else "adaptive")
        if logits == "cosine":  # a learnt user's scores: their row against the movies' unit rows
            row = snapshot.user_row(snapshot.users.index(1))
            unit = snapshot.item_emb / np.linalg.norm(snapshot.item_emb, axis=1, keepdims=True)
            got = live_model.user_scores(snapshot, 1, np.array([0, 1, 2]))
            np.testing.assert_allclose(got, unit @ row, rtol=1e-4, atol=1e-6)
        norms_seen = []
        for name in ("shifted_row", "folded_in_row"):
            original = getattr(live_model, name)

            def spy(*args, original=original, name=name, **kwargs):
                norms_seen.append((name, args[5]))  # both take norms sixth
                return original(*args, **kwargs)

            monkeypatch.setattr(live_model, name, spy)
        movie = int(service.data.movies.index[-1])
        for user in (1, NEW_USER):
            service.rate(user, movie, 5.0)
        assert service.update_model().n_ratings == 2
        assert {name for name, _ in norms_seen} == {"shifted_row", "folded_in_row"}
        for _, norms in norms_seen:
            if logits == "cosine":
                np.testing.assert_array_equal(norms, snapshot.norms)
            else:
                assert norms is None
    finally:
        service.close()
