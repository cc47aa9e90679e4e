"""One line above the footer: where the model stands, and a progress bar while it learns.

It mirrors two reactives of the app, `status_text` and `update_progress` (None when no
update runs), so every screen shows the same state."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from tui_recommender.core.text import inert


class StatusBar(Horizontal):
    def compose(self) -> ComposeResult:
        yield Label(id="status-text", markup=False)
        yield ProgressBar(total=1.0, show_eta=False, id="status-progress")

    def on_mount(self) -> None:
        self.watch(self.app, "status_text", self._show_text)
        self.watch(self.app, "update_progress", self._show_progress)

    def _show_text(self, text: str) -> None:
        self.query_one("#status-text", Label).update(inert(text))

    def _show_progress(self, fraction: float | None) -> None:
        bar = self.query_one("#status-progress", ProgressBar)
        bar.display = fraction is not None
        bar.update(progress=fraction or 0.0)
