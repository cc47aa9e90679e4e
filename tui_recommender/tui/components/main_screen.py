"""The main screen: genre filter on the left, recommendations in the middle, the highlighted
movie's details on the right on a wide terminal; rated in place.

When the model has learnt, the list reloads by itself, in place (see `live_list`): a rated
movie stays where it is, marked with its stars, the cursor stays on its movie, arrivals and
moves are marked for a few seconds and the status line says what changed. A reload waits
until the keys pause, so keys typed ahead act on the rows they were typed for. ctrl+r or a
genre change reloads it from the top."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Label, SelectionList

from tui_recommender.core.list_names import NOT_INTERESTED
from tui_recommender.core.text import inert, shorten
from tui_recommender.tui.components.detail_pane import DetailPane
from tui_recommender.tui.components.filter_box import FilterBox
from tui_recommender.tui.components.genre_list import GenreList
from tui_recommender.tui.components.key_footer import KeyFooter
from tui_recommender.tui.components.recommendation_table import RecommendationTable
from tui_recommender.tui.components.status_bar import StatusBar
from tui_recommender.tui.messages import (
    ListChanged,
    ListRefreshed,
    ModelUpdated,
    NoveltyChanged,
    NoveltyStepRequested,
    RatingRemoved,
    RatingsImported,
    RatingStored,
    RecommendationQuery,
    RecommendationsFailed,
    RecommendationsLoaded,
    RecommendationsRequested,
    UserSummaryLoaded,
)
from tui_recommender.tui.profile_line import summary_text

if TYPE_CHECKING:
    from tui_recommender.app.service import Recommendation


PAGE_SIZE = 20  # at least; a tall terminal's first page fills the list
GENRE_DEBOUNCE_SECONDS = 0.3
FOLD_BELOW = 100  # columns: narrower, the genre sidebar folds away by itself
PANE_FROM = 140  # columns: this wide or wider, the detail pane shows beside the list


class MainScreen(Screen[None]):
    AUTO_FOCUS = "#recommendations"
    keys_quiet_seconds = 1.0  # a live reload waits until no key came for this long
    BINDINGS = [
        Binding("m", "more", "More", id="more", tooltip="Show the next page of recommendations"),
        # Keys that open a screen act as they arrive (priority), so the keys typed behind them
        # (a pasted "/toy story" comes in one write) go to the new screen, not to this one.
        Binding("slash", "app.search", "Search", priority=True, id="search", tooltip="Search all movies by title"),
        Binding(
            "h", "app.history", "History", priority=True, id="history", tooltip="Your ratings: change or remove them"
        ),
        Binding(
            "l", "app.lists", "Lists", priority=True, id="lists", tooltip="Your watchlist and not-interested movies"
        ),
        Binding("f", "filter", "Filter", id="filter", tooltip="Filter the list by words of the title, year or genres"),
        Binding("s", "next_sort", "Sort", id="sort", tooltip="Sort the list by match, year or title"),
        Binding(
            "escape", "clear_filter", "Clear filter", id="filter-clear", tooltip="Clear the filter, show every row"
        ),
        Binding(
            "ctrl+r",
            "refresh",
            "Reload",
            id="refresh",
            tooltip="Reload the recommendations from the top (it also reloads itself)",
        ),
        Binding("tab", "toggle_focus", "Genres", id="toggle-focus", tooltip="Jump between the genres and the list"),
        Binding(
            "shift+tab",
            "toggle_focus",
            "Genres",
            show=False,
            id="toggle-focus-tab",
            tooltip="Jump between the genres and the list",
        ),
        Binding(
            "b",
            "fold_genres",
            "Sidebar",
            show=False,
            id="genres-fold",
            tooltip="Fold the genre sidebar away or back (it folds by itself below 100 columns)",
        ),
        Binding(
            "u", "app.switch_user", "User", priority=True, id="switch-user", tooltip="Change user (escape comes back)"
        ),
        Binding(
            "d",
            "novelty",
            "Popular↔niche",
            id="novelty",
            tooltip="Move the popular <-> niche dial one step (saved for this profile)",
        ),
    ]

    def __init__(self, user_id: int, genre_counts: list[tuple[str, int]], genres: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.user_id = user_id
        self.genre_counts = genre_counts
        self.initial_genres = genres  # ticked at start
        self._serial = 0
        self._waiting: RecommendationQuery | None = None
        self._live_serial = -1  # the serial of the live reload asked for last
        self._live_due = False  # the model learnt while another request was under way
        self._held: RecommendationsLoaded | None = None  # a live reload waiting for the keys to pause
        self._last_key = 0.0  # time.monotonic() of the last key pressed here
        self._folded: bool | None = None  # the user's choice; None: by the width
        self._popular = False  # the list is the popular-movie fallback
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"User {self.user_id}", id="summary", markup=False)
        with Horizontal(id="body"):
            yield GenreList(self.genre_counts, self.initial_genres, id="genres")
            with Vertical(id="results"):
                table = RecommendationTable(id="recommendations")
                yield FilterBox(table, id="filter")
                yield table
                yield Label("", id="detail", markup=False)
            yield DetailPane(id="pane")
        yield StatusBar()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.table.border_title = "Recommendations"
        self._lay_out()
        self.call_after_refresh(self.action_refresh)  # once laid out: the page fills the list

    @property
    def reload_held(self) -> bool:
        """A live reload has come and waits for the keys to pause."""
        return self._held is not None

    @property
    def table(self) -> RecommendationTable:
        return self.query_one("#recommendations", RecommendationTable)

    # Loading -------------------------------------------------------------------------------

    def _first_page(self) -> int:
        return max(PAGE_SIZE, self.table.size.height - 1)  # rows that fit under the header

    def request(self, offset: int, k: int, live: bool = False) -> None:
        """Ask for `k` recommendations from `offset`; offset 0 replaces the list (`live`:
        merges the new ranking into it, see the module docstring)."""
        self._serial += 1
        query = RecommendationQuery(self._serial, self.query_one(GenreList).chosen, offset, k)
        self._waiting, self._held = query, None
        if live:
            self._live_serial = query.serial
        elif offset == 0:
            self.table.loading = True
        else:
            self.table.border_subtitle = "loading more…"
        self.post_message(RecommendationsRequested(query, self))

    def on_recommendations_loaded(self, message: RecommendationsLoaded) -> None:
        if message.query != self._waiting:
            return
        self._waiting = None
        if message.query.serial == self._live_serial:
            self._held = message
            self._apply_held()
        else:
            self._load(message)
        if self._live_due and self._waiting is None:
            self._live_due = False
            self._reload_live()

    def _apply_held(self) -> None:
        """Merge the held live reload once no key came for `keys_quiet_seconds`."""
        if self._held is None:
            return
        wait = self._last_key + self.keys_quiet_seconds - time.monotonic()
        if wait > 0:  # keys are coming: let them act on the rows they were typed for
            self.set_timer(min(wait, 0.25), self._apply_held)
            return
        message, self._held = self._held, None
        change = self.table.merge(message.recommendations, message.listed, message.query.k)
        self._set_title(message.recommendations)
        titles = {movie: r.movie.title for movie, r in self.table.recommendations.items()}
        self.post_message(ListRefreshed(change.text(titles)))
        self._shown()

    def _load(self, message: RecommendationsLoaded) -> None:
        query, table = message.query, self.table
        table.loading = False
        added = table.load(message.recommendations, message.listed, query.k, top=query.offset == 0)
        self._set_title(message.recommendations)
        if query.offset > 0 and table.at_end and not added:
            self.notify("That is every movie in these genres.", title="No more", timeout=4)
        self._shown()

    def _reload_live(self) -> None:
        self.request(offset=0, k=max(self.table.unrated, self._first_page()), live=True)

    def _set_title(self, recommendations: list[Recommendation]) -> None:
        if recommendations:
            self._popular = recommendations[0].match is None
        title = "Popular movies" if self._popular else "Recommendations"
        genres = self.query_one(GenreList)
        if genres.chosen and not genres.display:  # the sidebar is folded: say what it filters
            title += " · " + shorten(", ".join(genres.chosen), 40)
        self.table.border_title = title

    def _shown(self) -> None:
        """The rows were rebuilt: the detail line and pane follow the cursor's row (a
        rebuild that leaves the cursor on row 0 highlights nothing new)."""
        movie = self.table.highlighted_movie
        self._show_detail(None if movie is None else self.table.recommendations.get(movie.movie_id))

    @on(DataTable.RowHighlighted, "#recommendations")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(self.table.recommendations.get(int(event.row_key.value or 0)))

    def _show_detail(self, recommendation: Recommendation | None) -> None:
        """The highlighted movie in the detail pane, and in one line under the list."""
        self.query_one(DetailPane).show_movie(recommendation.movie if recommendation else None)
        label = self.query_one("#detail", Label)
        if recommendation is None:
            table = self.table
            label.update(
                "Nothing matches the filter."
                if table.filter.strip() and table.order
                else "Nothing to recommend in these genres."
                if not table.order
                else ""
            )
            return
        movie = recommendation.movie
        # The reason first: the title is on the highlighted row already.
        parts = [
            f"because you liked {recommendation.because}" if recommendation.because else "",
            "popular with everyone" if recommendation.match is None else "",
            ", ".join(movie.genres),
            f"{movie.title} ({movie.year})" if movie.year else movie.title,
        ]
        label.update(inert(" · ".join(part for part in parts if part)))

    # Layout --------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out()
        self.call_after_refresh(self._fill)

    def _fill(self) -> None:
        """Load the rows a taller list has room for (one page per resize at most)."""
        table = self.table
        room = table.size.height - 1 - len(table.order)
        if room > 0 and table.order and not table.at_end and self._waiting is None:
            self.request(offset=table.unrated, k=max(room, PAGE_SIZE))

    def _lay_out(self) -> None:
        """Fold the sidebar (by the user's choice, else below `FOLD_BELOW` columns) and show
        the detail pane from `PANE_FROM` columns."""
        width = self.size.width or self.app.size.width
        genres, pane = self.query_one(GenreList), self.query_one(DetailPane)
        folded = self._folded if self._folded is not None else width < FOLD_BELOW
        if folded and genres.has_focus:
            self.table.focus()
        genres.display = not folded
        pane.display = width >= PANE_FROM
        self.query_one("#detail", Label).display = not pane.display
        if pane.display:
            pane.show_movie(self.table.highlighted_movie)
        self._set_title([])

    def action_fold_genres(self) -> None:
        self._folded = self.query_one(GenreList).display
        self._lay_out()

    def action_toggle_focus(self) -> None:
        genres = self.query_one(GenreList)
        if genres.has_focus:
            self.table.focus()
            return
        if not genres.display:  # folded: unfold it to choose
            self._folded = False
            self._lay_out()
        genres.focus()

    # Filter and sort -----------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(FilterBox).open()

    def action_clear_filter(self) -> None:
        self.query_one(FilterBox).clear()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":  # escape means something only while a filter is there
            return self.query_one(FilterBox).display
        return True

    def on_filter_box_applied(self, message: FilterBox.Applied) -> None:
        self._shown()

    def action_next_sort(self) -> None:
        self.table.next_sort()
        self._shown()

    # Events from the app -------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        self._last_key = time.monotonic()

    @on(SelectionList.SelectedChanged, "#genres")
    def genres_changed(self) -> None:
        # Toggling several genres in a row should cost one query, not one per key press.
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(GENRE_DEBOUNCE_SECONDS, self.action_refresh)

    def on_user_summary_loaded(self, message: UserSummaryLoaded) -> None:
        if message.summary.user_id == self.user_id:
            self.query_one("#summary", Label).update(inert(summary_text(message.summary)))

    def on_rating_stored(self, message: RatingStored) -> None:
        self.query_one(DetailPane).rerate(message.movie.movie_id, message.rating)
        self.table.rate(message.movie.movie_id, message.rating)

    def on_rating_removed(self, message: RatingRemoved) -> None:
        self.query_one(DetailPane).rerate(message.movie.movie_id, None)
        self.table.rate(message.movie.movie_id, None)

    def on_list_changed(self, message: ListChanged) -> None:
        movie_id = message.movie.movie_id
        listed = message.list_name if message.added else None
        self.query_one(DetailPane).relist(movie_id, listed)
        self.table.relist(movie_id, listed)
        if message.list_name != NOT_INTERESTED:
            return
        if message.added:  # gone for good, at once
            self.table.drop(movie_id)
            self._shown()
        else:  # taken off the list on purpose (lists screen): a reload brings it back
            self.request(offset=0, k=max(self._first_page(), self.table.unrated))

    def on_ratings_imported(self, message: RatingsImported) -> None:
        # An import is asked for on purpose, in its own dialog: reload without what it rated.
        self.action_refresh()

    def on_model_updated(self, message: ModelUpdated) -> None:
        if self._waiting is not None:
            self._live_due = True  # after the answer under way, which may predate the update
        elif self.table.order:
            self._reload_live()

    def on_recommendations_failed(self, message: RecommendationsFailed) -> None:
        if message.query == self._waiting:
            self._waiting = None
            self.table.loading = False
            self.table.border_subtitle = "failed · ctrl+r to retry"

    def action_novelty(self) -> None:
        self.post_message(NoveltyStepRequested())

    def on_novelty_changed(self, message: NoveltyChanged) -> None:
        if message.changed:  # the user asked: reload now
            self.request(offset=0, k=max(self._first_page(), self.table.unrated))

    def action_refresh(self) -> None:
        self.request(offset=0, k=self._first_page())

    def action_more(self) -> None:
        if self._waiting is not None:
            self.notify("Still loading…", timeout=2)
            return
        if self.table.at_end:
            self.notify("That is every movie in these genres.", title="No more", timeout=4)
            return
        if self._held is not None:  # the held reload first: the next page follows its rows
            self._last_key = 0.0
            self._apply_held()
        self.request(offset=self.table.unrated, k=PAGE_SIZE)
