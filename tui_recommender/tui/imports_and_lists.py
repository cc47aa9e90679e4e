"""The app's side of imports and of the watchlist / "not interested" lists: a mixin of
`RecommenderApp`, following its pattern (workers report success with a typed message,
failures reach the app's one `Worker.StateChanged` handler, writes run in order on the
app's writer thread: `AppState._write`). Kept apart so `app.py` stays about the app's life."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.message import Message

from tui_recommender.core.list_names import LISTS, NOT_INTERESTED, WATCHLIST
from tui_recommender.core.titles import display_title
from tui_recommender.tui.app_state import AppState
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
    RatingsImported,
)
from tui_recommender.tui.undo import ImportUndo, ListUndo

if TYPE_CHECKING:
    from tui_recommender.app.service import RecommenderService

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
CHANGING_LISTS = "Changing your lists"  # what a failed list change is reported as
# What a list change says: (list, added) -> (title, hint).
_CHANGES = {
    (WATCHLIST, True): ("On your watchlist", "ctrl+z or w again undoes · l shows your lists"),
    (WATCHLIST, False): ("Off your watchlist", "ctrl+z undoes"),
    (NOT_INTERESTED, True): ("Not interested", "never recommended again · ctrl+z undoes · l shows your lists"),
    (NOT_INTERESTED, False): ("Interested again", "it can be recommended again · ctrl+z undoes"),
}


class ImportsAndLists(AppState):
    """Mixed into `RecommenderApp`."""

    # ---- lists ---------------------------------------------------------------------------

    def action_lists(self) -> None:
        if self._can_open_user_screen() and not isinstance(self.screen, ListsScreen):
            self.push_screen(ListsScreen())

    def on_lists_requested(self, message: ListsRequested) -> None:
        if (session := self._session()) is not None:
            worker = self._load_lists(*session, message)
            self._after(worker, lambda _error: message.requester.post_message(ListsFailed()))

    @work(thread=True, exclusive=True, group="lists", exit_on_error=False, description="Loading your lists")
    def _load_lists(self, service: RecommenderService, user_id: int, request: ListsRequested) -> None:
        request.requester.post_message(ListsLoaded({name: service.listed(user_id, name) for name in LISTS}))

    def on_list_change_requested(self, message: ListChangeRequested) -> None:
        if (session := self._session()) is None:
            return
        service, user_id = session
        movie, name = message.movie, message.list_name
        undo = ListUndo(movie, name)

        def toggle() -> Message:
            undo.added = not service.remove_from_list(user_id, movie.movie_id, name)
            if undo.added:
                service.add_to_list(user_id, movie.movie_id, name)
            undo.made = True
            return ListChanged(movie, name, undo.added)

        self._write(toggle, CHANGING_LISTS, undo=undo)

    def on_list_removal_requested(self, message: ListRemovalRequested) -> None:
        if (session := self._session()) is None:
            return
        service, user_id = session
        movie, name = message.movie, message.list_name
        undo = ListUndo(movie, name)

        def take_off() -> Message:
            undo.made = service.remove_from_list(user_id, movie.movie_id, name)
            return ListChanged(movie, name, False)

        self._write(take_off, CHANGING_LISTS, undo=undo)

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
        if (session := self._session()) is not None:
            worker = self._read_import(*session, message)
            self._after(
                worker,
                lambda error: message.requester.post_message(ImportFailed(str(error) if error else "cancelled")),
                shows_error=True,
            )

    @work(thread=True, exclusive=True, group="import", exit_on_error=False, description="Reading the ratings file")
    def _read_import(self, service: RecommenderService, user_id: int, request: ImportFileChosen) -> None:
        from tui_recommender.app.service import report_lines

        # An export of this app names its users (it goes back to them); other files go to this user.
        plan = service.read_import(Path(request.path).expanduser(), user_id, keep_export_users=True)
        request.requester.post_message(ImportPlanned(plan, report_lines(plan, stored=False)))

    def on_import_confirmed(self, message: ImportConfirmed) -> None:
        if (session := self._session()) is None:
            return
        service, plan = session.service, message.plan
        undo = ImportUndo(plan)

        def store() -> Message:
            from tui_recommender.app.service import report_lines

            undo.touched = service.import_before(plan)
            service.apply_import(plan)
            undo.made = True
            return RatingsImported(plan, report_lines(plan, stored=True))

        self._write(
            store,
            "Importing ratings",
            lambda error: message.requester.post_message(ImportFailed(f"Nothing was imported: {error}")),
            undo=undo,
            shows_error=True,
        )

    def on_ratings_imported(self, message: RatingsImported) -> None:
        plan, lines, undone = message.plan, message.lines, message.undone
        if undone:
            self.notify(f"{plan.path.name}: every rating and list entry it changed is back", title="Import undone")
        else:
            self.notify(f"{lines[0]}\nctrl+z undoes the whole import", title="Imported", markup=False, timeout=6)
        # One update learns the whole import (or its undoing).
        self._ratings_changed(lambda: RatingsImported(plan, lines, undone))
