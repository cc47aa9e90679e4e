"""A small dialog that takes any rating on the dataset's scale (e.g. 3.5) for one movie."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from tui_recommender.core.errors import RatingError
from tui_recommender.core.text import inert
from tui_recommender.tui.components.checked_input import CheckedInput

if TYPE_CHECKING:
    from tui_recommender.app.service import Movie, RatingScale


class OnScale(Validator):
    """Accepts what `RatingScale.validate` accepts, with its message otherwise."""

    def __init__(self, scale: RatingScale) -> None:
        super().__init__()
        self.scale = scale

    def validate(self, value: str) -> ValidationResult:
        if not value.strip():
            return self.failure(f"Type a rating, {self.scale.describe()}.")
        try:
            self.scale.validate(value)
        except RatingError as error:
            return self.failure(f"{str(error)[:1].upper()}{str(error)[1:]}.")
        return self.success()


class RatingModal(ModalScreen["float | None"]):
    """Dismisses with the typed rating, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rating-cancel")]

    def __init__(self, movie: Movie, scale: RatingScale) -> None:
        super().__init__()
        self.movie = movie
        self.scale = scale

    def compose(self) -> ComposeResult:
        with Vertical(id="rating-dialog", classes="dialog"):
            yield Label(Content.from_markup("Rate [b]$title[/b]", title=inert(self.movie.title)), id="rating-title")
            yield Label(f"{self.scale.describe()}; enter to save, escape to cancel", classes="hint")
            yield CheckedInput(
                placeholder="e.g. 3.5" if self.scale.half_stars else "e.g. 4",
                validators=[OnScale(self.scale)],
                problem_label="#rating-error",
                id="rating-input",
            )
            yield Label("", id="rating-error", classes="error", markup=False)

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        self.dismiss(float(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
