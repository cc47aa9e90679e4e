"""The detail pane beside the main list on a wide terminal: everything the detail view
shows about the highlighted movie, loaded once the cursor rests on it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from tui_recommender.core.text import inert
from tui_recommender.tui.components.detail_screen import details_text
from tui_recommender.tui.messages import DetailsLoaded, DetailsPreviewRequested

if TYPE_CHECKING:
    from tui_recommender.app.service import Movie, MovieDetails

PREVIEW_DEBOUNCE_SECONDS = 0.15  # scrolling through rows loads only the row it stops on


class DetailPane(VerticalScroll, can_focus=False):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.movie: Movie | None = None
        self.details: MovieDetails | None = None
        self.listed: str | None = None
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="pane-text")

    def on_mount(self) -> None:
        self.border_title = "Details"

    def show_movie(self, movie: Movie | None) -> None:
        """Show `movie` (None: nothing highlighted); its details load after a short rest."""
        same = movie is not None and self.movie is not None and movie.movie_id == self.movie.movie_id
        if same and self.details is not None:
            return
        if self._debounce is not None:
            self._debounce.stop()
        self.movie, self.details = movie, None
        text = self.query_one("#pane-text", Static)
        if movie is None:
            self.border_title = "Details"
            text.update("")
            return
        title = f"{movie.title} ({movie.year})" if movie.year else movie.title
        self.border_title = Text(inert(title))  # the dataset's text: never markup
        text.update(Content(inert(", ".join(movie.genres))))
        self._debounce = self.set_timer(PREVIEW_DEBOUNCE_SECONDS, self._request)

    def _request(self) -> None:
        if self.movie is not None and self.display:
            self.post_message(DetailsPreviewRequested(self.movie, self))

    def on_details_loaded(self, message: DetailsLoaded) -> None:
        message.stop()  # an answer to this pane only
        if self.movie is None or message.details.movie.movie_id != self.movie.movie_id:
            return  # the cursor moved on meanwhile
        self.details, self.listed = message.details, message.listed
        self._update()

    def rerate(self, movie_id: int, rating: float | None) -> None:
        """The user's rating of `movie_id` changed (a rating also takes it off its list)."""
        if self.details is not None and self.details.movie.movie_id == movie_id:
            self.details = replace(self.details, your_rating=rating)
            self.listed = None if rating is not None else self.listed
            self._update()

    def relist(self, movie_id: int, listed: str | None) -> None:
        """`movie_id` is on the user's `listed` now (None: on no list)."""
        if self.details is not None and self.details.movie.movie_id == movie_id:
            self.listed = listed
            self._update()

    def _update(self) -> None:
        if self.details is not None:
            self.query_one("#pane-text", Static).update(details_text(self.details, self.listed))
