"""The one rule for a rating: text in plain decimal digits only, numbers of any numeric
type but bool, on the scale's range and step; vectorised for files and the store."""

from __future__ import annotations

import numpy as np
import pytest

from tui_recommender.core.errors import RatingError
from tui_recommender.core.rating_scale import HALF_STARS, WHOLE_STARS


@pytest.mark.parametrize(("text", "stars"), [("4", 4.0), (" 3.5 ", 3.5), (".5", 0.5), ("5.", 5.0), ("4.50", 4.5)])
def test_plain_decimal_text_is_a_rating(text: str, stars: float) -> None:
    assert HALF_STARS.validate(text) == stars


# float() takes every one of these; none is how a person types a rating.
@pytest.mark.parametrize("text", ["0_5", "٣", "1e0", "+4", "inf", "nan", "4,5", ""])
def test_other_number_spellings_are_refused(text: str) -> None:
    with pytest.raises(RatingError, match="is not a number"):
        HALF_STARS.validate(text)


@pytest.mark.parametrize("value", [4, 4.0, np.int64(4), np.float32(4.0)])
def test_numbers_of_any_numeric_type_are_ratings(value: object) -> None:
    assert WHOLE_STARS.validate(value) == 4.0


@pytest.mark.parametrize("value", [True, None, [4]])
def test_booleans_and_other_objects_are_not_ratings(value: object) -> None:
    with pytest.raises(RatingError, match="is not a number"):
        HALF_STARS.validate(value)


@pytest.mark.parametrize(
    ("scale", "value"), [(WHOLE_STARS, 3.5), (HALF_STARS, 0.0), (HALF_STARS, 5.5), (HALF_STARS, 4.25)]
)
def test_values_off_the_range_or_step_are_refused_naming_the_scale(scale, value: float) -> None:
    with pytest.raises(RatingError, match=rf"is not allowed \({scale.describe()}\)"):
        scale.validate(value)


def test_the_vectorised_rule_is_the_same_rule() -> None:
    values = np.array([0.5, 5.0, 3.5, 0.0, 5.5, 4.25, np.nan, np.inf, -np.inf])
    assert HALF_STARS.allowed(values).tolist() == [True, True, True, False, False, False, False, False, False]
    assert WHOLE_STARS.allowed(np.array([1.0, 5.0, 3.5, 0.5])).tolist() == [True, True, False, False]
    assert HALF_STARS.half_stars and not WHOLE_STARS.half_stars
