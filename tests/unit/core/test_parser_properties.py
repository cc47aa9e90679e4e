"""Property tests for the parsers of untrusted text: whatever the input, each one returns a
valid value or raises a `UserError` whose message is one line, never another exception."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.data.test_movielens import (
    MOVIES_CSV,
    RATINGS_CSV,
    U_DATA,
    U_ITEM,
    replace_line,
    write_ml_100k,
    write_ml_latest,
)
from tui_recommender.core.errors import UserError
from tui_recommender.core.ids import MAX_ID, MIN_ID, parse_id
from tui_recommender.data.movielens import HALF_STARS, WHOLE_STARS, load_dataset
from tui_recommender.storage.export_files import read_export

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that looks like what lands in these files: numbers of every size and shape, signs,
# exponents, separators, quotes, line ends and unicode digits, plus arbitrary text.
NUMBERISH = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        ["", " ", "1e3", "0x10", "٣", "1_000", "+1", "-0", "nan", "inf", "9" * 5000, "4.5", "0.5", "\r", '"', ","]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
)
CELLS = st.lists(NUMBERISH, min_size=0, max_size=6)


def assert_one_line(error: UserError) -> None:
    message = str(error)
    assert message and "\n" not in message and len(message) < 400, message


@FAST
@given(value=st.one_of(NUMBERISH, st.integers(), st.floats(), st.booleans(), st.none()))
def test_parse_id_returns_a_valid_id_or_one_line(value: object) -> None:
    try:
        parsed = parse_id(value, "user ID")
    except UserError as error:
        assert_one_line(error)
    else:
        assert isinstance(parsed, int) and MIN_ID <= parsed <= MAX_ID


@FAST
@given(value=NUMBERISH, half=st.booleans())
def test_rating_scale_returns_a_rating_on_the_scale_or_one_line(value: str, half: bool) -> None:
    scale = HALF_STARS if half else WHOLE_STARS
    try:
        stars = scale.validate(value)
    except UserError as error:
        assert_one_line(error)
    else:
        assert math.isfinite(stars) and scale.low <= stars <= scale.high


@FAST
@given(cells=CELLS, line=st.integers(min_value=2, max_value=5), target=st.sampled_from(["ratings.csv", "movies.csv"]))
def test_a_bad_ml_latest_line_loads_or_is_one_line(
    tmp_path_factory: pytest.TempPathFactory, cells: list[str], line: int, target: str
) -> None:
    texts = {"ratings.csv": RATINGS_CSV, "movies.csv": MOVIES_CSV}
    texts[target] = replace_line(texts[target], min(line, len(texts[target].splitlines())), ",".join(cells))
    folder = write_ml_latest(tmp_path_factory.mktemp("prop") / "ml", texts["movies.csv"], texts["ratings.csv"])
    _loads_or_one_line(folder)


@FAST
@given(cells=CELLS, line=st.integers(min_value=1, max_value=3), target=st.sampled_from(["data", "item"]))
def test_a_bad_ml_100k_line_loads_or_is_one_line(
    tmp_path_factory: pytest.TempPathFactory, cells: list[str], line: int, target: str
) -> None:
    sep = "\t" if target == "data" else "|"
    text = replace_line({"data": U_DATA, "item": U_ITEM}[target], line, sep.join(cells))
    try:
        folder = write_ml_100k(tmp_path_factory.mktemp("prop") / "ml-100k", **{target: text})
    except UnicodeEncodeError:  # u.item is latin-1: such text cannot be in the file at all
        return
    _loads_or_one_line(folder)


def _loads_or_one_line(folder: Path) -> None:
    try:
        data = load_dataset(folder)
    except UserError as error:
        assert_one_line(error)
    else:
        ids = data.ratings[["userId", "movieId"]].to_numpy()
        assert ((ids >= MIN_ID) & (ids <= MAX_ID)).all()
        assert data.movies.index.min() >= MIN_ID and data.movies.index.max() <= MAX_ID
        assert (data.ratings["timestamp"] >= 0).all()


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80), st.floats(), NUMBERISH),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
RATING_KEYS = st.sampled_from(["userId", "movieId", "rating", "timestamp", "list", "other"])


@FAST
@given(
    rows=st.lists(CELLS, min_size=1, max_size=4),
    header=st.sampled_from(
        ["userId,movieId,rating,timestamp", "userId,movieId,rating", "userId,movieId,rating,timestamp,list"]
    ),
)
def test_a_csv_import_loads_or_is_one_line(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], header: str
) -> None:
    path = tmp_path_factory.mktemp("prop") / "ratings.csv"
    path.write_text(header + "\n" + "".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    _import_loads_or_one_line(path)


@FAST
@given(items=st.lists(st.dictionaries(RATING_KEYS, JSON_VALUES, max_size=5), max_size=4) | JSON_VALUES)
def test_a_json_import_loads_or_is_one_line(tmp_path_factory: pytest.TempPathFactory, items: object) -> None:
    path = tmp_path_factory.mktemp("prop") / "ratings.json"
    path.write_text(json.dumps(items) if not isinstance(items, str) else "[" + items, encoding="utf-8")
    _import_loads_or_one_line(path)


def _import_loads_or_one_line(path: Path) -> None:
    try:
        ratings, marks = read_export(path, HALF_STARS, {10, 20, 30})
    except UserError as error:
        assert_one_line(error)
    else:
        for frame in (ratings, marks):
            ids = frame[["userId", "movieId"]].to_numpy()
            assert ((ids >= MIN_ID) & (ids <= MAX_ID)).all()
            assert (frame["timestamp"] >= 0).all()
