"""Movie titles as people read, sort and type them.

MovieLens files a title under its first significant word: "Godfather, The", "Boot, Das
(Boat, The)", "Seven (a.k.a. Se7en)". A title here is the dataset's title without the
year (as `MovieLensData.movies["title"]` holds it). The API:

- `display_title(title)`: the article moved back to the front, in the main title and in
  every alternate title in parentheses: "Boot, Das (Boat, The)" -> "Das Boot (The Boat)",
  "Power of Nightmares, The: The Rise..." -> "The Power of Nightmares: The Rise...";
  empty or placeholder titles (ml-100k's movie 267 "unkonwn") become `NO_TITLE`.
- `sort_key(title)`: orders titles as a library does: by the display title without its
  leading article ("The Godfather" among the G's), case and accents ignored, numbers in
  numeric order ("2 Fast" before "10 Things"), `NO_TITLE` last.
- `fold(text)`: case and accents folded ("Amélie" -> "amelie"), for search: fold both the
  query and the display title.
- `title_keys(title)`: the keys the importer matches on, for the main title and each
  alternate title (in parentheses or after "a.k.a."): `exact` keeps the leading article,
  `loose` drops it; both fold case and accents and drop punctuation and spaces ("Se7en" =
  "Seven (a.k.a. Se7en)", "Amélie" = "Amelie (Fabuleux destin d'Amélie Poulain, Le)",
  "The Lion King" = "Lion King, The", "Spider-Man" = "Spiderman").

Pure functions of str, no pandas, no textual.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NO_TITLE = "(no title)"
# Titles that mean "no title", as written: ml-100k's movie 267 is "unknown" (its mirror's
# "unkonwn"); "Unknown" with a capital is a real film (2006, 2011), kept.
PLACEHOLDERS = frozenset({"", "unknown", "unkonwn", "(no title)", "n/a", "N/A"})

# Articles MovieLens moves to the end: English, French, German, Spanish, Italian,
# Portuguese, Dutch, Scandinavian; "Da" as in "Hip Hop Witch, Da". Elided forms end in '.
ARTICLES = (
    "The", "A", "An",
    "Le", "La", "Les", "L'", "Un", "Une", "Des",
    "Der", "Die", "Das", "Den", "Dem", "Ein", "Eine",
    "El", "Los", "Las", "Lo", "Una", "Unos", "Unas",
    "Il", "I", "Gli", "Uno", "Un'",
    "O", "Os", "As", "Um", "Uma",
    "De", "Het", "Een",
    "Det", "En", "Ett", "Et",
    "Da",
)  # fmt: skip
_ARTICLE = "|".join(re.escape(a) for a in sorted(ARTICLES, key=len, reverse=True))
# "<body>, <Article>" at the end, or just before the first ": subtitle".
_TRAILING_ARTICLE = re.compile(rf"^(?P<body>.*?\S),\s+(?P<article>{_ARTICLE})(?P<rest>:\s.*)?$")
_TRAILING_GROUP = re.compile(r"^(?P<head>.*\S)\s*\((?P<group>[^()]*)\)$")
_AKA = re.compile(r"^a\.?k\.?a\.?\s+", re.IGNORECASE)
_AKA_INSIDE = re.compile(r"\s+a\.k\.a\.\s+", re.IGNORECASE)
_LEADING_ARTICLE = re.compile(
    rf"^(?:{'|'.join(re.escape(a.casefold()) for a in ARTICLES if not a.endswith(chr(39)))})\s+"
    r"|^(?:l|un)['’](?=\w)"
)
_LEADING_PUNCTUATION = re.compile(r"^[^\w]+")
_NUMBER = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_NOT_KEY = re.compile(r"[^0-9a-z]+")
# Letters NFKD leaves whole; casefold already turns ß into ss.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})


@dataclass(frozen=True)
class TitleKeys:
    """Match keys of one title: one per name (main title, then alternates)."""

    exact: frozenset[str]  # article kept: "thelionking"
    loose: frozenset[str]  # leading article dropped: "lionking"


def is_placeholder(title: str) -> bool:
    """True for an empty title or one that only says it is unknown."""
    return _SPACES.sub(" ", title).strip() in PLACEHOLDERS


def display_title(title: str) -> str:
    """The title as people write it (see the module docstring); `NO_TITLE` if none."""
    if is_placeholder(title):
        return NO_TITLE
    main, alternates = _split(title)
    shown = [" a.k.a. ".join(_front(name) for name in _AKA_INSIDE.split(main))]
    for aka, name in alternates:
        shown.append(f"({'a.k.a. ' if aka else ''}{_front(name)})")
    return " ".join(shown)


def sort_key(title: str) -> tuple[int, str, str]:
    """A key for `sorted`: (placeholder last, folded display title without its leading
    article and leading punctuation, numbers zero-padded; folded display title as tie-break)."""
    if is_placeholder(title):
        return (1, "", "")
    shown = fold(display_title(title))
    name = _LEADING_ARTICLE.sub("", _LEADING_PUNCTUATION.sub("", shown), count=1)
    return (0, _NUMBER.sub(lambda m: m.group().zfill(12), name), shown)


def fold(text: str) -> str:
    """`text` casefolded, accents removed, runs of whitespace made one space."""
    # Compatibility forms first: "㎀" is "pA" only after NFKD, so casefold comes after it.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", plain.translate(_LETTERS)).strip()


def title_keys(title: str) -> TitleKeys:
    """The matching keys of `title` and of each alternate title (see `TitleKeys`); empty
    for a placeholder title. A name that is all punctuation gives no key."""
    if is_placeholder(title):
        return TitleKeys(frozenset(), frozenset())
    main, alternates = _split(title)
    exact, loose = set(), set()
    for name in (*_AKA_INSIDE.split(main), *(name for _, name in alternates)):
        folded = fold(_front(name)).replace("&", " and ")
        key, bare = _key(folded), _key(_LEADING_ARTICLE.sub("", folded, count=1))
        if key:
            exact.add(key)
        if bare:
            loose.add(bare)
    return TitleKeys(frozenset(exact), frozenset(loose))


def _key(folded: str) -> str:
    return _NOT_KEY.sub("", folded)


def _front(name: str) -> str:
    """ "Godfather: Part II, The" -> "The Godfather: Part II"; other names unchanged."""
    name = _SPACES.sub(" ", name).strip()
    # Until none is left, so "X, The, A" ends as "The A X" and the result is stable.
    while (match := _TRAILING_ARTICLE.match(name)) is not None:
        article = match["article"]
        joiner = "" if article.endswith("'") else " "
        name = f"{article}{joiner}{match['body']}{match['rest'] or ''}"
    return name


def _split(title: str) -> tuple[str, list[tuple[bool, str]]]:
    """The main title and the parenthesised alternates at its end as (written after
    "a.k.a."?, name), in order: "Léon: The Professional (a.k.a. The Professional) (Léon)".
    The main title always keeps some text, so "(500) Days of Summer" stays whole."""
    head = _SPACES.sub(" ", title).strip()
    groups: list[tuple[bool, str]] = []
    while (match := _TRAILING_GROUP.match(head)) is not None:
        group = match["group"].strip()
        if group:
            aka = _AKA.match(group)
            groups.append((aka is not None, group[aka.end() :] if aka else group))
        head = match["head"]
    return head, groups[::-1]
