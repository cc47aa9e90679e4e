"""The app's side of ratings: rate, remove, undo (ctrl+z). A mixin of `RecommenderApp`,
following its pattern: writes run in order on the app's writer thread (`AppState._write`),
each reports success with a typed message, failures reach the app's one
`Worker.StateChanged` handler."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from tui_recommender.core.list_names import NOT_INTERESTED, WATCHLIST
from tui_recommender.tui.app_state import AppState
from tui_recommender.tui.components.rating_modal import RatingModal
from tui_recommender.tui.messages import (
    ListChanged,
    NothingToUndo,
    RatingPromptRequested,
    RatingRemovalRequested,
    RatingRemoved,
    RatingRequested,
    RatingStored,
)
from tui_recommender.tui.undo import RatingUndo

if TYPE_CHECKING:
    from tui_recommender.app.service import Movie

LIST_NAMES = {WATCHLIST: "watchlist", NOT_INTERESTED: '"not interested" list'}


class RatingsFlow(AppState):
    """Mixed into `RecommenderApp`."""

    def on_rating_requested(self, message: RatingRequested) -> None:
        self._rate(message.movie, message.value)

    def on_rating_prompt_requested(self, message: RatingPromptRequested) -> None:
        if (session := self._session()) is None:
            return
        movie = message.movie

        def answered(value: float | None) -> None:
            if value is not None:
                self._rate(movie, value)

        self.push_screen(RatingModal(movie, session.service.scale), answered)

    def _rate(self, movie: Movie, value: object) -> None:
        if (session := self._session()) is None:
            return
        service, user_id = session
        undo = RatingUndo(movie)

        def rate() -> Message:
            undo.before = service.rating_of(user_id, movie.movie_id)
            undo.listed = service.list_of(user_id, movie.movie_id)
            stored = service.rate(user_id, movie.movie_id, value)
            undo.made = True
            return RatingStored(movie, stored, undo.before)

        self._write(rate, "Rating", undo=undo)

    def on_rating_stored(self, message: RatingStored) -> None:
        movie, stored = message.movie, message.rating
        if message.undone:
            self.notify(f"{movie.title}: back to {stored:g}★", title="Undone", markup=False, timeout=4)
        else:
            was = f" (was {message.before[0]:g}★)" if message.before is not None else ""
            self.notify(f"{movie.title}: {stored:g}★{was}\nctrl+z undoes", title="Rated", markup=False, timeout=4)
        self._ratings_changed(lambda: RatingStored(movie, stored))

    def on_rating_removal_requested(self, message: RatingRemovalRequested) -> None:
        if (session := self._session()) is None:
            return
        service, user_id = session
        movie = message.movie
        undo = RatingUndo(movie)

        def remove() -> Message:
            undo.before = service.rating_of(user_id, movie.movie_id)
            service.remove_rating(user_id, movie.movie_id)
            undo.made = True
            return RatingRemoved(movie)

        self._write(remove, "Removing the rating", undo=undo)

    def on_rating_removed(self, message: RatingRemoved) -> None:
        movie, relisted = message.movie, message.relisted
        if message.undone:
            back = f", back on your {LIST_NAMES[relisted]}" if relisted else ""
            self.notify(f"{movie.title} is unrated again{back}", title="Undone", markup=False, timeout=4)
        else:
            self.notify(f"{movie.title}\nctrl+z undoes", title="Rating removed", markup=False, timeout=4)
        self._ratings_changed(lambda: RatingRemoved(movie))
        if relisted is not None:
            self._broadcast(lambda: ListChanged(movie, relisted, True, undone=True))

    def action_undo(self) -> None:
        """Put back what the last rating, removal or list change replaced."""
        if (session := self._session()) is None:
            return
        if not self._undo:
            self.notify("Nothing to undo.", timeout=3)
            return
        undo = self._undo.pop()
        self._write(lambda: undo.revert(*session), "Undoing")

    def on_nothing_to_undo(self, message: NothingToUndo) -> None:
        self.notify("Nothing to undo.", timeout=3)
