"""The keys every list shares besides the arrows, PageUp and PageDown (Textual's own): j/k
as in vim, less and lazygit, g/Home to the first row, G/End to the last. One set of
binding ids for every list, so one `[keys]` line remaps them all."""

from __future__ import annotations

from textual.binding import Binding


def list_keys(down: str, up: str, first: str, last: str) -> list[Binding]:
    """The bindings, given the widget's own action names for one row down and up and for
    the first and the last row."""
    return [
        Binding("j", down, "Down", show=False, id="row-down", tooltip="Next row (also ↓; PageDown: a page)"),
        Binding("k", up, "Up", show=False, id="row-up", tooltip="Previous row (also ↑; PageUp: a page)"),
        Binding("g,home", first, "First", show=False, id="row-first", tooltip="First row"),
        # shift+g: what a terminal with the kitty keyboard protocol sends for G.
        Binding("G,shift+g,end", last, "Last", key_display="G, end", show=False, id="row-last", tooltip="Last row"),
    ]
