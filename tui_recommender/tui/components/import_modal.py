"""Import ratings from a file: type its path, read the report (what would be imported,
skipped, unmatched), then confirm; the dialog stays to show the model learning them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui_recommender.core.text import inert
from tui_recommender.tui.messages import (
    ImportConfirmed,
    ImportFailed,
    ImportFileChosen,
    ImportPlanned,
    ModelUpdated,
    RatingsImported,
)

if TYPE_CHECKING:
    from tui_recommender.app.service import ImportPlan

FORMATS = "IMDb's ratings export, Letterboxd's ratings.csv or diary.csv, or this app's own export"


class ImportModal(ModalScreen[None]):
    """Enter on a path reads the file (stores nothing); enter again imports what it showed."""

    AUTO_FOCUS = "#import-path"
    BINDINGS = [
        Binding(
            "escape",
            "close",
            "Close",
            id="import-close",
            tooltip="Close (before enter on a report: nothing is imported)",
        )
    ]

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id
        self.plan: ImportPlan | None = None  # read, shown, not stored yet
        self._stored = False
        self._lines: list[str] = []  # the report shown for `plan`

    def compose(self) -> ComposeResult:
        with Vertical(id="import-dialog", classes="dialog"):
            yield Label(f"Import ratings into user {self.user_id}", id="import-title")
            yield Label("(an export of this app goes back to the users it names)", classes="hint")
            yield Label(f"{FORMATS}. Enter reads the file; nothing is stored until you confirm.", classes="hint")
            yield Input(placeholder="path, e.g. ~/Downloads/ratings.csv", id="import-path")
            with VerticalScroll(id="import-body"):
                yield Static("", id="import-report", markup=False)
            yield Label("", id="import-next", classes="hint")

    @on(Input.Changed, "#import-path")
    def path_changed(self) -> None:
        if not self._stored:
            self.plan = None
            self._show([], "")

    @on(Input.Submitted, "#import-path")
    def submitted(self, event: Input.Submitted) -> None:
        if self._stored:
            self.dismiss()
        elif self.plan is not None and (len(self.plan.ratings) or len(self.plan.marks)):
            self._stored = True
            self.query_one(Input).disabled = True
            self._show(self._lines, "Importing…")
            self.post_message(ImportConfirmed(self.plan, self))
        elif event.value.strip():
            self._show([], "Reading the file…")
            self.post_message(ImportFileChosen(event.value.strip(), self))
        else:
            self._show([], "Type the path of the file to import.")

    def on_import_planned(self, message: ImportPlanned) -> None:
        self.plan, self._lines = message.plan, message.lines
        count = len(message.plan.ratings)
        what = f"{count} rating{'s' if count != 1 else ''}"
        if len(message.plan.marks):
            what += f" and {len(message.plan.marks)} list entries"
        nothing = not count and not len(message.plan.marks)
        self._show(
            message.lines, "Nothing to import from this file." if nothing else f"Enter imports {what} · escape cancels"
        )

    def on_import_failed(self, message: ImportFailed) -> None:
        self.plan, self._stored = None, False
        self.query_one(Input).disabled = False
        self.query_one(Input).focus()
        self._show([message.error], "Fix the path or the file, then press enter again.")

    def on_ratings_imported(self, message: RatingsImported) -> None:
        if message.undone:
            self.plan = None
            self._show(self._lines, "Undone: nothing of this import is left. Escape closes.")
            return
        self._lines = message.lines
        self._show(message.lines, "Stored. Learning from them… (escape closes; the list refreshes when done)")

    def on_model_updated(self, message: ModelUpdated) -> None:
        if self._stored and self.plan is not None:
            seconds = message.report.seconds
            self._show(
                self._lines, f"Learnt in {seconds:.1f} s: your recommendations are refreshed. Enter or escape closes."
            )
            self.query_one(Input).disabled = False
            self.query_one(Input).focus()

    def _show(self, lines: list[str], next_step: str) -> None:
        self.query_one("#import-report", Static).update("\n".join(inert(line) for line in lines))
        self.query_one("#import-next", Label).update(next_step)

    def action_close(self) -> None:
        self.dismiss()
