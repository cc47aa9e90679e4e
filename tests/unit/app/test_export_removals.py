"""A removed dataset rating survives `ratings export` and `ratings import` (issue 10)."""

from __future__ import annotations

import io

from tui_recommender.app.jobs import export_ratings


def test_a_removed_dataset_rating_is_exported_and_hidden_again_on_import(trained_model, small_data, tmp_path):
    first_state, second_state = tmp_path / "first", tmp_path / "second"
    service = trained_model.open_service(small_data, first_state)
    try:
        movie = service.user_ratings(1)[0].movie.movie_id  # a rating from the dataset's file
        service.remove_rating(1, movie)
        service.rate(1, 10 if movie != 10 else 20, 4.5)
        kept = {r.movie.movie_id: r.rating for r in service.user_ratings(1)}
    finally:
        service.close()
    out = io.StringIO()
    assert (
        export_ratings(trained_model.shipped_settings(small_data, first_state), out) == 1
    )  # the rating; the removal rides along
    path = tmp_path / "mine.csv"
    path.write_text(out.getvalue())
    assert f"1,{movie},removed," in out.getvalue()

    again = trained_model.open_service(small_data, second_state)
    try:
        assert movie in {r.movie.movie_id for r in again.user_ratings(1)}  # a fresh state has the dataset's rating
        again.apply_import(again.read_import(path))
        assert {r.movie.movie_id: r.rating for r in again.user_ratings(1)} == kept
    finally:
        again.close()
    reopened = trained_model.open_service(small_data, second_state)
    try:
        assert {r.movie.movie_id: r.rating for r in reopened.user_ratings(1)} == kept  # durably
    finally:
        reopened.close()
