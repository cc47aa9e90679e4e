"""Asks whether to start a new profile under a user ID nobody has used yet."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class NewProfileModal(ModalScreen[bool]):
    """Dismisses with True to create the profile, False to go back."""

    AUTO_FOCUS = "#profile-yes"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="profile-yes", tooltip="Create the profile"),
        Binding("n,escape", "answer(False)", "No", id="profile-no", tooltip="Type another ID"),
        Binding("right", "app.focus_next", show=False),
        Binding("left", "app.focus_previous", show=False),
    ]

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.user_id = user_id

    def compose(self) -> ComposeResult:
        with Vertical(id="profile-dialog", classes="dialog"):
            yield Label(Content.from_markup("User [b]$id[/b] is new here.", id=str(self.user_id)))
            yield Label("Start a new profile under this ID?", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="profile-yes", variant="primary")
                yield Button("No (n)", id="profile-no")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "profile-yes")

    def action_answer(self, create: bool) -> None:
        self.dismiss(create)
