"""The app's side of imports and of the watchlist / "not interested" lists: a mixin of
`RecommenderApp`, following its pattern (workers report success with a typed message,
failures reach the app's one `Worker.StateChanged` handler, writes run in order on the
app's writer thread). Kept apart so `app.py` stays about the app's life and ratings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.message import Message

from tui_recommender.core.list_names import LISTS, NOT_INTERESTED, WATCHLIST
from tui_recommender.core.titles import display_title
from tui_recommender.tui.components.import_modal import ImportModal
from tui_recommender.tui.components.lists_screen import ListsScreen
from tui_recommender.tui.messages import (
    ImportConfirmed,
    ImportFailed,
    ImportFileChosen,
    ImportPlanned,
    ListChanged,
    ListChangeRequested,
    ListRemovalRequested,
    ListsFailed,
    ListsLoaded,
    ListsRequested,
    NothingToUndo,
    RatingsImported,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

    from tui_recommender.app.service import Movie, RecommenderService

BINDINGS = [
    Binding(
        "ctrl+o",
        "import_ratings",
        "Import ratings…",
        show=False,
        id="import",
        tooltip="Import ratings from IMDb, Letterboxd or an export of this app",
    ),
]
# What a list change says: (list, added) -> (title, hint).
_CHANGES = {
    (WATCHLIST, True): ("On your watchlist", "ctrl+z or w again undoes · l shows your lists"),
    (WATCHLIST, False): ("Off your watchlist", "ctrl+z undoes"),
    (NOT_INTERESTED, True): ("Not interested", "never recommended again · ctrl+z undoes · l shows your lists"),
    (NOT_INTERESTED, False): ("Interested again", "it can be recommended again · ctrl+z undoes"),
}


@dataclass
class ListUndo:
    """One list change, for the app's ctrl+z stack (beside its rating changes). The writer
    thread fills in what the change did when it makes it."""

    movie: Movie
    list_name: str
    added: bool = False
    made: bool = False

    def revert(self, service: RecommenderService, user_id: int) -> Message:
        """Undo the change (on the writer thread); the message to post."""
        if not self.made:
            return NothingToUndo()
        if self.added:
            service.remove_from_list(user_id, self.movie.movie_id, self.list_name)
        else:
            service.add_to_list(user_id, self.movie.movie_id, self.list_name)
        return ListChanged(self.movie, self.list_name, not self.added, undone=True)


class ImportsAndLists:
    """Mixed into `RecommenderApp` (uses its service, user, writer and helpers)."""

    # ---- lists ---------------------------------------------------------------------------

    def action_lists(self) -> None:
        if self._can_open_user_screen() and not isinstance(self.screen, ListsScreen):
            self.push_screen(ListsScreen())

    def on_lists_requested(self, message: ListsRequested) -> None:
        if self.service is not None and self.user_id is not None:
            worker = self._load_lists(self.service, message, self.user_id)
            self._after(worker, lambda _error: message.requester.post_message(ListsFailed()))

    @work(thread=True, exclusive=True, group="lists", exit_on_error=False, description="Loading your lists")
    def _load_lists(self, service: RecommenderService, request: ListsRequested, user_id: int) -> None:
        request.requester.post_message(ListsLoaded({name: service.listed(user_id, name) for name in LISTS}))

    def on_list_change_requested(self, message: ListChangeRequested) -> None:
        service, user_id, movie, name = self.service, self.user_id, message.movie, message.list_name
        if service is None or user_id is None:
            return

        change = ListUndo(movie, name)
        self._undo.append(change)

        def toggle() -> Message:
            change.added = not service.remove_from_list(user_id, movie.movie_id, name)
            if change.added:
                service.add_to_list(user_id, movie.movie_id, name)
            change.made = True
            return ListChanged(movie, name, change.added)

        self._after(self._change_list(self._writer.submit(toggle)), lambda _error: self._forget(change))

    def on_list_removal_requested(self, message: ListRemovalRequested) -> None:
        service, user_id, movie, name = self.service, self.user_id, message.movie, message.list_name
        if service is None or user_id is None:
            return
        change = ListUndo(movie, name)
        self._undo.append(change)

        def take_off() -> Message:
            change.made = service.remove_from_list(user_id, movie.movie_id, name)
            return ListChanged(movie, name, False)

        self._after(self._change_list(self._writer.submit(take_off)), lambda _error: self._forget(change))

    @work(thread=True, group="write", exit_on_error=False, description="Changing your lists")
    def _change_list(self, written: Future[Message]) -> None:
        self.post_message(written.result())

    def on_list_changed(self, message: ListChanged) -> None:
        movie, name, added = message.movie, message.list_name, message.added
        title, hint = _CHANGES[(name, added)]
        if message.undone:  # say where the movie is now
            title, hint = "Undone", title.lower()
        self.notify(f"{display_title(movie.title)}{f' · {hint}' if hint else ''}", title=title, markup=False, timeout=4)
        self._broadcast(lambda: ListChanged(movie, name, added))

    # ---- importing -----------------------------------------------------------------------

    def action_import_ratings(self) -> None:
        if self.user_id is None:
            self.notify("Choose a user first: the ratings are imported into their profile.", severity="warning")
            return
        if not isinstance(self.screen, ImportModal):
            self.push_screen(ImportModal(self.user_id))

    def on_import_file_chosen(self, message: ImportFileChosen) -> None:
        if self.service is not None and self.user_id is not None:
            worker = self._read_import(self.service, message, self.user_id)
            self._after(
                worker, lambda error: message.requester.post_message(ImportFailed(str(error) if error else "cancelled"))
            )

    @work(thread=True, exclusive=True, group="import", exit_on_error=False, description="Reading the ratings file")
    def _read_import(self, service: RecommenderService, request: ImportFileChosen, user_id: int) -> None:
        from tui_recommender.app.service import report_lines

        plan = service.read_import(Path(request.path).expanduser(), user_id)
        request.requester.post_message(ImportPlanned(plan, report_lines(plan, stored=False)))

    def on_import_confirmed(self, message: ImportConfirmed) -> None:
        service, plan = self.service, message.plan
        if service is None:
            return

        def store() -> Message:
            from tui_recommender.app.service import report_lines

            service.apply_import(plan)
            return RatingsImported(plan, report_lines(plan, stored=True))

        worker = self._store_import(self._writer.submit(store))
        self._after(
            worker, lambda error: message.requester.post_message(ImportFailed(f"Nothing was imported: {error}"))
        )

    @work(thread=True, group="write", exit_on_error=False, description="Importing ratings")
    def _store_import(self, written: Future[Message]) -> None:
        self.post_message(written.result())

    def on_ratings_imported(self, message: RatingsImported) -> None:
        plan, lines = message.plan, message.lines
        self.notify(lines[0], title="Imported", markup=False, timeout=6)
        self._broadcast(lambda: RatingsImported(plan, lines))
        if self.service is not None and self.user_id is not None:
            self._summarise(self.service, self.user_id)
        self._start_update()  # one update learns the whole import
