"""The first screen: who are you? A user ID (checked as you type) or a new profile."""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Footer, Input, Label

from tui_recommender.tui.components.status_bar import StatusBar
from tui_recommender.tui.messages import NewUserRequested, UserIdSubmitted

MAX_USER_ID = 2**31 - 1  # IDs are stored as SQLite integers; keep them in the int32 range


class UserIdValidator(Validator):
    """A user ID is a whole number from 1 to `MAX_USER_ID`, digits only."""

    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text:
            return self.failure("Type your user ID (a whole number), or press ctrl+n for a new profile.")
        if not re.fullmatch(r"[0-9]+", text):
            return self.failure(f"{text!r} is not a user ID: use digits only, e.g. 42.")
        if not 1 <= int(text) <= MAX_USER_ID:
            return self.failure(f"A user ID is between 1 and {MAX_USER_ID}.")
        return self.success()


class UserScreen(Screen[None]):
    AUTO_FOCUS = "#user-id"
    BINDINGS = [
        Binding("ctrl+n", "new_user", "New user", id="new-user", tooltip="Start a new profile under the next free ID"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="who-area"), Vertical(id="who", classes="dialog"):
            yield Label("Who are you?", id="who-title")
            yield Label("Type your user ID and press enter, or start a new profile.", classes="hint")
            with Horizontal(id="who-row"):
                yield Input(
                    placeholder="User ID, e.g. 42",
                    validators=[UserIdValidator()],
                    validate_on=["changed", "submitted"],
                    id="user-id",
                )
                yield Button("New user", id="new-user-button", tooltip="ctrl+n")
            yield Label("", id="user-id-error", classes="error", markup=False)
        yield StatusBar()
        yield Footer()

    @on(Input.Changed, "#user-id")
    def show_problem(self, event: Input.Changed) -> None:
        result = event.validation_result
        problem = "" if not event.value or result is None or result.is_valid else result.failure_descriptions[0]
        self.query_one("#user-id-error", Label).update(problem)

    @on(Input.Submitted, "#user-id")
    def submit(self, event: Input.Submitted) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#user-id-error", Label).update(result.failure_descriptions[0])
            return
        self.post_message(UserIdSubmitted(int(event.value.strip())))

    @on(Button.Pressed, "#new-user-button")
    def action_new_user(self) -> None:
        self.post_message(NewUserRequested())
