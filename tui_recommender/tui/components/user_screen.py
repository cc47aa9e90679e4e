"""The first screen: who are you? A user ID (checked as you type) or a new profile."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label

from tui_recommender.core.ids import MAX_ID, MIN_ID, id_problem
from tui_recommender.core.text import shorten
from tui_recommender.tui.components.checked_input import CheckedInput
from tui_recommender.tui.components.key_footer import KeyFooter
from tui_recommender.tui.components.status_bar import StatusBar
from tui_recommender.tui.messages import NewUserRequested, UserIdSubmitted


class UserIdValidator(Validator):
    """A user ID by the one id rule of `ids`, explained for someone typing it."""

    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text:
            return self.failure("Type your user ID (a whole number), or press ctrl+n for a new profile.")
        if id_problem(text) is None:
            return self.success()
        if text.isascii() and text.isdigit():
            return self.failure(f"A user ID is between {MIN_ID} and {MAX_ID}.")
        return self.failure(f"{shorten(text)!r} is not a user ID: use digits only, e.g. 42.")


class UserScreen(Screen[None]):
    AUTO_FOCUS = "#user-id"
    BINDINGS = [
        Binding("ctrl+n", "new_user", "New user", id="new-user", tooltip="Start a new profile under the next free ID"),
        Binding("escape", "back", "Back", id="user-back", tooltip="Back to the current user's recommendations"),
    ]

    def __init__(self, can_go_back: bool = False) -> None:
        """`can_go_back`: opened over a user's screen (`u`), which escape returns to."""
        super().__init__()
        self.can_go_back = can_go_back

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.can_go_back if action == "back" else True

    def action_back(self) -> None:
        self.dismiss()

    def compose(self) -> ComposeResult:
        with Vertical(id="who-area"), Vertical(id="who", classes="dialog"):
            yield Label("Who are you?", id="who-title")
            yield Label("Type your user ID and press enter, or start a new profile.", classes="hint")
            with Horizontal(id="who-row"):
                yield CheckedInput(
                    placeholder="User ID, e.g. 42",
                    validators=[UserIdValidator()],
                    problem_label="#user-id-error",
                    id="user-id",
                )
                yield Button("New user", id="new-user-button", tooltip="ctrl+n")
            yield Label("", id="user-id-error", classes="error", markup=False)
        yield StatusBar()
        yield KeyFooter()

    @on(Input.Submitted, "#user-id")
    def submit(self, event: Input.Submitted) -> None:
        self.post_message(UserIdSubmitted(int(event.value.strip())))

    @on(Button.Pressed, "#new-user-button")
    def action_new_user(self) -> None:
        self.post_message(NewUserRequested())
