"""Shows an unexpected error (a bug, not something the user did) and lets the app go on."""

from __future__ import annotations

import traceback

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui_recommender.core.text import inert


def _lines(parts: list[str]) -> str:
    """A traceback's lines, each inert (the error may quote a title or a file's bytes)."""
    return "\n".join(inert(line) for line in "".join(parts).splitlines())


class ErrorModal(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter", "dismiss", "Close", id="error-close")]

    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__()
        self.what = what
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog", classes="dialog"):
            yield Label(
                Content.from_markup(
                    "[b]$what failed[/b]: $error",
                    what=inert(self.what),
                    error=inert(f"{type(self.error).__name__}: {self.error}"),
                ),
                id="error-title",
            )
            yield Label("This is a bug; the app keeps running. Details for a report:", classes="hint")
            with VerticalScroll(id="error-details"):
                yield Static(_lines(traceback.format_exception(self.error)), markup=False)
            yield Label("escape closes", classes="hint")
