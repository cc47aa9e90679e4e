"""`jobs.ratings_changed`, what the status bar counts as "ratings learnt": ratings left
different from what the full training saw, not events."""

from __future__ import annotations

from tui_recommender.app.jobs import ratings_changed
from tui_recommender.data.movielens import load_dataset
from tui_recommender.storage.database import RatingsStore


def test_counts_changed_ratings_against_what_the_training_saw(small_data, tmp_path):
    data = load_dataset(small_data)
    user, movie, stars = (int(v) for v in data.ratings.iloc[0][["userId", "movieId", "rating"]])
    with RatingsStore(tmp_path / "ratings.sqlite3") as store:
        removed = store.remove(user, movie)  # before the training: it saw the rating removed
        trained = removed
        store.put(user, movie, stars)  # back to the dataset's value: a change from what it saw
        store.put(41, 10, 4.0)
        store.remove(41, 10)  # rated then undone: no change
        last = store.put(user, 20, 3.5)
        assert ratings_changed(store, data, trained, last) == 2
        assert ratings_changed(store, data, trained, last - 1) == 1  # only what is learnt counts
        assert ratings_changed(store, data, last, last) == 0
        again = store.remove(user, movie)  # removed again, as the training saw it
        assert ratings_changed(store, data, trained, again) == 1
