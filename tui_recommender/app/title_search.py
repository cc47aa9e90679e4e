"""Title search as people type: punctuation and spacing ignored ("wall-e" finds WALL·E,
"spiderman" finds Spider-Man), numbers matched as whole numbers with Roman numerals read
("godfather 2" finds The Godfather: Part II, not every film of 1972), and small typos
forgiven ("godfahter") when nothing matches exactly.

Two tiers: titles that hold every word of the query (a word as a
substring of the title's words, a number as one of its numbers or its year, or the whole
query with its spaces and punctuation squeezed out inside the title's squeezed form), then,
by popularity; only when none does, titles near the query by rapidfuzz's partial ratio
("did you mean"), nearest first."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from tui_recommender.core.titles import fold

FUZZY_CUTOFF = 82  # rapidfuzz partial_ratio, 0-100: "godfahter" ~ "godfather" scores 89
FUZZY_MIN_CHARS = 4  # a shorter query is too ambiguous to guess at
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


# II-XX as sequels number them; a lone "I" is the pronoun far more often than a number.
_ROMAN = {_roman(n): n for n in range(2, 21)}


def words_of(text: str) -> str:
    """`text` folded (case, accents) with every run of other characters one space."""
    return _NOT_ALNUM.sub(" ", fold(text)).strip()


def _numbers(words: str) -> frozenset[int]:
    """The whole numbers in `words`, Roman numerals II-XX read as numbers."""
    found = set()
    for word in words.split():
        if word.isdigit():
            found.add(int(word))
        elif word in _ROMAN:
            found.add(_ROMAN[word])
    return frozenset(found)


class TitleSearch:
    """An index of titles (as displayed, alternates included) and years, by catalogue row."""

    def __init__(self, titles: Sequence[str], years: Sequence[int | None]) -> None:
        self._words = [words_of(title) for title in titles]
        self._squeezed = np.array([w.replace(" ", "") for w in self._words], dtype=str)
        self._spaced = np.array([f" {w} " for w in self._words], dtype=str)
        self._numbers = [_numbers(w) | ({year} if year is not None else set()) for w, year in zip(self._words, years)]

    def __len__(self) -> int:
        return len(self._words)

    def search(self, query: str, popularity: np.ndarray, limit: int = 50) -> list[int]:
        """Rows matching `query`, at most `limit`: the exact matches by `popularity` (per row,
        higher first; ties by row), or when there is none the near ones, nearest first."""
        words = words_of(query).split()
        if not words or limit <= 0:
            return []
        hit = np.ones(len(self), dtype=bool)
        for word in words:
            if word.isdigit() or word in _ROMAN:
                number = int(word) if word.isdigit() else _ROMAN[word]
                hit &= np.fromiter((number in ns for ns in self._numbers), bool, len(self))
            else:
                hit &= np.char.find(self._spaced, word) >= 0
        squeezed = "".join(words)
        if not squeezed.isdigit():
            hit |= np.char.find(self._squeezed, squeezed) >= 0
        exact = self._by_popularity(np.flatnonzero(hit), popularity)[:limit]
        if len(exact) or len(squeezed) < FUZZY_MIN_CHARS:
            return exact.tolist()
        query_text = " ".join(words)
        near = process.extract(
            query_text,
            self._words,
            scorer=fuzz.partial_ratio,
            score_cutoff=FUZZY_CUTOFF,
            limit=None,
        )
        # partial_ratio finds the shorter string inside the longer, so a title shorter than
        # the query ("M", "Go", "Toy Story" for "toy stori 2") is scored as a whole instead.
        kept = [
            (score if len(title) >= len(query_text) else fuzz.ratio(query_text, title), row)
            for title, score, row in near
        ]
        kept = [(score, row) for score, row in kept if score >= FUZZY_CUTOFF]
        scores = np.array([score for score, _ in kept], dtype=np.float64)
        rows = np.array([row for _, row in kept], dtype=np.int64)
        # Nearest first (in whole points), then the most popular of equally near ones.
        return rows[np.lexsort((rows, -popularity[rows], -np.floor(scores)))][:limit].tolist()

    @staticmethod
    def _by_popularity(rows: np.ndarray, popularity: np.ndarray) -> np.ndarray:
        return rows[np.lexsort((rows, -popularity[rows]))]
