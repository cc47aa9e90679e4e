"""Watchlist, "not interested" and imports through the service, on the generated
`small_data` (titles like "Star Night 10", no links.csv: matched by title and year)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from tests.synthetic import movie_title
from tests.trained_model import model_positives
from tui_recommender.app.service import NOT_INTERESTED, WATCHLIST
from tui_recommender.core.errors import DataError, UnknownUserError, UserError
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.fine_tuning import FineTuneConfig, fine_tune
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.storage.export_files import export_ratings

ALL = 1000
LETTERBOXD_HEADER = "Date,Name,Year,Letterboxd URI,Rating"


@pytest.fixture
def service(trained_model, small_data, state_dir):
    svc = trained_model.open_service(small_data, state_dir)
    yield svc
    svc.close()


def rec_ids(service, user: int) -> list[int]:
    return [r.movie.movie_id for r in service.recommend(user, k=ALL)]


def listed_ids(service, user: int, list_name: str) -> list[int]:
    return [entry.movie.movie_id for entry in service.listed(user, list_name)]


def letterboxd_line(service, movie_id: int, stars: str, date: str = "2024-01-01") -> str:
    """A Letterboxd row for a movie of `small_data`, written as people write it."""
    movie = service.movie(movie_id)
    title = movie_title(movie_id)
    name = f'"The {title}"' if movie.title.endswith(", The") else title
    return f"{date},{name},{movie.year},https://boxd.it/x{movie_id},{stars}"


# ---- lists -----------------------------------------------------------------------------


def test_watchlist_is_durable_newest_first_and_a_rating_takes_a_movie_off(
    trained_model, service, small_data, state_dir
):
    first, second, third = rec_ids(service, 1)[:3]
    service.add_to_list(1, first, WATCHLIST)
    service.add_to_list(1, second, WATCHLIST)
    service.add_to_list(1, third, WATCHLIST)
    service.rate(1, second, 4.0)
    assert service.remove_from_list(1, third, WATCHLIST)
    assert not service.remove_from_list(1, third, WATCHLIST)
    service.close()
    reopened = trained_model.open_service(small_data, state_dir)
    try:
        assert listed_ids(reopened, 1, WATCHLIST) == [first]
        assert first in rec_ids(reopened, 1)  # on the watchlist, still recommended
    finally:
        reopened.close()


def test_not_interested_leaves_the_recommendations_for_good_and_can_be_undone(
    trained_model, service, small_data, state_dir
):
    top = rec_ids(service, 1)[0]
    service.add_to_list(1, top, WATCHLIST)
    service.add_to_list(1, top, NOT_INTERESTED)
    assert top not in rec_ids(service, 1)
    assert listed_ids(service, 1, WATCHLIST) == []  # one list at a time
    service.close()
    reopened = trained_model.open_service(small_data, state_dir)
    try:
        assert top not in rec_ids(reopened, 1)
        assert reopened.remove_from_list(1, top, NOT_INTERESTED)
        assert rec_ids(reopened, 1)[0] == top
    finally:
        reopened.close()


def test_a_rated_movie_cannot_be_not_interested_and_unknown_users_are_refused(service):
    rated = service.user_ratings(1)[0].movie.movie_id
    with pytest.raises(UserError, match="remove the rating"):
        service.add_to_list(1, rated, NOT_INTERESTED)
    with pytest.raises(UnknownUserError):
        service.add_to_list(9999, rated, WATCHLIST)
    with pytest.raises(UserError, match="unknown list"):
        service.add_to_list(1, rated, "favourites")


@pytest.mark.parametrize("user", [1, None])  # a user the training learnt, a new one
def test_not_interested_is_a_negative_in_the_users_next_update(service, monkeypatch, user):
    import tui_recommender.app.live_model as live_model

    user = service.create_user() if user is None else user
    skipped, liked = rec_ids(service, user)[:2]
    service.add_to_list(user, skipped, NOT_INTERESTED)
    service.rate(user, liked, 5.0)
    seen = []

    def spy(original):
        def rows(*args, **kwargs):
            seen.append(args[4] if len(args) > 4 else kwargs.get("disliked"))  # the fifth in both
            return original(*args, **kwargs)

        return rows

    for name in ("shifted_row", "folded_in_row"):
        monkeypatch.setattr(live_model, name, spy(getattr(live_model, name)))
    service.update_model()
    (items,) = seen
    assert service.catalogue.items.raw_ids[items].tolist() == [skipped]


def test_disliked_items_are_pushed_down_by_the_fine_tune() -> None:
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 30, 400), rng.integers(0, 50, 400)
    graph = InteractionGraph.from_pairs(30, 50, users, items)
    adj = graph.normalized_adjacency()
    user = int(graph.users[0])
    disliked_item = int(np.setdiff1d(np.arange(50), graph.items[graph.users == user])[0])

    def score_after(disliked) -> float:
        torch.manual_seed(0)
        model = LightGCN(30, 50, 16, 2)
        fine_tune(
            model,
            adj,
            graph,
            np.array([user]),
            FineTuneConfig(steps=20, lr=0.05),
            np.random.default_rng(1),
            disliked=disliked,
        )
        with torch.no_grad():
            final = model.propagate(adj)
        return float(final[user] @ final[30 + disliked_item])

    assert score_after((np.array([user]), np.array([disliked_item]))) < score_after(None) - 1e-3


# ---- imports ---------------------------------------------------------------------------


def test_an_import_is_stored_at_once_and_learnt_in_one_update(service, tmp_path):
    movies = service.data.movies.index[:12].tolist()
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join([LETTERBOXD_HEADER, *(letterboxd_line(service, m, "4.5") for m in movies)]) + "\n")
    plan = service.read_import(path, 500)
    assert sorted(plan.ratings["movieId"]) == sorted(movies) and not plan.unmatched
    assert service.apply_import(plan) == 12
    assert service.user_exists(500)
    assert {r.movie.movie_id for r in service.user_ratings(500)} == set(movies)
    assert service.pending_updates() == 12
    report = service.update_model()
    assert report.n_ratings == 12 and service.pending_updates() == 0
    assert set(movies) <= model_positives(service, 500)


def test_a_later_import_overrides_an_earlier_rating_and_takes_movies_off_the_lists(service, tmp_path):
    movie, other = service.data.movies.index[:2].tolist()
    service.create_user(500)
    service.add_to_list(500, other, WATCHLIST)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(f"{LETTERBOXD_HEADER}\n{letterboxd_line(service, movie, '1')}\n")
    second.write_text(
        f"{LETTERBOXD_HEADER}\n{letterboxd_line(service, movie, '5')}\n{letterboxd_line(service, other, '3')}\n"
    )
    service.apply_import(service.read_import(first, 500))
    service.apply_import(service.read_import(second, 500))
    assert {r.movie.movie_id: r.rating for r in service.user_ratings(500)} == {movie: 5.0, other: 3.0}
    assert listed_ids(service, 500, WATCHLIST) == []


def test_a_malformed_file_stores_nothing(service, tmp_path):
    movie = service.data.movies.index[0]
    path = tmp_path / "ratings.csv"
    path.write_text(f"{LETTERBOXD_HEADER}\n{letterboxd_line(service, movie, '4')}\n2024-01-01,Alien,1979,u,7\n")
    with pytest.raises(DataError, match="line 3"):
        service.read_import(path, 500)
    assert service.store.last_seq() == 0 and not service.user_exists(500)


def test_own_export_carries_the_lists_into_another_state(trained_model, service, small_data, tmp_path):
    watch, skip = rec_ids(service, 1)[:2]
    service.rate(1, watch, 4.0)
    service.add_to_list(1, skip, NOT_INTERESTED)
    for fmt in ("csv", "json"):
        out = io.StringIO()
        export_ratings(service.store, out, fmt)
        path = tmp_path / f"mine.{fmt}"
        path.write_text(out.getvalue())
        other = trained_model.open_service(small_data, tmp_path / f"other-{fmt}")
        try:
            plan = other.read_import(path)
            other.apply_import(plan)
            assert listed_ids(other, 1, NOT_INTERESTED) == [skip]
            assert skip not in rec_ids(other, 1)
            assert {r.movie.movie_id: r.rating for r in other.user_ratings(1)}[watch] == 4.0
        finally:
            other.close()
