"""The genre filter: every genre with its number of movies. Nothing selected means all."""

from __future__ import annotations

from textual.widgets import SelectionList


class GenreList(SelectionList[str]):
    def __init__(self, genre_counts: list[tuple[str, int]], *, id: str | None = None) -> None:
        super().__init__(*((f"{genre} ({count})", genre) for genre, count in genre_counts), id=id)
        self.border_title = "Genres"
        self.border_subtitle = "all"

    @property
    def chosen(self) -> tuple[str, ...]:
        """The selected genres in list order; empty means every genre."""
        selected = set(self.selected)
        values = (self.get_option_at_index(index).value for index in range(self.option_count))
        return tuple(value for value in values if value in selected)

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        n = len(self.selected)
        self.border_subtitle = "all" if n in (0, self.option_count) else f"{n} selected"
