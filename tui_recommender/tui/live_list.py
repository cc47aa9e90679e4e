"""The main list's order across live reloads, sorts and filters, without Textual: where the
rows rated since the last reload stay, what arrived or moved, where the cursor goes, what
the status line says, and the typed filter's rules. Movies are named by their IDs."""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field

from tui_recommender.core.text import shorten

FILTER_MAX_CHARS = 100  # longer filters are cut: no title is that long
TITLE_CHARS = 30  # a title in the status line


def pin(fresh: Sequence[int], pinned: Mapping[int, int]) -> list[int]:
    """`fresh` with every `pinned` movie (movie -> row) put back at its row, lowest row
    first, so each lands where it was; a pinned movie also in `fresh` is taken out of it."""
    order = [movie for movie in fresh if movie not in pinned]
    for movie, row in sorted(pinned.items(), key=lambda item: item[1]):
        order.insert(min(row, len(order)), movie)
    return order


def _kept_in_order(positions: Sequence[int]) -> set[int]:
    """Indices into `positions` of one longest increasing run (not necessarily contiguous):
    the rows that kept their order, so only the others count as moved."""
    tails: list[int] = []  # tails[n]: the smallest last position of a run n + 1 long
    tail_index: list[int] = []
    before: list[int] = []
    for index, position in enumerate(positions):
        n = bisect.bisect_left(tails, position)
        if n == len(tails):
            tails.append(position)
            tail_index.append(index)
        else:
            tails[n], tail_index[n] = position, index
        before.append(tail_index[n - 1] if n else -1)
    kept: set[int] = set()
    index = tail_index[-1] if tail_index else -1
    while index >= 0:
        kept.add(index)
        index = before[index]
    return kept


@dataclass(frozen=True)
class ListChange:
    """What a reload changed: movies that `arrived`, and those that `moved` against the
    others (movie -> rows up, > 0, or down, < 0)."""

    arrived: tuple[int, ...] = ()
    moved: dict[int, int] = field(default_factory=dict)

    def text(self, titles: Mapping[int, str]) -> str:
        """`3 new, Psycho up 4` (the biggest move), or `no change`."""
        parts = [f"{len(self.arrived)} new"] if self.arrived else []
        if self.moved:
            movie, rows = max(self.moved.items(), key=lambda item: (abs(item[1]), item[1]))
            parts.append(f"{shorten(titles[movie], TITLE_CHARS)} {'up' if rows > 0 else 'down'} {abs(rows)}")
            if len(self.moved) > 1:
                parts.append(f"{len(self.moved) - 1} more moved")
        return ", ".join(parts) or "no change"


def compare(old: Sequence[int], new: Sequence[int]) -> ListChange:
    """How `new` differs from `old`: arrivals, and moves among the movies in both (a movie
    pushed down by an arrival or by another's move has not moved)."""
    old_rows = {movie: row for row, movie in enumerate(old)}
    arrived = tuple(movie for movie in new if movie not in old_rows)
    new_set = set(new)
    both_old = [movie for movie in old if movie in new_set]
    both_new = [movie for movie in new if movie in old_rows]
    rank_before = {movie: row for row, movie in enumerate(both_old)}
    positions = [rank_before[movie] for movie in both_new]
    kept = _kept_in_order(positions)
    moved = {
        movie: positions[row] - row for row, movie in enumerate(both_new) if row not in kept and positions[row] != row
    }
    return ListChange(arrived, moved)


def neighbour(old: Sequence[int], row: int, present: Container[int]) -> int | None:
    """The movie at `row` of `old` if it is `present`, else the nearest present one of
    `old` (the one below first); None when none is."""
    for distance in range(len(old)):
        for index in (row + distance, row - distance):
            if 0 <= index < len(old) and old[index] in present:
                return old[index]
    return None


def clean_filter(text: str) -> tuple[str, str]:
    """(`text` without control, format or unassigned characters and cut to
    `FILTER_MAX_CHARS`, one line saying what was taken out or "")."""
    kept = "".join(char for char in text if not unicodedata.category(char).startswith("C"))
    problem = "control characters left out" if kept != text else ""
    if len(kept) > FILTER_MAX_CHARS:
        kept = kept[:FILTER_MAX_CHARS]
        problem = f"cut to {FILTER_MAX_CHARS} characters"
    return kept, problem


def filter_words(text: str) -> tuple[str, ...]:
    """The words a filter `text` asks for, case-folded."""
    return tuple(text.casefold().split())


def matches(words: Sequence[str], *fields: str) -> bool:
    """Every one of `words` occurs in one of `fields` (case-folded)."""
    haystack = " ".join(fields).casefold()
    return all(word in haystack for word in words)
