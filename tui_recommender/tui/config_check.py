"""The config file's TUI keys checked against the app: the theme must exist and every
remapped binding id must be one of the app's (`binding_ids`), or it is a `ConfigError`;
a remapped key that another binding of the same screen or widget (or of the app itself)
already has is a clash (`keymap_clashes`): one line each, and that remap is not applied.
The command line checks the same (`check_config_file`), so both say the same line."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from tui_recommender.config.settings import Settings
from tui_recommender.config.user_file import UserConfig
from tui_recommender.core.text import shorten


def binding_classes(app_class: type[App]) -> list[type[DOMNode]]:
    """`app_class` and every screen and widget class of `tui.components`."""
    from tui_recommender.tui import components

    classes: list[type[DOMNode]] = [app_class]
    for info in pkgutil.iter_modules(components.__path__):
        module = importlib.import_module(f"{components.__name__}.{info.name}")
        classes += [
            c
            for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, DOMNode) and c.__module__ == module.__name__
        ]
    return classes


def binding_ids(app_class: type[App]) -> set[str]:
    """The ids of every binding of `app_class`, its screens and widgets: what a keymap remaps."""
    return {b.id for c in binding_classes(app_class) for b in c.BINDINGS if isinstance(b, Binding) and b.id}


def _bindings(cls: type[DOMNode], keymap: Mapping[str, str]) -> dict[str, set[str]]:
    """Key -> the bindings of `cls` (its bases' too) on it, with `keymap` applied: by id
    (an id-less one, which no keymap moves, as `action NAME`)."""
    own = BindingsMap([b for base in reversed(cls.__mro__) for b in vars(base).get("BINDINGS", [])])
    keys: dict[str, set[str]] = {}
    remapped = set()
    for bindings in own.key_to_bindings.values():
        for b in bindings:
            if b.id in keymap:
                remapped.add(b.id)
            else:
                keys.setdefault(b.key, set()).add(b.id or f"action {b.action}")
    for binding_id in remapped:
        for key in keymap[binding_id].split(","):
            # One character is named as Textual names its key ("?" -> "question_mark").
            name = next(iter(BindingsMap([Binding(key.strip(), "")]).key_to_bindings))
            keys.setdefault(name, set()).add(binding_id)
    return keys


def _shared_keys(classes: list[type[DOMNode]], app_class: type[App], keymap: Mapping[str, str]) -> set[tuple]:
    """(binding, other binding, key) for every two bindings one key reaches at once: in the
    same class, or in a class and the app (whose keys every screen hears)."""
    app_keys = _bindings(app_class, keymap)
    shared = set()
    for cls in classes:
        for key, ids in _bindings(cls, keymap).items():
            heard = ids | (app_keys.get(key, set()) if cls is not app_class else set())
            shared |= {(a, b, key) for a in heard for b in heard if a != b}
    return shared


def keymap_clashes(app_class: type[App], keymap: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Each remapped binding id whose key another binding answers to where both are heard
    (`_shared_keys`), unless the two shared that key by default (as help and help-close
    do: one opens the help, the other closes it): id -> (key, the other binding)."""
    classes = binding_classes(app_class)
    new = _shared_keys(classes, app_class, keymap) - _shared_keys(classes, app_class, {})
    clashes: dict[str, tuple[str, str]] = {}
    for binding_id, other, key in sorted(new):
        if binding_id in keymap and binding_id not in clashes:
            clashes[binding_id] = (key, other)
    return clashes


def clash_line(where: UserConfig, binding_id: str, key: str, other: str) -> str:
    """The one line that says a remap clashes and is left out."""
    return str(where.error(f"keys.{binding_id}", f"{key!r} is already {other}'s key; {binding_id} keeps its default"))


def check_config_file(settings: Settings, app_class: type[App]) -> list[str]:
    """Raise `ConfigError` for a theme or binding id in the config file that `app_class`
    lacks; return a line for each key clash (`keymap_clashes`)."""
    where = UserConfig(settings.config_file)
    if settings.theme is not None:
        from textual.theme import BUILTIN_THEMES

        if settings.theme not in BUILTIN_THEMES:
            raise where.error(
                "theme", f"unknown theme {shorten(settings.theme)!r}; choose from {', '.join(sorted(BUILTIN_THEMES))}"
            )
    if not settings.keymap:
        return []
    known = binding_ids(app_class)
    unknown = sorted(set(settings.keymap) - known)
    if unknown:
        raise where.error(f"keys.{unknown[0]}", f"no key binding has this id; the ids are {', '.join(sorted(known))}")
    return [clash_line(where, i, *clash) for i, clash in sorted(keymap_clashes(app_class, settings.keymap).items())]


def usable_keymap(app_class: type[App], settings: Settings) -> tuple[dict[str, str], list[str]]:
    """The config file's keymap without the remaps that clash, and a line for each left out."""
    clashes = keymap_clashes(app_class, settings.keymap) if settings.keymap else {}
    where = UserConfig(settings.config_file)
    keymap = {i: keys for i, keys in settings.keymap.items() if i not in clashes}
    return keymap, [clash_line(where, i, *clash) for i, clash in sorted(clashes.items())]


def check_config(app: App) -> None:
    """Raise `ConfigError` for a config file theme or binding id the app does not have."""
    check_config_file(app.settings, type(app))
