"""The genre filter: every genre with its number of movies. Nothing selected means all."""

from __future__ import annotations

from collections.abc import Collection

from textual.widgets import SelectionList


class GenreList(SelectionList[str]):
    def __init__(self, genre_counts: list[tuple[str, int]], selected: Collection[str] = (), *, id: str | None = None) -> None:
        """`selected`: the genres ticked at start (the config file's `genres`)."""
        super().__init__(*((f"{genre} ({count})", genre, genre in selected) for genre, count in genre_counts), id=id)
        self.border_title = "Genres"
        n = sum(genre in selected for genre, _ in genre_counts)
        self.border_subtitle = "all" if n in (0, len(genre_counts)) else f"{n} selected"

    @property
    def chosen(self) -> tuple[str, ...]:
        """The selected genres in list order; empty means every genre."""
        selected = set(self.selected)
        values = (self.get_option_at_index(index).value for index in range(self.option_count))
        return tuple(value for value in values if value in selected)

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        n = len(self.selected)
        self.border_subtitle = "all" if n in (0, self.option_count) else f"{n} selected"
