"""Your watchlist and your "not interested" list: rate a movie from here (which takes it
off the list), move it between the lists, or take it off."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Label

from tui_recommender.core.list_names import NOT_INTERESTED, WATCHLIST
from tui_recommender.tui.components.key_footer import KeyFooter
from tui_recommender.tui.components.movie_table import Column, MovieTable, date_text
from tui_recommender.tui.components.status_bar import StatusBar
from tui_recommender.tui.messages import (
    ListChanged,
    ListRemovalRequested,
    ListsFailed,
    ListsLoaded,
    ListsRequested,
    RatingsImported,
    RatingStored,
)

if TYPE_CHECKING:
    from tui_recommender.app.service import Movie

TITLES = {WATCHLIST: "Your watchlist", NOT_INTERESTED: "Not interested"}
HELP = {
    WATCHLIST: "Seen it? 1-5 rates it · delete takes it off · x not interested · l other list",
    NOT_INTERESTED: "Never recommended · delete (or x) takes one off · l: watchlist",
}


COLUMNS = (
    Column("title", "Title", share=3, minimum=12),
    Column("year", "Year", width=4),
    Column("added", "Added", width=10),
    Column("genres", "Genres", share=1, minimum=6, maximum=50),
)


class ListsScreen(Screen[None]):
    AUTO_FOCUS = "#lists"
    BINDINGS = [
        Binding("escape", "close", "Back", id="lists-back", tooltip="Back to the recommendations"),
        Binding(
            "l", "other_list", "Other list", id="lists-other", tooltip="Switch between the watchlist and not interested"
        ),
        Binding(
            "delete,backspace",
            "take_off",
            "Take off",
            id="lists-take-off",
            tooltip="Take the highlighted movie off this list",
        ),
    ]

    def __init__(self, list_name: str = WATCHLIST) -> None:
        super().__init__()
        self.list_name = list_name
        self._entries: dict[str, dict[int, tuple[Movie, int]]] = {WATCHLIST: {}, NOT_INTERESTED: {}}

    def compose(self) -> ComposeResult:
        yield Label("", id="lists-help", markup=False)
        yield MovieTable(COLUMNS, id="lists")
        yield StatusBar()
        yield KeyFooter()

    def on_mount(self) -> None:
        self._load()

    def _load(self) -> None:
        self.query_one(MovieTable).loading = True
        self.post_message(ListsRequested(self))

    def on_lists_loaded(self, message: ListsLoaded) -> None:
        self._entries = {
            name: {e.movie.movie_id: (e.movie, e.timestamp) for e in entries} for name, entries in message.lists.items()
        }
        self.query_one(MovieTable).loading = False
        self._show()

    def on_lists_failed(self, message: ListsFailed) -> None:
        self.query_one(MovieTable).loading = False
        self.query_one(MovieTable).border_subtitle = "could not load · escape, then l to retry"

    def _show(self) -> None:
        """Rebuild the rows of the current list, newest first, keeping the cursor's row."""
        table = self.query_one(MovieTable)
        row = table.cursor_row
        table.clear_movies()
        entries = sorted(self._entries[self.list_name].values(), key=lambda e: -e[1])
        for movie, added in entries:
            table.add_movie(
                movie,
                movie.title,
                str(movie.year or ""),
                date_text(added),
                ", ".join(movie.genres),
            )
        table.move_cursor(row=min(row, max(table.row_count - 1, 0)))
        count = table.row_count
        table.border_title = TITLES[self.list_name]
        table.border_subtitle = f"{count} movie{'s' if count != 1 else ''}" if count else "empty"
        self.query_one("#lists-help", Label).update(HELP[self.list_name])

    def on_list_changed(self, message: ListChanged) -> None:
        movie = message.movie
        for entries in self._entries.values():
            entries.pop(movie.movie_id, None)  # a movie is on one list at most
        if message.added:
            self._entries[message.list_name][movie.movie_id] = (movie, int(time.time()))
        self._show()

    def on_rating_stored(self, message: RatingStored) -> None:
        for entries in self._entries.values():
            entries.pop(message.movie.movie_id, None)  # a rating takes it off its list
        self._show()

    def on_ratings_imported(self, message: RatingsImported) -> None:
        self._load()

    def action_other_list(self) -> None:
        self.list_name = NOT_INTERESTED if self.list_name == WATCHLIST else WATCHLIST
        self.query_one(MovieTable).move_cursor(row=0)
        self._show()

    def action_take_off(self) -> None:
        movie = self.query_one(MovieTable).highlighted_movie
        if movie is None:
            self.notify("No movie is highlighted.", severity="warning")
            return
        self.post_message(ListRemovalRequested(movie, self.list_name))

    def action_close(self) -> None:
        self.dismiss()
