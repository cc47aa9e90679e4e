"""Command palette entries (ctrl+p) for the main actions."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui_recommender.tui.components.main_screen import MainScreen

# (name, help, action); actions run on the app unless prefixed with "screen.".
APP_COMMANDS = (
    ("Search movies", "Search every movie by title and rate it", "search"),
    ("My ratings", "Show, change or remove your ratings", "history"),
    ("Import ratings…", "From IMDb, Letterboxd or an export of this app (ctrl+o)", "import_ratings"),
    ("Watchlist and not interested", "Your lists: rate, move or take movies off (l)", "lists"),
    ("Switch user", "Choose another user ID or a new profile", "switch_user"),
    ("Keys", "Show every key binding", "help"),
    ("Save model", "Write the fine-tuned model to the state dir now", "save_now"),
    ("Quit", "Save the model and leave", "quit"),
)
MAIN_SCREEN_COMMANDS = (
    ("More recommendations", "Show the next page", "screen.more"),
    ("Refresh recommendations", "Reload the list", "screen.refresh"),
    ("All genres", "Select every genre", "screen.all_genres"),
    ("No genre filter", "Clear the genre selection (all genres)", "screen.no_genres"),
)


class RecommenderCommands(Provider):
    def _commands(self) -> tuple[tuple[str, str, str], ...]:
        if isinstance(self.screen, MainScreen):
            return APP_COMMANDS + MAIN_SCREEN_COMMANDS
        return APP_COMMANDS

    async def discover(self) -> Hits:
        for name, help_text, action in self._commands():
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action), help=help_text)
