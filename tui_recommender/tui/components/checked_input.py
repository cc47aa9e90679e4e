"""An `Input` that shows its validators' first complaint in a label of the screen, and
only lets a valid value be submitted."""

from __future__ import annotations

from textual import on
from textual.widgets import Input, Label

from tui_recommender.core.text import inert


class CheckedInput(Input):
    """`problem_label`: the selector of the `Label` that shows what is wrong (empty when
    the value is valid or blank). An invalid enter shows the problem and goes no further."""

    def __init__(self, *args: object, problem_label: str, **kwargs: object) -> None:
        super().__init__(*args, validate_on=["changed", "submitted"], **kwargs)  # type: ignore[arg-type]
        self.problem_label = problem_label

    @on(Input.Changed)
    def _show_problem(self, event: Input.Changed) -> None:
        result = event.validation_result
        problem = "" if not event.value or result is None or result.is_valid else result.failure_descriptions[0]
        self.screen.query_one(self.problem_label, Label).update(inert(problem))

    @on(Input.Submitted)
    def _refuse_invalid(self, event: Input.Submitted) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            event.stop()
            event.prevent_default()
            self.screen.query_one(self.problem_label, Label).update(inert(result.failure_descriptions[0]))
