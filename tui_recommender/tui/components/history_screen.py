"""The user's ratings in a sortable table: change one with the rating keys, remove one with
delete or backspace."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Label

from tui_recommender.core.titles import sort_key
from tui_recommender.tui.components.key_footer import KeyFooter
from tui_recommender.tui.components.movie_table import RATED_COLUMN, Column, MovieTable, date_text, rating_text
from tui_recommender.tui.components.status_bar import StatusBar
from tui_recommender.tui.messages import (
    HistoryFailed,
    HistoryLoaded,
    HistoryRequested,
    RatingRemovalRequested,
    RatingRemoved,
    RatingStored,
)

if TYPE_CHECKING:
    from tui_recommender.app.service import Movie

# Sortable column key -> (name, sort descending first?): newest and best first, titles A-Z.
SORTS = {"date": ("date", True), RATED_COLUMN: ("rating", True), "title": ("title", False)}
COLUMNS = (
    Column(RATED_COLUMN, "Rating", width=6, justify="right"),
    Column("title", "Title", share=3, minimum=12),
    Column("year", "Year", width=4),
    Column("date", "Rated on", width=10),
    Column("genres", "Genres", share=1, minimum=6, maximum=50),
)


class HistoryScreen(Screen[None]):
    AUTO_FOCUS = "#history"
    BINDINGS = [
        Binding("escape", "close", "Back", id="history-back", tooltip="Back to the recommendations"),
        Binding("delete,backspace", "remove", "Remove", id="history-remove", tooltip="Remove the highlighted rating"),
        Binding("s", "next_sort", "Sort", id="history-sort", tooltip="Sort by date, rating or title"),
        Binding("S,shift+s", "reverse_sort", "Reverse", show=False, id="history-reverse", tooltip="Reverse the order"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._sort = "date"
        self._reverse = True
        self._entries: dict[int, tuple[Movie, float, int]] = {}  # movie ID -> (movie, rating, timestamp)

    def compose(self) -> ComposeResult:
        yield Label("Your ratings: 1-5 changes one, delete removes it (ctrl+z undoes), s sorts", id="history-help")
        yield MovieTable(COLUMNS, id="history")
        yield Label(
            "No ratings yet. Rate movies with 1-5 in the recommendations or in search (/).",
            id="history-empty",
            classes="hint",
        )
        yield StatusBar()
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(MovieTable)
        table.border_title = "Your ratings"
        table.loading = True
        self.post_message(HistoryRequested(self))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self._entries = {r.movie.movie_id: (r.movie, r.rating, r.timestamp) for r in message.ratings}
        self.query_one(MovieTable).loading = False
        self._show()

    def _sort_key(self, entry: tuple[Movie, float, int]) -> object:
        movie, rating, timestamp = entry
        if self._sort == RATED_COLUMN:
            return (rating, timestamp)
        if self._sort == "title":
            return sort_key(movie.title)
        return timestamp

    def _show(self, top: bool = False) -> None:
        """Rebuild the rows in the current order: the cursor stays on the same movie, or
        goes to the first row when `top` (a new order is read from its start)."""
        table = self.query_one(MovieTable)
        keep = table.highlighted_movie
        row = table.cursor_row
        self.query_one("#history-empty").display = not self._entries
        table.display = bool(self._entries)
        table.clear_movies()
        for movie, rating, timestamp in sorted(self._entries.values(), key=self._sort_key, reverse=self._reverse):
            table.add_movie(
                movie,
                rating_text(rating),
                movie.title,
                str(movie.year or ""),
                date_text(timestamp),
                ", ".join(movie.genres),
            )
        if top:
            row = 0
        elif keep is not None and table.has_movie(keep.movie_id):
            row = table.get_row_index(str(keep.movie_id))
        table.move_cursor(row=min(row, max(table.row_count - 1, 0)), scroll=not top)
        if top:
            table.scroll_home(animate=False)
        name, _ = SORTS[self._sort]
        table.border_subtitle = f"{table.row_count} ratings · by {name} {'↓' if self._reverse else '↑'}"

    def sort_by(self, column: str) -> None:
        """Sort by `column`; sorting by the current column again reverses the order."""
        if column == self._sort:
            self._reverse = not self._reverse
        else:
            self._sort, self._reverse = column, SORTS[column][1]
        self._show(top=True)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.column_key.value in SORTS:
            self.sort_by(str(event.column_key.value))

    def action_next_sort(self) -> None:
        columns = list(SORTS)
        self.sort_by(columns[(columns.index(self._sort) + 1) % len(columns)])

    def action_reverse_sort(self) -> None:
        self.sort_by(self._sort)

    def on_rating_stored(self, message: RatingStored) -> None:
        self._entries[message.movie.movie_id] = (message.movie, message.rating, int(time.time()))
        self._show()

    def on_rating_removed(self, message: RatingRemoved) -> None:
        self._entries.pop(message.movie.movie_id, None)
        self._show()

    def on_history_failed(self, message: HistoryFailed) -> None:
        self.query_one(MovieTable).loading = False

    def action_remove(self) -> None:
        movie = self.query_one(MovieTable).highlighted_movie
        if movie is None:
            self.notify("No rating is highlighted.", severity="warning")
            return
        self.post_message(RatingRemovalRequested(movie))

    def action_close(self) -> None:
        self.dismiss()
