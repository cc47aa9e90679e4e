"""The Textual app: the one place that talks to `RecommenderService`.

Screens post requests (see `messages`); the app answers them from thread workers so the
UI thread never waits on the model or the disk. Each worker reports success with its own
typed message; a failure reaches the one `on_worker_state_changed` handler, which tells
the user (a notification, or a dialog for a bug) and runs the follow-up the worker was
started with. Writes (ratings, removals, profiles, the save) run one at a time, in the
order they were asked for, on one writer thread. One fine-tune worker at a time applies
every pending rating, and runs again if more arrived meanwhile. On quit, SIGTERM or SIGHUP
the running fine-tune is cancelled and the model saved before the app exits. The service
module (numpy, pandas, later torch) is imported inside the opening worker, so this module
imports fast and the first screen is usable at once. The app's jobs beyond its life and the
screens' requests are mixins, one module each: `user_flow`, `ratings_flow`, `model_status`,
`imports_and_lists`, `navigation`; the state they share is declared once in `app_state`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState, get_current_worker

from tui_recommender.app.progress import EpochProgress
from tui_recommender.config.settings import Settings
from tui_recommender.core.errors import UserError
from tui_recommender.tui.app_state import AppState, listed_movies
from tui_recommender.tui.commands import BindingCommandsProvider
from tui_recommender.tui.components.error_modal import ErrorModal
from tui_recommender.tui.components.user_screen import UserScreen
from tui_recommender.tui.config_check import check_config, usable_keymap
from tui_recommender.tui.imports_and_lists import BINDINGS as IMPORT_AND_LIST_BINDINGS
from tui_recommender.tui.imports_and_lists import ImportsAndLists
from tui_recommender.tui.messages import (
    HistoryFailed,
    HistoryLoaded,
    HistoryRequested,
    RecommendationsFailed,
    RecommendationsLoaded,
    RecommendationsRequested,
    SearchFailed,
    SearchLoaded,
    SearchRequested,
    ServiceOpened,
    ServiceStatus,
)
from tui_recommender.tui.model_status import FINE_TUNE, ModelStatus
from tui_recommender.tui.navigation import Navigation
from tui_recommender.tui.ratings_flow import RatingsFlow
from tui_recommender.tui.user_flow import UserFlow

if TYPE_CHECKING:
    from tui_recommender.app.service import RecommenderService

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # kill; the terminal was closed
OPENING = "service"

logger = logging.getLogger(__name__)


class OpeningAbandoned(Exception):
    """Raised from the opening worker's status callback to stop loading when the app quits."""


class RecommenderApp(RatingsFlow, UserFlow, ModelStatus, ImportsAndLists, Navigation, AppState):
    TITLE = "tui-recommender"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {BindingCommandsProvider}
    BINDINGS = [
        Binding(
            "ctrl+z",
            "undo",
            "Undo",
            id="undo",
            tooltip="Undo the last rating, removal or list change (and the one before…)",
        ),
        Binding("question_mark", "help", "Help", id="help", tooltip="Show every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Save the model and quit"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit-now", tooltip="Save and quit, even while typing"),
        Binding(
            "ctrl+c",
            "quit",
            "Quit",
            show=False,
            priority=True,
            id="quit-ctrl-c",
            tooltip="Save and quit, even while typing",
        ),
        *IMPORT_AND_LIST_BINDINGS,
        Binding(
            "ctrl+s",
            "save_now",
            "Save model",
            show=False,
            id="save",
            tooltip="Write the fine-tuned model to the state dir now",
        ),
    ]

    # Lifecycle -------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.settings.theme is not None:
            self.theme = self.settings.theme
        self.keymap_in_use, clashes = usable_keymap(type(self), self.settings)
        self.set_keymap(self.keymap_in_use)
        for line in clashes:  # the app works on, with that binding's default key
            self.notify(line, title="Config file", severity="warning", timeout=10)
        self._install_signal_handlers()
        self.push_screen(UserScreen())
        self.status_text = "Loading the model… you can type your user ID meanwhile"
        self._after(self._open_service(), self._opening_failed)

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in EXIT_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGTERM, self.call_later, self.action_quit)
            loop.add_signal_handler(signal.SIGHUP, self._terminal_closed)
        except (NotImplementedError, RuntimeError, ValueError):
            return  # not the main thread, or no signals on this platform

    def _terminal_closed(self) -> None:
        """Save and leave at once. With its terminal gone, textual 8.2.8 never finishes
        exiting (seen: the driver's shutdown blocks forever queueing to its full output
        thread), and drawing may block the same way: so no drawing, no clean shutdown."""
        self._quitting = True
        self.workers.cancel_group(self, FINE_TUNE)
        code = 0
        if self.service is not None:
            try:
                self._writer.shutdown(wait=True)  # the ratings asked for are stored first
                self.service.save()  # waits for the cancelled fine-tune (it stops within ~1 s)
            except Exception:
                code = 1
            self.close_service()
        os._exit(code)

    async def action_quit(self) -> None:
        """Cancel a running fine-tune, save the model, then exit (see `on_model_saved`)."""
        if self._quitting:
            self.notify("Saving the model, one moment…", timeout=2)
            return
        self._quitting = True
        if self.service is None:
            self.workers.cancel_group(self, OPENING)
            self.exit()
            return
        self.status_text = "Saving the model…"
        # The fine-tune checks should_stop between batches, and save() waits for it.
        self.workers.cancel_group(self, FINE_TUNE)
        self._start_save(self.service)

    def save_if_needed(self) -> None:
        """Save after the app has stopped without saving (a crash): ratings are stored
        already, this keeps the fine-tuned weights too."""
        if self.service is None or self._save_attempted:
            return
        self._save_attempted = True
        try:
            self._writer.shutdown(wait=True)
            self.saved_path = self.service.save()
        except Exception as error:
            print(f"tui-recommender: could not save the model: {error}", file=sys.stderr)

    def close_service(self) -> None:
        self._writer.shutdown(wait=True)
        if self.service is None:
            return
        try:
            self.service.close()
        except Exception as error:
            print(f"tui-recommender: could not close the ratings store: {error}", file=sys.stderr)

    # Workers: each posts its result as a typed message --------------------------------

    @work(thread=True, exclusive=True, group=OPENING, exit_on_error=False, description="Loading the model")
    def _open_service(self) -> None:
        from tui_recommender.app.service import RecommenderService

        worker = get_current_worker()

        def on_status(text: str) -> None:
            if worker.is_cancelled:
                raise OpeningAbandoned
            self.post_message(ServiceStatus(text))

        # Training at start-up (no checkpoint fits the data) reports its epochs and time left.
        progress = EpochProgress("training a model for this data", on_line=on_status, interval_s=1.0)
        service = RecommenderService.open(self.settings, on_status, on_epoch=progress)
        self.post_message(ServiceOpened(service, service.pending_updates(), service.retrain_due()))

    @work(thread=True, exclusive=True, group="inference", exit_on_error=False, description="Recommending")
    def _recommend(self, service: RecommenderService, user_id: int, request: RecommendationsRequested) -> None:
        query = request.query
        recommendations = service.recommend(user_id, query.genres, k=query.k, offset=query.offset)
        listed = listed_movies(service, user_id)
        if not get_current_worker().is_cancelled:
            request.requester.post_message(RecommendationsLoaded(query, recommendations, listed))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False, description="Searching")
    def _search(self, service: RecommenderService, user_id: int, request: SearchRequested) -> None:
        movies = service.search_movies(request.query)
        ratings = {rating.movie.movie_id: rating.rating for rating in service.user_ratings(user_id)}
        listed = listed_movies(service, user_id)
        if not get_current_worker().is_cancelled:
            request.requester.post_message(SearchLoaded(request.query, movies, ratings, listed))

    @work(thread=True, exclusive=True, group="history", exit_on_error=False, description="Loading your ratings")
    def _history(self, service: RecommenderService, user_id: int, request: HistoryRequested) -> None:
        ratings = service.user_ratings(user_id)
        if not get_current_worker().is_cancelled:
            request.requester.post_message(HistoryLoaded(ratings))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where worker failures are handled."""
        worker = event.worker
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        follow_up = self._follow_ups.pop(worker, None)
        shown_in_place = worker in self._shown_in_place
        self._shown_in_place.discard(worker)
        if event.state == WorkerState.SUCCESS:
            return
        error = worker.error if event.state == WorkerState.ERROR else None
        if shown_in_place and isinstance(error, UserError):
            logger.warning("%s: %s", worker.description, error)
        elif error is not None and not isinstance(error, OpeningAbandoned):
            # A failed update leaves the list usable: one line, no dialog (ratings stay stored).
            self._report(worker.description, error, dialog=worker is not self._fine_tune_worker)
        if follow_up is not None:
            follow_up(error)

    def _report(self, what: str, error: BaseException, dialog: bool = True) -> None:
        """A user's mistake becomes a notification; anything else (a bug) an error dialog
        too, unless not `dialog`. Both are logged (`cli.logs`), a bug with its traceback."""
        if isinstance(error, UserError):
            logger.warning("%s: %s", what, error)
            self.notify(str(error), title=what, severity="warning", timeout=6, markup=False)
        else:
            logger.error("%s failed (a bug: please report it with this log)", what, exc_info=error)
            self.notify(
                f"{type(error).__name__}: {error}", title=f"{what} failed", severity="error", timeout=10, markup=False
            )
            if dialog:
                self.push_screen(ErrorModal(what, error))

    # Service state ---------------------------------------------------------------------

    def on_service_status(self, message: ServiceStatus) -> None:
        if self.service is None and not self._quitting:
            self.status_text = f"Loading the model… {message.text}"

    def on_service_opened(self, message: ServiceOpened) -> None:
        if self._quitting:  # quit while it opened: nothing was changed, nothing to save
            message.service.close()
            return
        service = self.service = message.service
        self._pending, self._retrain_due = message.pending, message.retrain_due
        self._refresh_status()
        if self._waiting_choice is not None:
            choice, self._waiting_choice = self._waiting_choice, None
            choice(service)
        # Ratings stored by a run that ended before learning them: learn them now.
        if self._pending:
            self._start_update()

    def _opening_failed(self, error: BaseException | None) -> None:
        if error is not None and not isinstance(error, OpeningAbandoned):
            self.status_text = f"Could not load the model: {error}. Press ctrl+q to quit."

    # Screens' requests -----------------------------------------------------------------

    def on_recommendations_requested(self, message: RecommendationsRequested) -> None:
        if (session := self._session()) is not None:
            worker = self._recommend(*session, message)
            self._after(worker, lambda _error: message.requester.post_message(RecommendationsFailed(message.query)))

    def on_search_requested(self, message: SearchRequested) -> None:
        if (session := self._session()) is not None:
            worker = self._search(*session, message)
            self._after(worker, lambda _error: message.requester.post_message(SearchFailed(message.query)))

    def on_history_requested(self, message: HistoryRequested) -> None:
        if (session := self._session()) is not None:
            worker = self._history(*session, message)
            self._after(worker, lambda _error: message.requester.post_message(HistoryFailed()))


def run_app(settings: Settings) -> int:
    """Run the TUI until the user quits; returns the process exit code. Raises
    `ConfigError` for a theme or binding id in the config file that the app lacks."""
    app = RecommenderApp(settings)
    check_config(app)
    try:
        app.run()
    finally:
        app.save_if_needed()
        app.close_service()
    return app.return_code or 0
