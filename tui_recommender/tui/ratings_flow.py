"""The app's side of ratings: rate, remove, undo (ctrl+z). A mixin of `RecommenderApp`,
following its pattern: writes run in order on the app's writer thread, each reports success
with a typed message, failures reach the app's one `Worker.StateChanged` handler."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from tui_recommender.tui.components.rating_modal import RatingModal
from tui_recommender.tui.imports_and_lists import ListUndo
from tui_recommender.tui.messages import (
    NothingToUndo,
    RatingPromptRequested,
    RatingRemovalRequested,
    RatingRemoved,
    RatingRequested,
    RatingStored,
)

if TYPE_CHECKING:
    from tui_recommender.app.service import Movie


@dataclass
class Change:
    """One rating or removal, for ctrl+z. Asked for on the UI thread; the writer thread
    fills in what it replaced when it makes it (writes run in order, so an undo asked for
    later always finds it filled in)."""

    movie: Movie
    before: tuple[float, int] | None = None  # (stars, timestamp in seconds), None: unrated
    made: bool = False


class RatingsFlow:
    """Mixed into `RecommenderApp` (uses its service, user, writer and helpers)."""

    @work(thread=True, group="write", exit_on_error=False, description="Rating")
    def _store_rating(self, written: Future[Message]) -> None:
        self.post_message(written.result())

    @work(thread=True, group="write", exit_on_error=False, description="Removing the rating")
    def _remove_rating(self, written: Future[Message]) -> None:
        self.post_message(written.result())

    @work(thread=True, group="write", exit_on_error=False, description="Undoing")
    def _undo_change(self, written: Future[Message]) -> None:
        self.post_message(written.result())

    def on_rating_requested(self, message: RatingRequested) -> None:
        self._rate(message.movie, message.value)

    def on_rating_prompt_requested(self, message: RatingPromptRequested) -> None:
        if self.service is None:
            return
        movie = message.movie

        def answered(value: float | None) -> None:
            if value is not None:
                self._rate(movie, value)

        self.push_screen(RatingModal(movie, self.service.scale), answered)

    def _rate(self, movie: Movie, value: object) -> None:
        service, user_id = self.service, self.user_id
        if service is None or user_id is None:
            return
        change = Change(movie)
        self._undo.append(change)

        def rate() -> Message:
            change.before = service.rating_of(user_id, movie.movie_id)
            stored = service.rate(user_id, movie.movie_id, value)
            change.made = True
            return RatingStored(movie, stored, change.before)

        self._after(self._store_rating(self._writer.submit(rate)), lambda _error: self._forget(change))

    def on_rating_stored(self, message: RatingStored) -> None:
        movie, stored = message.movie, message.rating
        if message.undone:
            self.notify(f"{movie.title}: back to {stored:g}★", title="Undone", markup=False, timeout=4)
        else:
            was = f" (was {message.before[0]:g}★)" if message.before is not None else ""
            self.notify(f"{movie.title}: {stored:g}★{was}\nctrl+z undoes", title="Rated", markup=False, timeout=4)
        self._rating_changed(lambda: RatingStored(movie, stored))

    def on_rating_removal_requested(self, message: RatingRemovalRequested) -> None:
        service, user_id = self.service, self.user_id
        if service is None or user_id is None:
            return
        movie = message.movie
        change = Change(movie)
        self._undo.append(change)

        def remove() -> Message:
            change.before = service.rating_of(user_id, movie.movie_id)
            service.remove_rating(user_id, movie.movie_id)
            change.made = True
            return RatingRemoved(movie)

        self._after(self._remove_rating(self._writer.submit(remove)), lambda _error: self._forget(change))

    def on_rating_removed(self, message: RatingRemoved) -> None:
        movie = message.movie
        if message.undone:
            self.notify(f"{movie.title} is unrated again", title="Undone", markup=False, timeout=4)
        else:
            self.notify(f"{movie.title}\nctrl+z undoes", title="Rating removed", markup=False, timeout=4)
        self._rating_changed(lambda: RatingRemoved(movie))

    def _forget(self, change: Change | ListUndo) -> None:
        """A rating or removal that failed (the user was told) has nothing to undo."""
        if change in self._undo:
            self._undo.remove(change)

    def action_undo(self) -> None:
        """Put back what the last rating or removal replaced (its stars and date, or none)."""
        service, user_id = self.service, self.user_id
        if service is None or user_id is None:
            return
        if not self._undo:
            self.notify("Nothing to undo.", timeout=3)
            return
        change = self._undo.pop()
        if isinstance(change, ListUndo):
            self._undo_change(self._writer.submit(lambda: change.revert(service, user_id)))
            return

        def undo() -> Message:
            if not change.made:  # it failed after all
                return NothingToUndo()
            if change.before is None:
                service.remove_rating(user_id, change.movie.movie_id)
                return RatingRemoved(change.movie, undone=True)
            stars, timestamp = change.before
            return RatingStored(
                change.movie, service.rate(user_id, change.movie.movie_id, stars, timestamp), undone=True
            )

        self._undo_change(self._writer.submit(undo))

    def on_nothing_to_undo(self, message: NothingToUndo) -> None:
        self.notify("Nothing to undo.", timeout=3)

    def _rating_changed(self, make: Callable[[], Message]) -> None:
        self._broadcast(make)
        if self.service is not None and self.user_id is not None:
            self._summarise(self.service, self.user_id)
        self._start_update()
