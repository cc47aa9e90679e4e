"""The help screen: every key, by where it works, read from the bindings themselves."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui_recommender.core.text import inert
from tui_recommender.tui.components.detail_screen import DetailScreen
from tui_recommender.tui.components.genre_list import GenreList
from tui_recommender.tui.components.history_screen import HistoryScreen
from tui_recommender.tui.components.lists_screen import ListsScreen
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.movie_table import MovieTable
from tui_recommender.tui.components.search_screen import SearchScreen
from tui_recommender.tui.components.user_screen import UserScreen

KEYS_WIDTH = 15  # "  " + 12 for the keys + " "


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help-close")]

    def __init__(self, app_bindings: list[BindingType], about: str, keymap: Mapping[str, str] | None = None) -> None:
        """`about` is one line on the data and the model, shown above the keys; `keymap`
        the keys the config file remapped (binding id -> keys)."""
        super().__init__()
        self.about = about
        self.keymap = keymap or {}
        self.sections: list[tuple[str, list[BindingType]]] = [
            ("Everywhere", app_bindings),
            ("Who are you", UserScreen.BINDINGS),
            ("Recommendations", MainScreen.BINDINGS),
            ("Genres", GenreList.BINDINGS),
            ("Any movie list: recommendations, search, history", MovieTable.BINDINGS),
            ("Movie details", DetailScreen.BINDINGS),
            ("Search", SearchScreen.BINDINGS),
            ("History", HistoryScreen.BINDINGS),
            ("Watchlist and not interested", ListsScreen.BINDINGS),
        ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label("Keys · escape closes", id="help-title")
            yield Label(inert(self.about), classes="hint", markup=False)
            with VerticalScroll(id="help-body"):
                yield Static(self._text(), id="help-text")

    def on_resize(self) -> None:
        # The body's width less its scrollbar, which shows once the text is long.
        body = self.query_one("#help-body", VerticalScroll)
        width = body.size.width - body.styles.scrollbar_size_vertical
        self.query_one("#help-text", Static).update(self._text(width))

    def _keys(self, bindings: list[Binding]) -> str:
        if bindings[0].key_display:
            return bindings[0].key_display
        keys = [key for binding in bindings for key in binding.key.split(",")]
        return ", ".join(self.app.get_key_display(replace(bindings[0], key=key)) for key in keys)

    def _text(self, width: int = 0) -> Content:
        """Every section's keys; a text longer than `width` cells (0: no limit) wraps under
        itself, not under the keys."""
        lines: list[Content] = []
        for title, section in self.sections:
            lines.append(Content.from_markup("[b]$title[/b]", title=title))
            # Bindings sharing a description (1..5, q and ctrl+q, ...) make one line.
            by_description: dict[str, list[Binding]] = {}
            for binding in section:
                if isinstance(binding, Binding) and binding.id in self.keymap:
                    binding = replace(binding, key=self.keymap[binding.id], key_display=None)
                if isinstance(binding, Binding) and binding.description:
                    by_description.setdefault(binding.description, []).append(binding)
            for bindings in by_description.values():
                text = bindings[0].tooltip or bindings[0].description
                wrapped = textwrap.wrap(text, width - KEYS_WIDTH) if width > KEYS_WIDTH + 20 else [text]
                lines.append(Content(f"  {self._keys(bindings):<12} {wrapped[0]}"))
                lines += [Content(" " * KEYS_WIDTH + more) for more in wrapped[1:]]
            lines.append(Content(""))
        return Content("\n").join(lines[:-1])
