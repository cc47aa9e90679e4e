"""The genre filter: every genre with its number of movies. Nothing selected means all."""

from __future__ import annotations

from collections.abc import Collection

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.content import Content
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets.option_list import OptionDoesNotExist

from tui_recommender.core.text import inert
from tui_recommender.tui.components.list_keys import list_keys

CHECKED, UNCHECKED = "[x]", "[ ]"  # readable without colour, unlike SelectionList's ▐X▌
NONE_TICKED = "none ticked: all"


class GenreList(SelectionList[str]):
    BINDINGS = [
        Binding(
            "space",
            "select",
            "Toggle",
            id="genre-toggle",
            tooltip="Toggle the highlighted genre (none selected = all genres)",
        ),
        Binding("a", "select_all", "All", id="genre-all", tooltip="Select every genre"),
        Binding("n", "deselect_all", "None", id="genre-none", tooltip="Clear the genre filter (all genres)"),
        *list_keys("cursor_down", "cursor_up", "first", "last"),
    ]

    def __init__(
        self, genre_counts: list[tuple[str, int]], selected: Collection[str] = (), *, id: str | None = None
    ) -> None:
        """`selected`: the genres ticked at start (the config file's `genres`)."""
        # Genre names are the dataset's text: plain (never markup) and inert.
        options = ((Content(inert(f"{genre} ({count})")), genre, genre in selected) for genre, count in genre_counts)
        super().__init__(*options, id=id)
        self.border_title = "Genres"
        self._show_count(sum(genre in selected for genre, _ in genre_counts))

    @property
    def chosen(self) -> tuple[str, ...]:
        """The selected genres in list order; empty means every genre."""
        selected = set(self.selected)
        values = (self.get_option_at_index(index).value for index in range(self.option_count))
        return tuple(value for value in values if value in selected)

    def action_select_all(self) -> None:
        self.select_all()

    def action_deselect_all(self) -> None:
        self.deselect_all()

    def render_line(self, y: int) -> Strip:
        """SelectionList's line with its three-cell button drawn as `[x]` or `[ ]`."""
        line = super().render_line(y)
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return line
        # The prompt's own style (the button's is dark on dark without its colours), bold when ticked.
        prompt = next(iter(line.crop(4, 5)), None)
        style = prompt.style if prompt is not None and prompt.style is not None else Style()
        if selection.value in self.selected:
            return Strip([Segment(CHECKED, style + Style(bold=True)), *line.crop(3, line.cell_length)])
        return Strip([Segment(UNCHECKED, style), *line.crop(3, line.cell_length)])

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self._show_count(len(self.selected))

    def _show_count(self, n: int) -> None:
        self.border_subtitle = NONE_TICKED if n == 0 else "all ticked" if n == self.option_count else f"{n} selected"
