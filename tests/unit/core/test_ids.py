"""The one id rule (tui_recommender.core.ids)."""

from __future__ import annotations

import numpy as np
import pytest

from tui_recommender.core.errors import InvalidIdError, UserError
from tui_recommender.core.ids import MAX_ID, MIN_ID, id_problem, parse_id, valid_id_mask


@pytest.mark.parametrize(
    "value, expected", [(1, 1), ("42", 42), (" 7 ", 7), (str(MAX_ID), MAX_ID), (np.int64(5), 5), ("007", 7)]
)
def test_valid_ids_parse(value, expected) -> None:
    assert parse_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [0, -1, MAX_ID + 1, 2**63, "0", "1e3", "1.0", "+1", "-1", "1_000", "", " ", "٣", "9" * 5000, True, 1.0, None, [1]],
)
def test_invalid_ids_are_user_errors(value) -> None:
    assert id_problem(value) is not None
    with pytest.raises(InvalidIdError) as caught:
        parse_id(value, "user ID")
    assert isinstance(caught.value, UserError)
    message = str(caught.value)
    assert message.startswith("user ID ") and "\n" not in message and len(message) < 120


def test_mask_matches_the_scalar_rule() -> None:
    values = np.array([MIN_ID, 0, -3, 2.5, np.nan, MAX_ID, MAX_ID + 1, 2.0**63])
    assert valid_id_mask(values).tolist() == [True, False, False, False, False, True, False, False]
