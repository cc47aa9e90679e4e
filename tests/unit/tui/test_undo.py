"""ctrl+z's one mechanism: every change puts back what it replaced through `Undo.revert`,
and a change that was never made (its write failed) undoes nothing."""

from __future__ import annotations

import pytest

from tui_recommender.app.catalogue import Movie
from tui_recommender.tui.messages import ListChanged, NothingToUndo, RatingRemoved, RatingStored
from tui_recommender.tui.undo import ListUndo, RatingUndo, Undo

MOVIE = Movie(10, "Heat", 1995, ("Action", "Crime"))
USER = 7


class Service:
    """The writes `revert` may make, recorded in order."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def rate(self, user_id: int, movie_id: int, stars: float, timestamp: int | None = None) -> float:
        self.calls.append(("rate", user_id, movie_id, stars, timestamp))
        return stars

    def remove_rating(self, user_id: int, movie_id: int) -> None:
        self.calls.append(("remove_rating", user_id, movie_id))

    def add_to_list(self, user_id: int, movie_id: int, list_name: str) -> None:
        self.calls.append(("add_to_list", user_id, movie_id, list_name))

    def remove_from_list(self, user_id: int, movie_id: int, list_name: str) -> bool:
        self.calls.append(("remove_from_list", user_id, movie_id, list_name))
        return True


@pytest.mark.parametrize("undo", [RatingUndo(MOVIE, (4.0, 5)), ListUndo(MOVIE, "watchlist", True)])
def test_a_change_that_was_never_made_undoes_nothing(undo: Undo) -> None:
    service = Service()
    assert isinstance(undo.revert(service, USER), NothingToUndo)  # type: ignore[arg-type]
    assert service.calls == []


def test_a_rating_is_put_back_with_its_stars_and_date() -> None:
    service = Service()
    message = RatingUndo(MOVIE, (3.5, 1_000), made=True).revert(service, USER)  # type: ignore[arg-type]
    assert service.calls == [("rate", USER, 10, 3.5, 1_000)]
    assert isinstance(message, RatingStored) and message.undone and message.rating == 3.5


def test_a_first_rating_is_undone_by_removing_it() -> None:
    service = Service()
    message = RatingUndo(MOVIE, None, made=True).revert(service, USER)  # type: ignore[arg-type]
    assert service.calls == [("remove_rating", USER, 10)]
    assert isinstance(message, RatingRemoved) and message.undone


def test_a_first_rating_made_from_a_list_is_undone_back_onto_that_list() -> None:
    service = Service()
    undo = RatingUndo(MOVIE, None, listed="watchlist", made=True)
    message = undo.revert(service, USER)  # type: ignore[arg-type]
    assert service.calls == [("remove_rating", USER, 10), ("add_to_list", USER, 10, "watchlist")]
    assert isinstance(message, RatingRemoved) and message.relisted == "watchlist"


@pytest.mark.parametrize(("added", "call"), [(True, "remove_from_list"), (False, "add_to_list")])
def test_a_list_change_is_undone_by_the_opposite_change(added: bool, call: str) -> None:
    service = Service()
    message = ListUndo(MOVIE, "watchlist", added, made=True).revert(service, USER)  # type: ignore[arg-type]
    assert service.calls == [(call, USER, 10, "watchlist")]
    assert isinstance(message, ListChanged) and message.undone and message.added is not added


def test_alike_changes_are_still_two_on_the_stack() -> None:
    first, second = RatingUndo(MOVIE), RatingUndo(MOVIE)
    stack: list[Undo] = [first, second]
    stack.remove(second)  # a failed write takes its own change off, not an equal earlier one
    assert stack[0] is first
