"""Key clashes in the config file's [keys]: found within a screen or widget and against the
app's own keys, while a swap of two keys is no clash."""

from __future__ import annotations

import pytest

from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.config_check import keymap_clashes


@pytest.mark.parametrize(
    ("keymap", "clashes"),
    [
        ({"more": "q"}, {"more": ("q", "quit")}),  # a screen's key against the app's
        ({"rate-1": "2"}, {"rate-1": ("2", "rate-2")}),  # two keys of one widget
        ({"quit": "x"}, {"quit": ("x", "not-interested")}),  # the app's key against a widget's
        ({"help": "f1,?"}, {}),  # "?" is named as Textual names it, and is help's own
        ({"rate-1": "2", "rate-2": "1"}, {}),  # a swap
        ({"more": "ctrl+y"}, {}),
    ],
)
def test_keymap_clashes(keymap: dict[str, str], clashes: dict[str, tuple[str, str]]) -> None:
    assert keymap_clashes(RecommenderApp, keymap) == clashes
