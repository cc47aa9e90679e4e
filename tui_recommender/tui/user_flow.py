"""The app's side of choosing a user: look an ID up, offer a new profile, create it, go to
the user's recommendations. A mixin of `RecommenderApp`, following its worker pattern."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.screen import Screen

from tui_recommender.config.user_file import known_genres
from tui_recommender.tui.app_state import AppState
from tui_recommender.tui.components.main_screen import MainScreen
from tui_recommender.tui.components.new_profile_modal import NewProfileModal
from tui_recommender.tui.components.user_screen import UserScreen
from tui_recommender.tui.messages import (
    NewUserRequested,
    NoveltyChanged,
    NoveltyStepRequested,
    ProfileCreated,
    UserIdSubmitted,
    UserLookedUp,
    UserSummaryLoaded,
)
from tui_recommender.tui.model_status import LEARNING
from tui_recommender.tui.profile_line import next_novelty, novelty_text

if TYPE_CHECKING:
    from tui_recommender.app.service import RecommenderService


class UserFlow(AppState):
    """Mixed into `RecommenderApp`."""

    @work(thread=True, exclusive=True, group="user", exit_on_error=False, description="Checking the user ID")
    def _look_up_user(self, service: RecommenderService, user_id: int) -> None:
        known = service.user_exists(user_id)
        self.post_message(UserLookedUp(user_id, known, service.genre_counts() if known else []))

    def on_user_id_submitted(self, message: UserIdSubmitted) -> None:
        self._with_service(lambda service: self._look_up_user(service, message.user_id))

    def on_user_looked_up(self, message: UserLookedUp) -> None:
        user_id = message.user_id
        if message.known:
            self._with_service(lambda service: self._enter(service, user_id, message.genre_counts))
            return

        def answered(create: bool | None) -> None:
            if create:
                self._with_service(lambda service: self._create_user(service, user_id))

        self.push_screen(NewProfileModal(user_id), answered)

    def on_new_user_requested(self, message: NewUserRequested) -> None:
        self._with_service(lambda service: self._create_user(service, None))

    def _create_user(self, service: RecommenderService, user_id: int | None) -> None:
        """Register `user_id`, or the next free ID when None, and go on as that user."""

        def create() -> Message:
            created = service.create_user(user_id)
            return ProfileCreated(created, service.genre_counts())

        self._write(create, "Creating the profile")

    def on_profile_created(self, message: ProfileCreated) -> None:
        self.notify(f"Your user ID is {message.user_id}: remember it for next time.", title="New profile", timeout=8)
        self._with_service(lambda service: self._enter(service, message.user_id, message.genre_counts))

    def _enter(self, service: RecommenderService, user_id: int, genre_counts: list[tuple[str, int]]) -> None:
        if user_id != self.user_id:
            self._undo.clear()
        self.user_id = user_id
        genres, unknown = known_genres(self.settings.genres, [genre for genre, _ in genre_counts])
        if unknown:
            self.notify(
                f"Not genres of {service.dataset_name}: {', '.join(unknown)}",
                title=f"Config file {self.settings.config_file}",
                severity="warning",
                timeout=8,
                markup=False,
            )
        self._replace_base_screen(MainScreen(user_id, genre_counts, genres))
        self._summarise(service, user_id)

    def _replace_base_screen(self, screen: Screen[None]) -> None:
        while len(self.screen_stack) > 2:  # the default screen, then ours
            self.pop_screen()
        self.switch_screen(screen)

    def action_switch_user(self) -> None:
        """Ask for another user over the current one: escape comes back to it."""
        if not isinstance(self.screen, UserScreen):
            self.push_screen(UserScreen(can_go_back=True))

    def on_novelty_step_requested(self, message: NoveltyStepRequested) -> None:
        if (session := self._session()) is None:
            return
        service, user_id = session
        value = next_novelty(self.novelty if self.novelty is not None else service.settings.novelty)
        self.novelty = value  # at once, so quick presses step on from it (the write confirms)
        self._write(
            lambda: NoveltyChanged(service.set_novelty(user_id, value), changed=True),
            "Saving the popular/niche setting",
        )

    def on_novelty_changed(self, message: NoveltyChanged) -> None:
        self.novelty = message.novelty
        self._refresh_status(LEARNING if self.update_progress is not None else "")
        if message.changed:
            self.notify(novelty_text(message.novelty), title="Recommendations", timeout=3)
            self._broadcast(lambda: NoveltyChanged(message.novelty, changed=True))

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False, description="Summarising your ratings")
    def _summarise(self, service: RecommenderService, user_id: int) -> None:
        self.post_message(UserSummaryLoaded(service.user_summary(user_id)))
        self.post_message(NoveltyChanged(service.novelty_of(user_id), changed=False))

    def on_user_summary_loaded(self, message: UserSummaryLoaded) -> None:
        summary = message.summary
        self._broadcast(lambda: UserSummaryLoaded(summary))
