"""What every part of the app shares, declared once: the service and the chosen user, the
writer thread, worker follow-ups, the ctrl+z stack, and the one helper that runs a write.
`RecommenderApp` and its mixins (`user_flow`, `ratings_flow`, `model_status`,
`imports_and_lists`, `navigation`) all build on `AppState`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from textual.app import App
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.worker import Worker

from tui_recommender.config.settings import Settings
from tui_recommender.core.list_names import LISTS
from tui_recommender.core.text import inert
from tui_recommender.tui.undo import Undo

if TYPE_CHECKING:
    from tui_recommender.app.service import RecommenderService

WRITES = "write"  # the worker group of every write (they wait in order on the writer thread)

FollowUp = Callable[[BaseException | None], None]  # after a failure (the error) or a cancel (None)


def listed_movies(service: RecommenderService, user_id: int) -> dict[int, str]:
    """Movie ID -> the user's list it is on (a movie is on one list at most): what the
    lists mark (read in a worker: it reads the database)."""
    return {entry.movie.movie_id: name for name in LISTS for entry in service.listed(user_id, name)}


class Session(NamedTuple):
    """The loaded service and the chosen user: what a request for a user needs."""

    service: RecommenderService
    user_id: int


class AppState(App[None]):
    """The app's shared state and helpers; the mixins' methods and the app's use them."""

    status_text: reactive[str] = reactive("Starting…")
    update_progress: reactive[float | None] = reactive(None)  # 0..1 while a fine-tune runs

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.service: RecommenderService | None = None  # until the opening worker is done
        self.user_id: int | None = None  # until a user is chosen (always after the service)
        self.novelty: float | None = None  # the current profile's popular <-> niche dial
        self.saved_path: Path | None = None
        self._quitting = False
        self._save_attempted = False
        self._waiting_choice: Callable[[RecommenderService], None] | None = None  # see `_with_service`
        # One thread, so writes land in the order they were asked for, never on the UI thread.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tui-recommender-writer")
        self._follow_ups: dict[Worker, FollowUp] = {}
        self._shown_in_place: set[Worker] = set()  # their follow-up shows a user's mistake: no toast
        self._fine_tune_worker: Worker | None = None
        self._update_again = False  # a rating landed while the fine-tune ran
        self._pending = 0  # ratings stored but not learnt, as of the last update
        self._retrain_due = False
        self._undo: list[Undo] = []  # newest last
        self.keymap_in_use: dict[str, str] = {}  # the config file's, less what clashes (`config_check`)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification (widgets notify through the app) shows plain text: titles,
        paths and error text hold `[`, escapes and bidi controls, and show them inert."""
        lines = "\n".join(inert(line) for line in str(message).split("\n"))
        super().notify(lines, title=inert(title), severity=severity, timeout=timeout, markup=False)

    if TYPE_CHECKING:  # each provided by one mixin, used by the others

        def _start_update(self) -> None: ...  # model_status

        def _refresh_status(self, doing: str = "") -> None: ...  # model_status

        def _summarise(self, service: RecommenderService, user_id: int) -> Worker[None]: ...  # user_flow

        def _can_open_user_screen(self) -> bool: ...  # navigation

    def _session(self) -> Session | None:
        """The service and the chosen user, or None before both are there (then a request
        for a user has nothing to act on: its screen cannot be open yet, or is leaving)."""
        if self.service is None or self.user_id is None:
            return None
        return Session(self.service, self.user_id)

    def _with_service(self, act: Callable[[RecommenderService], None]) -> None:
        """`act(service)` now, or as soon as the service has opened if the user chose before
        it was ready (then the latest choice wins)."""
        if self.service is not None:
            act(self.service)
            return
        self._waiting_choice = act
        self.notify("The model is still loading; you will go on as soon as it is ready.", timeout=4)

    def _after(self, worker: Worker, follow_up: FollowUp, shows_error: bool = False) -> None:
        """Run `follow_up` if `worker` fails or is cancelled (its success is a message);
        `shows_error`: it shows a user's mistake where it was made (a dialog), so no toast
        covers it (a bug is still reported)."""
        self._follow_ups[worker] = follow_up
        if shows_error:
            self._shown_in_place.add(worker)

    def _write(
        self,
        write: Callable[[], Message],
        description: str,
        on_failure: FollowUp | None = None,
        undo: Undo | None = None,
        shows_error: bool = False,
    ) -> Worker[None]:
        """Run `write` on the writer thread, after every write asked for before it, and post
        the message it returns. A failure is reported by `on_worker_state_changed` (titled
        "`description` failed", unless `shows_error`: see `_after`), then `on_failure` runs. `undo`, if given, goes on the
        ctrl+z stack now and comes off again if the write fails."""
        if undo is not None:
            self._undo.append(undo)
        written = self._writer.submit(write)

        def wait() -> None:
            self.post_message(written.result())

        worker = self.run_worker(wait, thread=True, group=WRITES, exit_on_error=False, description=description)

        def failed(error: BaseException | None) -> None:
            if undo in self._undo:
                self._undo.remove(undo)  # a change that failed (the user was told) has nothing to undo
            if on_failure is not None:
                on_failure(error)

        self._after(worker, failed, shows_error)
        return worker

    def _broadcast(self, make: Callable[[], Message]) -> None:
        """Post a fresh message to every screen in the stack (each ignores what it need not know)."""
        for screen in self.screen_stack:
            screen.post_message(make())

    def _ratings_changed(self, make: Callable[[], Message]) -> None:
        """The user's ratings changed: tell the screens (a fresh `make()` each), refresh the
        summary, learn the change."""
        self._broadcast(make)
        if (session := self._session()) is not None:
            self._summarise(*session)
        self._start_update()
