"""A DataTable of movies, one row per movie (keyed by movie ID), that rates the highlighted
movie from the keyboard. Recommendations, search results and history all use it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui_recommender.core.list_names import NOT_INTERESTED, WATCHLIST
from tui_recommender.core.text import inert
from tui_recommender.tui.components.list_keys import list_keys
from tui_recommender.tui.messages import DetailsRequested, ListChangeRequested, RatingPromptRequested, RatingRequested

if TYPE_CHECKING:
    from tui_recommender.app.service import Movie

RATED_COLUMN = "rated"
LISTED_COLUMN = "listed"  # the list a movie is on: the key that puts it there
LIST_MARKS = {WATCHLIST: "w", NOT_INTERESTED: "x"}
# Shift+digit as most terminals send it (US layout): the key names of ! @ # $ %.
_SHIFTED_DIGITS = ("exclamation_mark", "at", "number_sign", "dollar_sign", "percent_sign")


def rating_text(rating: float | None) -> str:
    """How a rating shows in a table: `4.5★`, or nothing."""
    return "" if rating is None else f"{rating:g}★"


def listed_text(list_name: str | None) -> str:
    """How the list a movie is on shows in a table: `w` (watchlist), `x` (not interested)."""
    return LIST_MARKS.get(list_name or "", "")


def date_text(timestamp: int) -> str:
    """How a date (seconds since the epoch) shows in a table: local `YYYY-MM-DD`."""
    return time.strftime("%Y-%m-%d", time.localtime(timestamp))


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
        Binding("r", "rate_prompt", "Rate…", show=False, id="rate-prompt", tooltip="Type any rating on the scale")
    )
    bindings.append(
        Binding("enter,i", "details", "Details", id="details", tooltip="Everything about the highlighted movie")
    )
    bindings += [
        Binding(
            "w",
            f"toggle_list('{WATCHLIST}')",
            "Watchlist",
            show=False,
            id="watchlist",
            tooltip="Put the highlighted movie on your watchlist, or take it off",
        ),
        Binding(
            "x",
            f"toggle_list('{NOT_INTERESTED}')",
            "Not interested",
            show=False,
            id="not-interested",
            tooltip="Never recommend the highlighted movie (x again undoes)",
        ),
    ]
    return bindings


@dataclass(frozen=True)
class Column:
    """One column of a `MovieTable`. Fixed columns have a `width`; the others share what is
    left: each gets its `minimum`, then the rest by `share` up to its `maximum` (0: none),
    and the first column without a maximum (the title) takes whatever remains. An
    `optional` column shows only where it leaves the others twice its minimum."""

    key: str
    label: str
    width: int = 0  # cells, without padding; 0: flexible
    share: int = 0
    minimum: int = 0
    maximum: int = 0
    justify: Literal["left", "right"] = "left"
    optional: bool = False


def fit_widths(columns: Sequence[Column], available: int, padding: int = 1) -> dict[str, int]:
    """Each column's width in cells for a table `available` cells wide (see `Column`); a
    hidden optional column gets 0, and so do the flexible columns after the first (last
    first) where the table is too narrow for every minimum (a 40-column terminal)."""
    widths = {c.key: c.width for c in columns if c.width}
    free = available - sum(widths.values()) - 2 * padding * len(columns)
    required = [c for c in columns if not c.width and not c.optional]
    free -= sum(c.minimum for c in required)
    while free < 0 and len(required) > 1:
        dropped = required.pop()
        widths[dropped.key] = 0
        free += dropped.minimum
    flexible = list(required)
    for column in columns:
        if column.optional:
            shown = free >= 3 * column.minimum
            widths[column.key] = column.minimum if shown else 0
            free -= widths[column.key]
            if shown:
                flexible.append(column)
    for column in required:
        widths[column.key] = column.minimum
    shares = sum(c.share for c in flexible)
    rest = max(free, 0)
    for column in flexible:
        extra = rest * column.share // shares if shares else 0
        if column.maximum:
            extra = min(extra, max(column.maximum - widths[column.key], 0))
        widths[column.key] += extra
        free -= extra
    taker = next((c for c in flexible if not c.maximum), None)
    if taker is not None:
        widths[taker.key] = max(widths[taker.key] + free, 1)
    return widths


class MovieTable(DataTable):
    """Rows are keyed by `str(movie_id)`; `movies` maps IDs back to `Movie`s. Its columns
    fill the table's width whatever the terminal's (see `Column`); cut text ends with `…`."""

    BINDINGS = _rating_bindings() + list_keys("cursor_down", "cursor_up", "scroll_top", "scroll_bottom")

    def __init__(self, columns: Sequence[Column], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.column_specs = tuple(columns)
        self.movies: dict[int, Movie] = {}

    def on_mount(self) -> None:
        for column in self.column_specs:
            self.add_column(Text(column.label, justify=column.justify), width=column.width or 1, key=column.key)
        self._fit_columns()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        # One cell stays free for the vertical scrollbar, so columns do not jump when it shows.
        available = self.size.width - self.styles.scrollbar_size_vertical
        if available <= 0:
            return
        for key, width in fit_widths(self.column_specs, available, self.cell_padding).items():
            column = self.columns[key]  # type: ignore[index]
            column.width, column.auto_width = width, False
        # DataTable has no public call to re-measure columns: this flag is what add_column sets.
        self._require_update_dimensions = True
        self.refresh()

    def watch_loading(self, loading: bool) -> None:
        # A loading widget takes no keys: have the footer show (or hide) ours again.
        self.refresh_bindings()

    @property
    def highlighted_movie(self) -> Movie | None:
        if self.row_count == 0:
            return None
        row_key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        return self.movies.get(int(row_key.value or 0))

    def _cell(self, column: Column, value: object) -> Text:
        # Plain text, control characters shown as escapes: a title never acts on the terminal.
        # A `Text` keeps its style (never its markup: it is rebuilt from its plain text).
        text = Text(inert(value.plain), style=value.style) if isinstance(value, Text) else Text(inert(str(value)))
        text.no_wrap, text.overflow, text.justify = True, "ellipsis", column.justify
        return text

    def add_movie(self, movie: Movie, *cells: object) -> None:
        """Append a row; `cells` in column order (shown as plain text, never markup)."""
        self.movies[movie.movie_id] = movie
        self.add_row(*(self._cell(c, v) for c, v in zip(self.column_specs, cells)), key=str(movie.movie_id))

    def set_cell(self, movie_id: int, column_key: str, value: object) -> None:
        column = next(c for c in self.column_specs if c.key == column_key)
        self.update_cell(str(movie_id), column_key, self._cell(column, value))

    def has_movie(self, movie_id: int) -> bool:
        return str(movie_id) in self.rows

    def remove_movie(self, movie_id: int) -> None:
        if self.has_movie(movie_id):
            self.remove_row(str(movie_id))
        self.movies.pop(movie_id, None)

    def clear_movies(self) -> None:
        self.clear()
        self.movies.clear()

    def show_rating(self, movie_id: int, rating: float | None, unrated: str = "") -> None:
        """Mark a row as rated (or, with `unrated` in its place, not) without a reload."""
        if self.has_movie(movie_id) and RATED_COLUMN in self.columns:
            self.set_cell(movie_id, RATED_COLUMN, rating_text(rating) or unrated)

    def show_listed(self, movie_id: int, list_name: str | None) -> None:
        """Mark a row with the list it is on now (None: none)."""
        if self.has_movie(movie_id) and LISTED_COLUMN in self.columns:
            self.set_cell(movie_id, LISTED_COLUMN, listed_text(list_name))

    def _highlighted_or_warn(self) -> Movie | None:
        movie = self.highlighted_movie
        if movie is None:
            self.notify("No movie is highlighted.", severity="warning")
        return movie

    def action_rate(self, value: float) -> None:
        if (movie := self._highlighted_or_warn()) is not None:
            self.post_message(RatingRequested(movie, value))

    def action_toggle_list(self, list_name: str) -> None:
        movie = self.highlighted_movie
        if movie is None:
            self.notify("No movie is highlighted.", severity="warning")
            return
        self.post_message(ListChangeRequested(movie, list_name))

    def action_rate_prompt(self) -> None:
        if (movie := self._highlighted_or_warn()) is not None:
            self.post_message(RatingPromptRequested(movie))

    def action_details(self) -> None:
        if (movie := self._highlighted_or_warn()) is not None:
            self.post_message(DetailsRequested(movie))
