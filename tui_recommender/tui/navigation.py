"""The app's screens beyond the user flow: search, history, help, the movie detail view,
the palette's system commands and screenshots. A mixin of `RecommenderApp`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from tui_recommender.tui.app_state import AppState, listed_movies
from tui_recommender.tui.components.detail_screen import DetailScreen
from tui_recommender.tui.components.help_screen import HelpScreen
from tui_recommender.tui.components.history_screen import HistoryScreen
from tui_recommender.tui.components.search_screen import SearchScreen
from tui_recommender.tui.messages import DetailsLoaded, DetailsPreviewRequested, DetailsRequested

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from tui_recommender.app.service import Movie, RecommenderService


def _read_details(service: RecommenderService, user_id: int, movie: Movie, requester: MessagePump) -> None:
    """Post the details of `movie` to `requester` (from a worker), unless the worker was cancelled."""
    details = service.movie_details(user_id, movie.movie_id)
    listed = listed_movies(service, user_id).get(movie.movie_id)
    if not get_current_worker().is_cancelled:
        requester.post_message(DetailsLoaded(details, listed))


class Navigation(AppState):
    """Mixed into `RecommenderApp`."""

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
        palette = Binding(self.COMMAND_PALETTE_BINDING, "command_palette", "palette", tooltip="Search every command")
        self.push_screen(HelpScreen([*self.BINDINGS, palette], about, self.keymap_in_use))

    def on_details_requested(self, message: DetailsRequested) -> None:
        if (session := self._session()) is None:
            return
        screen = DetailScreen(message.movie)
        self.push_screen(screen)
        worker = self._details(*session, message.movie, screen)
        self._after(worker, lambda _error: self.pop_screen() if self.screen is screen else None)

    @work(thread=True, exclusive=True, group="details", exit_on_error=False, description="Reading the movie's details")
    def _details(self, service: RecommenderService, user_id: int, movie: Movie, requester: MessagePump) -> None:
        _read_details(service, user_id, movie, requester)

    def on_details_preview_requested(self, message: DetailsPreviewRequested) -> None:
        if (session := self._session()) is not None:
            self._preview(*session, message.movie, message.requester)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False, description="Reading the movie's details")
    def _preview(self, service: RecommenderService, user_id: int, movie: Movie, requester: MessagePump) -> None:
        """The detail pane's (a failure is told; the pane keeps the movie's title and genres)."""
        _read_details(service, user_id, movie, requester)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Quit and Keys are our own bindings' commands already; the screenshot goes to a
        # folder that exists (Textual's fails when ~/Downloads does not).
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Keys", "Screenshot"):
                yield command
        yield SystemCommand("Screenshot", "Save an SVG picture of the screen", self.action_screenshot)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        from platformdirs import user_downloads_path

        folder = Path(path) if path else user_downloads_path()
        if not folder.is_dir():
            folder = self.settings.state_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename, str(folder))
        except OSError as error:
            self.notify(f"Could not save the screenshot: {error}", severity="warning", timeout=6, markup=False)
            return
        self.notify(saved, title="Screenshot saved", timeout=6, markup=False)
