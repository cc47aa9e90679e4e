"""Search every movie by title and rate any of them with the same keys as the main list."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label

from tui_recommender.tui.components.key_footer import KeyFooter
from tui_recommender.tui.components.movie_table import (
    LISTED_COLUMN,
    RATED_COLUMN,
    Column,
    MovieTable,
    listed_text,
    rating_text,
)
from tui_recommender.tui.components.status_bar import StatusBar
from tui_recommender.tui.messages import (
    ListChanged,
    RatingRemoved,
    RatingStored,
    SearchFailed,
    SearchLoaded,
    SearchRequested,
)

SEARCH_DEBOUNCE_SECONDS = 0.25
COLUMNS = (
    Column(RATED_COLUMN, "You", width=4, justify="right"),
    Column(LISTED_COLUMN, "", width=1),  # w: on your watchlist, x: not interested
    Column("title", "Title", share=3, minimum=12),
    Column("year", "Year", width=4),
    Column("genres", "Genres", share=1, minimum=6, maximum=50),
)


class SearchScreen(Screen[None]):
    AUTO_FOCUS = "#search-input"
    BINDINGS = [
        Binding("escape", "close", "Back", id="search-back", tooltip="Back to the recommendations"),
        Binding("slash", "focus_input", "New search", show=False, id="search-focus", tooltip="Type a new search"),
        Binding("down", "focus_results", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._debounce: Timer | None = None
        self._current: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("Search movies: type words of the title, enter or ↓ to pick from the results", id="search-help")
        yield Input(placeholder="Title words, e.g. star night", id="search-input")
        yield MovieTable(COLUMNS, id="search-results")
        yield StatusBar()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(MovieTable).border_title = "Results"

    def on_key(self, event: events.Key) -> None:
        # Keys that arrive before the input has focus (a pasted "/toy story" comes in one
        # write, right behind the "/" that opened this screen) are typed, not lost.
        if self.is_active and self.focused is None and event.is_printable and event.character:
            search = self.query_one("#search-input", Input)
            search.insert_text_at_cursor(event.character)
            search.focus()
            event.stop()

    @on(Input.Changed, "#search-input")
    def query_changed(self) -> None:
        # Search once typing pauses, not on every key.
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(SEARCH_DEBOUNCE_SECONDS, self.search)

    @on(Input.Submitted, "#search-input")
    def submitted(self) -> None:
        self.search()
        self.action_focus_results()

    def search(self) -> None:
        query = self.query_one("#search-input", Input).value.strip()
        if query == self._current:
            return
        self._current = query
        self.query_one(MovieTable).border_subtitle = "searching…" if query else ""
        if query:
            self.post_message(SearchRequested(query, self))
        else:
            self.query_one(MovieTable).clear_movies()

    def on_search_loaded(self, message: SearchLoaded) -> None:
        if message.query != self._current:
            return
        table = self.query_one(MovieTable)
        table.clear_movies()
        for movie in message.movies:
            table.add_movie(
                movie,
                rating_text(message.ratings.get(movie.movie_id)),
                listed_text(message.listed.get(movie.movie_id)),
                movie.title,
                str(movie.year or ""),
                ", ".join(movie.genres),
            )
        count = len(message.movies)
        table.border_subtitle = f"{count} match{'es' if count != 1 else ''}"

    def on_rating_stored(self, message: RatingStored) -> None:
        table = self.query_one(MovieTable)
        table.show_rating(message.movie.movie_id, message.rating)
        table.show_listed(message.movie.movie_id, None)  # a rating takes a movie off its list

    def on_list_changed(self, message: ListChanged) -> None:
        listed = message.list_name if message.added else None
        self.query_one(MovieTable).show_listed(message.movie.movie_id, listed)

    def on_rating_removed(self, message: RatingRemoved) -> None:
        self.query_one(MovieTable).show_rating(message.movie.movie_id, None)

    def on_search_failed(self, message: SearchFailed) -> None:
        if message.query == self._current:
            self.query_one(MovieTable).border_subtitle = "search failed"
            self._current = None

    def action_focus_input(self) -> None:
        self.query_one("#search-input", Input).focus()

    def action_focus_results(self) -> None:
        self.query_one(MovieTable).focus()

    def action_close(self) -> None:
        self.dismiss()
