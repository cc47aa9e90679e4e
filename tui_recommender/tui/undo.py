"""ctrl+z: each change the user makes (a rating, a removal, a list change, an import) records what it
replaced, and `Undo.revert` puts that back. Changes are asked for on the UI thread; the
writer thread fills in what each replaced when it makes it (writes run in order, so an undo
asked for later always finds it filled in)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

from tui_recommender.tui.messages import ListChanged, NothingToUndo, RatingRemoved, RatingsImported, RatingStored

if TYPE_CHECKING:
    from tui_recommender.app.service import ImportPlan, Movie, RecommenderService, Touched


@dataclass(eq=False)  # the stack holds changes, not values: two alike are still two
class Undo(ABC):
    made: bool = field(default=False, kw_only=True)  # the writer made it (False: it failed)

    def revert(self, service: RecommenderService, user_id: int) -> Message:
        """Put back what the change replaced (on the writer thread); the message to post."""
        if not self.made:
            return NothingToUndo()
        return self._put_back(service, user_id)

    @abstractmethod
    def _put_back(self, service: RecommenderService, user_id: int) -> Message: ...


@dataclass(eq=False)
class RatingUndo(Undo):
    """A rating or a removal."""

    movie: Movie
    before: tuple[float, int] | None = None  # (stars, timestamp in seconds), None: unrated
    listed: str | None = None  # the list the movie was on (a rating takes it off), None: none

    def _put_back(self, service: RecommenderService, user_id: int) -> Message:
        if self.before is None:
            service.remove_rating(user_id, self.movie.movie_id)
            if self.listed is not None:
                service.add_to_list(user_id, self.movie.movie_id, self.listed)
            return RatingRemoved(self.movie, undone=True, relisted=self.listed)
        stars, timestamp = self.before
        return RatingStored(self.movie, service.rate(user_id, self.movie.movie_id, stars, timestamp), undone=True)


@dataclass(eq=False)
class ListUndo(Undo):
    """A movie put on or taken off one of the user's lists."""

    movie: Movie
    list_name: str
    added: bool = False

    def _put_back(self, service: RecommenderService, user_id: int) -> Message:
        if self.added:
            service.remove_from_list(user_id, self.movie.movie_id, self.list_name)
        else:
            service.add_to_list(user_id, self.movie.movie_id, self.list_name)
        return ListChanged(self.movie, self.list_name, not self.added, undone=True)


@dataclass(eq=False)
class ImportUndo(Undo):
    """An import, undone as one step: every rating and list entry it replaced comes back."""

    plan: ImportPlan
    touched: tuple[Touched, ...] = ()  # what it replaced (`RecommenderService.import_before`)

    def _put_back(self, service: RecommenderService, user_id: int) -> Message:
        service.undo_import(self.touched)
        return RatingsImported(self.plan, [], undone=True)
