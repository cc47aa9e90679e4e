"""What the app shows about movies: display titles, title search, the match score, the
detail view's facts (ratings, tags, links) and the model label."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.synthetic import movie_title
from tui_recommender.app.service import RecommenderService
from tui_recommender.data.movielens import load_links, load_tags

ALL = 1000  # more than the 80 movies: "every candidate"


@pytest.fixture
def service(trained_model, small_data, state_dir):
    svc = trained_model.open_service(small_data, state_dir)
    yield svc
    svc.close()


def test_titles_show_their_article_in_front_and_search_finds_them_either_way(service):
    # tests.synthetic files every 7th title with the article at the end: "Star River 40, The"
    assert service.data.movies.loc[40, "title"] == f"{movie_title(40)}, The"
    assert service.movie(40).title == f"The {movie_title(40)}"
    for query in ("the star river 40", "star river 40", "THE  Star"):
        assert 40 in [m.movie_id for m in service.search_movies(query)], query
    shown = [m.title for m in service.search_movies("star")] + [r.movie.title for r in service.recommend(1, k=50)]
    assert not [title for title in shown if title.endswith(", The")]


def test_the_score_is_the_share_of_candidates_ranked_at_or_below_and_falls_down_every_list(service):
    """The calibrated head ranks some movies above better-scored ones: the score shown is the
    list's own, so it never rises down a list, a later page or a genre filter."""
    everything = service.recommend(1, k=ALL)
    model_scores = [r.model_score for r in everything]
    assert model_scores != sorted(model_scores, reverse=True), "calibration must reorder for this test to mean anything"
    n = len(everything)
    assert [r.score for r in everything] == pytest.approx([100.0 * (n - i) / n for i in range(n)])
    assert all(r.match == pytest.approx(r.score / 100) for r in everything)
    first = service.recommend(1, k=20)
    later = service.recommend(1, k=5, offset=20)  # the same scale on every page
    assert [r.score for r in first + later] == [r.score for r in everything[:25]]
    genre = first[0].movie.genres[0]
    filtered = service.recommend(1, genres=[genre], k=20)
    shown = [r.score_text for r in filtered]
    assert [r.score for r in filtered] == sorted((r.score for r in filtered), reverse=True)
    assert [float(t.rstrip("%")) for t in shown] == sorted((float(t.rstrip("%")) for t in shown), reverse=True)
    assert everything[0].score_text == "100%"

    new = service.create_user()
    assert all(r.match is None for r in service.recommend(new, k=5))


def test_score_text_rounds_down_so_no_movie_shows_more_than_the_one_above(service):
    rec = service.recommend(1, k=1)[0]
    shown = {score: replace(rec, score=score).score_text for score in (100.0, 99.99, 99.9, 99.95, 5.0, 0.04)}
    assert shown == {100.0: "100%", 99.99: "99.9%", 99.9: "99.9%", 99.95: "99.9%", 5.0: "5.0%", 0.04: "0.0%"}


def test_summary_counts_liked_ratings_so_the_app_can_say_why_it_shows_popular_movies(service):
    user = service.create_user()
    service.rate(user, 10, 1.0)
    service.rate(user, 20, 2.0)
    summary = service.user_summary(user)
    assert (summary.n_ratings, summary.n_liked, summary.like_threshold) == (2, 0, 3.0)
    assert all(r.match is None for r in service.recommend(user, k=3))
    service.rate(user, 30, 4.5)
    assert service.user_summary(user).n_liked == 1
    assert all(r.match is not None for r in service.recommend(user, k=3))


def test_details_of_a_movie(service):
    rated = service.user_ratings(1)[0]
    details = service.movie_details(1, rated.movie.movie_id)
    assert details.movie == rated.movie
    assert details.your_rating == rated.rating
    assert details.because is None  # no "because you liked" for a movie you rated
    column = service.data.ratings.loc[service.data.ratings["movieId"] == rated.movie.movie_id, "rating"]
    assert details.facts.n_ratings == len(column)
    assert details.facts.mean_rating == pytest.approx(float(column.mean()), abs=0.01)
    # The generated data has no tags.csv or links.csv.
    assert details.facts.tags == () and details.facts.imdb_url is None and details.facts.tmdb_url is None

    unrated = service.recommend(1, k=1)[0]
    details = service.movie_details(1, unrated.movie.movie_id)
    assert details.your_rating is None
    assert details.because == unrated.because


def test_details_read_tags_and_links_where_the_dataset_has_them(trained_model, small_data, state_dir):
    (small_data / "links.csv").write_text("movieId,imdbId,tmdbId\n10,0114709,862\n20,0113497,\n")
    (small_data / "tags.csv").write_text(
        "userId,movieId,tag,timestamp\n1,10,pixar,1\n2,10,Pixar,2\n3,10,toys,3\n4,10, ,4\n1,20,jungle,5\n"
    )
    svc = trained_model.open_service(small_data, state_dir)
    try:
        facts = svc.movie_details(1, 10).facts
        assert facts.tags == ("pixar", "toys")  # most used first, case folded together, blanks dropped
        assert facts.imdb_url == "https://www.imdb.com/title/tt0114709/"
        assert facts.tmdb_url == "https://www.themoviedb.org/movie/862"
        facts = svc.movie_details(1, 20).facts
        assert facts.tmdb_url is None and facts.tags == ("jungle",)
        assert svc.movie_details(1, 30).facts.imdb_url is None
    finally:
        svc.close()


def test_links_and_tags_of_the_real_dataset(ml_latest_small: Path):
    links, tags = load_links(ml_latest_small), load_tags(ml_latest_small)
    assert links is not None and tags is not None
    assert links.loc[1, "imdbId"] == "0114709" and links.loc[1, "tmdbId"] == 862
    assert len(tags) > 3000 and (tags["tag"] != "").all()


def test_model_label_says_what_the_model_has_learnt(trained_model, service: RecommenderService, small_data, state_dir):
    assert service.model_label == "shipped weights"
    user = service.create_user()
    service.rate(user, 10, 5.0)
    service.update_model()
    assert service.model_label == "shipped weights + 1 rating learnt"
    service.rate(user, 20, 4.0)
    service.remove_rating(user, 20)  # a rating undone is no rating learnt
    kept = service.user_ratings(1)[0]
    service.rate(1, kept.movie.movie_id, kept.rating)  # nor one re-rated with the value it had
    service.update_model()
    assert service.model_label == "shipped weights + 1 rating learnt"
    service.save()
    again = trained_model.open_service(small_data, state_dir)
    try:
        assert again.model_label == "fine-tuned on 1 rating"
    finally:
        again.close()


def test_a_saved_state_that_learnt_nothing_does_not_claim_to_be_fine_tuned(
    trained_model, service, small_data, state_dir
):
    service.save()
    again = trained_model.open_service(small_data, state_dir)
    try:
        assert again.model_label == "saved state, nothing learnt yet"
    finally:
        again.close()


def test_rate_with_an_old_timestamp_restores_a_rating_as_it_was(service):
    movie, (stars, stamp) = next(iter(service.ratings.of(1).items()))
    service.remove_rating(1, movie)
    assert service.rating_of(1, movie) is None
    service.rate(1, movie, stars, timestamp=stamp)
    assert service.rating_of(1, movie) == (stars, stamp)


def test_a_placeholder_title_shows_as_no_title(small_data: Path):
    from tui_recommender.app.catalogue import Catalogue
    from tui_recommender.core.titles import NO_TITLE
    from tui_recommender.data.movielens import load_dataset

    movies = small_data / "movies.csv"
    lines = movies.read_text().splitlines()
    lines[1] = "10,unknown,Action"  # ml-100k's movie 267 is titled like this
    movies.write_text("\n".join(lines) + "\n")
    catalogue = Catalogue(load_dataset(small_data))
    assert catalogue.movie(10).title == NO_TITLE == "(no title)"
    assert 10 not in [m.movie_id for m in catalogue.search("unknown", np.zeros(len(catalogue)))]
