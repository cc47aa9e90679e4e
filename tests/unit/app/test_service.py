"""The recommender service on the generated `small_data`, starting from a small trained
checkpoint: recommending, rating, fine-tuning, saving, reopening, and threads."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from tests.trained_model import DATASET_NAME, model_positives
from tui_recommender.app.service import SourceKind
from tui_recommender.config.settings import CHECKPOINT_NAME, RATINGS_DB_NAME
from tui_recommender.core.errors import RatingError, UnknownGenreError, UnknownMovieError, UnknownUserError, UserError
from tui_recommender.engine.checkpoint import load_checkpoint, save_checkpoint
from tui_recommender.engine.interactions import Interactions
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.ranking import norm_exponents
from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.overlay import merge_ratings

ALL = 1000  # more than the 80 movies: "every candidate"


@pytest.fixture
def service(trained_model, small_data, state_dir):
    svc = trained_model.open_service(small_data, state_dir)
    yield svc
    svc.close()


def dataset_ratings(service, user: int) -> dict[int, float]:
    rows = service.data.ratings[service.data.ratings["userId"] == user]
    return dict(zip(rows["movieId"].tolist(), rows["rating"].tolist()))


def rec_ids(recs) -> list[int]:
    return [r.movie.movie_id for r in recs]


def movies_with(service, genre: str) -> list[int]:
    movies = service.data.movies
    return movies.index[movies["genres"].map(lambda gs: genre in gs)].tolist()


def has_edge(service, user: int, movie: int) -> bool:
    """Whether the model's graph holds the (user, movie) edge: "reached the model"."""
    return movie in model_positives(service, user)


@pytest.fixture(autouse=True)
def score_order(monkeypatch):
    """These tests pin the lists to the score order: no calibrated re-ranking (which has
    tests of its own here and in test_taste.py, where it is on)."""
    monkeypatch.setattr("tui_recommender.engine.calibration.CALIBRATION", 0.0)


def assert_well_formed(recs, k: int, rated: set[int], offset: int = 0) -> None:
    ids = rec_ids(recs)
    assert len(ids) == k and len(set(ids)) == k
    assert not set(ids) & rated
    assert [r.rank for r in recs] == list(range(offset + 1, offset + k + 1))
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)


# ---- reading ---------------------------------------------------------------------------


def test_recommendations_exclude_every_rated_movie(service):
    rated = set(dataset_ratings(service, 1))
    assert any(r < 3 for r in dataset_ratings(service, 1).values())  # low ratings are excluded too
    recs = service.recommend(1, k=ALL)
    assert set(rec_ids(recs)) == set(service.data.movies.index) - rated
    assert_well_formed(recs, len(recs), rated)
    liked_new, disliked_new = rec_ids(recs)[:2]
    service.rate(1, liked_new, 4.5)
    service.rate(1, disliked_new, 1.0)
    after = service.recommend(1, k=ALL)
    assert set(rec_ids(after)) == set(rec_ids(recs)) - {liked_new, disliked_new}


def test_genre_filter_keeps_movies_of_any_selected_genre_case_insensitively(service):
    everything = rec_ids(service.recommend(1, k=ALL))
    picked = rec_ids(service.recommend(1, genres=["action", "SCI-FI"], k=ALL))
    wanted = set(movies_with(service, "Action")) | set(movies_with(service, "Sci-Fi"))
    assert set(picked) == wanted & set(everything)
    assert set(picked) & (set(movies_with(service, "Action")) - set(movies_with(service, "Sci-Fi")))
    assert set(picked) & (set(movies_with(service, "Sci-Fi")) - set(movies_with(service, "Action")))
    # Filtering keeps the ranking: the picked movies in the same order as in the full list.
    assert picked == [m for m in everything if m in wanted]
    top = service.recommend(1, genres=["Horror"], k=5)
    assert all("Horror" in r.movie.genres for r in top)


def test_unknown_genre_and_unknown_user(service):
    with pytest.raises(UnknownGenreError, match="Western"):
        service.recommend(1, genres=["Western"])
    with pytest.raises(UnknownGenreError):
        service.recommend(1, genres=["Action", "Nope"])
    with pytest.raises(UnknownUserError):
        service.recommend(9999)
    with pytest.raises(UnknownUserError):
        service.user_ratings(9999)
    with pytest.raises(UserError):
        service.recommend(1, k=0)
    with pytest.raises(UserError):
        service.recommend(1, offset=-1)


def test_paging_continues_without_overlap(service):
    full = service.recommend(1, k=15)
    page1 = service.recommend(1, k=5)
    page2 = service.recommend(1, k=5, offset=5)
    page3 = service.recommend(1, k=5, offset=10)
    assert rec_ids(page1) + rec_ids(page2) + rec_ids(page3) == rec_ids(full)
    assert [r.rank for r in page2] == [6, 7, 8, 9, 10]
    assert [r.score for r in page1 + page2 + page3] == pytest.approx([r.score for r in full])
    n = len(service.recommend(1, k=ALL))
    last = service.recommend(1, k=10, offset=n - 3)
    assert len(last) == 3 and last[-1].rank == n
    assert service.recommend(1, k=10, offset=n) == []
    genre_full = service.recommend(1, genres=["Drama"], k=8)
    assert rec_ids(service.recommend(1, genres=["Drama"], k=4)) + rec_ids(
        service.recommend(1, genres=["Drama"], k=4, offset=4)
    ) == rec_ids(genre_full)


def test_paging_of_popular_movies_with_tied_scores_continues_without_overlap(service):
    """A new user is ranked by popularity (counts, so many ties): pages must still be
    slices of one ranking."""
    user = service.create_user()
    full = rec_ids(service.recommend(user, k=40))
    assert len({r.model_score for r in service.recommend(user, k=40)}) < 40  # there are ties
    paged = [m for offset in range(0, 40, 4) for m in rec_ids(service.recommend(user, k=4, offset=offset))]
    assert paged == full
    assert rec_ids(service.recommend(user, k=10)) == full[:10]


def test_pages_of_a_calibrated_list_are_slices_of_one_list_across_its_depth(service, monkeypatch):
    """The head of each list is re-ranked towards the user's genres: pages before, across
    and after the calibrated depth still neither overlap nor skip."""
    plain = rec_ids(service.recommend(1, k=40))  # calibration is off in this module
    monkeypatch.setattr("tui_recommender.engine.calibration.CALIBRATION", 0.9)
    monkeypatch.setattr("tui_recommender.engine.calibration.CALIBRATED_DEPTH", 10)
    full = rec_ids(service.recommend(1, k=40))
    assert len(set(full)) == 40
    assert set(full[:10]) != set(plain[:10])  # the head is re-ranked with items from further down
    for size in (3, 4, 7):
        paged = [m for offset in range(0, 40, size) for m in rec_ids(service.recommend(1, k=size, offset=offset))]
        assert paged[:40] == full
    # A genre filter keeps the calibrated order.
    drama = rec_ids(service.recommend(1, genres=["Drama"], k=40))
    assert drama == [m for m in rec_ids(service.recommend(1, k=200)) if m in movies_with(service, "Drama")][:40]


def ranked_as_served(service, user: int, dots: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
    """Dot products as the service scores them: divided by |item|^p, p from the user's
    number of positives (`ranking.norm_exponents` of the checkpoint's scoring)."""
    n_liked = sum(stars >= 3 for stars, _ in service.ratings.of(user).values())
    p = norm_exponents(n_liked, service.model.snapshot.scoring)
    return dots / np.maximum(np.linalg.norm(item_rows, axis=1), 1e-12) ** p


def test_scores_use_propagated_embeddings_not_the_layer_zero_table(trained_model, small_data, state_dir, tmp_path):
    """A checkpoint whose layer-0 table ranks differently from its propagated table:
    recommendations must follow the propagated one."""
    ck = load_checkpoint(trained_model.write(tmp_path / "base.npz"))
    rng = np.random.default_rng(0)
    odd = replace(ck, ego=rng.normal(size=ck.ego.shape).astype(np.float32))
    path = save_checkpoint(odd, tmp_path / "odd.npz")
    svc = trained_model.open_service(small_data, state_dir, checkpoint=path)
    try:
        user_row = int(np.flatnonzero(ck.user_ids == 1)[0])
        items = odd.final[ck.n_users :]
        recs = svc.recommend(1, k=ALL)
        item_rows = np.searchsorted(ck.item_ids, rec_ids(recs))
        expected = ranked_as_served(svc, 1, items[item_rows] @ odd.final[user_row], items[item_rows])
        np.testing.assert_allclose([r.model_score for r in recs], expected, rtol=1e-5, atol=1e-6)
        ego_scores = odd.ego[ck.n_users :][item_rows] @ odd.ego[user_row]
        assert rec_ids(recs)[0] != rec_ids(recs)[int(np.argmax(ego_scores))], (
            "the two tables must disagree for this test to mean anything"
        )
    finally:
        svc.close()


# ---- rating ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, 5.5, "abc", "", 4.25, -1, "nan", "inf", None])
def test_rate_rejects_bad_ratings_and_stores_nothing(service, bad):
    movie = rec_ids(service.recommend(1, k=1))[0]
    before = service.user_ratings(1)
    with pytest.raises(RatingError):
        service.rate(1, movie, bad)
    assert service.store.events().empty and service.store.last_seq() == 0
    assert service.user_ratings(1) == before
    assert service.pending_updates() == 0
    assert movie in rec_ids(service.recommend(1, k=ALL))


def test_rate_rejects_unknown_movie_and_bad_user(service):
    with pytest.raises(UnknownMovieError):
        service.rate(1, 15, 4.0)  # ids are multiples of 10
    with pytest.raises(UserError):
        service.rate("x", 10, 4.0)
    with pytest.raises(UserError):
        service.rate(0, 10, 4.0)
    assert service.store.events().empty


def test_rate_accepts_strings_on_the_scale(service):
    movie = rec_ids(service.recommend(1, k=1))[0]
    assert service.rate(1, movie, " 3.5 ") == 3.5
    assert service.user_ratings(1)[0].rating == 3.5


def test_rate_stores_durably_before_any_model_work(service, state_dir, monkeypatch):
    import tui_recommender.app.live_model as live_model

    def no_model_work(*_args, **_kwargs):
        raise AssertionError("rate() must not touch the model")

    # the model's work since ratings became incremental: a user's row, then the catch-up
    for name in ("shifted_row", "folded_in_row", "caught_up"):
        monkeypatch.setattr(live_model, name, no_model_work)
    monkeypatch.setattr(LightGCN, "propagate", no_model_work)
    movie = rec_ids(service.recommend(1, k=1))[0]
    assert service.rate(1, movie, 4.5) == 4.5
    with RatingsStore(state_dir / DATASET_NAME / RATINGS_DB_NAME) as fresh:
        events = fresh.events()
    assert events[["userId", "movieId", "rating"]].values.tolist() == [[1, movie, 4.5]]
    assert service.pending_updates() == 1
    # Visible at once, before any update: the movie is no longer recommended.
    assert movie not in rec_ids(service.recommend(1, k=ALL))
    assert service.user_ratings(1)[0].movie.movie_id == movie


def test_update_model_applies_pending_ratings_and_changes_the_users_scores(service):
    before = {r.movie.movie_id: r.model_score for r in service.recommend(1, k=ALL)}
    first, second = list(before)[:2]
    service.rate(1, first, 5.0)
    service.rate(1, second, 5.0)
    service.rate(1, second, 4.5)  # coalesced with the one before
    assert service.pending_updates() == 3
    report = service.update_model()
    assert report.n_ratings == 2 and not report.cancelled
    assert service.pending_updates() == 0
    assert has_edge(service, 1, first) and has_edge(service, 1, second)
    after = {r.movie.movie_id: r.model_score for r in service.recommend(1, k=ALL)}
    common = sorted(set(before) & set(after))
    assert len(common) == len(before) - 2
    assert max(abs(after[m] - before[m]) for m in common) > 1e-3
    assert service.update_model().n_ratings == 0


def test_update_model_honours_should_stop(service):
    movie = rec_ids(service.recommend(1, k=1))[0]
    service.rate(1, movie, 5.0)
    report = service.update_model(should_stop=lambda: True)
    assert report.cancelled and report.n_ratings == 1
    assert service.recommend(1, k=5)  # still consistent


# ---- new users -------------------------------------------------------------------------


def test_new_user_gets_popular_movies_then_recommendations_driven_by_their_ratings(service):
    user = service.create_user()
    assert user == 41 and service.user_exists(user)
    ratings = service.data.ratings
    counts = ratings[ratings["rating"] >= 3].groupby("movieId").size()
    counts = counts.reindex(service.data.movies.index, fill_value=0)
    recs = service.recommend(user, k=10)
    assert [r.model_score for r in recs] == [float(counts[m]) for m in rec_ids(recs)]
    assert rec_ids(recs)[0] == counts.idxmax()
    assert counts.drop(rec_ids(recs)).max() <= min(r.model_score for r in recs)

    horror = movies_with(service, "Horror")
    for movie in horror[:5]:
        service.rate(user, movie, 5.0)
    base_rate = (len(horror) - 5) / (len(service.data.movies) - 5)

    def horror_share() -> float:
        top = service.recommend(user, k=10)
        assert not set(rec_ids(top)) & set(horror[:5])
        return sum("Horror" in r.movie.genres for r in top) / 10

    folded_in = horror_share()  # before any model update: the mean of the liked movies
    assert folded_in >= 0.6 > base_rate + 0.15, (folded_in, base_rate)
    service.update_model()
    assert has_edge(service, user, horror[0])
    assert horror_share() >= 0.6
    because = {r.because for r in service.recommend(user, k=10)}
    assert because <= {service.movie(m).title for m in horror[:5]}


def test_rating_below_three_removes_an_existing_edge(service):
    liked = [m for m, r in dataset_ratings(service, 1).items() if r >= 3]
    movie = liked[0]
    positives = model_positives(service, 1)
    assert has_edge(service, 1, movie)
    service.rate(1, movie, 1.5)
    service.update_model()
    assert not has_edge(service, 1, movie)
    assert model_positives(service, 1) == positives - {movie}
    assert {r.movie.movie_id: r.rating for r in service.user_ratings(1)}[movie] == 1.5
    assert movie not in rec_ids(service.recommend(1, k=ALL))


def test_remove_rating_hides_a_dataset_rating_also_after_reopening(trained_model, service, small_data, state_dir):
    movie = next(m for m, r in dataset_ratings(service, 1).items() if r >= 3)
    service.remove_rating(1, movie)
    assert movie not in {r.movie.movie_id for r in service.user_ratings(1)}
    assert movie in rec_ids(service.recommend(1, k=ALL))
    with pytest.raises(UserError):
        service.remove_rating(1, movie)
    service.close()
    again = trained_model.open_service(small_data, state_dir)
    try:
        assert movie not in {r.movie.movie_id for r in again.user_ratings(1)}
        assert movie in rec_ids(again.recommend(1, k=ALL))
        assert not has_edge(again, 1, movie)
    finally:
        again.close()


# ---- saving and reopening --------------------------------------------------------------


def assert_final_is_propagated_ego(service, ck, recs_of_user_1) -> None:
    """What ranking reads after a fine-tune is exactly mean_k A^k E0 over the new graph."""
    ratings = merge_ratings(service.data.ratings, service.store.events())
    graph = Interactions.build(ratings, service.data.movies.index.to_numpy(), ck.user_ids).graph
    model = LightGCN(graph.n_users, graph.n_items, ck.ego.shape[1], ck.config.n_layers)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.from_numpy(ck.ego))
        final = model.propagate(graph.normalized_adjacency()).numpy()
    np.testing.assert_allclose(ck.final, final, rtol=1e-4, atol=1e-5)
    user_row = int(np.flatnonzero(ck.user_ids == 1)[0])
    rows = ck.n_users + np.searchsorted(ck.item_ids, rec_ids(recs_of_user_1))
    expected = ranked_as_served(service, 1, final[rows] @ final[user_row], final[rows])
    np.testing.assert_allclose([r.model_score for r in recs_of_user_1], expected, rtol=1e-4, atol=1e-5)


def test_save_then_reopen_loads_the_fine_tuned_state(trained_model, service, small_data, state_dir):
    assert service.model_source.kind == SourceKind.SHIPPED
    new_user = service.create_user()
    for movie in movies_with(service, "Comedy")[:3]:
        service.rate(new_user, movie, 4.5)
    service.rate(1, rec_ids(service.recommend(1, k=1))[0], 5.0)
    service.update_model()
    path = service.save()
    assert path == state_dir / DATASET_NAME / CHECKPOINT_NAME
    before = {user: service.recommend(user, k=20) for user in (1, 7, new_user)}
    assert_final_is_propagated_ego(service, load_checkpoint(path), before[1])
    service.close()
    again = trained_model.open_service(small_data, state_dir)
    try:
        assert again.model_source.kind == SourceKind.STATE
        assert again.pending_updates() == 0
        for user, recs in before.items():
            after = again.recommend(user, k=20)
            assert rec_ids(after) == rec_ids(recs), user
            assert [r.model_score for r in after] == pytest.approx([r.model_score for r in recs], rel=1e-6, abs=1e-7)
    finally:
        again.close()


def test_stored_ratings_are_merged_on_reopen_without_a_saved_checkpoint(trained_model, service, small_data, state_dir):
    movie = rec_ids(service.recommend(1, k=1))[0]
    service.rate(1, movie, 5.0)
    new_user = service.create_user()
    drama = movies_with(service, "Drama")[:3]
    for m in drama:
        service.rate(new_user, m, 4.0)
    service.close()  # no update_model, no save: the checkpoint knows none of this

    again = trained_model.open_service(small_data, state_dir)
    try:
        assert again.model_source.kind == SourceKind.SHIPPED
        assert {r.movie.movie_id: r.rating for r in again.user_ratings(1)}[movie] == 5.0
        assert movie not in rec_ids(again.recommend(1, k=ALL))
        assert again.user_exists(new_user)
        assert {r.movie.movie_id for r in again.user_ratings(new_user)} == set(drama)
        recs = again.recommend(new_user, k=10)
        assert len(recs) == 10 and not set(rec_ids(recs)) & set(drama)
        assert again.pending_updates() == 4
        again.update_model()
        assert again.pending_updates() == 0
        assert has_edge(again, 1, movie) and all(has_edge(again, new_user, m) for m in drama)
    finally:
        again.close()


def test_profile_without_ratings_survives_reopening(trained_model, service, small_data, state_dir):
    user = service.create_user()
    service.close()
    again = trained_model.open_service(small_data, state_dir)
    try:
        assert again.user_exists(user)
        assert len(again.recommend(user, k=5)) == 5
        assert again.next_user_id() == user + 1
    finally:
        again.close()


def test_novelty_dial_is_saved_per_profile_and_survives_reopening(trained_model, service, small_data, state_dir):
    popular = rec_ids(service.recommend(5, k=10))
    assert service.novelty_of(5) == service.settings.novelty == 0.0
    assert service.set_novelty(5, "0.75") == 0.75
    niche = rec_ids(service.recommend(5, k=10))
    assert niche != popular
    assert rec_ids(service.recommend(5, k=10, novelty=0)) == popular  # a one-off value wins
    assert service.novelty_of(6) == 0.0  # other profiles keep theirs
    for bad in ("1.5", "-1", "much", "nan"):
        with pytest.raises(UserError, match="novelty"):
            service.set_novelty(5, bad)
        with pytest.raises(UserError, match="novelty"):
            service.recommend(5, novelty=bad)
    service.close()
    again = trained_model.open_service(small_data, state_dir)
    try:
        assert again.novelty_of(5) == 0.75
        assert rec_ids(again.recommend(5, k=10)) == niche
    finally:
        again.close()


# ---- threads ---------------------------------------------------------------------------


def test_ratings_from_ten_threads_all_land_and_reach_the_model(service, state_dir):
    unrated = {user: rec_ids(service.recommend(user, k=5)) for user in (1, 2)}
    jobs = [(1 + i % 2, unrated[1 + i % 2][i // 2]) for i in range(10)]
    barrier = threading.Barrier(len(jobs))
    errors = []

    def rate(user: int, movie: int) -> None:
        try:
            barrier.wait()
            service.rate(user, movie, 4.0)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=rate, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with RatingsStore(state_dir / DATASET_NAME / RATINGS_DB_NAME) as fresh:
        stored = set(map(tuple, fresh.events()[["userId", "movieId"]].values.tolist()))
    assert stored == set(jobs)
    assert service.pending_updates() == 10
    assert service.update_model().n_ratings == 10
    assert all(has_edge(service, user, movie) for user, movie in jobs)
    assert service.pending_updates() == 0


def test_recommend_during_a_concurrent_update_is_consistent(service):
    new_user = service.create_user()
    for movie in movies_with(service, "Romance")[:3]:
        service.rate(new_user, movie, 5.0)
    for movie in rec_ids(service.recommend(1, k=3)):
        service.rate(1, movie, 4.0)
    rated = {user: {r.movie.movie_id for r in service.user_ratings(user)} for user in (1, 3, new_user)}
    done = threading.Event()
    errors, checked = [], []

    def update() -> None:
        try:
            service.update_model()
        except Exception as error:
            errors.append(error)
        finally:
            done.set()

    def read() -> None:
        try:
            while not done.is_set() or len(checked) < 20:
                for user in (1, 3, new_user):
                    recs = service.recommend(user, k=10)
                    assert_well_formed(recs, 10, rated[user])
                    drama = service.recommend(user, genres=["Drama"], k=5, offset=2)
                    assert_well_formed(drama, 5, rated[user], offset=2)
                    assert all("Drama" in r.movie.genres for r in drama)
                checked.append(1)
        except Exception as error:
            errors.append(error)
            done.set()

    threads = [threading.Thread(target=update), threading.Thread(target=read), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(checked) >= 20


def test_concurrent_updates_apply_each_rating_once(service):
    for movie in rec_ids(service.recommend(1, k=3)):
        service.rate(1, movie, 5.0)
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(service.update_model())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.n_ratings for r in reports) == [0, 3]
    assert service.pending_updates() == 0


def test_summary_of_a_user(service):
    summary = service.user_summary(1)
    ratings = dataset_ratings(service, 1)
    assert summary.n_ratings == len(ratings)
    assert summary.mean_rating == pytest.approx(round(float(np.mean(list(ratings.values()))), 2))
    liked_genres = pd.Series([g for m, r in ratings.items() if r >= 3 for g in service.movie(m).genres]).value_counts()
    assert summary.top_genres[0] in liked_genres[liked_genres == liked_genres.max()].index
