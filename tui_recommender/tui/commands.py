"""The command palette (ctrl+p) lists what the keys can do where it was opened: the active
bindings of that screen (focused widget, screen, app), one command per action. Help, footer
and palette all read the same bindings, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from textual.binding import ActiveBinding, Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode


@dataclass(frozen=True)
class BindingCommand:
    name: str
    help: str
    action: str
    namespace: DOMNode


def binding_commands(
    bindings: dict[str, ActiveBinding], key_display: Callable[[Binding], str]
) -> Iterator[BindingCommand]:
    """One command per description among the enabled bindings with an id (ours; Textual's
    own cursor keys have none) in `bindings` (key -> active binding). A family of keys
    sharing one description with different actions (1-5: rate) is left out, since one
    palette entry cannot choose among them."""
    groups: dict[str, list[tuple[str, ActiveBinding]]] = {}
    for key, active in bindings.items():
        if active.enabled and active.binding.id and active.binding.description:
            groups.setdefault(active.binding.description, []).append((key, active))
    for description, group in groups.items():
        if len({active.binding.action for _, active in group}) > 1:
            continue
        first = group[0][1]
        keys = ", ".join(dict.fromkeys(key_display(active.binding) for _, active in group))
        yield BindingCommand(
            description, f"{first.binding.tooltip or description} ({keys})", first.binding.action, first.node
        )


class BindingCommandsProvider(Provider):
    def _commands(self) -> list[BindingCommand]:
        return list(binding_commands(self.screen.active_bindings, self.app.get_key_display))

    def _run(self, command: BindingCommand) -> None:
        self.app.call_later(self.app.run_action, command.action, command.namespace)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, partial(self._run, command), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), partial(self._run, command), help=command.help)
