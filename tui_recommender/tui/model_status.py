"""The app's side of the live model: the one fine-tune worker (and its re-runs), the
status line and progress bar, saving. A mixin of `RecommenderApp`, following its worker
pattern."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.worker import Worker, get_current_worker

from tui_recommender.core.text import shorten
from tui_recommender.tui.app_state import AppState
from tui_recommender.tui.messages import (
    FineTuneProgress,
    ListRefreshed,
    ModelSaved,
    ModelUpdated,
    UpdateFinished,
)
from tui_recommender.tui.profile_line import novelty_text

if TYPE_CHECKING:
    from tui_recommender.app.service import RecommenderService

FINE_TUNE = "finetune"  # the worker group quitting cancels
LEARNING = "learning from your ratings…"  # the status while a fine-tune runs
NEWS_SECONDS = 8.0  # how long the status line says what a live reload changed


class ModelStatus(AppState):
    """Mixed into `RecommenderApp`."""

    _news = ""  # what the last live reload changed, for NEWS_SECONDS
    _update_error = ""  # why the last update failed, until one succeeds

    @work(thread=True, exclusive=True, group=FINE_TUNE, exit_on_error=False, description="Learning from your ratings")
    def _fine_tune(self, service: RecommenderService) -> None:
        worker = get_current_worker()
        report = service.update_model(
            should_stop=lambda: worker.is_cancelled,
            on_progress=lambda fraction: self.post_message(FineTuneProgress(fraction)),
        )
        self.post_message(UpdateFinished(report, service.pending_updates(), service.retrain_due()))

    def _refresh_status(self, doing: str = "") -> None:
        """`dataset · what is going on · model: where it came from · the popular <-> niche dial`."""
        if self.service is None or self._quitting:
            return
        parts = [self.service.dataset_name]
        if doing:
            parts.append(doing)
        else:
            if self._update_error:
                parts.append(self._update_error)
            elif self._pending:
                parts.append(f"{self._pending} rating{'s' if self._pending != 1 else ''} not learnt yet")
            if self._retrain_due:
                parts.append("a full retrain is due")
        if self._news:
            parts.append(f"list: {self._news}")
        parts.append(f"model: {self.service.model_label}")
        if self.novelty is not None and self.user_id is not None:
            parts.append(novelty_text(self.novelty))
        self.status_text = " · ".join(parts)

    def on_fine_tune_progress(self, message: FineTuneProgress) -> None:
        if self.update_progress is not None:
            self.update_progress = message.fraction

    def _start_update(self) -> None:
        """Fine-tune on every pending rating; if an update runs, it runs again when done."""
        if self._quitting or self.service is None:
            return
        if self._fine_tune_worker is not None and self._fine_tune_worker.is_running:
            self._update_again = True
            return
        self._update_again = False
        self.update_progress = 0.0
        self._refresh_status(LEARNING)
        worker = self._fine_tune_worker = self._fine_tune(self.service)
        self._after(worker, lambda error: self._update_stopped(worker, error))

    def _update_stopped(self, worker: Worker, error: BaseException | None) -> None:
        """The fine-tune failed (the user was told) or was cancelled: the ratings stay
        stored and pending, so the next rating (or the next start) learns them."""
        if worker is self._fine_tune_worker:
            self.update_progress = None
            if error is not None:
                self._update_error = f"not learnt, stored: {shorten(str(error) or type(error).__name__, 60)}"
            self._refresh_status()

    def on_list_refreshed(self, message: ListRefreshed) -> None:
        self._news = message.change
        self._refresh_status(LEARNING if self.update_progress is not None else "")

        def forget() -> None:
            if self._news == message.change:
                self._news = ""
                self._refresh_status(LEARNING if self.update_progress is not None else "")

        self.set_timer(NEWS_SECONDS, forget)

    def on_update_finished(self, message: UpdateFinished) -> None:
        self._pending, self._retrain_due = message.pending, message.retrain_due
        self._update_error = ""
        self.update_progress = None
        if self._quitting:
            return
        if self._pending or self._update_again:
            # The worker that posted this is done with the model; a new one replaces it.
            self._fine_tune_worker = None
            self._start_update()
            return
        self._refresh_status()
        if message.report.discarded:
            self.notify(message.report.DISCARDED, title="Model not updated", severity="warning", markup=False)
        self._broadcast(lambda: ModelUpdated(message.report))

    def action_save_now(self) -> None:
        if self.service is None:
            self.notify("The model is still loading.", severity="warning")
            return
        self._start_save(self.service)

    def _start_save(self, service: RecommenderService) -> None:
        """Save after every write asked for so far."""
        self._write(lambda: ModelSaved(service.save()), "Saving the model", self._save_failed)

    def _save_failed(self, error: BaseException | None) -> None:
        self._save_attempted = True
        if self._quitting:
            self.exit(return_code=1, message=f"tui-recommender: could not save the model: {error}")

    def on_model_saved(self, message: ModelSaved) -> None:
        self.saved_path = message.path
        self._save_attempted = True
        if self._quitting:
            self.exit()
        else:
            self.notify(str(message.path), title="Model saved", markup=False)
