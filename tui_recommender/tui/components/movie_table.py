"""A DataTable of movies, one row per movie (keyed by movie ID), that rates the highlighted
movie from the keyboard. Recommendations, search results and history all use it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui_recommender.tui.messages import ListChangeRequested, RatingPromptRequested, RatingRequested
from tui_recommender.lists import NOT_INTERESTED, WATCHLIST

if TYPE_CHECKING:
    from tui_recommender.service import Movie

RATED_COLUMN = "rated"
# Shift+digit as most terminals send it (US layout): the key names of ! @ # $ %.
_SHIFTED_DIGITS = ("exclamation_mark", "at", "number_sign", "dollar_sign", "percent_sign")


def rating_text(rating: float | None) -> str:
    """How a rating shows in a table: `4.5★`, or nothing."""
    return "" if rating is None else f"{rating:g}★"


def _rating_bindings() -> list[Binding]:
    bindings = [
        Binding(
            str(stars),
            f"rate({stars})",
            "Rate",
            key_display="1-5",
            show=stars == 1,
            id=f"rate-{stars}",
            tooltip="Rate the highlighted movie 1 to 5 stars",
        )
        for stars in range(1, 6)
    ]
    # 0 is never on a scale; bound so that the service refuses it with a clear message.
    bindings.append(Binding("0", "rate(0)", "Rate", show=False, id="rate-0"))
    bindings += [
        Binding(
            f"{key},shift+{stars}",
            f"rate({stars - 0.5})",
            "Rate half",
            key_display="shift+1-5",
            show=False,
            id=f"rate-half-{stars}",
            tooltip="Rate half a star less: shift+1 is 0.5, shift+5 is 4.5 (half-star data only)",
        )
        for stars, key in enumerate(_SHIFTED_DIGITS, start=1)
    ]
    bindings.append(
        Binding("r", "rate_prompt", "Rate…", id="rate-prompt", tooltip="Type any rating on the scale")
    )
    bindings += [
        Binding("w", f"toggle_list('{WATCHLIST}')", "Watchlist", show=False, id="watchlist", tooltip="Put the highlighted movie on your watchlist, or take it off"),
        Binding("x", f"toggle_list('{NOT_INTERESTED}')", "Not interested", show=False, id="not-interested", tooltip="Never recommend the highlighted movie (x again undoes)"),
    ]
    return bindings


class MovieTable(DataTable):
    """Rows are keyed by `str(movie_id)`; `movies` maps IDs back to `Movie`s."""

    BINDINGS = _rating_bindings()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.movies: dict[int, Movie] = {}

    def watch_loading(self, loading: bool) -> None:
        # A loading widget takes no keys: have the footer show (or hide) ours again.
        self.refresh_bindings()

    @property
    def highlighted_movie(self) -> Movie | None:
        if self.row_count == 0:
            return None
        row_key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        return self.movies.get(int(row_key.value or 0))

    def add_movie(self, movie: Movie, *cells: object) -> None:
        self.movies[movie.movie_id] = movie
        self.add_row(*cells, key=str(movie.movie_id))

    def has_movie(self, movie_id: int) -> bool:
        return str(movie_id) in self.rows

    def remove_movie(self, movie_id: int) -> None:
        if self.has_movie(movie_id):
            self.remove_row(str(movie_id))
        self.movies.pop(movie_id, None)

    def clear_movies(self) -> None:
        self.clear()
        self.movies.clear()

    def show_rating(self, movie_id: int, rating: float | None) -> None:
        """Mark a row as rated (or not) at once, without waiting for a reload."""
        if self.has_movie(movie_id) and RATED_COLUMN in self.columns:
            self.update_cell(str(movie_id), RATED_COLUMN, rating_text(rating))

    def action_rate(self, value: float) -> None:
        movie = self.highlighted_movie
        if movie is None:
            self.notify("No movie is highlighted.", severity="warning")
            return
        self.post_message(RatingRequested(movie, value))

    def action_toggle_list(self, list_name: str) -> None:
        movie = self.highlighted_movie
        if movie is None:
            self.notify("No movie is highlighted.", severity="warning")
            return
        self.post_message(ListChangeRequested(movie, list_name))

    def action_rate_prompt(self) -> None:
        movie = self.highlighted_movie
        if movie is None:
            self.notify("No movie is highlighted.", severity="warning")
            return
        self.post_message(RatingPromptRequested(movie))
