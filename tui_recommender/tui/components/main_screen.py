"""The main screen: genre filter on the left, recommendations on the right, rated in place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Label, SelectionList

from tui_recommender.tui.components.genre_list import GenreList
from tui_recommender.tui.components.movie_table import RATED_COLUMN, MovieTable
from tui_recommender.tui.components.status_bar import StatusBar
from tui_recommender.lists import NOT_INTERESTED
from tui_recommender.tui.messages import (
    ListChanged,
    ModelUpdated,
    RatingRemoved,
    RatingStored,
    RecommendationQuery,
    RecommendationsFailed,
    RecommendationsLoaded,
    RecommendationsRequested,
    UserSummaryLoaded,
)

if TYPE_CHECKING:
    from tui_recommender.service import Recommendation, UserSummary

PAGE_SIZE = 20
GENRE_DEBOUNCE_SECONDS = 0.3


def summary_text(summary: UserSummary) -> str:
    """`User 7 · 15 ratings · mean 3.9★ · likes Drama, Comedy`."""
    parts = [f"User {summary.user_id}"]
    if summary.n_ratings == 0:
        parts.append("new profile, no ratings yet: popular movies first")
    else:
        parts.append(f"{summary.n_ratings} rating{'s' if summary.n_ratings != 1 else ''}")
        if summary.mean_rating is not None:
            parts.append(f"mean {summary.mean_rating:.1f}★")
        if summary.top_genres:
            parts.append("likes " + ", ".join(summary.top_genres))
    return " · ".join(parts)


class MainScreen(Screen[None]):
    AUTO_FOCUS = "#recommendations"
    BINDINGS = [
        Binding("m", "more", "More", id="more", tooltip="Show the next page of recommendations"),
        Binding("slash", "app.search", "Search", id="search", tooltip="Search all movies by title"),
        Binding("h", "app.history", "History", id="history", tooltip="Your ratings: change or remove them"),
        Binding("l", "app.lists", "Lists", show=False, id="lists", tooltip="Your watchlist and not-interested movies"),
        Binding("a", "all_genres", "All genres", show=False, id="all-genres", tooltip="Select every genre"),
        Binding("n", "no_genres", "No genres", show=False, id="no-genres", tooltip="Clear the genre filter (all genres)"),
        Binding("g", "toggle_focus", "Genres/list", show=False, id="toggle-focus", tooltip="Jump between the genres and the list"),
        Binding("u", "app.switch_user", "User", show=False, id="switch-user", tooltip="Change user"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh", tooltip="Reload the recommendations"),
    ]

    def __init__(self, user_id: int, genre_counts: list[tuple[str, int]], genres: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.user_id = user_id
        self.genre_counts = genre_counts
        self.initial_genres = genres  # ticked at start
        self._serial = 0
        self._waiting: RecommendationQuery | None = None
        self._recommendations: dict[int, Recommendation] = {}
        # Rated since the last reload: still listed here, but already gone from the
        # service's ranking, so they do not count towards the next page's offset.
        self._rated_here: set[int] = set()
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"User {self.user_id}", id="summary", markup=False)
        with Horizontal(id="body"):
            yield GenreList(self.genre_counts, self.initial_genres, id="genres")
            with Vertical(id="results"):
                yield MovieTable(id="recommendations")
                yield Label("", id="detail", markup=False)
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(MovieTable)
        table.border_title = "Recommendations"
        table.add_column("#", key="rank")
        table.add_column("You", width=4, key=RATED_COLUMN)
        table.add_column("Title", width=24, key="title")
        table.add_column("Year", key="year")
        table.add_column("Score", key="score")
        table.add_column("Genres", key="genres")
        table.add_column("Why", key="why")
        self.request(offset=0, k=PAGE_SIZE)

    @property
    def table(self) -> MovieTable:
        return self.query_one("#recommendations", MovieTable)

    def request(self, offset: int, k: int, quietly: bool = False) -> None:
        """Ask for `k` recommendations from `offset`; offset 0 replaces the list. `quietly`
        keeps the current rows on show instead of a loading indicator."""
        self._serial += 1
        query = RecommendationQuery(self._serial, self.query_one(GenreList).chosen, offset, k)
        self._waiting = query
        if offset == 0 and not quietly:
            self.table.loading = True
        else:
            self.table.border_subtitle = "updating…" if offset == 0 else "loading more…"
        self.post_message(RecommendationsRequested(query, self))

    def on_recommendations_loaded(self, message: RecommendationsLoaded) -> None:
        if message.query != self._waiting:
            return
        self._waiting = None
        table = self.table
        keep, row = table.highlighted_movie, table.cursor_row
        if message.query.offset == 0:
            table.clear_movies()
            self._recommendations.clear()
            self._rated_here.clear()
        for recommendation in message.recommendations:
            movie = recommendation.movie
            if table.has_movie(movie.movie_id):
                continue
            self._recommendations[movie.movie_id] = recommendation
            why = f"because you liked {recommendation.because}" if recommendation.because else ""
            table.add_movie(
                movie,
                Text(str(recommendation.rank), justify="right"),
                "",
                Text(movie.title, overflow="ellipsis", no_wrap=True),
                str(movie.year or ""),
                Text(f"{recommendation.score:.2f}", justify="right"),
                Text(", ".join(movie.genres)),
                Text(why),
            )
        table.loading = False
        if message.query.offset == 0:
            # Stay on the same movie, or (when it has gone: just rated) on the same row.
            if keep is not None and table.has_movie(keep.movie_id):
                row = table.get_row_index(str(keep.movie_id))
            table.move_cursor(row=min(row, max(table.row_count - 1, 0)))
        more = "" if len(message.recommendations) < message.query.k else " · m for more"
        table.border_subtitle = f"{table.row_count} shown{more}"
        if table.row_count == 0:
            self.query_one("#detail", Label).update("Nothing to recommend in these genres.")

    @on(DataTable.RowHighlighted, "#recommendations")
    def show_detail(self, event: DataTable.RowHighlighted) -> None:
        recommendation = self._recommendations.get(int(event.row_key.value or 0))
        if recommendation is None:
            return
        movie = recommendation.movie
        # The reason first: the title is on the highlighted row already.
        parts = [
            f"because you liked {recommendation.because}" if recommendation.because else "",
            ", ".join(movie.genres),
            f"{movie.title} ({movie.year})" if movie.year else movie.title,
        ]
        self.query_one("#detail", Label).update(" · ".join(part for part in parts if part))

    @on(SelectionList.SelectedChanged, "#genres")
    def genres_changed(self) -> None:
        # Toggling several genres in a row should cost one query, not one per key press.
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(GENRE_DEBOUNCE_SECONDS, self.action_refresh)

    def on_user_summary_loaded(self, message: UserSummaryLoaded) -> None:
        if message.summary.user_id == self.user_id:
            self.query_one("#summary", Label).update(summary_text(message.summary))

    def on_rating_stored(self, message: RatingStored) -> None:
        movie_id = message.movie.movie_id
        if self.table.has_movie(movie_id):
            self._rated_here.add(movie_id)
            self.table.show_rating(movie_id, message.rating)

    def on_rating_removed(self, message: RatingRemoved) -> None:
        movie_id = message.movie.movie_id
        if movie_id in self._rated_here:
            self._rated_here.discard(movie_id)
            self.table.show_rating(movie_id, None)

    def on_list_changed(self, message: ListChanged) -> None:
        if message.list_name != NOT_INTERESTED:
            return
        if message.added:  # gone for good, at once
            self._recommendations.pop(message.movie.movie_id, None)
            self.table.remove_movie(message.movie.movie_id)
        else:
            self.request(offset=0, k=max(PAGE_SIZE, self.table.row_count), quietly=True)

    def on_model_updated(self, message: ModelUpdated) -> None:
        # After each rating: no flashing loading indicator, and as many rows as before.
        self.request(offset=0, k=max(PAGE_SIZE, self.table.row_count), quietly=True)

    def on_recommendations_failed(self, message: RecommendationsFailed) -> None:
        if message.query == self._waiting:
            self._waiting = None
            self.table.loading = False
            self.table.border_subtitle = "failed · ctrl+r to retry"

    def action_refresh(self) -> None:
        self.request(offset=0, k=PAGE_SIZE)

    def action_more(self) -> None:
        if self._waiting is not None:
            self.notify("Still loading…", timeout=2)
            return
        self.request(offset=self.table.row_count - len(self._rated_here), k=PAGE_SIZE)

    def action_all_genres(self) -> None:
        self.query_one(GenreList).select_all()

    def action_no_genres(self) -> None:
        self.query_one(GenreList).deselect_all()

    def action_toggle_focus(self) -> None:
        genres = self.query_one(GenreList)
        (self.table if genres.has_focus else genres).focus()
