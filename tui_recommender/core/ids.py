"""One rule for user and movie ids, used by the CLI, the app, the importer and the loaders.

A valid id is a whole number from `MIN_ID` to `MAX_ID`: ids are stored as SQLite integers
and as int64 numpy arrays, and the int32 range keeps every sum and index far from overflow.
As text it is ASCII digits only (surrounding spaces allowed): no sign, no exponent
("1e3"), no decimal point, no underscore, at most `MAX_DIGITS` digits so a 5,000-digit
number is refused before Python converts it.
"""

from __future__ import annotations

import numpy as np

from tui_recommender.core.errors import InvalidIdError
from tui_recommender.core.text import shorten

MIN_ID = 1
MAX_ID = 2**31 - 1
MAX_DIGITS = len(str(MAX_ID))


def id_problem(value: object) -> str | None:
    """Why `value` is not a valid id, as a phrase ("is not a whole number", ...), or None."""
    if isinstance(value, bool):
        return "is not a whole number"
    if isinstance(value, (int, np.integer)):
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            return "is not a whole number (digits only)"
        if len(text.lstrip("0")) > MAX_DIGITS:
            return f"is out of range ({MIN_ID} to {MAX_ID})"
        number = int(text)
    else:
        return "is not a whole number"
    if not MIN_ID <= number <= MAX_ID:
        return f"is out of range ({MIN_ID} to {MAX_ID})"
    return None


def parse_id(value: object, what: str = "ID") -> int:
    """`value` (an int or a string of digits) as an id; `InvalidIdError` naming `what`
    (e.g. "user ID", "movieId") and the value otherwise."""
    problem = id_problem(value)
    if problem is not None:
        text = value if isinstance(value, str) else str(value)
        raise InvalidIdError(f"{what} {shorten(text)!r} {problem}")
    return int(value)  # type: ignore[arg-type]


def valid_id_mask(values: np.ndarray) -> np.ndarray:
    """Vectorised check for numeric arrays (the loaders'): True where a value is a whole
    number in `MIN_ID`..`MAX_ID`. NaN and fractions are False."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (values >= MIN_ID) & (values <= MAX_ID) & (np.floor(values) == values)
