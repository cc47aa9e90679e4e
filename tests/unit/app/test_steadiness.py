"""Steady lists for seasoned users, quick ones for new users (issue 19): a re-rating on the
same side of the positive threshold changes nothing, and the background catch-up brings the
whole model up to date by itself, keeps what users were served, and survives a failure
without losing a rating. On the real ml-latest-small (skipped where absent): the issue's
two re-ratings and seasoned users' one new rating."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import tui_recommender.app.live_model as live_model
from tests.trained_model import model_positives


@pytest.fixture
def service(trained_model, small_data, state_dir):
    svc = trained_model.open_service(small_data, state_dir)
    yield svc
    svc.close()


def served_row(service, user: int) -> np.ndarray | None:
    snapshot = service.model.snapshot
    return snapshot.user_row(snapshot.users.index(user)) if user in snapshot.users else None


def scores(service, user: int) -> list[tuple[int, float]]:
    return [(r.movie.movie_id, r.score) for r in service.recommend(user, k=20)]


@pytest.mark.parametrize("stars", [None, "same side"])
def test_a_rerating_that_keeps_the_movie_liked_changes_nothing(service, stars):
    ratings = service.data.ratings
    mine = ratings[(ratings["userId"] == 1) & (ratings["rating"] >= 3.0)].iloc[0]
    movie, old = int(mine["movieId"]), float(mine["rating"])
    new = old if stars is None else (3.0 if old > 3.0 else 4.0)
    before_row, before = served_row(service, 1), scores(service, 1)
    service.rate(1, movie, new)
    report = service.update_model()
    assert report.n_ratings == 1 and not report.discarded
    np.testing.assert_array_equal(served_row(service, 1), before_row)
    assert scores(service, 1) == before


def test_the_catch_up_runs_by_itself_and_keeps_what_was_served(service, monkeypatch):
    monkeypatch.setattr(live_model, "CATCH_UP_DELAY", 0.05)
    user = service.create_user()
    movies = service.data.movies.index[:3].tolist()
    for movie in movies:
        service.rate(user, movie, 5.0)
    service.update_model()
    served = served_row(service, user)
    assert service.model.snapshot.fresh
    deadline = time.monotonic() + 30
    while service.model.snapshot.fresh and time.monotonic() < deadline:
        time.sleep(0.05)
    snapshot = service.model.snapshot
    assert not snapshot.fresh and set(movies) <= model_positives(service, user)
    np.testing.assert_allclose(snapshot.user_emb[snapshot.users.index(user)], served, atol=1e-4)
    second = service.create_user()  # a second new user after a catch-up grew the tables
    service.rate(second, movies[0], 4.0)
    service.update_model()
    assert service.model.catch_up() and served_row(service, second).any()


def test_a_failed_catch_up_leaves_the_list_served_and_loses_no_rating(service, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise MemoryError("no room")

    monkeypatch.setattr(live_model, "caught_up", broken)
    monkeypatch.setattr(live_model, "CATCH_UP_DELAY", 0.0)
    movie = service.recommend(1, k=1)[0].movie.movie_id
    service.rate(1, movie, 5.0)
    service.update_model()
    served = served_row(service, 1)
    deadline = time.monotonic() + 30
    while "background catch-up failed" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "background catch-up failed" in caplog.text
    np.testing.assert_array_equal(served_row(service, 1), served)
    assert movie not in {r.movie.movie_id for r in service.recommend(1, k=20)}
    monkeypatch.undo()
    assert service.model.catch_up()  # the next one propagates everything
    assert movie in model_positives(service, 1) and not service.model.snapshot.fresh


# ---- on the real ml-latest-small --------------------------------------------------------


@pytest.fixture
def real_service(ml_latest_small: Path, tmp_path: Path):
    from tui_recommender.app.service import RecommenderService
    from tui_recommender.config.settings import Settings

    svc = RecommenderService.open(Settings.resolve(data=ml_latest_small, state_dir=tmp_path / "state"))
    yield svc
    svc.close()


def top10(service, user: int) -> list[int]:
    return [r.movie.movie_id for r in service.recommend(user, k=10)]


@pytest.mark.realdata
def test_the_issues_rerated_films_leave_the_lists_as_they_were(real_service):
    ratings = real_service.data.ratings
    film = int(ratings[(ratings["userId"] == 414) & (ratings["rating"] == 3.0)]["movieId"].iloc[0])
    for user, movie, stars in ((414, film, 4.0), (1, 1, 4.0)):  # user 1 gave Toy Story 4.0
        before = scores(real_service, user)
        real_service.rate(user, movie, stars)
        real_service.update_model()
        assert scores(real_service, user) == before


@pytest.mark.realdata
def test_a_seasoned_user_keeps_most_of_their_top_10_after_one_new_rating(real_service):
    ratings = real_service.data.ratings
    counts = ratings.groupby("userId").size()
    liked_most = ratings[ratings["rating"] >= 4.0].groupby("movieId").size().sort_values(ascending=False).index
    kept = []
    for user in counts.index[counts >= 100][:8].tolist():
        before = top10(real_service, user)
        seen = set(ratings.loc[ratings["userId"] == user, "movieId"])
        movie = next(m for m in liked_most if m not in seen)
        real_service.rate(user, movie, 4.0)
        real_service.update_model()
        kept.append(len(set(before) & set(top10(real_service, user))))
    assert np.mean(kept) >= 7, kept


# Five films of one genre, rated one at a time (benchmarks/bench_persona.py's personas, then two
# of bench_steadiness's generated ones whose count fell before the floor of `calibration.agreed_floor`).
GENRE_PERSONAS = (
    (("Western",), (1201, 1266, 553, 1304, 99114)),  # The Good the Bad and the Ugly, Unforgiven, Tombstone, ...
    (("Horror",), (1258, 1219, 1407, 2710, 1997)),  # The Shining, Psycho, Scream, Blair Witch, The Exorcist
    (("Animation", "Children"), (1, 364, 588, 595, 6377)),  # Toy Story, Lion King, Aladdin, ...
    (("War",), (2028, 1208, 1222, 1090, 68157)),  # Saving Private Ryan, Apocalypse Now, ...
    (("Film-Noir",), (1252, 913, 922, 2186, 1212)),  # Chinatown, The Maltese Falcon, ...
    (("Documentary",), (5669, 8464, 8622, 2064, 246)),  # Bowling for Columbine, Super Size Me, ...
    (("Western",), (1266, 82459, 553, 590, 368)),  # ..., Dances with Wolves (Adventure|Drama|Western): 4 -> 3
    (("Children",), (551, 60069, 48, 2, 3114)),  # The Nightmare Before Christmas, WALL·E: 8 -> 6, ...
)


@pytest.mark.realdata
def test_a_genres_share_of_a_new_users_list_never_falls_as_they_rate_more_of_it(real_service):
    real_service.model.close()  # each rating's catch-up lands before the next, as when a user pauses
    counts = {}
    for genres, films in GENRE_PERSONAS:
        user = real_service.create_user()
        counts[films] = []
        for movie in films:
            real_service.rate(user, movie, 5.0)
            real_service.update_model()
            real_service.model.catch_up()
            top = real_service.recommend(user, k=10)
            counts[films].append(sum(bool(set(r.movie.genres) & set(genres)) for r in top))
    assert all(c == sorted(c) for c in counts.values()), counts
