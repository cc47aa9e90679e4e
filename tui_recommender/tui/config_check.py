"""The config file's TUI keys checked against the app: the theme must exist, and every
remapped binding id must be one of the app's (`binding_ids`)."""

from __future__ import annotations

import importlib
import pkgutil

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode

from tui_recommender.config.user_file import UserConfig
from tui_recommender.core.text import shorten


def binding_ids(app_class: type[App]) -> set[str]:
    """The ids of every binding of `app_class`, its screens and widgets: what a keymap remaps."""
    from tui_recommender.tui import components

    classes: list[type] = [app_class]
    for info in pkgutil.iter_modules(components.__path__):
        module = importlib.import_module(f"{components.__name__}.{info.name}")
        classes += [
            c
            for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, DOMNode) and c.__module__ == module.__name__
        ]
    return {b.id for c in classes for b in c.BINDINGS if isinstance(b, Binding) and b.id}


def check_config(app: App) -> None:
    """Raise `ConfigError` for a config file theme or binding id the app does not have."""
    settings = app.settings
    where = UserConfig(settings.config_file)
    if settings.theme is not None and settings.theme not in app.available_themes:
        raise where.error(
            "theme", f"unknown theme {shorten(settings.theme)!r}; choose from {', '.join(sorted(app.available_themes))}"
        )
    unknown = sorted(set(settings.keymap) - binding_ids(type(app)))
    if unknown:
        raise where.error(
            f"keys.{unknown[0]}", f"no key binding has this id; the ids are {', '.join(sorted(binding_ids(type(app))))}"
        )
