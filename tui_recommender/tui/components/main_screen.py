"""The main screen: genre filter on the left, recommendations on the right, rated in place.

A rated movie stays where it is, marked with its stars, until the list is reloaded on
purpose (ctrl+r, a genre change): the model learns in the background meanwhile, so the
same keys rate the same movies however fast they are typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Label, SelectionList

from tui_recommender.core.list_names import NOT_INTERESTED
from tui_recommender.core.text import inert
from tui_recommender.tui.components.genre_list import GenreList
from tui_recommender.tui.components.key_footer import KeyFooter
from tui_recommender.tui.components.movie_table import RATED_COLUMN, Column, MovieTable
from tui_recommender.tui.components.status_bar import StatusBar
from tui_recommender.tui.messages import (
    ListChanged,
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

if TYPE_CHECKING:
    from tui_recommender.app.service import Recommendation, UserSummary

PAGE_SIZE = 20
NOVELTY_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)  # the dial's stops, popular to niche


def next_novelty(current: float) -> float:
    """The dial's next stop above `current`, wrapping from niche back to popular."""
    return next((step for step in NOVELTY_STEPS if step > current + 1e-9), NOVELTY_STEPS[0])


def novelty_text(novelty: float) -> str:
    """`popular ●──── niche` with the knob at `novelty` (0..1)."""
    knob = round(novelty * (len(NOVELTY_STEPS) - 1))
    return "popular " + "".join("●" if i == knob else "─" for i in range(len(NOVELTY_STEPS))) + " niche"


GENRE_DEBOUNCE_SECONDS = 0.3
COLUMNS = (
    Column(RATED_COLUMN, "#", width=4, justify="right"),  # the rank, or your stars once rated
    Column("title", "Title", share=3, minimum=12),
    Column("year", "Year", width=4),
    Column("score", "Match", width=5, justify="right"),
    Column("genres", "Genres", share=2, minimum=6, maximum=36),
    Column("why", "Because you liked", share=2, minimum=16, maximum=36, optional=True),
)


def match_text(recommendation: Recommendation) -> str:
    """`99.8%` (`Recommendation.score_text`), or `pop.` for a popular-movie fallback."""
    if recommendation.match is None:
        return "pop."
    return recommendation.score_text


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
        if summary.n_liked == 0:
            parts.append(f"none {summary.like_threshold:g}★ or more yet, so popular movies first")
    return " · ".join(parts)


class MainScreen(Screen[None]):
    AUTO_FOCUS = "#recommendations"
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
        Binding(
            "ctrl+r", "refresh", "Reload", id="refresh", tooltip="Reload the recommendations (after the model learnt)"
        ),
        Binding("g", "toggle_focus", "Genres", id="toggle-focus", tooltip="Jump between the genres and the list"),
        Binding(
            "tab",
            "toggle_focus",
            "Genres",
            show=False,
            id="toggle-focus-tab",
            tooltip="Jump between the genres and the list",
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
        self._recommendations: dict[int, Recommendation] = {}
        # Rated since the last reload: still listed here, but already gone from the
        # service's ranking, so they do not count towards the next page's offset.
        self._rated_here: set[int] = set()
        self._at_end = False
        self._learnt = False  # the model learnt since the list was loaded
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"User {self.user_id}", id="summary", markup=False)
        with Horizontal(id="body"):
            yield GenreList(self.genre_counts, self.initial_genres, id="genres")
            with Vertical(id="results"):
                yield MovieTable(COLUMNS, id="recommendations")
                yield Label("", id="detail", markup=False)
        yield StatusBar()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.table.border_title = "Recommendations"
        self.request(offset=0, k=PAGE_SIZE)

    @property
    def table(self) -> MovieTable:
        return self.query_one("#recommendations", MovieTable)

    def request(self, offset: int, k: int) -> None:
        """Ask for `k` recommendations from `offset`; offset 0 replaces the list."""
        self._serial += 1
        query = RecommendationQuery(self._serial, self.query_one(GenreList).chosen, offset, k)
        self._waiting = query
        if offset == 0:
            self.table.loading = True
        else:
            self.table.border_subtitle = "loading more…"
        self.post_message(RecommendationsRequested(query, self))

    def on_recommendations_loaded(self, message: RecommendationsLoaded) -> None:
        if message.query != self._waiting:
            return
        self._waiting = None
        table = self.table
        if message.query.offset == 0:
            table.clear_movies()
            self._recommendations.clear()
            self._rated_here.clear()
            self._learnt = False
        added = 0
        for recommendation in message.recommendations:
            movie = recommendation.movie
            if table.has_movie(movie.movie_id):
                continue
            added += 1
            self._recommendations[movie.movie_id] = recommendation
            table.add_movie(
                movie,
                str(recommendation.rank),
                movie.title,
                str(movie.year or ""),
                match_text(recommendation),
                ", ".join(movie.genres),
                recommendation.because or "",
            )
        table.loading = False
        popular = bool(message.recommendations) and message.recommendations[0].match is None
        table.border_title = "Popular movies" if popular else "Recommendations"
        self._at_end = len(message.recommendations) < message.query.k
        if message.query.offset == 0:
            table.move_cursor(row=0)
        elif self._at_end and not added:
            self.notify("That is every movie in these genres.", title="No more", timeout=4)
        self._show_subtitle()
        if table.row_count == 0:
            self.query_one("#detail", Label).update("Nothing to recommend in these genres.")

    def _show_subtitle(self) -> None:
        parts = [f"{self.table.row_count} shown"]
        if self._learnt:
            parts.append("learnt: ctrl+r reloads")
        elif not self._at_end:
            parts.append("m for more")
        self.table.border_subtitle = " · ".join(parts)

    @on(DataTable.RowHighlighted, "#recommendations")
    def show_detail(self, event: DataTable.RowHighlighted) -> None:
        self._describe(int(event.row_key.value or 0))

    def _describe(self, movie_id: int) -> None:
        """The detail line under the list: why `movie_id` is recommended, its genres and title."""
        recommendation = self._recommendations.get(movie_id)
        if recommendation is None:
            self.query_one("#detail", Label).update("")
            return
        movie = recommendation.movie
        # The reason first: the title is on the highlighted row already.
        parts = [
            f"because you liked {recommendation.because}" if recommendation.because else "",
            "popular with everyone" if recommendation.match is None else "",
            ", ".join(movie.genres),
            f"{movie.title} ({movie.year})" if movie.year else movie.title,
        ]
        self.query_one("#detail", Label).update(inert(" · ".join(part for part in parts if part)))

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
        movie_id = message.movie.movie_id
        if self.table.has_movie(movie_id):
            self._rated_here.add(movie_id)
            self.table.show_rating(movie_id, message.rating)

    def on_rating_removed(self, message: RatingRemoved) -> None:
        movie_id = message.movie.movie_id
        if movie_id in self._rated_here:
            self._rated_here.discard(movie_id)
            self.table.show_rating(movie_id, None, unrated=str(self._recommendations[movie_id].rank))

    def on_list_changed(self, message: ListChanged) -> None:
        if message.list_name != NOT_INTERESTED:
            return
        if message.added:  # gone for good, at once
            self._recommendations.pop(message.movie.movie_id, None)
            self.table.remove_movie(message.movie.movie_id)
            # The cursor keeps its row index, so no highlight event says the row under it changed.
            highlighted = self.table.highlighted_movie
            self._describe(highlighted.movie_id if highlighted is not None else 0)
        else:  # taken off the list on purpose (lists screen): a reload brings it back
            self.request(offset=0, k=max(PAGE_SIZE, self.table.row_count))

    def on_ratings_imported(self, message: RatingsImported) -> None:
        # An import is asked for on purpose, in its own dialog: reload without what it rated.
        self.action_refresh()

    def on_model_updated(self, message: ModelUpdated) -> None:
        # Not reloaded here: rows moving under the cursor would make keys hit other movies.
        if self._recommendations:
            self._learnt = True
            self._show_subtitle()

    def on_recommendations_failed(self, message: RecommendationsFailed) -> None:
        if message.query == self._waiting:
            self._waiting = None
            self.table.loading = False
            self.table.border_subtitle = "failed · ctrl+r to retry"

    def action_novelty(self) -> None:
        self.post_message(NoveltyStepRequested())

    def on_novelty_changed(self, message: NoveltyChanged) -> None:
        if message.changed:
            self.request(offset=0, k=max(PAGE_SIZE, self.table.row_count))  # the user asked: reload now

    def action_refresh(self) -> None:
        self.request(offset=0, k=PAGE_SIZE)

    def action_more(self) -> None:
        if self._waiting is not None:
            self.notify("Still loading…", timeout=2)
            return
        if self._at_end:
            self.notify("That is every movie in these genres.", title="No more", timeout=4)
            return
        self.request(offset=self.table.row_count - len(self._rated_here), k=PAGE_SIZE)

    def action_toggle_focus(self) -> None:
        genres = self.query_one(GenreList)
        (self.table if genres.has_focus else genres).focus()
