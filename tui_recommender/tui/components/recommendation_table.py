"""The main screen's list: recommendations in ranked order, reloaded in place (see
`live_list`), sorted and filtered on the spot. It keeps what the rows need beyond the
table (each row's recommendation, the rows rated since the list was loaded from the top,
the list each movie is on, the marks of a live reload) and rebuilds its rows from them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.timer import Timer

from tui_recommender.core.text import inert, shorten
from tui_recommender.core.titles import sort_key
from tui_recommender.tui.components.movie_table import (
    LISTED_COLUMN,
    RATED_COLUMN,
    Column,
    MovieTable,
    listed_text,
    rating_text,
)
from tui_recommender.tui.live_list import ListChange, clean_filter, compare, filter_words, matches, neighbour, pin

if TYPE_CHECKING:
    from tui_recommender.app.service import Recommendation

MARK_SECONDS = 5.0  # how long arrivals and moves stay marked
SORTS = ("match", "year", "title")
ARRIVED, UP, DOWN = "+", "↑", "↓"
COLUMNS = (
    Column(RATED_COLUMN, "#", width=4, justify="right"),  # the rank (with its mark), or your stars once rated
    Column(LISTED_COLUMN, "", width=1),  # w: on your watchlist
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


class RecommendationTable(MovieTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)
        self.recommendations: dict[int, Recommendation] = {}
        self.order: list[int] = []  # the rows in ranked order, before sort and filter
        # Rated since the list was loaded from the top: they stay on their rows with their
        # stars, but are gone from the service's ranking (so they are no offset for `more`).
        self.rated_here: dict[int, float] = {}
        self._gone: set[int] = set()  # marked not interested since then
        self._listed: dict[int, str] = {}  # movie -> the list it is on
        self._marks: dict[int, str] = {}  # movie -> ARRIVED, UP or DOWN, for MARK_SECONDS
        self.sort = SORTS[0]
        self.filter = ""
        self._filter_problem = ""
        self.at_end = False
        self._unmark: Timer | None = None

    @property
    def unrated(self) -> int:
        """Rows from the service's ranking (the offset of the next page)."""
        return len(self.order) - len(self.rated_here)

    # Loading -------------------------------------------------------------------------------

    def load(self, recommendations: list[Recommendation], listed: dict[int, str], k: int, top: bool) -> int:
        """A page from the top (`top`: replacing the rows, the cursor on the first) or the
        next page (appended). Returns the rows added."""
        if top:
            for held in (self.recommendations, self.rated_here, self._listed, self._marks):
                held.clear()
            self.order.clear()
            self._gone.clear()
        self._listed.update(listed)
        added = 0
        for recommendation in recommendations:
            movie_id = recommendation.movie.movie_id
            if movie_id not in self.recommendations:
                added += 1
                self.recommendations[movie_id] = recommendation
                self.order.append(movie_id)
        self.at_end = len(recommendations) < k
        self.show(top=top)
        return added

    def merge(self, recommendations: list[Recommendation], listed: dict[int, str], k: int) -> ListChange:
        """The new ranking (from the top) in place of the old one: rows rated since the list
        was loaded stay on their rows, the cursor stays on its movie, arrivals and moves are
        marked for `MARK_SECONDS`. Returns what changed."""
        skip = set(self.rated_here) | self._gone
        fresh = [r for r in recommendations if r.movie.movie_id not in skip]
        change = compare([m for m in self.order if m not in self.rated_here], [r.movie.movie_id for r in fresh])
        pinned = {movie: row for row, movie in enumerate(self.order) if movie in self.rated_here}
        self.order = pin([r.movie.movie_id for r in fresh], pinned)
        self.recommendations = {m: self.recommendations[m] for m in pinned} | {r.movie.movie_id: r for r in fresh}
        self._listed.update(listed)
        self._marks = dict.fromkeys(change.arrived, ARRIVED)
        self._marks.update({movie: UP if rows > 0 else DOWN for movie, rows in change.moved.items()})
        if self._unmark is not None:
            self._unmark.stop()
        self._unmark = self.set_timer(MARK_SECONDS, self._clear_marks)
        self.at_end = len(recommendations) < k
        self.show()
        return change

    def _clear_marks(self) -> None:
        marked, self._marks = self._marks, {}
        for movie in marked:
            if self.has_movie(movie) and movie not in self.rated_here:
                self.set_cell(movie, RATED_COLUMN, self._first_cell(movie))

    # The user's changes --------------------------------------------------------------------

    def rate(self, movie_id: int, rating: float | None) -> None:
        """The movie is rated `rating` now (None: not rated); a rating takes it off its list."""
        if movie_id not in self.recommendations:
            return
        if rating is None:
            if self.rated_here.pop(movie_id, None) is not None and self.has_movie(movie_id):
                self.set_cell(movie_id, RATED_COLUMN, self._first_cell(movie_id))
            return
        self.rated_here[movie_id] = rating
        self._listed.pop(movie_id, None)
        self.show_rating(movie_id, rating)
        self.show_listed(movie_id, None)

    def relist(self, movie_id: int, listed: str | None) -> None:
        """The movie is on `listed` now (None: on no list)."""
        if listed is None:
            self._listed.pop(movie_id, None)
        else:
            self._listed[movie_id] = listed
        self.show_listed(movie_id, listed)

    def drop(self, movie_id: int) -> None:
        """Take the movie out for good (not interested), also out of live reloads under way."""
        self._gone.add(movie_id)
        self.recommendations.pop(movie_id, None)
        self.rated_here.pop(movie_id, None)
        if movie_id in self.order:
            self.order.remove(movie_id)
        self.remove_movie(movie_id)
        self.show_subtitle()

    def next_sort(self) -> str:
        """Sort by the next of `SORTS`; returns its name."""
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.show()
        return self.sort

    def set_filter(self, typed: str) -> str:
        """Show only the rows matching `typed` (cleaned by `clean_filter`); returns the clean text."""
        text, problem = clean_filter(typed)
        self._filter_problem = problem
        if text != self.filter:
            self.filter = text
            self.show()
        else:
            self.show_subtitle()
        return text

    # Showing -------------------------------------------------------------------------------

    def _first_cell(self, movie_id: int) -> Text | str:
        if movie_id in self.rated_here:
            return rating_text(self.rated_here[movie_id])
        mark = self._marks.get(movie_id, "")
        return Text(f"{mark}{self.recommendations[movie_id].rank}", style="bold" if mark else "")

    def _visible(self) -> list[int]:
        """The rows in the chosen sort (stable: ties keep the ranked order), filtered."""
        order = list(self.order)
        movies = {movie: self.recommendations[movie].movie for movie in order}
        if self.sort == "year":
            order.sort(key=lambda movie: -(movies[movie].year or 0))
        elif self.sort == "title":
            order.sort(key=lambda movie: sort_key(movies[movie].title))
        words = filter_words(self.filter)
        if words:
            order = [m for m in order if matches(words, movies[m].title, str(movies[m].year or ""), *movies[m].genres)]
        return order

    def show(self, top: bool = False) -> None:
        """Rebuild the rows: the cursor stays on its movie (or goes to its nearest neighbour
        still shown) on the same line of the screen, or to the first row when `top`."""
        before = [int(row.key.value or 0) for row in self.ordered_rows]
        row, line = self.cursor_row, self.cursor_row - round(self.scroll_y)
        rows = self._visible()
        self.clear_movies()
        for movie_id in rows:
            recommendation = self.recommendations[movie_id]
            movie = recommendation.movie
            self.add_movie(
                movie,
                self._first_cell(movie_id),
                listed_text(self._listed.get(movie_id)),
                movie.title,
                str(movie.year or ""),
                match_text(recommendation),
                ", ".join(movie.genres),
                recommendation.because or "",
            )
        keep = None if top else neighbour(before, row, set(rows))
        index = rows.index(keep) if keep is not None else 0
        self.move_cursor(row=index, scroll=False)
        # After the refresh that measures the new rows; the cursor's own scroll comes first.
        self.call_after_refresh(self.scroll_to, y=max(index - max(line, 0), 0), animate=False)
        self.show_subtitle()

    def show_subtitle(self) -> None:
        shown, typed = self.row_count, self.filter.strip()
        parts = [f"{shown} of {len(self.order)} match {shorten(typed, 20)!r}" if typed else f"{shown} shown"]
        if self._filter_problem:
            parts.append(self._filter_problem)
        if self.sort != SORTS[0]:
            parts.append(f"by {self.sort}")
        if not self.at_end:
            parts.append("m for more")
        self.border_subtitle = inert(" · ".join(parts))
