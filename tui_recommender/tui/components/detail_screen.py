"""Everything about one movie: year, genres, your rating, what the dataset's raters thought,
its tags, why it is recommended, and its IMDb and TMDB pages (`o` and `t` open them)."""

from __future__ import annotations

import webbrowser
from dataclasses import replace
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, LoadingIndicator, Static

from tui_recommender.core.list_names import NOT_INTERESTED, WATCHLIST
from tui_recommender.core.text import inert
from tui_recommender.tui.messages import DetailsLoaded, ListChanged, ListChangeRequested, RatingRemoved, RatingStored

if TYPE_CHECKING:
    from tui_recommender.app.service import Movie, MovieDetails


def _stars(rating: float) -> str:
    return f"{rating:g}★"


LISTED = {WATCHLIST: "on your watchlist (w takes it off)", NOT_INTERESTED: "not interested (x takes it off)"}


def details_text(details: MovieDetails, listed: str | None = None) -> Content:
    """The body of the detail view; dataset text is plain (never markup) and inert.
    `listed`: the user's list the movie is on, if any."""
    movie, facts = details.movie, details.facts
    count = f"{facts.n_ratings} rating{'s' if facts.n_ratings != 1 else ''}"
    rows: list[tuple[str, str]] = [
        ("Genres", ", ".join(movie.genres) or "none listed"),
        ("Your rating", _stars(details.your_rating) if details.your_rating is not None else "not rated yet"),
    ]
    if listed in LISTED:
        rows.append(("Your lists", LISTED[listed]))
    rows += [
        (
            "Dataset",
            f"{facts.mean_rating:.1f}★ on average from {count}" if facts.mean_rating is not None else "nobody rated it",
        ),
    ]
    if details.because:
        rows.append(("Because", f"you liked {details.because}"))
    if facts.tags:
        rows.append(("Tags", ", ".join(facts.tags)))
    if facts.imdb_url:
        rows.append(("IMDb", facts.imdb_url))
    if facts.tmdb_url:
        rows.append(("TMDB", facts.tmdb_url))
    lines = [Content.from_markup("[b]$name[/b]", name=f"{name:<12}") + Content(inert(value)) for name, value in rows]
    return Content("\n").join(lines)


class DetailScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,enter,i", "dismiss", "Close", id="details-close"),
        Binding("o", "open('imdb')", "Open IMDb", id="details-imdb", tooltip="Open the IMDb page in the browser"),
        Binding("t", "open('tmdb')", "Open TMDB", id="details-tmdb", tooltip="Open the TMDB page in the browser"),
        Binding(
            "w",
            f"toggle_list('{WATCHLIST}')",
            "Watchlist",
            id="watchlist",
            tooltip="Put the movie on your watchlist, or take it off",
        ),
        Binding(
            "x",
            f"toggle_list('{NOT_INTERESTED}')",
            "Not interested",
            id="not-interested",
            tooltip="Never recommend the movie (x again undoes)",
        ),
    ]

    def __init__(self, movie: Movie) -> None:
        super().__init__()
        self.movie = movie
        self.details: MovieDetails | None = None
        self.listed: str | None = None

    def compose(self) -> ComposeResult:
        title = f"{self.movie.title} ({self.movie.year})" if self.movie.year else self.movie.title
        with Vertical(id="detail-dialog", classes="dialog"):
            yield Label(Content.from_markup("[b]$title[/b]", title=inert(title)), id="detail-title")
            with VerticalScroll(id="detail-body"):
                yield LoadingIndicator()
                yield Static("", id="detail-text")
            yield Label("", id="detail-keys", classes="hint")

    def on_mount(self) -> None:
        self._show_keys()

    def _show_keys(self) -> None:
        keys = [text for site, text in (("imdb", "o opens IMDb"), ("tmdb", "t opens TMDB")) if self._url(site)]
        keys += ["w watchlist", "x not interested", "escape closes"]
        self.query_one("#detail-keys", Label).update(" · ".join(keys))

    def on_details_loaded(self, message: DetailsLoaded) -> None:
        self.details, self.listed = message.details, message.listed
        self.query_one(LoadingIndicator).display = False
        self.query_one("#detail-text", Static).update(details_text(message.details, self.listed))
        self._show_keys()
        self.refresh_bindings()

    def on_rating_stored(self, message: RatingStored) -> None:
        self._rerate(message.movie, message.rating)

    def on_rating_removed(self, message: RatingRemoved) -> None:
        self._rerate(message.movie, None)

    def on_list_changed(self, message: ListChanged) -> None:
        if self.details is not None and message.movie.movie_id == self.movie.movie_id:
            self.listed = message.list_name if message.added else None
            self.query_one("#detail-text", Static).update(details_text(self.details, self.listed))

    def _rerate(self, movie: Movie, rating: float | None) -> None:
        if self.details is not None and movie.movie_id == self.movie.movie_id:
            self.details = replace(self.details, your_rating=rating)
            self.listed = None if rating is not None else self.listed  # a rating takes it off its list
            self.query_one("#detail-text", Static).update(details_text(self.details, self.listed))

    def action_toggle_list(self, list_name: str) -> None:
        self.post_message(ListChangeRequested(self.movie, list_name))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return self._url(str(parameters[0])) is not None
        return True

    def _url(self, site: str) -> str | None:
        if self.details is None:
            return None
        return self.details.facts.imdb_url if site == "imdb" else self.details.facts.tmdb_url

    def action_open(self, site: str) -> None:
        url = self._url(site)
        if url is None:
            return
        if not browser_available():
            self.app.copy_to_clipboard(url)
            self.notify(f"{url}\n(copied, where your terminal allows)", title="No web browser here", timeout=8)
            return
        self.app.open_url(url)
        self.notify(url, title="Opening in your browser", timeout=4)


def browser_available() -> bool:
    """Whether `webbrowser` has a browser that opens beside this app: none at all (a server,
    a container) or only a text browser, which would take over this terminal, is False."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    return type(browser) is not webbrowser.GenericBrowser
