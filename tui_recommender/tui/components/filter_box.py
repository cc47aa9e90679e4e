"""The main list's filter box: hidden until `f`, it filters the list as words are typed
(cleaned as they come: `live_list.clean_filter`); enter goes back to the list and keeps
the filter, an empty enter or `clear` takes it away."""

from __future__ import annotations

from textual import on
from textual.message import Message
from textual.widgets import Input

from tui_recommender.tui.components.recommendation_table import RecommendationTable


class FilterBox(Input):
    class Applied(Message):
        """The list's rows changed with the filter."""

    def __init__(self, table: RecommendationTable, *, id: str | None = None) -> None:
        super().__init__(placeholder="Filter: words of the title, year or genres; enter keeps it", id=id)
        self.table = table

    def on_mount(self) -> None:
        self.display = False

    def open(self) -> None:
        self.display = True
        self.focus()

    def clear(self) -> None:
        """No filter: every row again, the list focused."""
        with self.prevent(Input.Changed):
            self.value = ""
        self.display = False
        self.table.set_filter("")
        self.post_message(self.Applied())
        self.table.focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        clean = self.table.set_filter(event.value)
        if clean != event.value:
            with self.prevent(Input.Changed):  # the cleaned text; the table says what was left out
                self.value = clean
        self.post_message(self.Applied())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.table.filter.strip():
            self.screen.set_focus(self.table)  # at once: the keys typed next act on the list
        else:
            self.clear()
