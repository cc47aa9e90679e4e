"""The Textual app: the one place that talks to `RecommenderService`.

Screens post requests (see `messages`); the app answers them from thread workers so the
UI never waits on the model. Ratings are stored at once with `rate()` (fast, durable);
one fine-tune worker at a time then applies every pending rating, and runs again if more
arrived meanwhile. On quit, SIGTERM or SIGHUP the running fine-tune is cancelled and the
model saved before the app exits. The service module (numpy, pandas, later torch) is
imported inside the opening worker, so this module imports fast and the first screen is
usable at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from tui_recommender.config import Settings
from tui_recommender.errors import UserError
from tui_recommender.progress import EpochProgress
from tui_recommender.tui.commands import RecommenderCommands
from tui_recommender.tui.components.error_modal import ErrorModal
from tui_recommender.tui.components.help_screen import HelpScreen
from tui_recommender.tui.components.history_screen import HistoryScreen
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.new_profile_modal import NewProfileModal
from tui_recommender.tui.components.rating_modal import RatingModal
from tui_recommender.tui.components.search_screen import SearchScreen
from tui_recommender.tui.components.user_screen import UserScreen
from tui_recommender.tui.messages import (
    FineTuneProgress,
    HistoryLoaded,
    HistoryRequested,
    JobFailed,
    ModelUpdated,
    NewUserRequested,
    RatingPromptRequested,
    RatingRemovalRequested,
    RatingRemoved,
    RatingRequested,
    RatingStored,
    RecommendationsLoaded,
    RecommendationsRequested,
    SearchLoaded,
    SearchRequested,
    ServiceStatus,
    UserIdSubmitted,
    UserSummaryLoaded,
)

if TYPE_CHECKING:
    from tui_recommender.service import Movie, RecommenderService, UpdateReport, UserSummary

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # kill; the terminal was closed
# What each worker group does, for error messages.
JOBS = {
    "service": "Loading the model",
    "inference": "Recommending",
    "search": "Searching",
    "history": "Loading your ratings",
    "summary": "Summarising your ratings",
    "finetune": "Learning from your ratings",
    "warmup": "Preparing to learn from ratings",
    "save": "Saving the model",
}


class OpeningAbandoned(Exception):
    """Raised from the opening worker's status callback to stop loading when the app quits."""


class RecommenderApp(App[None]):
    TITLE = "tui-recommender"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {RecommenderCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Save the model and quit"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit-now", tooltip="Save and quit, even while typing"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-ctrl-c", tooltip="Save and quit, even while typing"),
        Binding("question_mark", "help", "Help", id="help", tooltip="Show every key"),
    ]

    status_text: reactive[str] = reactive("Starting…")
    update_progress: reactive[float | None] = reactive(None)

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.service: RecommenderService | None = None
        self.user_id: int | None = None
        self.saved_path: Path | None = None
        self._quitting = False
        self._save_attempted = False
        self._waiting_choice: Callable[[], None] | None = None  # chosen before the service was ready

    # Lifecycle -------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._install_signal_handlers()
        self.push_screen(UserScreen())
        self.status_text = "Loading the model… you can type your user ID meanwhile"
        self._open_service()

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in EXIT_SIGNALS:
            try:
                loop.remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

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
        self.workers.cancel_group(self, "finetune")
        code = 0
        if self.service is not None:
            try:
                self.service.save()  # waits for the cancelled fine-tune (it stops within ~1 s)
            except Exception:
                code = 1
            self.close_service()
        os._exit(code)

    async def action_quit(self) -> None:
        """Cancel a running fine-tune, save the model, then exit (see `_saved`)."""
        if self._quitting:
            self.notify("Saving the model, one moment…", timeout=2)
            return
        self._quitting = True
        if self.service is None:
            self.workers.cancel_group(self, "service")
            self.exit()
            return
        self.status_text = "Saving the model…"
        # The fine-tune checks should_stop between batches, and save() waits for it.
        self.workers.cancel_group(self, "finetune")
        self._save(self.service)

    def save_if_needed(self) -> None:
        """Save after the app has stopped without saving (a crash): ratings are stored
        already, this keeps the fine-tuned weights too."""
        if self.service is None or self._save_attempted:
            return
        self._save_attempted = True
        try:
            self.saved_path = self.service.save()
        except Exception as error:
            print(f"tui-recommender: could not save the model: {error}", file=sys.stderr)

    def close_service(self) -> None:
        if self.service is None:
            return
        try:
            self.service.close()
        except Exception as error:
            print(f"tui-recommender: could not close the ratings store: {error}", file=sys.stderr)

    # Workers ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="service", exit_on_error=False)
    def _open_service(self) -> RecommenderService:
        from tui_recommender.service import RecommenderService

        worker = get_current_worker()

        def on_status(text: str) -> None:
            if worker.is_cancelled:
                raise OpeningAbandoned
            self.post_message(ServiceStatus(text))

        # Training at start-up (no checkpoint fits the data) reports its epochs and time left.
        progress = EpochProgress("training a model (once)", on_line=on_status, interval_s=1.0)
        return RecommenderService.open(self.settings, on_status, on_epoch=progress)

    @work(thread=True, exclusive=True, group="inference", exit_on_error=False)
    def _recommend(self, service: RecommenderService, request: RecommendationsRequested, user_id: int) -> None:
        query = request.query
        recommendations = service.recommend(user_id, query.genres, k=query.k, offset=query.offset)
        if not get_current_worker().is_cancelled:
            request.requester.post_message(RecommendationsLoaded(query, recommendations))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, service: RecommenderService, request: SearchRequested, user_id: int) -> None:
        movies = service.search_movies(request.query)
        ratings = {rating.movie.movie_id: rating.rating for rating in service.user_ratings(user_id)}
        if not get_current_worker().is_cancelled:
            request.requester.post_message(SearchLoaded(request.query, movies, ratings))

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _history(self, service: RecommenderService, request: HistoryRequested, user_id: int) -> None:
        ratings = service.user_ratings(user_id)
        if not get_current_worker().is_cancelled:
            request.requester.post_message(HistoryLoaded(ratings))

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def _summarise(self, service: RecommenderService, user_id: int) -> UserSummary:
        return service.user_summary(user_id)

    @work(thread=True, exclusive=True, group="finetune", exit_on_error=False)
    def _fine_tune(self, service: RecommenderService) -> UpdateReport:
        worker = get_current_worker()
        return service.update_model(
            should_stop=lambda: worker.is_cancelled,
            on_progress=lambda fraction: self.post_message(FineTuneProgress(fraction)),
        )

    @work(thread=True, exclusive=True, group="warmup", exit_on_error=False)
    def _prepare_updates(self, service: RecommenderService) -> None:
        service.prepare_updates()

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def _save(self, service: RecommenderService) -> Path:
        return service.save()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where worker results and failures are handled."""
        worker = event.worker
        if event.state == WorkerState.ERROR:
            self._worker_failed(worker.group, worker.error)
        elif event.state == WorkerState.SUCCESS:
            if worker.group == "service":
                self._service_opened(worker.result)
            elif worker.group == "summary":
                summary = worker.result
                self._broadcast(lambda: UserSummaryLoaded(summary))
            elif worker.group == "finetune":
                self._update_finished(worker.result)
            elif worker.group == "save":
                self._saved(worker.result)
        if worker.group == "finetune" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.update_progress = None

    def _worker_failed(self, group: str, error: BaseException | None) -> None:
        what = JOBS.get(group, group)
        if group == "save":
            self._save_attempted = True
            if self._quitting:
                self.exit(return_code=1, message=f"tui-recommender: could not save the model: {error}")
                return
        if group == "service":
            if isinstance(error, OpeningAbandoned):
                return
            self.status_text = f"Could not load the model: {error}. Press ctrl+q to quit."
        if group == "finetune":
            self._refresh_status()
        self._report(what, error or RuntimeError("unknown error"))
        self._broadcast(lambda: JobFailed(group))

    def _report(self, what: str, error: BaseException) -> None:
        """A user's mistake becomes a notification; anything else (a bug) an error dialog."""
        if isinstance(error, UserError):
            self.notify(str(error), title=what, severity="warning", timeout=6)
        else:
            self.notify(f"{type(error).__name__}: {error}", title=f"{what} failed", severity="error", timeout=10)
            self.push_screen(ErrorModal(what, error))

    def _broadcast(self, make: Callable[[], Message]) -> None:
        """Post a fresh message to every screen in the stack (each ignores what it need not know)."""
        for screen in self.screen_stack:
            screen.post_message(make())

    # Service state ---------------------------------------------------------------------

    def on_service_status(self, message: ServiceStatus) -> None:
        if self.service is None and not self._quitting:
            self.status_text = f"Loading the model… {message.text}"

    def _service_opened(self, service: RecommenderService) -> None:
        self.service = service
        self._refresh_status()
        if self._waiting_choice is not None:
            choice, self._waiting_choice = self._waiting_choice, None
            choice()
        # Ratings stored by a run that ended before learning them: learn them now.
        self._start_update(only_if_pending=True)
        # Meanwhile load torch, so the first rating is learnt as fast as the next ones.
        self._prepare_updates(service)

    def _refresh_status(self, doing: str = "") -> None:
        """`dataset · what is going on · model: where it came from`."""
        if self.service is None or self._quitting:
            return
        parts = [self.service.dataset_name]
        if doing:
            parts.append(doing)
        else:
            try:
                pending = self.service.pending_updates()
                if pending:
                    parts.append(f"{pending} rating{'s' if pending != 1 else ''} not learnt yet")
                if self.service.retrain_due():
                    parts.append("a full retrain is due")
            except Exception as error:
                self._report("Reading the model state", error)
        parts.append(f"model: {self.service.model_source.kind}")  # its path is too long for here
        self.status_text = " · ".join(parts)

    def on_fine_tune_progress(self, message: FineTuneProgress) -> None:
        if self.update_progress is not None:
            self.update_progress = message.fraction

    def _start_update(self, only_if_pending: bool = False) -> None:
        """Fine-tune on every pending rating, unless an update runs: it re-runs when done."""
        if self._quitting or self.service is None:
            return
        if any(worker.group == "finetune" and worker.is_running for worker in self.workers):
            return
        if only_if_pending:
            try:
                if not self.service.pending_updates():
                    return
            except Exception as error:
                self._report("Reading the model state", error)
                return
        self.update_progress = 0.0
        self._refresh_status("learning from your ratings…")
        self._fine_tune(self.service)

    def _update_finished(self, report: UpdateReport) -> None:
        self.update_progress = None
        if self._quitting:
            return
        try:
            more = self.service.pending_updates() if self.service is not None else 0
        except Exception as error:
            self._report("Reading the model state", error)
            more = 0
        if more:
            self._start_update()
            return
        self._refresh_status()
        self._broadcast(lambda: ModelUpdated(report))

    def action_save_now(self) -> None:
        if self.service is None:
            self.notify("The model is still loading.", severity="warning")
            return
        self._save(self.service)

    def _saved(self, path: Path) -> None:
        self.saved_path = path
        self._save_attempted = True
        if self._quitting:
            self.exit()
        else:
            self.notify(str(path), title="Model saved")

    # Choosing a user -------------------------------------------------------------------

    def on_user_id_submitted(self, message: UserIdSubmitted) -> None:
        if self.service is None:
            self._wait_for_service(lambda: self.on_user_id_submitted(message))
            return
        user_id = message.user_id
        try:
            known = self.service.user_exists(user_id)
        except Exception as error:
            self._report("Checking the user ID", error)
            return
        if known:
            self._enter(self.service, user_id)
            return

        def answered(create: bool | None) -> None:
            if create and self.service is not None:
                self._create_user(self.service, user_id)

        self.push_screen(NewProfileModal(user_id), answered)

    def on_new_user_requested(self, message: NewUserRequested) -> None:
        if self.service is None:
            self._wait_for_service(lambda: self.on_new_user_requested(message))
            return
        self._create_user(self.service, None)

    def _wait_for_service(self, choice: Callable[[], None]) -> None:
        self._waiting_choice = choice
        self.notify("The model is still loading; you will go on as soon as it is ready.", timeout=4)

    def _create_user(self, service: RecommenderService, user_id: int | None) -> None:
        """Register `user_id`, or the next free ID when None, and go on as that user."""
        try:
            created = service.create_user(user_id)
        except Exception as error:
            self._report("Creating the profile", error)
            return
        self.notify(f"Your user ID is {created}: remember it for next time.", title="New profile", timeout=8)
        self._enter(service, created)

    def _enter(self, service: RecommenderService, user_id: int) -> None:
        try:
            genre_counts = service.genre_counts()
        except Exception as error:
            self._report("Reading the genres", error)
            return
        self.user_id = user_id
        self._replace_base_screen(MainScreen(user_id, genre_counts))
        self._summarise(service, user_id)

    def _replace_base_screen(self, screen: Screen[None]) -> None:
        while len(self.screen_stack) > 2:  # the default screen, then ours
            self.pop_screen()
        self.switch_screen(screen)

    def action_switch_user(self) -> None:
        self.user_id = None
        self._replace_base_screen(UserScreen())

    # Screens' requests -----------------------------------------------------------------

    def on_recommendations_requested(self, message: RecommendationsRequested) -> None:
        if self.service is not None and self.user_id is not None:
            self._recommend(self.service, message, self.user_id)

    def on_search_requested(self, message: SearchRequested) -> None:
        if self.service is not None and self.user_id is not None:
            self._search(self.service, message, self.user_id)

    def on_history_requested(self, message: HistoryRequested) -> None:
        if self.service is not None and self.user_id is not None:
            self._history(self.service, message, self.user_id)

    def action_search(self) -> None:
        if self._can_open_user_screen():
            self.push_screen(SearchScreen())

    def action_history(self) -> None:
        if self._can_open_user_screen():
            self.push_screen(HistoryScreen())

    def _can_open_user_screen(self) -> bool:
        if self.user_id is None:
            self.notify("Choose a user first.", severity="warning")
            return False
        return not isinstance(self.screen, (SearchScreen, HistoryScreen))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        if self.service is None:
            about = "The model is still loading."
        else:
            about = f"Data: {self.service.dataset_name} · model: {self.service.model_source}"
        self.push_screen(HelpScreen(self.BINDINGS, about))

    # Ratings ---------------------------------------------------------------------------

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
        if self.service is None or self.user_id is None:
            return
        try:
            stored = self.service.rate(self.user_id, movie.movie_id, value)
        except Exception as error:
            self._report("Rating", error)
            return
        self.notify(f"{movie.title}: {stored:g}★", title="Rated", timeout=3)
        self._broadcast(lambda: RatingStored(movie, stored))
        self._summarise(self.service, self.user_id)
        self._start_update()

    def on_rating_removal_requested(self, message: RatingRemovalRequested) -> None:
        if self.service is None or self.user_id is None:
            return
        movie = message.movie
        try:
            self.service.remove_rating(self.user_id, movie.movie_id)
        except Exception as error:
            self._report("Removing the rating", error)
            return
        self.notify(movie.title, title="Rating removed", timeout=3)
        self._broadcast(lambda: RatingRemoved(movie))
        self._summarise(self.service, self.user_id)
        self._start_update()


def run_app(settings: Settings) -> int:
    """Run the TUI until the user quits; returns the process exit code."""
    app = RecommenderApp(settings)
    try:
        app.run()
    finally:
        app.save_if_needed()
        app.close_service()
    return app.return_code or 0
