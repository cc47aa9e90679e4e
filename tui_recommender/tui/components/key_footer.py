"""Textual's Footer, compact, with the keys in order of use and only as many as fit: at 80
columns the least needed ones are left out whole, not cut (help lists them all)."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

# Actions in footer order; anything else comes after them, the palette key last.
ORDER = (
    "close", "back", "dismiss",
    "select", "select_all", "deselect_all",
    "rate(1)", "details", "app.search", "focus_input", "filter", "app.history", "more", "remove", "next_sort", "help",
    "undo", "toggle_focus", "refresh", "app.switch_user", "new_user", "quit",
)  # fmt: skip
_RANK = {action: rank for rank, action in enumerate(ORDER)}


def _width(key: Widget) -> int:
    """Cells a compact FooterKey takes: key, space, description, and its margin or border."""
    return cell_len(getattr(key, "key_display", "")) + 1 + cell_len(getattr(key, "description", "")) + 1


class KeyFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True)
        self._composed_width = 0  # the width the keys were last chosen for

    def compose(self) -> ComposeResult:
        keys = list(super().compose())  # FooterKeys only: no binding here uses groups
        palette = [key for key in keys if key.has_class("-command-palette")]
        others = sorted(
            (key for key in keys if not key.has_class("-command-palette")),
            key=lambda key: _RANK.get(getattr(key, "action", ""), len(ORDER)),
        )
        self._composed_width = self.size.width
        room = (self.size.width or self.app.size.width) - sum(_width(key) for key in palette)
        shown = []
        for key in others:
            room -= _width(key)
            if room < 0:
                break
            shown.append(key)
        yield from shown + palette

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._composed_width:
            self.call_after_refresh(self.recompose)
