"""Messages between the screens, the app and its workers. Screens ask (`...Requested`,
naming themselves as `requester`); the app runs the service in workers, and each worker
reports success with its own message below: to the requester (`...Loaded`), or to the
app, which tells every screen (`Rating...`, `ModelUpdated`, `UserSummaryLoaded`: these do
not bubble, so a screen's copy never comes back to the app). A failure goes through the
app's one `Worker.StateChanged` handler, which tells the requester with `...Failed`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from pathlib import Path

    from textual.message_pump import MessagePump

    from tui_recommender.app.service import (
        ImportPlan,
        ListedMovie,
        Movie,
        MovieDetails,
        Recommendation,
        RecommenderService,
        UpdateReport,
        UserRating,
        UserSummary,
    )


class ServiceOpened(Message):
    """The service is open; `pending` ratings are stored but not learnt yet."""

    def __init__(self, service: RecommenderService, pending: int, retrain_due: bool) -> None:
        super().__init__()
        self.service = service
        self.pending = pending
        self.retrain_due = retrain_due


class ServiceStatus(Message):
    """A one-line progress text from `RecommenderService.open` (posted from its thread)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class FineTuneProgress(Message):
    """Progress of the running model update, 0.0 to 1.0 (posted from its thread)."""

    def __init__(self, fraction: float) -> None:
        super().__init__()
        self.fraction = fraction


class UserIdSubmitted(Message):
    """The user typed a valid ID and pressed enter."""

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id


class NewUserRequested(Message):
    """Start a new profile under the next free ID."""


class UserLookedUp(Message):
    """Whether a submitted user ID is known; `genre_counts` to show it (empty if unknown)."""

    def __init__(self, user_id: int, known: bool, genre_counts: list[tuple[str, int]]) -> None:
        super().__init__()
        self.user_id = user_id
        self.known = known
        self.genre_counts = genre_counts


class ProfileCreated(Message):
    """A new profile was stored durably."""

    def __init__(self, user_id: int, genre_counts: list[tuple[str, int]]) -> None:
        super().__init__()
        self.user_id = user_id
        self.genre_counts = genre_counts


class UserSummaryLoaded(Message, bubble=False):
    def __init__(self, summary: UserSummary) -> None:
        super().__init__()
        self.summary = summary


class NoveltyStepRequested(Message):
    """Move the popular <-> niche dial one step towards niche (wrapping to popular)."""


class NoveltyChanged(Message, bubble=False):
    """The profile's popular (0) <-> niche (1) setting; `changed` when the user moved it
    (the lists then reload), not when it was only read for a profile just opened."""

    def __init__(self, novelty: float, changed: bool) -> None:
        super().__init__()
        self.novelty = novelty
        self.changed = changed


@dataclass(frozen=True)
class RecommendationQuery:
    """One page of recommendations; `serial` lets the screen drop stale answers."""

    serial: int
    genres: tuple[str, ...]
    offset: int
    k: int


class RecommendationsRequested(Message):
    def __init__(self, query: RecommendationQuery, requester: MessagePump) -> None:
        super().__init__()
        self.query = query
        self.requester = requester


class RecommendationsLoaded(Message):
    """`listed`: movie ID -> the user's list it is on (watchlist or not interested)."""

    def __init__(
        self, query: RecommendationQuery, recommendations: list[Recommendation], listed: dict[int, str] | None = None
    ) -> None:
        super().__init__()
        self.query = query
        self.recommendations = recommendations
        self.listed = listed or {}


class ListRefreshed(Message):
    """The main list reloaded itself after a model update; `change` says what changed
    (`3 new, Psycho up 4`), for the status line."""

    def __init__(self, change: str) -> None:
        super().__init__()
        self.change = change


class RecommendationsFailed(Message):
    """The request for `query` failed (the app has told the user): stop waiting for it."""

    def __init__(self, query: RecommendationQuery) -> None:
        super().__init__()
        self.query = query


class SearchRequested(Message):
    def __init__(self, query: str, requester: MessagePump) -> None:
        super().__init__()
        self.query = query
        self.requester = requester


class SearchLoaded(Message):
    """Movies matching `query`, with the user's current rating of each (if any) and the
    list each is on (`listed`: movie ID -> list name)."""

    def __init__(
        self, query: str, movies: list[Movie], ratings: dict[int, float], listed: dict[int, str] | None = None
    ) -> None:
        super().__init__()
        self.query = query
        self.movies = movies
        self.ratings = ratings
        self.listed = listed or {}


class SearchFailed(Message):
    """The search for `query` failed (the app has told the user)."""

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query


class HistoryRequested(Message):
    """Load the user's ratings."""

    def __init__(self, requester: MessagePump) -> None:
        super().__init__()
        self.requester = requester


class HistoryLoaded(Message):
    def __init__(self, ratings: list[UserRating]) -> None:
        super().__init__()
        self.ratings = ratings


class HistoryFailed(Message):
    """Loading the user's ratings failed (the app has told the user)."""


class RatingRequested(Message):
    """Rate `movie` with `value` (validated by the service, so it may be refused)."""

    def __init__(self, movie: Movie, value: object) -> None:
        super().__init__()
        self.movie = movie
        self.value = value


class RatingPromptRequested(Message):
    """Ask for a rating of `movie` in a small dialog (any value on the scale)."""

    def __init__(self, movie: Movie) -> None:
        super().__init__()
        self.movie = movie


class DetailsRequested(Message):
    """Open the detail view of `movie`."""

    def __init__(self, movie: Movie) -> None:
        super().__init__()
        self.movie = movie


class DetailsPreviewRequested(Message):
    """Load the details of `movie` into `requester` (the detail pane beside the list)."""

    def __init__(self, movie: Movie, requester: MessagePump) -> None:
        super().__init__()
        self.movie = movie
        self.requester = requester


class DetailsLoaded(Message):
    """`listed`: the user's list the movie is on, if any."""

    def __init__(self, details: MovieDetails, listed: str | None = None) -> None:
        super().__init__()
        self.details = details
        self.listed = listed


class RatingRemovalRequested(Message):
    def __init__(self, movie: Movie) -> None:
        super().__init__()
        self.movie = movie


class RatingStored(Message, bubble=False):
    """A rating was stored durably; the model update follows. `before` is the (stars,
    timestamp) it replaced; `undone`: it was put back by ctrl+z."""

    def __init__(
        self, movie: Movie, rating: float, before: tuple[float, int] | None = None, undone: bool = False
    ) -> None:
        super().__init__()
        self.movie = movie
        self.rating = rating
        self.before = before
        self.undone = undone


class RatingRemoved(Message, bubble=False):
    """A rating was removed durably (`undone`: ctrl+z took back the rating, and put the movie
    back on `relisted`, the list the rating had taken it off, if any)."""

    def __init__(self, movie: Movie, undone: bool = False, relisted: str | None = None) -> None:
        super().__init__()
        self.movie = movie
        self.undone = undone
        self.relisted = relisted


class NothingToUndo(Message):
    """ctrl+z met a change that had failed: nothing was undone."""


class UpdateFinished(Message):
    """A model update is done; `pending` ratings arrived meanwhile and are not learnt yet."""

    def __init__(self, report: UpdateReport, pending: int, retrain_due: bool) -> None:
        super().__init__()
        self.report = report
        self.pending = pending
        self.retrain_due = retrain_due


class ModelUpdated(Message, bubble=False):
    """Every pending rating is in the model now: lists should be refreshed."""

    def __init__(self, report: UpdateReport) -> None:
        super().__init__()
        self.report = report


class ModelSaved(Message):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class ListChangeRequested(Message):
    """Put `movie` on the user's `list_name` or take it off, whichever it is not (a toggle)."""

    def __init__(self, movie: Movie, list_name: str) -> None:
        super().__init__()
        self.movie = movie
        self.list_name = list_name


class ListRemovalRequested(Message):
    """Take `movie` off the user's `list_name`."""

    def __init__(self, movie: Movie, list_name: str) -> None:
        super().__init__()
        self.movie = movie
        self.list_name = list_name


class ListChanged(Message, bubble=False):
    """`movie` went on (`added`) or off the user's `list_name`, durably (by ctrl+z: `undone`)."""

    def __init__(self, movie: Movie, list_name: str, added: bool, undone: bool = False) -> None:
        super().__init__()
        self.movie = movie
        self.list_name = list_name
        self.added = added
        self.undone = undone


class ListsRequested(Message):
    """Load the user's watchlist and "not interested" list."""

    def __init__(self, requester: MessagePump) -> None:
        super().__init__()
        self.requester = requester


class ListsLoaded(Message):
    """`lists`: list name -> its movies, newest first."""

    def __init__(self, lists: dict[str, list[ListedMovie]]) -> None:
        super().__init__()
        self.lists = lists


class ListsFailed(Message):
    pass


class ImportFileChosen(Message):
    """Read the ratings file at `path` (as typed) and report what importing it would do."""

    def __init__(self, path: str, requester: MessagePump) -> None:
        super().__init__()
        self.path = path
        self.requester = requester


class ImportPlanned(Message):
    """`plan` read from the file, not stored; `lines`: its report."""

    def __init__(self, plan: ImportPlan, lines: list[str]) -> None:
        super().__init__()
        self.plan = plan
        self.lines = lines


class ImportFailed(Message):
    """The file could not be read or matched; `error` says why (one line)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ImportConfirmed(Message):
    """Store `plan` (all or nothing), then learn it in one update."""

    def __init__(self, plan: ImportPlan, requester: MessagePump) -> None:
        super().__init__()
        self.plan = plan
        self.requester = requester


class RatingsImported(Message, bubble=False):
    """`plan` is stored (`lines`: its report), or with `undone` ctrl+z took it back; the
    model update that learns it follows."""

    def __init__(self, plan: ImportPlan, lines: list[str], undone: bool = False) -> None:
        super().__init__()
        self.plan = plan
        self.lines = lines
        self.undone = undone
